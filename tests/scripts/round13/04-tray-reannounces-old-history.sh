#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# The data directory is restored from a backup (docs/operations.md: stop, put the folder back,
# start). The tray, connected before, sees the service's history numbers go back, takes the
# history "from the start" and announces every device of the backup that became Ready for user
# long ago as if it had just happened ("20 devices are Ready for user"), although none changed.
# README: the tray resumes "so changes made meanwhile are announced once, and none twice";
# after a gap it "does not announce the changes it lost".
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
start_sim '{"time_scale":60}'
start_svc --poll-interval 1
gen "$W/old.csv" OLD-:20 >/dev/null
H import "$W/old.csv" --profile standard --group-tag Lab13 >/dev/null 2>&1
for i in $(seq 1 40); do H status | grep -q 'ready_for_user *20' && break; sleep 0.5; done
stop_svc; cp -a "$W/data" "$W/backup"          # the backup: 20 devices Ready for user
start_svc --poll-interval 1
XDG_RUNTIME_DIR=$W "$BIN/hangar-tray" --endpoint "$EP" --dry-run --coalesce-ms 1000 > "$W/tray.out" 2>"$W/tray.err" & PIDS+=($!)
sleep 1.5
gen "$W/new.csv" NEW-:40 >/dev/null
H import "$W/new.csv" --profile standard --group-tag Lab13 >/dev/null 2>&1
for i in $(seq 1 40); do H status | grep -q 'ready_for_user *60' && break; sleep 0.5; done
sleep 2
stop_svc
rm -rf "$W/data"; cp -a "$W/backup" "$W/data"     # restore the backup
start_svc --poll-interval 1
sleep 5
H status | sed -n '/devices by state/,$p'
echo "--- tray:"; cut -c1-120 "$W/tray.out"
grep -a 'history' "$W/tray.err"
grep -q 'notify: ready.*OLD-' "$W/tray.out" && defect "after the restore the tray announced old devices as newly Ready for user"
echo OK; exit 0

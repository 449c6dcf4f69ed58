#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# "One tray per session and service (on Linux, per user and service: a lock file ...): a second
# hangar-tray started by hand leaves at once." The lock is keyed on the endpoint as written, not on
# the socket: the same service reached as /run/hangar/hangar.sock and /var/run/hangar/hangar.sock
# (a symlink on Debian), or with a "./" in the path, gets two trays, and every device announced twice.
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
start_sim '{"time_scale":60}'
start_svc --poll-interval 1
ln -s "$W/run" "$W/varrun"                  # like /var/run -> /run
export XDG_RUNTIME_DIR=$W
"$BIN/hangar-tray" --endpoint "$EP" --dry-run --coalesce-ms 500 > "$W/t1.out" 2>"$W/t1.err" & PIDS+=($!)
sleep 0.7
"$BIN/hangar-tray" --endpoint "$W/varrun/hangar.sock" --dry-run --coalesce-ms 500 > "$W/t2.out" 2>"$W/t2.err" & T2=$!; PIDS+=($T2)
sleep 1.5
gen "$W/a.csv" TW-:3 >/dev/null; H import "$W/a.csv" --profile standard >/dev/null 2>&1
for i in $(seq 1 30); do H status | grep -q 'ready_for_user *3' && break; sleep 0.5; done
sleep 2
echo "--- first tray:"; grep notify "$W/t1.out"
echo "--- second tray (same user, same service):"; cat "$W/t2.err" | head -3; grep notify "$W/t2.out"
if kill -0 $T2 2>/dev/null && grep -q notify "$W/t2.out"; then
  defect "two trays of one user watch one service and both announce the same devices"
fi
echo OK; exit 0

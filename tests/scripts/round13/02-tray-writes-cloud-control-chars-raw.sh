#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# A partner-registered device whose serial (from the cloud) holds an escape sequence is announced
# by `hangar-tray --dry-run` (and in its --log-file) with the ESC byte written raw, while
# `hangar watch`, `list` and `show` print it escaped (\x1b) as the README promises for every
# human output ("the cloud, the tray ... never written raw to the terminal").
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
SC='{"time_scale":60,"tenant":{"devices":[{"serial_number":"EV\u001b[31mIL-1","group_tag":"Microsoft365Managed_Autopilot","manufacturer":"Contoso","model":"L7","profile_status":"assignedUnkownSyncState"}]}}'
start_sim '{"time_scale":60}'
start_svc --poll-interval 1
XDG_RUNTIME_DIR=$W "$BIN/hangar-tray" --endpoint "$EP" --dry-run --coalesce-ms 500 --log-file "$W/tray.log" > "$W/tray.out" 2>"$W/tray.err" & PIDS+=($!)
"$BIN/hangar" --endpoint "$EP" watch > "$W/watch.out" 2>&1 & PIDS+=($!)
sleep 1.5
simput "$SC" >/dev/null; curl -s -X POST "$SIMURL/_sim/reset" >/dev/null
H sync >/dev/null 2>&1
sleep 4
echo "--- watch:"; cat -v "$W/watch.out"
echo "--- tray stdout:"; cat -v "$W/tray.out"
echo "--- tray log:"; grep -a -i notif "$W/tray.log" | cat -v
grep -q 'is Ready for user' "$W/tray.out" || defect "the tray announced nothing (test could not run)"
if grep -q $'\x1b' "$W/tray.out" "$W/tray.log" "$W/tray.err"; then
  defect "hangar-tray wrote the cloud's ESC byte raw (watch shows it as \\x1b)"
fi
echo OK; exit 0

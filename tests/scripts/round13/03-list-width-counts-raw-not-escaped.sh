#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# `hangar list` measures a cell before it escapes it: a serial or make from the cloud holding a
# control character is printed escaped (\x1b[31m, 3 more columns per byte) but padded as if it
# were not, so the columns no longer line up and the row passes 80 columns (README: "The table
# fits the terminal (80 columns when the output is not one, counted as a terminal shows them").
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
start_sim '{"time_scale":60,"tenant":{"devices":[{"serial_number":"EV\u001b[31mIL-1","group_tag":"Microsoft365Managed_Autopilot","manufacturer":"Con\u001b]0;x\u0007toso","model":"L7","profile_status":"assignedUnkownSyncState"},{"serial_number":"PARTNER-WITH-A-LONG-SERIAL-01","group_tag":"Microsoft365Managed_Autopilot","manufacturer":"A","model":"B","profile_status":"assignedUnkownSyncState"}]}}'
start_svc --poll-interval 1
H sync >/dev/null 2>&1
H list > "$W/l.txt"; H list --handoff > "$W/h.txt"
cat "$W/l.txt" "$W/h.txt"
bad=0
for f in "$W/l.txt" "$W/h.txt"; do
  while IFS= read -r l; do n=$(printf '%s' "$l" | wc -m); [ "$n" -gt 80 ] && { echo "line of $n columns: $l"; bad=1; }; done < "$f"
done
grep -q 'EV' "$W/l.txt" || defect "device not listed (test could not run)"
[ $bad = 1 ] && defect "list rows with escaped cloud values pass 80 columns / columns misaligned"
echo OK; exit 0

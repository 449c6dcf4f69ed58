#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# One member of the operators group keeps the shared request-memory budget (request_memory_mib)
# full with frames it never finishes; the administrator's `hangar import` is then refused
# `busy` five times and gives up within ~4 s, for as long as the operator keeps it up.
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
mkuser f01hostile f01ops
start_sim '{"time_scale":60}'
start_svc --poll-interval 1 --operators-group f01ops
"$BIN/hangar-devicegen" -o "$W/big.csv" --devices MEM-:1000 >/dev/null
cp "$D/hostile_mem.py" "$W/h.py"; chmod 644 "$W/h.py"
# the operator: 4 connections, each announcing an 8 MiB frame, sending 7 MiB, then stalling
su f01hostile -c "python3 $W/h.py $EP 4 45" & PIDS+=($!)
sleep 3
H import "$W/big.csv" --profile standard > "$W/imp.out" 2>&1; rc=$?
cat "$W/imp.out"
if [ $rc -ne 0 ]; then
  defect "another local user (operators group) starved root's import: exit $rc, nothing queued"
fi
echo "OK: import got through"
exit 0

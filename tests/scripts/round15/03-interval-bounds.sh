#!/bin/bash
# Kept from the black-box attack of round 15 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# hangar.json interval bounds: activity_interval_hours=0.0000001 is accepted and hangard then lists
# the tenant's Autopilot devices every ~30 ms (hammering Graph); group_sweep_interval_hours=1e308
# is accepted although activity_interval_hours is capped at 8760 ("numbers out of range refused").
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/h15-intv.XXXXXX); chmod 700 "$T"
cleanup(){ [ -n "$HD" ] && kill $HD 2>/dev/null; [ -n "$SIM" ] && kill $SIM 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
"$BIN/hangar-cloudsim" --port 0 >"$T/sim.out" 2>"$T/sim.err" & SIM=$!
for i in $(seq 50); do grep -q listening "$T/sim.out" && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")
defect=""
mkdir -m 700 "$T/g"; echo '{"group_sweep_interval_hours":1e308}' >"$T/g/hangar.json"
timeout 3 "$BIN/hangard" --data-dir "$T/g" --endpoint "$T/g/run/h.sock" --cloud-url "http://127.0.0.1:$PORT" >"$T/g.out" 2>&1; rc=$?
[ $rc -ne 2 ] && defect="$defect group_sweep_interval_hours=1e308 accepted (rc=$rc);"
mkdir -m 700 "$T/a"; echo '{"activity_interval_hours":0.0000001}' >"$T/a/hangar.json"
before=$(curl -s "http://127.0.0.1:$PORT/_sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["total"])')
"$BIN/hangard" --data-dir "$T/a" --endpoint "$T/a/run/h.sock" --cloud-url "http://127.0.0.1:$PORT" >"$T/a.out" 2>&1 & HD=$!
sleep 5
after=$(curl -s "http://127.0.0.1:$PORT/_sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["total"])')
kill $HD 2>/dev/null; wait $HD 2>/dev/null; HD=
n=$((after-before))
echo "cloud requests in ~5 s with activity_interval_hours=0.0000001: $n"
[ $n -gt 20 ] && defect="$defect activity_interval_hours=1e-7 accepted: $n cloud requests in 5 s;"
if [ -n "$defect" ]; then echo "DEFECT:$defect"; exit 1; fi
echo ok; exit 0

#!/bin/bash
# Kept from the black-box attack of round 11 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# hangard --poll-interval nan is accepted (the check "takes a positive number of seconds" lets NaN
# through), and the engine then polls the import table in a tight loop: ~35 GETs a second against
# Graph for 3 pending devices. (--poll-interval 0.001, 0x10 and hangar.json
# "poll_interval_seconds": 1e-300 are accepted too: there is no floor.)
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"; EP=$T/s/h.sock; mkdir -p -m 0750 "$T/data" "$T/run"
cat > $T/sc.json <<J
{"registration":{"delay_seconds":600,"jitter_seconds":0}}
J
start_sim $T/sc.json
mkdir -p $T/data $T/run; chmod 750 $T/data $T/run; EP=$T/run/h.sock
$B/hangard --data-dir $T/data --endpoint $EP --cloud-url $U --poll-interval nan > $T/o 2>&1 & DP=$!; PIDS+=($DP)
sleep 1.5
if ! kill -0 $DP 2>/dev/null; then wait $DP; rc=$?; echo "ok: --poll-interval nan refused (exit $rc): $(head -c 200 $T/o)"; exit 0; fi
$B/hangar-devicegen -o $T/a.csv --devices PI-:3 >/dev/null; H import $T/a.csv --profile standard >/dev/null 2>&1
sleep 5
n=$(curl -s $U/_sim/stats | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['requests']['by_endpoint'].get('imported.list',{}).get('total',0))")
echo "DEFECT: hangard accepted --poll-interval nan and made $n import-table reads in ~5 s (expected a usage error, exit 2, like --poll-interval -5)"
exit 1

#!/bin/bash
# Kept from the black-box attack of round 11 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# The cloud refuses Hangar's import call itself with HTTP 500 (or 501) every time (cloudsim
# `refusals` on imported.import). After several passes, each refused, devices stay Queued and
# `hangar status` shows only a "last error": no ATTENTION, nothing in cloud.needs_attention, the
# tray stays green. docs/operations.md: "`hangar status` shows ATTENTION ... Intune keeps refusing
# one of Hangar's requests (HTTP 400/500 pass after pass)". The same refusal with 400 is ATTENTION
# after three passes.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"; EP=$T/s/h.sock; mkdir -p -m 0750 "$T/data" "$T/run"
ST=${ST:-500}
cat > $T/sc.json <<J
{"refusals":[{"endpoint":"imported.import","query":"","status":$ST,"times":0}]}
J
start_sim $T/sc.json; start_svc || exit 2
$B/hangar-devicegen -o $T/d.csv --devices RF-:4 >/dev/null
H import $T/d.csv --profile standard >/dev/null 2>&1
SECONDS=0
while [ $SECONDS -lt 30 ]; do
  sleep 2
  n=$(curl -s $U/_sim/stats | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['requests']['by_endpoint'].get('imported.import',{}).get('total',0))")
  att=$(H --json status | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d['cloud']['needs_attention']))")
  [ "$att" != 0 ] && { echo "ok: ATTENTION after $n refused import call(s)"; H status | grep ATTENTION | cut -c1-160; exit 0; }
done
[ "$n" -lt 4 ] && { echo "inconclusive: only $n import calls in 30 s"; exit 2; }
echo "DEFECT: $n import calls refused with HTTP $ST, devices still Queued, and no ATTENTION:"
H status | grep -E "queue depth|next retry|last error|ATTENTION" | cut -c1-200
exit 1

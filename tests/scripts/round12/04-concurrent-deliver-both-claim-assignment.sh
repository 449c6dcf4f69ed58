#!/bin/bash
# Kept from the black-box attack of round 12 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# Two `hangar deliver` of one device to one user started together: the cloud got one assignment,
# but both commands printed "delivered ... (assigned in Autopilot)". README: "Delivering again to
# the user a device was delivered to succeeds, sends nothing and says so."
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
cat > $T/sc.json <<J
{"time_scale":600,"tenant":{"users":[{"user_principal_name":"ada@contoso.com","display_name":"Ada","licenses":[]}]}}
J
start_sim $T/sc.json; start_svc || exit 2
import_devices CD-:1
for i in $(seq 60); do H list 2>/dev/null | grep -q "CD-0001 *Ready for user" && break; sleep 0.5; done
H list | grep -q "CD-0001 *Ready for user" || { echo "setup failed: the device is not Ready for user"; exit 2; }
# A slower cloud, so both commands are under way together.
curl -s -X PUT "$U/_sim/scenario" -d '{"time_scale":600,"faults":{"latency_ms":800}}' >/dev/null
H deliver CD-0001 --user ada@contoso.com > o1 2>&1 & P1=$!
H deliver CD-0001 --user ada@contoso.com > o2 2>&1 & P2=$!
wait $P1; R1=$?; wait $P2; R2=$?
calls=$(curl -s $U/_sim/stats | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['requests']['by_endpoint'].get('autopilot.assignUserToDevice',{}).get('total',0))")
echo "first (exit $R1): $(cat o1)"; echo "second (exit $R2): $(cat o2)"; echo "assignUserToDevice calls: $calls"
claimed=$(cat o1 o2 | grep -c "assigned in Autopilot")
if [ "$R1" != 0 ] || [ "$R2" != 0 ] || [ "$calls" != 1 ] || [ "$claimed" != 1 ]; then
  echo "DEFECT: $calls assignment(s) sent, $claimed of the two commands claim to have assigned the user"; exit 1; fi
echo ok; exit 0

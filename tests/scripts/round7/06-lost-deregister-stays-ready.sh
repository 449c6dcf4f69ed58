#!/usr/bin/env bash
# Kept from the black-box attack of round 7 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# A deregister whose DELETE reached the tenant but whose answer was lost left the device Ready for
# user for ever, whatever refresh said. The tenant's list shows the deletion: the device leaves
# the queue, and running deregister again, as advised, says it was done.
start_sim_json '{"time_scale":60,"faults":{"endpoints":["autopilot.delete"],"drop_after_rate":1.0}}'
start_svc
"$B/hangar-devicegen" -o d.csv --devices DBT:3 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
wait_state ready_for_user 3 60 || { echo "setup: not Ready for user"; exit 2; }
out=$(H deregister DBT0001 --yes 2>&1); echo "deregister rc=$?: $out"
curl -s -X PUT "$U/_sim/scenario" -d '{"time_scale":60}' >/dev/null
for i in $(seq 10); do r=$(H refresh 2>&1) && break; sleep 3; done
echo "refresh: $r"
tenant=$(curl -s "$U/_sim/stats" | grep -o '"autopilot_devices": *[0-9]*' | grep -o '[0-9]*$')
echo "tenant Autopilot devices: $tenant"
[ "$tenant" = 2 ] || { echo "setup: the DELETE did not reach the tenant"; exit 2; }
if H show DBT0001 2>/dev/null | grep -qE "^  state +Ready for user"; then
  echo "DEFECT: DBT0001 is deleted in the tenant, yet Hangar still lists it Ready for user"; exit 1
fi
again=$(H deregister DBT0001 --yes 2>&1); rc=$?
echo "deregister again: rc=$rc: $again"
[ $rc -eq 0 ] || { echo "DEFECT: deregister run again, as advised, fails"; exit 1; }
echo OK; exit 0

#!/usr/bin/env bash
# Kept from the black-box attack of round 7 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# Two admins: `deregister` while Graph answers its DELETE slowly, and 0.3 s later a plain `remove`
# of the same device. The remove took the device out and said it was "still registered in Windows
# Autopilot"; the deregister deleted the registration yet failed with "no device in the queue".
start_sim_json '{"time_scale":60,"faults":{"endpoints":["autopilot.delete"],"latency_ms":1500}}'
start_svc
"$B/hangar-devicegen" -o d.csv --devices RCE:3 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
wait_state ready_for_user 3 60 || { echo "setup: not Ready for user"; exit 2; }
H deregister RCE0002 --yes > a1 2>&1 & a=$!
sleep 0.3
H remove RCE0002 > a2 2>&1; rrc=$?
wait $a; drc=$?
echo "deregister rc=$drc: $(cat a1)"; echo "remove rc=$rrc: $(cat a2)"
bad=0
grep -q "still registered in Windows Autopilot" a2 && { echo "DEFECT: remove says the device is still registered while the deregister deletes it"; bad=1; }
[ $drc -eq 0 ] && grep -qi "deleted" a1 || { echo "DEFECT: the deregister does not end with the deletion said"; bad=1; }
[ $rrc -ne 0 ] && grep -q "under way" a2 || { echo "DEFECT: the remove was not refused while the deregister ran"; bad=1; }
exit $bad

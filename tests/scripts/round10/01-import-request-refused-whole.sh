#!/usr/bin/env bash
# Kept from round 9's leftovers (issue 13), with round 10. Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# Intune refusing Hangar's import request itself (HTTP 400 for every call, whatever it holds) had
# every batch halved down to single devices (2N-1 calls) and every device marked Registration
# failed, "Unexpected error". Now: a few calls, nobody failed, the batch held and sent again, and
# once the cloud takes it, every device registers. 14 refusals: two tries of 7 calls for 20 devices.
start_sim_json '{"time_scale":60,"refusals":[{"endpoint":"imported.import","query":"","status":400,"times":14}]}'
start_svc
import_devices RF-:20
for i in $(seq 40); do
  H show RF-0001 2>/dev/null | grep -q "refused the import request itself" && break; sleep 0.25
done
out=$(H show RF-0001 2>&1)
echo "$out" | grep -q "refused the import request itself, not this device" \
  || { echo "DEFECT: the device does not say the request was refused: $out"; exit 1; }
failed=$(H --json status | grep -o '"registration_failed": *[0-9]*' | grep -o '[0-9]*$')
[ "${failed:-0}" -eq 0 ] || { echo "DEFECT: $failed device(s) marked failed for a refused request"; exit 1; }
wait_state registration_pending 20 90 || wait_state ready_for_user 20 30 \
  || { echo "DEFECT: the devices did not register once the cloud took the request"; H list; exit 1; }
calls=$(curl -s "$U/_sim/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["requests"]["by_endpoint"].get("imported.import",{}))')
echo "imported.import calls: $calls"
failed=$(H --json status | grep -o '"registration_failed": *[0-9]*' | grep -o '[0-9]*$')
[ "${failed:-0}" -eq 0 ] || { echo "DEFECT: $failed device(s) failed"; exit 1; }
echo OK; exit 0

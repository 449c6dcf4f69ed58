#!/usr/bin/env bash
# Kept from the black-box attack of round 5 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# A device was delivered to the wrong user (ada). Hangar refuses `deliver --user bob` and tells the
# admin to change the user in the Intune admin center. The admin does exactly that (Autopilot now
# lists bob). Hangar never learns it: `deliver --user bob` is still refused with the same advice,
# and `list --handoff` / `export --format csv` keep naming ada: the hand-off list is wrong and
# there is no Hangar command to correct it (dead end).
cat > sc.json <<'J'
{"time_scale":60,"tenant":{"users":[{"user_principal_name":"ada@contoso.com"},{"user_principal_name":"bob@contoso.com"}]}}
J
start_sim sc.json; start_svc
"$B/hangar-devicegen" -o a.csv --devices PC:1 >/dev/null
H import a.csv --profile standard >/dev/null 2>&1
for i in $(seq 60); do curl -s -X POST "$U/_sim/advance" -d '{"seconds":60}' >/dev/null; H list --state ready 2>/dev/null | grep -q PC0001 && break; sleep 0.5; done
H deliver PC0001 --user ada@contoso.com || { echo "setup failed"; exit 2; }
H deliver PC0001 --user bob@contoso.com; echo "(rc=$?)"
# the admin follows the advice: assign bob in Intune (here: the same Graph call the portal makes)
TEN=$(grep -o 'tenant [0-9a-f-]*' sim.err | head -1 | awk '{print $2}'); CID=$(grep -o 'client id [0-9a-f-]*' sim.err | head -1 | awk '{print $3}')
TOK=$(curl -s -X POST "$U/$TEN/oauth2/v2.0/token" -d "grant_type=client_credentials&client_id=$CID&client_secret=hangar-cloudsim-secret&scope=https://graph.microsoft.com/.default" | python3 -c "import json,sys; print(json.load(sys.stdin).get('access_token',''))")
id=$(H --json show PC0001 | sed -n 's/.*"cloud_device_id": "\(.*\)".*/\1/p')
curl -s -o /dev/null -w 'Intune reassign: %{http_code}\n' -X POST "$U/beta/deviceManagement/windowsAutopilotDeviceIdentities/$id/assignUserToDevice" -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' -d '{"userPrincipalName":"bob@contoso.com","addressableUserName":"Bob"}'
H refresh >/dev/null 2>&1; H sync >/dev/null 2>&1
out=$(H deliver PC0001 --user bob@contoso.com 2>&1); rc=$?; echo "$out (rc=$rc)"
H list --handoff --wide | grep PC0001
if [ $rc != 0 ] && ! H list --handoff --wide | grep PC0001 | grep -q bob; then
  echo "DEFECT: Intune lists bob, Hangar keeps ada in the hand-off list and refuses to record bob"; exit 1; fi
echo OK; exit 0

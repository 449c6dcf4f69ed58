#!/usr/bin/env bash
# Kept from the black-box attack of round 7 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# A device whose registration was deleted in the Intune admin center stayed Ready for user for
# ever: refresh and sync counted it as registered. Two activity passes in a row without it in
# the tenant fail it, with the way back.
start_sim; start_svc
"$B/hangar-devicegen" -o d.csv --devices PDL:3 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
wait_state ready_for_user 3 60 || { echo "setup: not Ready for user"; exit 2; }
TOK=$(curl -s -X POST "$U/11111111-1111-4111-8111-111111111111/oauth2/v2.0/token" -d "grant_type=client_credentials&client_id=22222222-2222-4222-8222-222222222222&client_secret=hangar-cloudsim-secret&scope=https://graph.microsoft.com/.default" | grep -o '"access_token": *"[^"]*"' | sed 's/.*: *"//; s/"$//')
ID=$(H --json show PDL0001 | grep -o '"cloud_device_id": *"[^"]*"' | sed 's/.*: *"//; s/"$//')
[ -n "$TOK" ] && [ -n "$ID" ] || { echo "setup: no token or id ($TOK / $ID)"; exit 2; }
code=$(curl -s -o /dev/null -w "%{http_code}" -X DELETE -H "Authorization: Bearer $TOK" "$U/beta/deviceManagement/windowsAutopilotDeviceIdentities/$ID")
echo "portal DELETE: HTTP $code"
[ "$code" = 204 ] || [ "$code" = 200 ] || { echo "setup: the DELETE failed"; exit 2; }
H refresh >/dev/null; H sync >/dev/null
shown=$(H show PDL0001)
echo "$shown" | head -4
if echo "$shown" | grep -qE "^  state +Ready for user"; then
  echo "DEFECT: PDL0001 was deleted in the tenant, yet after refresh and sync it is Ready for user"; exit 1
fi
echo "$shown" | grep -q "hangar retry PDL0001" || { echo "DEFECT: no way back named"; exit 1; }
echo OK; exit 0

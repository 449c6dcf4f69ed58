#!/bin/bash
# Kept from the black-box attack of round 11 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# `hangar deliver SERIAL` run twice: the second run sends nothing (README: "Delivering again to the
# user a device was delivered to succeeds and sends nothing") but prints the same
# "delivered X to U (assigned in Autopilot)" as the first, so the admin cannot tell a repeat
# from an assignment just made.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"; EP=$T/s/h.sock; mkdir -p -m 0750 "$T/data" "$T/run"
cat > $T/sc.json <<J
{"time_scale":60,"registration":{"delay_seconds":60,"jitter_seconds":0,"profile_delay_seconds":30},
 "tenant":{"users":[{"user_principal_name":"ada@contoso.com","display_name":"Ada","licenses":[]}]}}
J
start_sim $T/sc.json; start_svc || exit 2
$B/hangar-devicegen -o $T/a.csv --devices DL-:1 >/dev/null
H import $T/a.csv --profile standard --user ada@contoso.com >/dev/null 2>&1
for i in $(seq 40); do H list 2>/dev/null | grep -q "Ready for user" && break; sleep 0.3; done
first=$(H deliver DL-0001 2>&1); second=$(H deliver DL-0001 2>&1); rc=$?
calls=$(curl -s $U/_sim/stats | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['requests']['by_endpoint'].get('autopilot.assignUserToDevice',{}).get('total',0))")
echo "first:  $first"; echo "second: $second (exit $rc); assignUserToDevice calls: $calls"
if [ "$calls" = 1 ] && echo "$second" | grep -q "assigned in Autopilot"; then
  echo "DEFECT: the repeat sent nothing but claims it assigned in Autopilot"; exit 1; fi
echo ok; exit 0

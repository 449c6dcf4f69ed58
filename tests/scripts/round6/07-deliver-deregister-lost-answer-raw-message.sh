#!/usr/bin/env bash
# Kept from the black-box attack of round 6 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# When the cloud drops the answer to `deliver`'s user lookup or `deregister`'s device lookup, the
# admin got only the raw transport error: not what failed, not that nothing was assigned or
# deleted, not what to do.
start_sim_json '{"time_scale":60,"tenant":{"users":[{"user_principal_name":"ada@contoso.com"}]}}'
start_svc
"$B/hangar-devicegen" -o d.csv --devices DL:1 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
wait_state ready_for_user 1 60 || { echo "setup: the device never became Ready for user"; exit 2; }
curl -s -X PUT -d '{"time_scale":60,"tenant":{"users":[{"user_principal_name":"ada@contoso.com"}]},"faults":{"drop_after_rate":1.0}}' "$U/_sim/scenario" >/dev/null
bad=0
out=$(H deliver DL0001 --user ada@contoso.com 2>&1); rc=$?
echo "deliver -> rc=$rc: $out"
echo "$out" | grep -qiE "nothing was (sent|assigned)|not assigned|may have been done" || { echo "DEFECT: deliver says neither whether the user was assigned nor what to do"; bad=1; }
echo "$out" | grep -q "again" || { echo "DEFECT: deliver does not say to run it again"; bad=1; }
out=$(H deregister DL0001 --yes 2>&1); rc=$?
echo "deregister -> rc=$rc: $out"
echo "$out" | grep -qiE "nothing was (sent|deleted)|not deleted|may have been done" || { echo "DEFECT: deregister says neither whether anything was deleted nor what to do"; bad=1; }
H show DL0001 >/dev/null 2>&1 || { echo "DEFECT: a deregister whose lookup failed took the device out"; bad=1; }
exit $bad

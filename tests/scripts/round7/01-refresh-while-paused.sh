#!/usr/bin/env bash
# Kept from the black-box attack of round 7 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# While uploads were paused, `refresh` and `sync` waited 30 s and failed blaming the cloud, and
# devices already uploaded stayed Registration Pending. The help: pause stops uploading (devices
# stay queued); nothing else.
start_sim; start_svc
"$B/hangar-devicegen" -o d.csv --devices PAU:5 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
wait_state registration_pending 5 30 || wait_state ready_for_user 1 5 || { echo "setup: nothing uploaded"; exit 2; }
H pause >/dev/null
t0=$(date +%s); out=$(H refresh 2>&1); rc=$?; t1=$(date +%s)
echo "refresh while paused: rc=$rc after $((t1-t0)) s: $out"
bad=0
[ $rc -eq 0 ] || { echo "DEFECT: refresh fails while uploads are paused"; bad=1; }
wait_state ready_for_user 5 30 || { echo "DEFECT: devices uploaded before the pause did not become Ready for user"; H status; bad=1; }
exit $bad

#!/usr/bin/env bash
# Kept from the black-box attack of round 5 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `hangar remove SERIAL --force` on a Registration Pending device whose DELETE of the import
# record reaches the cloud but whose answer is lost. README: for deliver/deregister/remove --force
# a lost answer is told as "it may have been done" with the command to run again. remove --force
# prints only the raw transport error ("DELETE http://...: Failed to read response body").
start_sim; start_svc
curl -s -X PUT "$U/_sim/scenario" -d '{"time_scale":1}' >/dev/null   # registration takes minutes
"$B/hangar-devicegen" -o p.csv --devices PD:2 >/dev/null
H import p.csv --profile standard >/dev/null 2>&1
for i in $(seq 60); do H list --state pending 2>/dev/null | grep -q PD0001 && break; sleep 0.5; done
curl -s -X PUT "$U/_sim/scenario" -d '{"time_scale":1,"faults":{"endpoints":["imported.delete"],"drop_after_rate":1.0}}' >/dev/null
out=$(H remove PD0001 --force 2>&1); rc=$?; echo "$out (rc=$rc)"
if ! echo "$out" | grep -qiE "may have been|again|hangar show"; then
  echo "DEFECT: lost answer of remove --force is a raw transport error with no 'it may have been done; run it again'"; exit 1; fi
echo OK; exit 0

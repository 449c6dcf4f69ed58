#!/usr/bin/env bash
# Kept from the black-box attack of round 7 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# A connection the cloud dropped marks it offline until the service's next probe, a few seconds
# on. `refresh` run in that moment failed at once with "the cloud is offline" although the cloud
# was back: it now waits for the probe, and fails only on a failure that comes after it asked.
start_sim_json '{"time_scale":60,"faults":{"endpoints":["graph"],"drop_rate":1.0}}'
start_svc
"$B/hangar-devicegen" -o d.csv --devices RLC:2 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
for i in $(seq 60); do H --json status | grep -q '"online": *false' && break; sleep 0.5; done
H --json status | grep -q '"online": *false' || { echo "setup: the service never went offline"; exit 2; }
curl -s -X PUT "$U/_sim/scenario" -d '{"time_scale":60}' >/dev/null   # the network is back
out=$(H refresh 2>&1); rc=$?
echo "refresh rc=$rc: $out"
if [ $rc -ne 0 ]; then
  echo "DEFECT: refresh failed right after the cloud came back (it blamed an earlier lost connection)"
  exit 1
fi
# And a cloud that is still down is reported as such, not waited on until --timeout.
curl -s -X PUT "$U/_sim/scenario" -d '{"faults":{"endpoints":["graph"],"drop_rate":1.0}}' >/dev/null
start=$(date +%s)
out=$(H --timeout 60 refresh 2>&1); rc=$?
took=$(( $(date +%s) - start ))
echo "refresh with the cloud down: rc=$rc after ${took}s: $out"
[ $rc -eq 1 ] || { echo "DEFECT: refresh with the cloud down exited $rc, not 1"; exit 1; }
echo "$out" | grep -q "the cloud is offline" || { echo "DEFECT: it does not say the cloud is offline"; exit 1; }
[ "$took" -lt 20 ] || { echo "DEFECT: it waited ${took}s to say the cloud is down"; exit 1; }
echo OK; exit 0

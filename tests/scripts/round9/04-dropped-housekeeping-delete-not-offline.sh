#!/usr/bin/env bash
# Kept from the black-box attack of round 9 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# The cloud dropping the connections of Hangar's housekeeping DELETEs (of its finished import
# records) made the service call the whole cloud offline: status and the tray said so, and refresh
# and sync failed, while uploads and deregister worked. The cloud was reached: it stays online.
start_sim_json '{"time_scale":60,"faults":{"endpoints":["imported.delete"],"drop_rate":1.0}}'
start_svc
import_devices DX:3
wait_state ready_for_user 3 60 || { echo "setup: not Ready for user"; exit 2; }
sleep 3   # the DELETEs of the finished records are tried, and dropped
H --json status | grep -q '"online": *false' && { echo "DEFECT: status calls the cloud offline"; exit 1; }
out=$(H refresh 2>&1); rc=$?; echo "refresh rc=$rc: $out"
[ $rc -eq 0 ] || { echo "DEFECT: refresh fails because a housekeeping DELETE was dropped"; exit 1; }
out=$(H sync 2>&1); rc=$?; echo "sync rc=$rc"
[ $rc -eq 0 ] || { echo "DEFECT: sync fails because a housekeeping DELETE was dropped: $out"; exit 1; }
echo OK; exit 0

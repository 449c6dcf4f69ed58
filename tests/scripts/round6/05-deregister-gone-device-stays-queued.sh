#!/usr/bin/env bash
# Kept from the black-box attack of round 6 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `hangar deregister SERIAL` of a device the tenant never listed (its registration failed: Device
# not found) exited 1 and left it queued with no way out. README: a deregister that finds the
# device gone takes it out of the queue.
start_sim_json '{"time_scale":60,"rules":[{"serial_prefix":"NF","error":"ZtdDeviceNotFound"}]}'
start_svc
"$B/hangar-devicegen" -o d.csv --devices NF:1 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
wait_state registration_failed 1 60 || { echo "setup: the device never failed"; exit 2; }
out=$(H deregister NF0001 --yes 2>&1); rc=$?
echo "deregister -> rc=$rc: $out"
if H show NF0001 >/dev/null 2>&1; then
  echo "DEFECT: the device is still queued after a deregister that found it gone from the tenant"; exit 1
fi
[ $rc -eq 0 ] || { echo "DEFECT: exit $rc for a deregister that took the device out"; exit 1; }
echo OK; exit 0

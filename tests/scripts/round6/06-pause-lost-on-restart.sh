#!/usr/bin/env bash
# Kept from the black-box attack of round 6 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `hangar pause` did not survive a restart of the service (a crash, a reboot, an MSI upgrade):
# the queued devices were uploaded although the admin had paused uploads.
start_sim; start_svc
H pause >/dev/null
"$B/hangar-devicegen" -o d.csv --devices PZ:3 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
stop_svc; start_svc
sleep 3
st=$(H --json status)
p=$(printf '%s' "$st" | grep -o '"paused": *[a-z]*'); q=$(printf '%s' "$st" | grep -o '"queued": *[0-9]*')
echo "after the restart: $p, $q"
printf '%s' "$p" | grep -q true || { echo "DEFECT: uploads were paused before the restart and are not after it"; exit 1; }
printf '%s' "$q" | grep -q ': *3' || { echo "DEFECT: the paused devices did not stay queued"; exit 1; }
echo OK; exit 0

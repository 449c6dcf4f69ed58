#!/usr/bin/env bash
# Kept from the black-box attack of round 7 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# README: a --user that breaks the name rule "is a usage error (exit 2)" for import, capture and
# deliver alike; deliver exited 1.
start_sim; start_svc
"$B/hangar-devicegen" -o d.csv --devices UPN:1 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
out=$(H deliver UPN0001 --user "a b@c.com" 2>&1); rc=$?
echo "deliver --user 'a b@c.com': rc=$rc: $out"
[ $rc -eq 2 ] || { echo "DEFECT: deliver with an invalid --user exits $rc, not 2"; exit 1; }
echo OK; exit 0

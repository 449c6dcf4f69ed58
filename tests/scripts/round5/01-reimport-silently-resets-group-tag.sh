#!/usr/bin/env bash
# Kept from the black-box attack of round 5 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# Admin imports with --group-tag Sales, then re-imports the same file only to correct the
# profile. The "updated:" line names only the profile change, yet the stored group tag is
# silently reset to the default Microsoft365Managed_Autopilot.
start_sim; start_svc
"$B/hangar-devicegen" -o a.csv --devices T:3 >/dev/null
H pause >/dev/null
H import a.csv --profile standard --group-tag Sales >/dev/null 2>&1
out=$(H import a.csv --profile power-user 2>/dev/null)
echo "$out" | head -2
tag=$(H --json show T0001 | sed -n 's/.*"group_tag": "\(.*\)".*/\1/p')
echo "stored group tag after re-import: $tag"
if [ "$tag" != "Sales" ] && ! echo "$out" | grep -q "group tag Sales"; then
  echo "DEFECT: group tag changed Sales -> $tag without being reported in the 'updated:' lines"; exit 1; fi
echo "OK"; exit 0

#!/usr/bin/env bash
# Kept from the black-box attack of round 6 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `hangar list --handoff` did not fit 80 columns when a serial is long (README: the table fits the
# terminal, 80 columns when piped; the serial is cut last, in the middle). Plain `list` did.
start_sim; start_svc
"$B/hangar-devicegen" -o d.csv --devices VERYLONGSERIALNUMBER-WITH-SITE-CODE-AND-MORE-STUFF-:2 --devices S:2 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
bad=0
for v in "list" "list --handoff"; do
  out=$(H $v); max=$(printf '%s\n' "$out" | sed 's/…/./g' | awk '{ if (length($0) > m) m = length($0) } END { print m+0 }')
  echo "hangar $v (piped): widest line $max columns"
  [ "$max" -gt 80 ] && { echo "DEFECT: hangar $v exceeds 80 columns"; printf '%s\n' "$out" | head -3; bad=1; }
  [ "$max" -lt 20 ] && { echo "DEFECT: hangar $v printed no table"; bad=1; }
done
exit $bad

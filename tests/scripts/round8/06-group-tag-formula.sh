#!/usr/bin/env bash
# Kept from the black-box attack of round 8 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# A group tag a spreadsheet runs as a formula (=1+1) was accepted and exported raw into the portal
# CSV that admins open in Excel. It is refused at import (and in a file's rows), so never exported.
start_sim
start_svc
H pause >/dev/null
"$B/hangar-devicegen" -o a.csv --devices CSVF:1 >/dev/null
out=$(H import a.csv --profile standard --group-tag '=1+1' 2>&1); rc=$?
echo "import --group-tag '=1+1': rc=$rc: $out"
[ $rc -eq 2 ] || { echo "DEFECT: a formula tag is accepted (rc=$rc)"; exit 1; }
echo "$out" | grep -q "run as a formula" || { echo "DEFECT: the refusal does not say why"; exit 1; }
printf 'Device Serial Number,Windows Product ID,Hardware Hash,Group Tag\r\n' > f.csv
sed -n 2p a.csv | tr -d '\r' | awk -F, '{printf "%s,%s,%s,@SUM(A1)\r\n", $1, $2, $3}' >> f.csv
H import f.csv --profile standard >/dev/null 2>&1
H export --format csv -o up.csv >/dev/null 2>&1
if grep -q ',[=+@-]' up.csv 2>/dev/null; then echo "DEFECT: an exported cell starts like a formula"; cat up.csv; exit 1; fi
# Round 9: validate called such a row valid and merge wrote it to the upload file.
out=$("$B/hangar" validate f.csv 2>&1); rc=$?
echo "validate: rc=$rc: $(echo "$out" | head -1)"
[ $rc -eq 1 ] && echo "$out" | grep -q "Group Tag: the Group Tag \"@SUM(A1)\" begins with '@'" \
  || { echo "DEFECT: validate does not refuse a formula tag in a file"; exit 1; }
"$B/hangar" merge f.csv -o m.csv >/dev/null 2>&1
if grep -q ',[=+@-]' m.csv 2>/dev/null; then echo "DEFECT: merge wrote a formula tag"; exit 1; fi
echo OK; exit 0

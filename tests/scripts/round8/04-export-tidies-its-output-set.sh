#!/usr/bin/env bash
# Kept from the black-box attack of round 8 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `export --format csv -o upload.csv` left an earlier export's upload-001.csv, upload-002.csv
# beside today's upload.csv: `upload*.csv` mixed 600 stale devices into today's upload.
start_sim
start_svc
H pause >/dev/null
"$B/hangar-devicegen" -o a.csv --devices EXA:600 >/dev/null
"$B/hangar-devicegen" -o b.csv --devices EXB:5 >/dev/null
H import a.csv --profile power-user >/dev/null 2>&1
H import b.csv --profile standard >/dev/null 2>&1
mkdir out
H export --format csv -o out/upload.csv --profile power-user 2>/dev/null
out=$(H export --format csv -o out/upload.csv --profile standard 2>&1)
echo "$out"; ls out
[ -e out/upload-001.csv ] && { echo "DEFECT: yesterday's upload-001.csv is still beside today's upload.csv"; exit 1; }
echo "$out" | grep -q "removed 2 file(s)" || { echo "DEFECT: the removal is not named"; exit 1; }
echo "$out" | grep -q "to 1 file(s): .*out/upload.csv" || { echo "DEFECT: export does not name the file it wrote"; exit 1; }
echo OK; exit 0

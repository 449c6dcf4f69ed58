#!/usr/bin/env bash
# Kept from the black-box attack of round 9 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `export --format csv -o up.csv --state failed` matching no device replaced yesterday's good
# up.csv with a header alone (exit 0). As with merge, nothing is written, and it says so.
start_sim
start_svc
H pause >/dev/null
import_devices EMP:5
H export --format csv -o up.csv >/dev/null 2>&1
before=$(md5sum < up.csv)
out=$(H export --format csv -o up.csv --state failed 2>&1); rc=$?
echo "export matching nothing: rc=$rc: $out"
[ "$(md5sum < up.csv)" = "$before" ] || { echo "DEFECT: a good upload file was replaced ($(wc -l < up.csv) line(s) now)"; exit 1; }
[ $rc -eq 1 ] && echo "$out" | grep -q "no device to export" || { echo "DEFECT: it does not say nothing was written"; exit 1; }
echo OK; exit 0

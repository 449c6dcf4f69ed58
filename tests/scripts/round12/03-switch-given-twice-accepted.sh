#!/bin/bash
# Kept from the black-box attack of round 12 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README (validate/merge/import options): "... is a usage error, as is any option given twice".
# Options with a value are refused twice (--expect-build: exit 2), but switches are not:
# `validate --strict --strict`, `merge --no-split --no-split`, `config clear-credentials --yes --yes`
# pass silently (exit 0), the same class of slip the value options catch.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-f04.XXXXXX)
trap 'rm -rf "$W"' EXIT
$BIN/hangar-devicegen -o $W/v.csv --devices V-:1 >/dev/null
$BIN/hangar validate $W/v.csv --expect-build 22631 --expect-build 22631 >/dev/null 2>&1; R0=$?
$BIN/hangar validate $W/v.csv --strict --strict >/dev/null 2>&1; R1=$?
$BIN/hangar merge $W/v.csv -o $W/m.csv --no-split --no-split >/dev/null 2>&1; R2=$?
echo "validate --expect-build twice: exit $R0; validate --strict twice: exit $R1; merge --no-split twice: exit $R2"
if [ $R1 != 2 ] || [ $R2 != 2 ]; then
  echo "DEFECT: a switch given twice is accepted (exit $R1/$R2), while the README says any option given twice is a usage error (exit 2)"
  exit 1
fi
echo "ok"; exit 0

#!/bin/bash
# Kept from the black-box attack of round 11 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# hangard --poll-interval inf (or 1e308) with no hangar.json at all: the refusal names
# "<data dir>/hangar.json: "pending_limit_hours" ..." - a file that does not exist and a setting
# nobody gave - instead of the flag that is wrong.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"; EP=$T/s/h.sock; mkdir -p -m 0750 "$T/data" "$T/run"
mkdir -p $T/data $T/run; chmod 750 $T/data $T/run
timeout 5 $B/hangard --data-dir $T/data --endpoint $T/run/h.sock --cloud-url http://127.0.0.1:1 --poll-interval 1e308 > $T/o 2>&1; rc=$?
echo "exit $rc: $(head -c 300 $T/o)"
if [ ! -e $T/data/hangar.json ] && grep -q 'hangar.json' $T/o && ! grep -q -- '--poll-interval' $T/o; then
  echo "DEFECT: the error blames hangar.json (which does not exist) instead of --poll-interval"; exit 1; fi
echo ok; exit 0

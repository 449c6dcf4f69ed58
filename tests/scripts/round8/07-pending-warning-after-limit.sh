#!/usr/bin/env bash
# Kept from the black-box attack of round 8 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# pending_warning_minutes past pending_limit_hours was accepted silently: devices fail before they
# could ever be flagged. hangard refuses it (exit 2), naming both.
mkdir -p "$T/data"; chmod 700 "$T/data"
echo '{"pending_warning_minutes": 120, "pending_limit_hours": 1}' > "$T/data/hangar.json"
timeout 5 "$B/hangard" --data-dir "$T/data" --endpoint "$T/s/h.sock" --cloud-url http://127.0.0.1:9 > out 2>&1; rc=$?
cat out | tail -2
[ $rc -eq 2 ] || { echo "DEFECT: hangard started (rc=$rc) with a warning after the limit"; exit 1; }
grep -q '"pending_warning_minutes" (120) must be less than "pending_limit_hours"' out || { echo "DEFECT: the refusal does not name both"; exit 1; }
echo OK; exit 0

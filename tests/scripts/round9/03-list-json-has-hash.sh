#!/usr/bin/env bash
# Kept from the black-box attack of round 9 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `hangar --json list` said "has_hash": false for every device (the hashes are left out of the
# reply), so a script could not tell hashless rows from the rest; show said true.
start_sim
start_svc
H pause >/dev/null
import_devices LHH:2
listed=$(H --json list | grep -o '"has_hash": *[a-z]*' | sort | uniq -c)
echo "list --json: $listed"
echo "$listed" | grep -q "2 \"has_hash\": *true" || { echo "DEFECT: list --json says a device with a hash has none"; exit 1; }
echo OK; exit 0

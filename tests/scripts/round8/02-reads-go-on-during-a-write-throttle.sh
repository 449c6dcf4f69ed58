#!/usr/bin/env bash
# Kept from the black-box attack of round 8 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# While uploads waited out a write throttle (429), nothing was read: devices Intune registered in
# seconds stayed Registration Pending, failed at a short pending limit, and `refresh` (reads only)
# timed out. Intune counts writes apart from requests: reads go on.
start_sim_json '{"time_scale":60,"throttling":{"enabled":true,"writes":{"limit":1,"window_seconds":15},"requests":{"limit":1000,"window_seconds":15}}}'
mkdir -p "$T/data"; chmod 700 "$T/data"
echo '{"pending_warning_minutes": 0.2, "pending_limit_hours": 0.01}' > "$T/data/hangar.json"
start_svc --batch-size 10
"$B/hangar-devicegen" -o d.csv --devices THP:60 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
sleep 40
st=$(H --json show THP0001 | grep -o '"state": *"[a-z_]*"' | head -1 | grep -o '"[a-z_]*"$')
echo "THP0001 ~40 s after its upload (registration takes ~5 s): $st"
case "$st" in
  '"registration_pending"') echo "DEFECT: still Registration Pending: not followed while uploads wait"; exit 1;;
  '"registration_failed"') echo "DEFECT: failed as pending too long though the cloud registered it"; exit 1;;
esac
out=$(H --timeout 10 refresh 2>&1); rc=$?
echo "refresh rc=$rc: $out"
[ $rc -eq 0 ] || { echo "DEFECT: refresh (reads only) fails while only writes are throttled"; exit 1; }
echo OK; exit 0

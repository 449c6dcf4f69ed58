#!/usr/bin/env bash
# Kept from the black-box attack of round 8 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# The tray said "all well" while it counted devices pending too long, and 12 failures with one
# reason read "<reason> (and 11 more)", as if 11 more reasons.
start_sim_json '{"time_scale":60,"rules":[{"serial_prefix":"TRP","profile_status":"notAssigned"}]}'
mkdir -p "$T/data"; chmod 700 "$T/data"
echo '{"pending_warning_minutes": 0.1, "pending_limit_hours": 0.006}' > "$T/data/hangar.json"
start_svc
XDG_RUNTIME_DIR="$T" "$B/hangar-tray" --endpoint "$T/s/h.sock" --dry-run --coalesce-ms 1000 > tray.txt 2>&1 &
PIDS+=($!)
sleep 1
"$B/hangar-devicegen" -o a.csv --devices TRP:12 >/dev/null
H import a.csv --profile standard >/dev/null 2>&1
for i in $(seq 120); do grep -q "^notify: failed" tray.txt && break; sleep 0.5; done
grep -v '^\[' tray.txt
grep -q "longer than usual" tray.txt || { echo "setup: the tray never counted devices pending too long"; exit 2; }
if grep -q "^health: ok .*longer than usual" tray.txt; then
  echo "DEFECT: the tray is 'ok, all well' while devices are pending too long"; exit 1; fi
grep -q "^health: attention | Hangar: 12 device(s) pending longer than usual" tray.txt \
  || { echo "DEFECT: the tray does not say devices are pending longer than usual"; exit 1; }
grep -q "^notify: failed | 12 devices failed registration: .*(all 12)" tray.txt \
  || { echo "DEFECT: 12 failures with one reason are not told as all 12"; exit 1; }
echo OK; exit 0

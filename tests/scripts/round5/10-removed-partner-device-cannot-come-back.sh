#!/usr/bin/env bash
# Kept from the black-box attack of round 5 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# A partner registered PARTNER1 with our group tag; Hangar tracks it (Ready for user). The admin
# removes it by mistake. `hangar remove` says partner sync will not add it back, and README says
# "importing it again does" -- but the admin has no hash (the partner kept it; the seed says you
# don't need hashes with a partner). sync/refresh never bring it back, and importing it by serial,
# manufacturer and model ends "Registration failed: Device not found" although the device is
# registered in the tenant. Dead end: a registered device Hangar can no longer follow or deliver.
cat > sc.json <<'J'
{"time_scale":60,"tenant":{"devices":[{"serial_number":"PARTNER1","group_tag":"Microsoft365Managed_Autopilot"}]}}
J
start_sim sc.json; start_svc
H sync >/dev/null 2>&1
H list | grep PARTNER1 || { echo "setup: partner device not adopted"; exit 2; }
H remove PARTNER1
H sync >/dev/null 2>&1; H refresh >/dev/null 2>&1
printf 'Device Serial Number,Windows Product ID,Hardware Hash,Manufacturer,Model\r\nPARTNER1,,,Contoso,Laptop 7\r\n' > p.csv
H import p.csv --profile standard 2>&1 | tail -1
for i in $(seq 40); do H list 2>/dev/null | grep PARTNER1 | grep -qE "Ready|failed" && break; sleep 0.5; done
line=$(H list 2>/dev/null | grep PARTNER1); echo "after the documented way back: $line"
if ! echo "$line" | grep -q "Ready for user"; then
  echo "DEFECT: a removed partner-registered device (still registered in the tenant) cannot be tracked again"; exit 1; fi
echo OK; exit 0

#!/usr/bin/env bash
# Kept from the black-box attack of round 5 (issue 13). Exit 1 + "DEFECT" while the defect is there.
set -u
B=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/hangar-find.XXXXXX); chmod 700 "$T"; cd "$T"
PIDS=()
cleanup(){ for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; sleep 0.5; for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
start_sim(){ # $1 = optional scenario file
  if [ -n "${1:-}" ]; then "$B/hangar-cloudsim" --port 0 --scenario "$1" > sim.out 2> sim.err & else "$B/hangar-cloudsim" --port 0 --time-scale 60 > sim.out 2> sim.err & fi
  SIMPID=$!; PIDS+=($SIMPID)
  for i in $(seq 300); do grep -q listening sim.out 2>/dev/null && break; sleep 0.1; done
  U=$(grep -o 'http://[^ ]*' sim.out | head -1)
}
start_svc(){ mkdir -p "$T/data"; chmod 700 "$T/data"
  "$B/hangard" --data-dir "$T/data" --endpoint "$T/s/h.sock" --cloud-url "$U" --poll-interval 1 "$@" >> d.out 2>> d.err &
  SVCPID=$!; PIDS+=($SVCPID)
  for i in $(seq 300); do "$B/hangar" --endpoint "$T/s/h.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
}
H(){ "$B/hangar" --endpoint "$T/s/h.sock" "$@"; }

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

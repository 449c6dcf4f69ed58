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

# Admin imports with --group-tag Sales, then re-imports the same file only to correct the
# profile. The "updated:" line names only the profile change, yet the stored group tag is
# silently reset to the default Microsoft365Managed_Autopilot.
start_sim; start_svc
"$B/hangar-devicegen" -o a.csv --devices T:3 >/dev/null
H pause >/dev/null
H import a.csv --profile standard --group-tag Sales >/dev/null 2>&1
out=$(H import a.csv --profile power-user 2>/dev/null)
echo "$out" | head -2
tag=$(H --json show T0001 | sed -n 's/.*"group_tag": "\(.*\)".*/\1/p')
echo "stored group tag after re-import: $tag"
if [ "$tag" != "Sales" ] && ! echo "$out" | grep -q "group tag Sales"; then
  echo "DEFECT: group tag changed Sales -> $tag without being reported in the 'updated:' lines"; exit 1; fi
echo "OK"; exit 0

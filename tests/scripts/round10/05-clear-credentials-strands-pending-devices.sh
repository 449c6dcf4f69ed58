#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README: "Switching to another tenant while devices are Registration Pending needs `--force`."
# `hangar config clear-credentials --yes` switches the service to the simulated cloud's test
# tenant ("Without a tenant configured, hangard registers against the simulated cloud") with
# devices Registration Pending in the real tenant, no --force asked, no warning: the pending
# devices can no longer be followed (every token request now fails) and `status` still says
# "online".
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}; H=$BIN/hangar
T=$(mktemp -d /tmp/hgf03.XXXXXX); chmod 755 $T; mkdir -m 700 $T/data; mkdir -m 750 $T/run; EP=$T/run/h.sock
cleanup() { kill $DPID $SIMPID 2>/dev/null; wait 2>/dev/null; rm -rf $T; }; trap cleanup EXIT
X=44444444-4444-4444-8444-444444444444; CID=22222222-2222-4222-8222-222222222222
echo "{\"time_scale\":60,\"auth\":{\"tenant_id\":\"$X\"},\"rules\":[{\"serial_prefix\":\"SLOW\",\"delay_seconds\":6000}]}" > $T/scen.json
$BIN/hangar-cloudsim --port 0 --scenario $T/scen.json > $T/sim.out 2>/dev/null & SIMPID=$!
for i in $(seq 50); do grep -q listening $T/sim.out && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' $T/sim.out)
$BIN/hangard --data-dir $T/data --endpoint $EP --cloud-url $URL --poll-interval 2 >/dev/null 2>&1 & DPID=$!
for i in $(seq 100); do $H --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done
echo hangar-cloudsim-secret | $H --endpoint $EP config set-credentials --tenant $X --client-id $CID --secret-stdin | head -1
$BIN/hangar-devicegen -o $T/a.csv --devices SLOW:3 >/dev/null
$H --endpoint $EP import $T/a.csv --profile standard >/dev/null 2>&1; sleep 3
echo "pending in tenant $X: $($H --endpoint $EP list --state pending | tail -1)"
echo "for comparison, set-credentials to another tenant:"
echo x | $H --endpoint $EP config set-credentials --tenant 55555555-5555-4555-8555-555555555555 --client-id $CID --secret-stdin 2>&1 | sed 's/^/  /'
$H --endpoint $EP config clear-credentials --yes > $T/clr 2>&1; RC=$?
echo "clear-credentials --yes: exit $RC"; sed 's/^/  /' $T/clr | head -4
sleep 4; $H --endpoint $EP status | grep -E '^  (cloud|credentials|last error)' | cut -c1-160
if [ $RC -eq 0 ]; then
  echo "DEFECT: clear-credentials switched tenants with 3 devices Registration Pending, without --force"; exit 1; fi
echo OK; exit 0

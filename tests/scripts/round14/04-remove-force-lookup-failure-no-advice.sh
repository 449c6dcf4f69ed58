#!/bin/bash
# Kept from the black-box attack of round 14 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# `hangar remove SERIAL --force` on a Registration Pending device when the cloud drops the read of
# its import record prints only the raw HTTP failure ("hangar: GET http://...: Failed to read
# response body"): it does not say whether anything was done (nothing was deleted / the device
# is still queued) nor what to do (run it again), unlike deregister's and deliver's messages.
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-r14-f04.XXXXXX); mkdir -p $W/d $W/r; chmod 700 $W/d; chmod 750 $W/r
cleanup() { kill $DPID $SIMPID 2>/dev/null; wait $DPID $SIMPID 2>/dev/null; rm -rf $W; }
trap cleanup EXIT
echo '{"time_scale": 1, "registration": {"delay_seconds": 100000, "jitter_seconds": 0}}' > $W/sc.json
$BIN/hangar-cloudsim --port 0 --scenario $W/sc.json > $W/sim.out 2>/dev/null & SIMPID=$!
for i in $(seq 50); do grep -q listening $W/sim.out && break; sleep 0.1; done
URL=$(sed -n 's/listening on //p' $W/sim.out); EP=$W/r/s.sock
$BIN/hangard --data-dir $W/d --endpoint $EP --cloud-url $URL --poll-interval 1 >/dev/null 2>&1 & DPID=$!
for i in $(seq 100); do $BIN/hangar --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done
$BIN/hangar-devicegen -o $W/s.csv --devices P-:1 >/dev/null
$BIN/hangar --endpoint $EP import $W/s.csv --profile standard >/dev/null 2>&1
for i in $(seq 40); do $BIN/hangar --endpoint $EP list --state pending | grep -q '^P-0001' && break; sleep 0.5; done
curl -s -X PUT $URL/_sim/scenario -d '{"registration": {"delay_seconds": 100000}, "faults":{"endpoints":["imported.get","imported.list"],"drop_rate":1}}' >/dev/null
msg=$($BIN/hangar --endpoint $EP remove P-0001 --force 2>&1); rc=$?
echo "rc=$rc: $msg"
if ! echo "$msg" | grep -qi 'again\|nothing was\|still'; then
  echo "DEFECT: the failure names only the HTTP call; it says neither what happened to the device nor what to do"
  exit 1
fi
echo ok; exit 0

#!/bin/bash
# Kept from the black-box attack of round 14 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# `hangar list --handoff --state ready-for-user` at 80 columns (output not a terminal) cuts the
# USER column to a few characters ("ada.lov…") while manufacturer and model stay in full and the
# state that every row shares is kept: the hand-off list cannot tell whom to hand a PC to.
# README: "model, manufacturer and profile give way first, then the failure reason and the state";
# `list --handoff` is "the hand-off list, with each device's user".
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-r14-f03.XXXXXX); mkdir -p $W/d $W/r; chmod 700 $W/d; chmod 750 $W/r
cleanup() { kill $DPID $SIMPID 2>/dev/null; wait $DPID $SIMPID 2>/dev/null; rm -rf $W; }
trap cleanup EXIT
cat > $W/sc.json <<'J'
{"time_scale": 1, "registration": {"delay_seconds": 1, "jitter_seconds": 0, "profile_delay_seconds": 1},
 "tenant": {"users": [{"user_principal_name": "ada.lovelace@contoso.com", "display_name": "Ada", "licenses": []}]}}
J
$BIN/hangar-cloudsim --port 0 --scenario $W/sc.json > $W/sim.out 2>/dev/null & SIMPID=$!
for i in $(seq 50); do grep -q listening $W/sim.out && break; sleep 0.1; done
URL=$(sed -n 's/listening on //p' $W/sim.out); EP=$W/r/s.sock
$BIN/hangard --data-dir $W/d --endpoint $EP --cloud-url $URL --poll-interval 1 >/dev/null 2>&1 & DPID=$!
for i in $(seq 100); do $BIN/hangar --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done
$BIN/hangar-devicegen -o $W/s.csv --devices HO-:2 >/dev/null
$BIN/hangar --endpoint $EP import $W/s.csv --profile standard >/dev/null 2>&1
for i in $(seq 60); do [ "$($BIN/hangar --endpoint $EP list --state ready | grep -c '^HO-')" = 2 ] && break; sleep 0.5; done
$BIN/hangar --endpoint $EP deliver HO-0001 --user ada.lovelace@contoso.com || { echo "setup: deliver failed"; exit 2; }
out=$($BIN/hangar --endpoint $EP list --handoff --state ready-for-user)
echo "$out"
if ! echo "$out" | grep -q 'ada.lovelace@contoso.com'; then
  echo "DEFECT: the hand-off list at 80 columns does not show the user ada.lovelace@contoso.com in full"
  exit 1
fi
echo ok; exit 0

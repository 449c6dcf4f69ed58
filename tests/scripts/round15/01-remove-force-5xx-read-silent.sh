#!/bin/bash
# Kept from the black-box attack of round 15 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# `hangar remove --force` on a Registration Pending device while the cloud's read of its import
# record fails with a 5xx (or an unreadable body): the CLI prints "the removal of X failed:
# Unexpected error ... try again later" and never says that nothing was removed/deleted
# (a dropped connection does get "nothing was removed or deleted").
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/h15-rmf.XXXXXX); chmod 700 "$T"
cleanup(){ [ -n "$HD" ] && kill $HD 2>/dev/null; [ -n "$SIM" ] && kill $SIM 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
"$BIN/hangar-cloudsim" --port 0 >"$T/sim.out" 2>"$T/sim.err" & SIM=$!
for i in $(seq 50); do grep -q listening "$T/sim.out" && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")
mkdir -m 700 "$T/data"; echo '{"poll_interval_seconds":1}' >"$T/data/hangar.json"
"$BIN/hangard" --data-dir "$T/data" --endpoint "$T/data/run/h.sock" --cloud-url "http://127.0.0.1:$PORT" >"$T/hd.out" 2>&1 & HD=$!
export HANGAR_ENDPOINT="$T/data/run/h.sock"
for i in $(seq 50); do "$BIN/hangar" ping >/dev/null 2>&1 && break; sleep 0.2; done
"$BIN/hangar-devicegen" -o "$T/d.csv" --devices RF:3 >/dev/null
"$BIN/hangar" import "$T/d.csv" --profile standard >/dev/null 2>&1
for i in $(seq 50); do "$BIN/hangar" show RF0001 2>/dev/null | grep -q 'Registration Pending' && break; sleep 0.2; done
fail=""
for f in error_rate malformed_rate; do
  case $f in error_rate) s=RF0001;; malformed_rate) s=RF0002;; esac
  curl -s -X PUT -d "{\"faults\":{\"$f\":1}}" "http://127.0.0.1:$PORT/_sim/scenario" >/dev/null
  timeout 60 "$BIN/hangar" remove $s --force >"$T/o" 2>&1; rc=$?
  curl -s -X PUT -d '{}' "http://127.0.0.1:$PORT/_sim/scenario" >/dev/null
  state=$("$BIN/hangar" show $s 2>/dev/null | sed -n 's/^  state *//p')
  echo "[$f] rc=$rc state=$state: $(tr '\n' ' ' <"$T/o" | head -c 300)"
  if ! grep -qi 'nothing was removed\|nothing changed\|nothing was deleted\|stays Registration Pending' "$T/o"; then fail="$fail $f"; fi
done
if [ -n "$fail" ]; then echo "DEFECT: remove --force with a failing cloud read ($fail) does not say nothing changed"; exit 1; fi
echo ok; exit 0

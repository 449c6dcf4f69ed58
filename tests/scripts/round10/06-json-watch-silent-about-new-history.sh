#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README (watch): "If the service comes back with another history (a new data directory: its
# numbers start again), `watch` says so and shows that history from its first change; so does
# `--from-seq N` when N is beyond the service's newest change"; "no change goes unseen without a
# line saying so". `hangar --json watch` ("one JSON object a line, for scripts") says nothing in
# either case, neither a JSON object nor a line on stderr: the seq numbers just jump back to #1,
# and a script that skips seq <= last seen (the obvious way to resume) drops the new history.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}; H=$BIN/hangar
T=$(mktemp -d /tmp/hgf02.XXXXXX); chmod 755 $T; mkdir -m 700 $T/d1 $T/d2; mkdir -m 750 $T/run; EP=$T/run/h.sock
cleanup() { kill $W $DPID $SIMPID 2>/dev/null; wait 2>/dev/null; rm -rf $T; }; trap cleanup EXIT
$BIN/hangar-cloudsim --port 0 --time-scale 60 > $T/sim.out 2>/dev/null & SIMPID=$!
for i in $(seq 50); do grep -q listening $T/sim.out && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' $T/sim.out)
startd() { $BIN/hangard --data-dir $1 --endpoint $EP --cloud-url $URL --poll-interval 2 >/dev/null 2>&1 & DPID=$!
  for i in $(seq 100); do $H --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done; }
startd $T/d1
$BIN/hangar-devicegen -o $T/a.csv --devices OLDH:4 >/dev/null
$H --endpoint $EP import $T/a.csv --profile standard >/dev/null 2>&1; sleep 1
# 1. --from-seq beyond the newest change
$H --endpoint $EP --json watch --from-seq 999 --count 1 > $T/fs.out 2> $T/fs.err
echo "--json watch --from-seq 999 --count 1:"; cat $T/fs.out $T/fs.err
N1=$(grep -v '"type":"change"' $T/fs.out | wc -l); E1=$(wc -c < $T/fs.err)
$H --endpoint $EP watch --from-seq 999 --count 1 2>&1 | grep -- '^--' | sed 's/^/  (human mode says: /;s/$/)/'
# 2. the service comes back with another data directory while --json watch follows it
$H --endpoint $EP --json watch > $T/w.out 2> $T/w.err & W=$!
sleep 1; kill $DPID; wait $DPID 2>/dev/null
startd $T/d2
$BIN/hangar-devicegen -o $T/b.csv --devices NEWH:2 >/dev/null
$H --endpoint $EP import $T/b.csv --profile standard >/dev/null 2>&1; sleep 2; kill $W; wait $W 2>/dev/null
echo "--json watch across a service with a new history:"; cat $T/w.out $T/w.err
N2=$(grep -v '"type":"change"' $T/w.out | wc -l); E2=$(grep -ci 'history' $T/w.err)
if [ "$N1" -eq 0 ] && [ "$E1" -eq 0 ] || { [ "$N2" -eq 0 ] && [ "$E2" -eq 0 ]; }; then
  echo "DEFECT: --json watch gives no sign that the history started again (seq jumps back to 1 silently)"; exit 1; fi
echo OK; exit 0

#!/bin/bash
# Kept from the black-box attack of round 12 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# `hangar config clear-credentials` in a terminal asks "Uploads stop until new ones are set." but
# the README says clearing "the service then falls back to the simulated cloud", and uploads go
# on (a device imported afterwards is registered). The question misstates what the answer does.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-f03.XXXXXX); chmod 750 $W; mkdir -p $W/data; chmod 750 $W/data
CSPID=; HDPID=
cleanup(){ [ -n "$HDPID" ] && kill $HDPID 2>/dev/null; [ -n "$CSPID" ] && kill $CSPID 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
echo '{"time_scale":600}' > $W/scen.json
$BIN/hangar-cloudsim --port 0 --scenario $W/scen.json >$W/cs.out 2>$W/cs.err & CSPID=$!
for i in $(seq 50); do grep -q listening $W/cs.out && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' $W/cs.out)
EP=$W/run/h.sock
$BIN/hangard --data-dir $W/data --endpoint $EP --cloud-url http://127.0.0.1:$PORT --poll-interval 1 >$W/hd.out 2>$W/hd.err & HDPID=$!
for i in $(seq 50); do [ -S $EP ] && break; sleep 0.1; done
H(){ $BIN/hangar --endpoint $EP "$@"; }
echo hangar-cloudsim-secret | H config set-credentials --tenant 11111111-1111-4111-8111-111111111111 --client-id 22222222-2222-4222-8222-222222222222 --secret-stdin >/dev/null || { echo "setup failed"; exit 2; }
(sleep 1.5; printf 'y\r'; sleep 2) | timeout 10 script -qec "$BIN/hangar --endpoint $EP config clear-credentials" /dev/null > $W/q.out 2>&1
grep -a "Remove" $W/q.out | tr -d '\r'
$BIN/hangar-devicegen -o $W/a.csv --devices CC-:1 >/dev/null
H import $W/a.csv --profile standard >/dev/null 2>&1
for i in $(seq 30); do H list 2>/dev/null | grep -q "CC-0001 *Ready for user" && break; sleep 0.5; done
H list | grep CC-0001
if grep -aq "Uploads stop" $W/q.out && H list | grep -q "CC-0001 *Ready for user"; then
  echo "DEFECT: the question says 'Uploads stop until new ones are set', yet after answering y a device imported was uploaded and registered (the service fell back to the simulated cloud, as the README says)"
  exit 1
fi
echo "ok: the question matches what clearing does"
exit 0

#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README ("The cloud"): "They take effect at once: the next token request uses them, no restart.
# ... The backoff earned with refused credentials is forgotten: the engine tries again at once."
# After the stored secret was refused (rotated/expired in Entra ID) and the admin sets the new
# one (verified: the cloud issued a token), `hangar status` still shows the old "next retry"
# minutes away and the queued devices are not uploaded until then.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}; H=$BIN/hangar
T=$(mktemp -d /tmp/hgf08.XXXXXX); chmod 755 $T; mkdir -m 700 $T/data; mkdir -m 750 $T/run; EP=$T/run/h.sock
cleanup() { kill $DPID $SIMPID 2>/dev/null; wait 2>/dev/null; rm -rf $T; }; trap cleanup EXIT
X=44444444-4444-4444-8444-444444444444; CID=22222222-2222-4222-8222-222222222222
echo "{\"time_scale\":60,\"auth\":{\"tenant_id\":\"$X\",\"token_lifetime_seconds\":5}}" > $T/scen.json
$BIN/hangar-cloudsim --port 0 --scenario $T/scen.json > $T/sim.out 2>/dev/null & SIMPID=$!
for i in $(seq 50); do grep -q listening $T/sim.out && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' $T/sim.out)
$BIN/hangard --data-dir $T/data --endpoint $EP --cloud-url $URL --poll-interval 2 >/dev/null 2>&1 & DPID=$!
for i in $(seq 100); do $H --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done
echo hangar-cloudsim-secret | $H --endpoint $EP config set-credentials --tenant $X --client-id $CID --secret-stdin | head -1
curl -s -X PUT $URL/_sim/scenario -d "{\"time_scale\":60,\"auth\":{\"tenant_id\":\"$X\",\"token_lifetime_seconds\":5,\"apps\":[{\"client_id\":\"$CID\",\"client_secret\":\"rotated\"}]}}" >/dev/null
sleep 6
$BIN/hangar-devicegen -o $T/b.csv --devices EXP:5 >/dev/null
$H --endpoint $EP import $T/b.csv --profile standard 2>&1 | tail -1; sleep 5
echo "before: $($H --endpoint $EP status | grep -E '^  next retry')"
echo rotated | $H --endpoint $EP config set-credentials --tenant $X --client-id $CID --secret-stdin 2>&1 | grep -E 'credentials set|verified'
sleep 10
echo "10 s after the new secret: $($H --endpoint $EP status | grep -E '^  next retry')"
Q=$($H --endpoint $EP list --state queued | grep -c '^EXP')
echo "still Queued: $Q of 5"
if [ "$Q" -gt 0 ]; then echo "DEFECT: the backoff earned with the refused secret outlives set-credentials; devices wait"; exit 1; fi
echo OK; exit 0

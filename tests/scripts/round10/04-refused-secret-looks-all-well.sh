#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# A client secret that stops working (expired or rotated in Entra ID: every token request is
# answered 401 AADSTS7000215) leaves the staging room with nothing uploaded while every surface
# says all is well:
#  - the tray (README: "the icon says how things stand", slate when "it reports the cloud
#    offline", magenta when "Microsoft's cloud keeps refusing a request the service needs"):
#    "health: ok | Hangar: all well/5 queued";
#  - `hangar status`: "cloud ...: online", no ATTENTION, only a "last error" line;
#  - `hangar config show` (README: "With a tenant but no usable secret ... uploads nothing, and
#    `hangar config show` says why"): "secret set, stored in ...", no word of the refusal.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}; H=$BIN/hangar
T=$(mktemp -d /tmp/hgf04.XXXXXX); chmod 755 $T; mkdir -m 700 $T/data; mkdir -m 750 $T/run; EP=$T/run/h.sock
cleanup() { kill $DPID $SIMPID 2>/dev/null; wait 2>/dev/null; rm -rf $T; }; trap cleanup EXIT
X=44444444-4444-4444-8444-444444444444; CID=22222222-2222-4222-8222-222222222222
echo "{\"time_scale\":60,\"auth\":{\"tenant_id\":\"$X\",\"token_lifetime_seconds\":5}}" > $T/scen.json
$BIN/hangar-cloudsim --port 0 --scenario $T/scen.json > $T/sim.out 2>/dev/null & SIMPID=$!
for i in $(seq 50); do grep -q listening $T/sim.out && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' $T/sim.out)
$BIN/hangard --data-dir $T/data --endpoint $EP --cloud-url $URL --poll-interval 2 >/dev/null 2>&1 & DPID=$!
for i in $(seq 100); do $H --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done
echo hangar-cloudsim-secret | $H --endpoint $EP config set-credentials --tenant $X --client-id $CID --secret-stdin | head -1
# the secret is rotated in the tenant: the stored one is refused from now on
curl -s -X PUT $URL/_sim/scenario -d "{\"time_scale\":60,\"auth\":{\"tenant_id\":\"$X\",\"token_lifetime_seconds\":5,\"apps\":[{\"client_id\":\"$CID\",\"client_secret\":\"rotated\"}]}}" >/dev/null
sleep 6
$BIN/hangar-devicegen -o $T/b.csv --devices EXP:5 >/dev/null
$H --endpoint $EP import $T/b.csv --profile standard 2>&1 | tail -1; sleep 8
echo "--- tray --dry-run:"; XDG_RUNTIME_DIR=$T timeout 5 $BIN/hangar-tray --endpoint $EP --dry-run 2>/dev/null | tee $T/tray
echo "--- status:"; $H --endpoint $EP status | grep -E '^  (cloud|ATTENTION|last error|next retry)|queued ' | cut -c1-150
echo "--- config show:"; $H --endpoint $EP config show | tee $T/cfg | grep -E 'secret'
Q=$($H --endpoint $EP list --state queued | grep -c '^EXP')
if [ "$Q" -eq 5 ] && grep -q 'all well' $T/tray && ! grep -qiE 'refus|invalid|AADSTS|not usable|rejected' $T/cfg; then
  echo "DEFECT: secret refused by the tenant, $Q devices not uploaded, yet the tray says 'all well' and config show says nothing"; exit 1; fi
echo OK; exit 0

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
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
start_tenant
rotate_secret   # the stored secret is refused from now on
sleep 6
"$B/hangar-devicegen" -o b.csv --devices EXP:5 >/dev/null
H import b.csv --profile standard 2>&1 | tail -1; sleep 8
echo "--- tray --dry-run:"; XDG_RUNTIME_DIR=$T timeout 5 "$B/hangar-tray" --endpoint "$T/s/h.sock" --dry-run 2>/dev/null | tee tray
echo "--- status:"; H status | grep -E '^  (cloud|ATTENTION|last error|next retry)|queued ' | cut -c1-150
echo "--- config show:"; H config show | tee cfg | grep -E 'secret'
Q=$(H list --state queued | grep -c '^EXP')
if [ "$Q" -eq 5 ] && grep -q 'all well' tray && ! grep -qiE 'refus|invalid|AADSTS|not usable|rejected' cfg; then
  echo "DEFECT: secret refused by the tenant, $Q devices not uploaded, yet the tray says 'all well' and config show says nothing"; exit 1; fi
echo OK; exit 0

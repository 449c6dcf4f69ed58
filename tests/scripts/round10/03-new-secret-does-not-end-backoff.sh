#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README ("The cloud"): "They take effect at once: the next token request uses them, no restart.
# ... The backoff earned with refused credentials is forgotten: the engine tries again at once."
# After the stored secret was refused (rotated/expired in Entra ID) and the admin sets the new
# one (verified: the cloud issued a token), `hangar status` still shows the old "next retry"
# minutes away and the queued devices are not uploaded until then.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
start_tenant
rotate_secret
sleep 6
"$B/hangar-devicegen" -o b.csv --devices EXP:5 >/dev/null
H import b.csv --profile standard 2>&1 | tail -1; sleep 5
echo "before: $(H status | grep -E '^  next retry')"
echo rotated | H config set-credentials --tenant $X --client-id $CID --secret-stdin 2>&1 | grep -E 'credentials set|verified'
sleep 10
echo "10 s after the new secret: $(H status | grep -E '^  next retry')"
Q=$(H list --state queued | grep -c '^EXP')
echo "still Queued: $Q of 5"
if [ "$Q" -gt 0 ]; then echo "DEFECT: the backoff earned with the refused secret outlives set-credentials; devices wait"; exit 1; fi
echo OK; exit 0

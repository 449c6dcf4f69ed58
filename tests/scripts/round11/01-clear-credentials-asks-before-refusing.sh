#!/bin/bash
# Kept from the black-box attack of round 11 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# hangar config clear-credentials (no --yes, in a terminal) asks for confirmation first and only
# then tells the admin it is refused (devices Registration Pending, --force missing) or that there
# was nothing to clear. deregister looks up first ("a refusal comes before the question");
# clear-credentials does not.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"; EP=$T/s/h.sock; mkdir -p -m 0750 "$T/data" "$T/run"
cat > $T/sc.json <<J
{"registration":{"delay_seconds":600,"jitter_seconds":0}}
J
start_sim $T/sc.json; start_svc || exit 2
bad=0
# case A: nothing stored (the simulated cloud's defaults): still asked
(sleep 2; printf 'y\r'; sleep 1) | script -qfec "$B/hangar --endpoint $EP config clear-credentials" /dev/null > $T/a.txt 2>&1
if grep -q '\[y/N\]' $T/a.txt && grep -q 'no credentials were stored' $T/a.txt; then
  echo "DEFECT(A): asked to remove credentials although none were stored:"; sed 's/^/    /' $T/a.txt | head -3; bad=1; fi
# case B: credentials set, devices Registration Pending, no --force: asked, then refused
echo hangar-cloudsim-secret | H config set-credentials --tenant 11111111-1111-4111-8111-111111111111 \
  --client-id 22222222-2222-4222-8222-222222222222 --secret-stdin >/dev/null || { echo "setup failed"; exit 2; }
$B/hangar-devicegen -o $T/a.csv --devices CP-:3 >/dev/null
H import $T/a.csv --profile standard >/dev/null 2>&1
for i in $(seq 30); do H list 2>/dev/null | grep -q "Registration Pending" && break; sleep 0.3; done
(sleep 2; printf 'y\r'; sleep 1) | script -qfec "$B/hangar --endpoint $EP config clear-credentials" /dev/null > $T/b.txt 2>&1
if grep -q '\[y/N\]' $T/b.txt && grep -q 'pass --force' $T/b.txt; then
  echo "DEFECT(B): asked to confirm, answered y, then refused for lack of --force:"; sed 's/^/    /' $T/b.txt | head -3; bad=1; fi
[ $bad = 0 ] && echo "ok: refusals come before the question"
exit $bad

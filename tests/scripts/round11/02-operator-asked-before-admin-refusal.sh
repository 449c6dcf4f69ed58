#!/bin/bash
# Kept from the black-box attack of round 11 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# An operators-group member runs `hangar config set-credentials` / `clear-credentials` in a
# terminal: the CLI asks for the client secret (typed by a non-admin for nothing) or for a
# confirmation, and only then reports that the operators group may not change credentials.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"; EP=$T/s/h.sock; mkdir -p -m 0750 "$T/data" "$T/run"
OPU=hgop$$; G=hgopg$$
groupadd $G && useradd -M -s /bin/bash -G $G $OPU || { echo "cannot create user"; exit 2; }
trap 'cleanup; userdel $OPU 2>/dev/null; groupdel $G 2>/dev/null' EXIT
start_sim
chgrp $G $T; chmod 750 $T
mkdir -p $T/data $T/run; chmod 750 $T/data; chgrp $G $T/run; chmod 750 $T/run
EP=$T/run/h.sock
"$B/hangard" --data-dir "$T/data" --endpoint $EP --cloud-url "$U" --operators-group $G >"$T/d.out" 2>"$T/d.err" & PIDS+=($!)
for i in $(seq 50); do [ -S $EP ] && break; sleep 0.1; done; sleep 0.5
RU="runuser -u $OPU -- env HOME=/tmp $B/hangar --endpoint $EP"
bad=0
(sleep 2; printf 'typed-secret\r'; sleep 1) | script -qfec "$RU config set-credentials --tenant 11111111-1111-4111-8111-111111111111 --client-id 22222222-2222-4222-8222-222222222222" /dev/null > $T/s.txt 2>&1
if grep -q 'Client secret' $T/s.txt && grep -q 'not allowed\|operators group is not enough' $T/s.txt; then
  echo "DEFECT(set-credentials): operator asked to type the client secret, then refused:"; sed 's/^/    /' $T/s.txt | head -4; bad=1; fi
(sleep 2; printf 'y\r'; sleep 1) | script -qfec "$RU config clear-credentials" /dev/null > $T/c.txt 2>&1
if grep -q '\[y/N\]' $T/c.txt && grep -q 'not allowed' $T/c.txt; then
  echo "DEFECT(clear-credentials): operator asked to confirm, then refused:"; sed 's/^/    /' $T/c.txt | head -3; bad=1; fi
[ $bad = 0 ] && echo "ok: the operator is refused before being asked anything"
exit $bad

#!/usr/bin/env bash
# Kept from the black-box attack of round 6 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# An operator (member of --operators-group) running `hangar config clear-credentials` is refused
# (only an administrator may): the refusal named the command "config" and advised joining the
# operators group, which the user is in and which is not enough. Needs root (creates a user).
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to create a user"; exit 77; }
USR=hx6f2u$$; GRP=hx6f2g$$
groupadd "$GRP"; useradd -M -G "$GRP" -s /bin/bash "$USR"
trap 'cleanup; userdel "$USR" 2>/dev/null; groupdel "$GRP" 2>/dev/null' EXIT
chmod 755 "$T"
start_sim; start_svc --operators-group "$GRP"
out=$(su "$USR" -s /bin/bash -c "$B/hangar --endpoint $T/s/h.sock config clear-credentials --yes" 2>&1); rc=$?
echo "rc=$rc: $out"
bad=0
echo "$out" | grep -q '"config" changes' && { echo "DEFECT: names the command \"config\", not clear-credentials"; bad=1; }
echo "$out" | grep -qi 'ask for membership of the operators group' && { echo "DEFECT: advises joining the operators group, which the user is in"; bad=1; }
echo "$out" | grep -q 'clear-credentials' || { echo "DEFECT: the refusal does not name clear-credentials"; bad=1; }
[ $rc -ne 1 ] && { echo "DEFECT: exit $rc, expected 1"; bad=1; }
exit $bad

#!/usr/bin/env bash
# Kept from the black-box attack of round 9 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# Round 8 left two ways into a socket directory others may write to: a group-writable one that
# holds other files was served from (its group could replace the socket), and an empty
# world-writable one was quietly set to 0750. Both are refused and left as they were.
mkdir -p "$T/group" "$T/all" "$T/data"; chmod 700 "$T/data"
echo theirs > "$T/group/notes.txt"; chmod 0775 "$T/group"; chmod 0777 "$T/all"
for d in group all; do
  timeout 5 "$B/hangard" --data-dir "$T/data" --endpoint "$T/$d/hangar.sock" --cloud-url http://127.0.0.1:9 > "$d.out" 2>&1; rc=$?
  echo "$d (mode $(stat -c %a "$T/$d")): rc=$rc: $(grep -o 'socket directory.*' "$d.out" | head -1)"
  [ $rc -ne 124 ] && [ $rc -ne 0 ] || { echo "DEFECT: hangard served a socket in the $d-writable directory"; exit 1; }
  grep -q "is shared" "$d.out" || { echo "DEFECT: the refusal does not say the directory is shared"; exit 1; }
done
[ "$(stat -c %a "$T/group")" = 775 ] && [ "$(stat -c %a "$T/all")" = 777 ] \
  || { echo "DEFECT: a refused directory's mode was changed"; exit 1; }
echo OK; exit 0

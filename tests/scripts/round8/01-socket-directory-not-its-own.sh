#!/usr/bin/env bash
# Kept from the black-box attack of round 8 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# hangard set the mode of an existing shared directory (1777, like /tmp) to 0750 without a word:
# `--endpoint /tmp/hangar.sock` would lock every other user out of /tmp. A shared directory is
# refused and left as it was; one that holds other files keeps its mode.
mkdir -p "$T/shared" "$T/home" "$T/data"; chmod 1777 "$T/shared"; chmod 0755 "$T/home"; chmod 700 "$T/data"
echo notes > "$T/home/notes.txt"
timeout 5 "$B/hangard" --data-dir "$T/data" --endpoint "$T/shared/hangar.sock" --cloud-url http://127.0.0.1:9 > out 2>&1; rc=$?
echo "hangard in a shared directory: rc=$rc: $(grep -o 'socket directory.*' out | head -1)"
[ "$(stat -c %a "$T/shared")" = 1777 ] || { echo "DEFECT: the shared directory's mode became $(stat -c %a "$T/shared")"; exit 1; }
[ $rc -ne 124 ] && [ $rc -ne 0 ] || { echo "DEFECT: hangard served a socket in a shared directory"; exit 1; }
grep -q "is shared (mode 1777)" out || { echo "DEFECT: the refusal does not say why"; exit 1; }
timeout 3 "$B/hangard" --data-dir "$T/data" --endpoint "$T/home/hangar.sock" --cloud-url http://127.0.0.1:9 > out2 2>&1
[ "$(stat -c %a "$T/home")" = 755 ] || { echo "DEFECT: a directory holding other files became $(stat -c %a "$T/home")"; exit 1; }
echo OK; exit 0

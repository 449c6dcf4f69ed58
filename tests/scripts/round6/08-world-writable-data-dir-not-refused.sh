#!/usr/bin/env bash
# Kept from the black-box attack of round 6 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# A data directory every user may write to (mode 0777) was quietly changed to 0750 and used.
# README: hangard refuses, naming the owner or the mode, a data directory another user may write to.
start_sim
rm -rf data; mkdir -m 777 data
"$B/hangard" --data-dir "$T/data" --endpoint "$T/s/h.sock" --cloud-url "$U" > d.out 2> d.err & SVCPID=$!; PIDS+=($SVCPID)
for i in $(seq 100); do kill -0 $SVCPID 2>/dev/null || break; sleep 0.1; done
if kill -0 $SVCPID 2>/dev/null; then
  echo "DEFECT: hangard runs on a data directory that was mode 0777 (now $(stat -c %a data))"; exit 1
fi
grep -q "0777" d.out d.err || { echo "DEFECT: the refusal does not name the mode: $(cat d.out d.err)"; exit 1; }
[ "$(stat -c %a data)" = 777 ] || { echo "DEFECT: the refused directory's mode was changed"; exit 1; }
echo "refused: $(cat d.out d.err | tail -1)"; exit 0

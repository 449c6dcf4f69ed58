#!/usr/bin/env bash
# Kept from the black-box attack of round 8 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# In a terminal, `watch` replayed two imports ~4 s apart as one burst line with one time.
command -v script >/dev/null || { echo "skip: no script(1)"; exit 77; }
start_sim
start_svc
H pause >/dev/null
"$B/hangar-devicegen" -o a.csv --devices WBA:6 >/dev/null
"$B/hangar-devicegen" -o b.csv --devices WBB:6 >/dev/null
H import a.csv --profile standard >/dev/null 2>&1
sleep 4
H import b.csv --profile standard >/dev/null 2>&1
timeout 20 script -qc "stty cols 80 rows 40; '$B/hangar' --endpoint '$T/s/h.sock' watch --from-seq 0 --count 12" /dev/null | tr -d '\r' > tty.txt
cat tty.txt
grep -q "12 devices Queued" tty.txt && { echo "DEFECT: two imports 4 s apart shown as one burst"; exit 1; }
grep -q "6 devices Queued (#1-#6)" tty.txt && grep -q "6 devices Queued (#7-#12)" tty.txt \
  || { echo "DEFECT: the two imports are not two bursts of 6"; exit 1; }
echo OK; exit 0

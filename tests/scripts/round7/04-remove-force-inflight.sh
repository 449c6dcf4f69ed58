#!/usr/bin/env bash
# Kept from the black-box attack of round 7 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `remove --force` while the device's upload is in flight (Graph silent on the import): README,
# "refused, --force or not, while its upload is in flight". It waited out most of --timeout and
# blamed "the service was busy with other cloud requests".
start_sim_json '{"time_scale":60,"faults":{"endpoints":["imported.import"],"latency_ms":40000}}'
start_svc
"$B/hangar-devicegen" -o d.csv --devices SIL:5 >/dev/null
H import d.csv --profile standard >/dev/null 2>&1
sleep 3
t0=$(date +%s); out=$(H --timeout 10 remove SIL0002 --force 2>&1); rc=$?; t1=$(date +%s)
echo "remove --force rc=$rc after $((t1-t0)) s: $out"
grep -q "being uploaded right now" <<<"$out" || { echo "DEFECT: remove --force during an upload in flight does not say so"; exit 1; }
[ $rc -eq 1 ] || { echo "DEFECT: exit $rc, expected 1"; exit 1; }
[ $((t1-t0)) -le 3 ] || { echo "DEFECT: the refusal took $((t1-t0)) s"; exit 1; }
# Round 8: show and list said only "Queued" for the device remove calls "being uploaded".
H show SIL0002 | grep -q "^  uploading .*sent at .*its answer is awaited" \
  || { echo "DEFECT: show does not say the device is being uploaded"; H show SIL0002; exit 1; }
H list | grep -q "^SIL0002 *Queued (sending)" || { echo "DEFECT: list does not say it is sending"; H list; exit 1; }
echo OK; exit 0

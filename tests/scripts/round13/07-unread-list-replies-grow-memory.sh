#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# Replies are not bounded by any shared budget: one local user (operators group; `list` only needs
# read permission) opens its 32 connections, asks each for `list` with hashes (the request
# `hangar list` itself sends) and never reads the answer. hangard grows from ~30 MB to ~400 MB
# (each unread reply costs ~10 MB while the server waits to drain it) and stays at 200+ MB after.
# The docs bound what requests may cost (request_memory_mib, 24 MiB: "however many clients send
# 8 MiB frames at once, at most 24 MiB of them is held"); the brief: memory must stay bounded.
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
# Resident memory under AddressSanitizer (its shadow and quarantine) says nothing of the service's.
if grep -q __asan_init "$BIN/hangard"; then echo "SKIP: memory figures under ASan"; exit 77; fi
mkuser f07hostile f07ops
start_sim '{"time_scale":60}'
start_svc --poll-interval 1 --operators-group f07ops
gen "$W/a.csv" NR-:1500 >/dev/null; H import "$W/a.csv" --profile standard >/dev/null 2>&1
sleep 3
before=$(awk '/VmRSS/{print $2}' /proc/$SVCPID/status)
cp "$D/hostile_noread.py" "$W/n.py"; chmod 644 "$W/n.py"
su f07hostile -c "python3 $W/n.py $EP 32 15" & PIDS+=($!)
peak=0
for i in $(seq 1 15); do sleep 1; r=$(awk '/VmRSS/{print $2}' /proc/$SVCPID/status); [ "$r" -gt "$peak" ] && peak=$r; done
sleep 8
after=$(awk '/VmRSS/{print $2}' /proc/$SVCPID/status)
echo "hangard RSS: before ${before} kB, peak ${peak} kB while one user held 32 unread list replies, after ${after} kB"
[ "$peak" -gt 200000 ] && defect "one local user drove hangard's memory from $((before/1024)) MB to $((peak/1024)) MB with unread replies"
echo OK; exit 0

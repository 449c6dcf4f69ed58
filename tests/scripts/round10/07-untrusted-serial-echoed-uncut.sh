#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# architecture.md: "Any other untrusted value quoted in a message (an unknown command, state or
# profile) is cut to 64 bytes (core::excerpt)". show/remove/retry of an unknown serial echo the
# caller's whole serial (tens of KB) back into the error message and onto the admin's terminal.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/hgf05.XXXXXX); chmod 755 $T; mkdir -m 700 $T/data; mkdir -m 750 $T/run; EP=$T/run/h.sock
cleanup() { kill $DPID $SIMPID 2>/dev/null; wait 2>/dev/null; rm -rf $T; }; trap cleanup EXIT
$BIN/hangar-cloudsim --port 0 > $T/sim.out 2>/dev/null & SIMPID=$!
for i in $(seq 50); do grep -q listening $T/sim.out && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' $T/sim.out)
$BIN/hangard --data-dir $T/data --endpoint $EP --cloud-url $URL > /dev/null 2>&1 & DPID=$!
for i in $(seq 100); do $BIN/hangar --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done
S=$(head -c 20000 /dev/zero | tr '\0' 'A')
N=$($BIN/hangar --endpoint $EP show "$S" 2>&1 | wc -c)
M=$($BIN/hangar --endpoint $EP remove "$S" 2>&1 | wc -c)
echo "show of a 20000-char unknown serial printed $N bytes; remove printed $M bytes"
if [ "$N" -gt 1000 ] || [ "$M" -gt 1000 ]; then echo "DEFECT: untrusted serial echoed uncut in the error"; exit 1; fi
echo OK; exit 0

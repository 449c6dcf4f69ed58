#!/bin/bash
# Kept from the black-box attack of round 14 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# A partner-registered device whose serial (from the cloud) holds U+202E RIGHT-TO-LEFT OVERRIDE
# (and U+200E) is printed raw by `hangar list` / `hangar show`: the terminal then shows the rest
# of the line reversed ("Trojan Source"), so an admin may read another serial than the device's.
# README: whatever arrives from the cloud "is shown escaped by every command's human output
# (`\x1b`, `\u009b`), never written raw to the terminal".
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-r14-f06.XXXXXX); mkdir -p $W/d $W/r; chmod 700 $W/d; chmod 750 $W/r
cleanup() { kill $DPID $SIMPID 2>/dev/null; wait $DPID $SIMPID 2>/dev/null; rm -rf $W; }
trap cleanup EXIT
cat > $W/sc.json <<'J'
{"time_scale": 1, "tenant": {"devices": [
 {"serial_number": "P2-\u202e1000-LAB", "group_tag": "Microsoft365Managed_Autopilot", "manufacturer": "Contoso",
  "model": "Laptop \u202e7", "profile_status": "assignedUnkownSyncState"}]}}
J
$BIN/hangar-cloudsim --port 0 --scenario $W/sc.json > $W/sim.out 2>/dev/null & SIMPID=$!
for i in $(seq 50); do grep -q listening $W/sim.out && break; sleep 0.1; done
URL=$(sed -n 's/listening on //p' $W/sim.out); EP=$W/r/s.sock
$BIN/hangard --data-dir $W/d --endpoint $EP --cloud-url $URL --poll-interval 1 >/dev/null 2>&1 & DPID=$!
for i in $(seq 100); do $BIN/hangar --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done
$BIN/hangar --endpoint $EP sync >/dev/null 2>&1
for i in $(seq 20); do $BIN/hangar --endpoint $EP list | grep -q '^P2' && break; sleep 0.5; done
$BIN/hangar --endpoint $EP list > $W/list.txt 2>&1
$BIN/hangar --endpoint $EP list --wide >> $W/list.txt 2>&1
cat -v $W/list.txt
if grep -q $'\xe2\x80\xae' $W/list.txt; then
  echo "DEFECT: U+202E (right-to-left override) from the cloud written raw to the terminal by hangar list"
  exit 1
fi
echo ok; exit 0

#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README: "Without a tenant configured, hangard registers against the simulated cloud ... at
# http://127.0.0.1:8710". hangard run as it is installed (no --cloud-url; before
# `set-credentials`, or after `clear-credentials`) sends every queued hardware hash to whatever
# listens on 127.0.0.1:8710, an unprivileged port any local user can bind, and believes its
# answers: devices become "Ready for user" (list, watch, tray, export) though Microsoft never saw
# them. The service refuses a data dir, a config or a log another user could plant, and clients
# refuse an endpoint another user serves, but the cloud itself is taken from anyone on that port.
# Expected: the fallback simulated cloud only from an owner the service trusts (or only with an
# explicit --cloud-url), and a device registered in the simulator never shown as plainly
# "Ready for user".
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}; H=$BIN/hangar
if ss -ltn | grep -q ':8710 '; then echo "port 8710 already in use here: cannot run this check"; exit 77; fi
U=hgimp$$
T=$(mktemp -d /tmp/hgf01.XXXXXX); chmod 755 $T; mkdir -m 700 $T/data; mkdir -m 750 $T/run; EP=$T/run/h.sock
cleanup() { kill $DPID 2>/dev/null; [ -n "$SPID" ] && kill $SPID 2>/dev/null; wait 2>/dev/null; sleep 0.5
  userdel -r $U >/dev/null 2>&1; rm -rf $T; }; trap cleanup EXIT
useradd -M -s /bin/bash $U || { echo "cannot create a user"; exit 77; }
setpriv --reuid $(id -u $U) --regid $(id -g $U) --clear-groups $BIN/hangar-cloudsim --port 8710 --time-scale 60 > $T/sim.out 2>/dev/null & SPID=$!
for i in $(seq 50); do grep -q listening $T/sim.out && break; sleep 0.1; done
echo "uid $(id -u $U) ($U) serves: $(cat $T/sim.out)"
$BIN/hangard --data-dir $T/data --endpoint $EP --poll-interval 2 >/dev/null 2>&1 & DPID=$!
for i in $(seq 100); do $H --endpoint $EP ping >/dev/null 2>&1 && break; sleep 0.1; done
$BIN/hangar-devicegen -o $T/a.csv --devices FAKE:3 >/dev/null
$H --endpoint $EP import $T/a.csv --profile standard 2>&1 | tail -1
for i in $(seq 20); do sleep 1; N=$($H --endpoint $EP list --state ready 2>/dev/null | grep -c '^FAKE'); [ "$N" -eq 3 ] && break; done
$H --endpoint $EP list
$H --endpoint $EP status | grep -E '^  (cloud|credentials)'
if [ "$N" -gt 0 ]; then echo "DEFECT: $N device(s) Ready for user on the word of a cloud another local user ran on port 8710"; exit 1; fi
echo OK; exit 0

#!/bin/bash
# Kept from the black-box attack of round 11 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# hangard --cloud-url "" starts and talks to http://127.0.0.1:8710 (README: "hangard refuses a URL
# without [a scheme] at start-up"); hangard --endpoint "" (an unset variable in a unit file)
# silently serves the system endpoint /run/hangar/hangar.sock; hangar.json {"cloud_url": ""} is
# accepted the same way.
# (--log-level "" is accepted too, where --log-level alone is "needs a value").
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"; EP=$T/s/h.sock; mkdir -p -m 0750 "$T/data" "$T/run"
start_sim
mkdir -p $T/data $T/run; chmod 750 $T/data $T/run
bad=0
$B/hangard --data-dir $T/data --endpoint $T/run/h.sock --cloud-url "" > $T/o 2>&1 & p=$!; PIDS+=($p); sleep 1.5
if kill -0 $p 2>/dev/null; then
  echo "DEFECT(A): --cloud-url \"\" accepted: $($B/hangar --endpoint $T/run/h.sock status 2>&1 | grep '^  cloud')"; bad=1; kill $p; wait $p 2>/dev/null
else echo "ok(A): --cloud-url \"\" refused: $(head -c 150 $T/o)"; fi
rm -rf $T/data/*
printf '{"cloud_url":""}' > $T/data/hangar.json
$B/hangard --data-dir $T/data --endpoint $T/run/h.sock > $T/o 2>&1 & p=$!; PIDS+=($p); sleep 1.5
if kill -0 $p 2>/dev/null; then
  echo "DEFECT(C): hangar.json {\"cloud_url\":\"\"} accepted: $($B/hangar --endpoint $T/run/h.sock status 2>&1 | grep '^  cloud')"; bad=1; kill $p; wait $p 2>/dev/null
else echo "ok(C): hangar.json cloud_url \"\" refused: $(head -c 150 $T/o)"; fi
rm -rf $T/data/*
if [ -e /run/hangar ]; then echo "skipping part B: /run/hangar exists"; exit $bad; fi
$B/hangard --data-dir $T/data --endpoint "" --cloud-url $U > $T/o 2>&1 & p=$!; PIDS+=($p); sleep 1.5
if kill -0 $p 2>/dev/null; then
  echo "DEFECT(B): --endpoint \"\" accepted: $(grep -o 'endpoint [^ ,]*' $T/o | head -1)"; bad=1; kill $p; wait $p 2>/dev/null
else echo "ok(B): --endpoint \"\" refused: $(head -c 150 $T/o)"; fi
rm -rf /run/hangar
exit $bad

#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README: "Unknown settings in the file are refused with the file and key named, so a typo never
# passes silently"; "a tag mapped twice ... stops the service at start-up"; architecture.md: a
# key twice in one object is refused on the wire, "never 'the last one wins'".
# hangar.json with a key given twice is accepted and the last one silently wins: a
# "tag_profiles" object written twice drops the first mapping without a word.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/hgf07.XXXXXX); chmod 755 $T; mkdir -m 700 $T/data; mkdir -m 750 $T/run
cleanup() { kill $DPID 2>/dev/null; wait 2>/dev/null; rm -rf $T; }; trap cleanup EXIT
echo '{"log_level":"error","log_level":"debug","tag_profiles":{"Lab":"standard"},"tag_profiles":{"Sales":"power-user"}}' > $T/data/hangar.json
# a cloud URL nobody listens on: the service still starts
$BIN/hangard --data-dir $T/data --endpoint $T/run/h.sock --cloud-url http://127.0.0.1:9 > $T/out 2>&1 & DPID=$!
sleep 3
if kill -0 $DPID 2>/dev/null; then
  echo "hangard started with duplicate keys in hangar.json; debug lines logged: $(grep -c '\[debug\]' $T/out)"
  echo "DEFECT: duplicate keys in hangar.json accepted silently (last one wins)"; exit 1
fi
echo "hangard refused the file:"; tail -2 $T/out; echo OK; exit 0

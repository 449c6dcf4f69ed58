#!/bin/bash
# Kept from the black-box attack of round 12 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# HANGAR_ENDPOINT="" (an unset shell variable in a unit file or script) is silently read as "not
# set": hangard then serves the system default /run/hangar/hangar.sock instead of refusing, while
# the same empty value as a flag or in hangar.json is refused ("needs a value, not an empty one",
# "is empty; leave the key out for its default"). Doc: "Flags override environment variables,
# which override the file" -- the middle layer silently drops an empty value.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-f01.XXXXXX); chmod 750 $W; mkdir -p $W/data; chmod 750 $W/data
P=; PRE_RUN=$( [ -e /run/hangar ] && echo yes )
cleanup(){ [ -n "$P" ] && kill $P 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; [ -z "$PRE_RUN" ] && rm -rf /run/hangar; }
trap cleanup EXIT
if [ -S /run/hangar/hangar.sock ]; then echo "a service already serves /run/hangar/hangar.sock; not testing"; exit 2; fi
# flag: refused
$BIN/hangard --data-dir $W/data --endpoint "" >$W/f.out 2>&1; RF=$?
echo "flag --endpoint \"\": rc=$RF: $(head -1 $W/f.out)"
# environment: should be refused the same way
HANGAR_ENDPOINT="" timeout 4 $BIN/hangard --data-dir $W/data --cloud-url http://127.0.0.1:9 >$W/e.out 2>&1 & P=$!
sleep 2.5
EXITED=yes; kill -0 $P 2>/dev/null && EXITED=no
echo "env HANGAR_ENDPOINT=\"\": still running=$([ $EXITED = no ] && echo yes || echo no)"; head -1 $W/e.out
if [ $EXITED = no ] && grep -q "endpoint /run/hangar/hangar.sock" $W/e.out; then
  echo "DEFECT: HANGAR_ENDPOINT=\"\" is silently ignored: hangard serves the system endpoint /run/hangar/hangar.sock (the flag's empty value is refused with exit $RF)"
  exit 1
fi
echo "ok: an empty HANGAR_ENDPOINT is refused"
exit 0

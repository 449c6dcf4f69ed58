#!/bin/bash
# Kept from the black-box attack of round 14 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# hangard aborts (uncaught nlohmann out_of_range, SIGABRT, exit 134, core) on a hangar.json
# number that overflows a double (1e400), instead of refusing the file with file, key and reason.
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-r14-f01.XXXXXX); mkdir -p $W/d $W/r; chmod 700 $W/d; chmod 750 $W/r
printf '{"pending_warning_minutes": 1e400}' > $W/d/hangar.json
timeout 10 $BIN/hangard --data-dir $W/d --endpoint $W/r/s.sock --cloud-url http://127.0.0.1:1 >$W/out 2>&1
rc=$?
cat $W/out | head -5
rm -rf $W
if [ $rc -eq 134 ] || [ $rc -eq 124 ] || [ $rc -gt 128 ]; then
  echo "DEFECT: hangard exited $rc (abort/crash) on a number out of range in hangar.json; expected exit 2 naming the file and the key"
  exit 1
fi
echo "ok: hangard refused it with exit $rc"; exit 0

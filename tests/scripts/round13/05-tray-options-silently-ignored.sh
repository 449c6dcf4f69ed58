#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# hangar-tray's options are read more loosely than hangar's, although the README says the tray's
# endpoint is chosen "as for hangar":
#  a) --endpoint "" (an unset variable in a logon script) silently watches the system default
#     /run/hangar/hangar.sock; `hangar --endpoint ""` is a usage error (exit 2);
#  b) --endpoint A --endpoint B silently watches B; hangar says "--endpoint given twice" (exit 2);
#  c) --log-file in a folder that does not exist: the tray runs on and logs nothing anywhere,
#     without a word (README: it "logs the health to standard error or --log-file").
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
export XDG_RUNTIME_DIR=$W
bad=0
timeout 2 "$BIN/hangar" --endpoint "" status >/dev/null 2>&1; echo "hangar --endpoint \"\": rc=$?"
timeout 2 "$BIN/hangar-tray" --endpoint "" --log-file "$W/a.log" >/dev/null 2>&1; rc=$?
echo "hangar-tray --endpoint \"\": rc=$rc (124: kept running); log: $(grep -o 'watching .*' "$W/a.log" | head -1)"
[ $rc = 124 ] && { echo "  (a) empty --endpoint accepted"; bad=1; }
timeout 2 "$BIN/hangar-tray" --endpoint "$W/one.sock" --endpoint "$W/two.sock" --log-file "$W/b.log" >/dev/null 2>&1; rc=$?
echo "hangar-tray --endpoint A --endpoint B: rc=$rc; log: $(grep -o 'watching .*' "$W/b.log" | head -1)"
[ $rc = 124 ] && { echo "  (b) --endpoint given twice accepted"; bad=1; }
timeout 2 "$BIN/hangar-tray" --endpoint "$W/three.sock" --log-file "$W/no/such/dir/t.log" > "$W/c.out" 2>&1; rc=$?
echo "hangar-tray --log-file in a missing folder: rc=$rc, said: $(head -c 300 "$W/c.out")"
[ $rc = 124 ] && [ ! -s "$W/c.out" ] && { echo "  (c) unusable --log-file: ran on, logging nothing, saying nothing"; bad=1; }
[ $bad = 1 ] && defect "hangar-tray accepts options hangar refuses / ignores an unusable --log-file silently"
echo OK; exit 0

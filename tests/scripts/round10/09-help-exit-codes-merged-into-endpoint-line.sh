#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README: "Every help text (`hangar help`, ...) fits a terminal of 80 columns" and `hangar help`
# ends with its own "exit codes:" line. For a non-root user without XDG_RUNTIME_DIR (su, cron,
# ssh without a session) the default endpoint is ~/.local/state/hangar/run/hangar.sock and the
# wrapper folds "exit codes: ..." into the environment paragraph:
#   environment: HANGAR_ENDPOINT (default
#   /nonexistent/.local/state/hangar/run/hangar.sock) exit codes: 0 ok, 1 command
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
OUT=$(setpriv --reuid 65534 --regid 65534 --clear-groups env -i HOME=/nonexistent "$BIN/hangar" help 2>&1)
echo "$OUT" | tail -3
if ! echo "$OUT" | grep -q '^exit codes:'; then
  echo "DEFECT: 'exit codes:' no longer starts its own line in hangar help (merged into the endpoint default)"; exit 1; fi
echo OK; exit 0

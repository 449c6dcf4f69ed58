#!/bin/bash
# Kept from the black-box attack of round 11 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# `hangar config set-credentials --help` (and `config show --help`, `config clear-credentials
# --help`, `hangar help config set-credentials`) is a usage error, exit 2, with a message about a
# "help" command the user never typed: 'help takes one command, not also "set-credentials"'.
# README: every `hangar COMMAND --help` shows the command's help; an admin about to type a secret
# naturally asks the subcommand for its options.
B=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
bad=0
for s in show set-credentials clear-credentials; do
  out=$("$B/hangar" config $s --help 2>&1); rc=$?
  if [ $rc != 0 ]; then echo "DEFECT: hangar config $s --help -> exit $rc: $(echo "$out" | head -1)"; bad=1; fi
done
[ $bad = 0 ] && echo "ok: config subcommands answer --help"
exit $bad

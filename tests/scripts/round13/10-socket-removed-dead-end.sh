#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# The service's socket file is removed while hangard runs (a clean-up of /run, a stray rm).
# hangard never notices: every client says "no Hangar service is listening ... start the service
# (hangard)", and starting it is refused with "another hangard is already running with data
# directory X" (exit 3), naming neither its pid nor the way out (stop it: SIGTERM), so the admin is
# sent from one message to the other. Expected: the service puts its endpoint back, or the refusal
# names the running pid (and its endpoint) so it can be stopped.
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
start_sim '{"time_scale":60}'
start_svc --poll-interval 1
rm -f "$EP"
sleep 5
H status >/dev/null 2>&1; rc=$?
echo "hangar status after the socket was removed: exit $rc"
[ $rc = 0 ] && { echo OK: the service put its socket back; exit 0; }
timeout 5 "$BIN/hangard" --data-dir "$W/data" --endpoint "$EP" --cloud-url "$SIMURL" > "$W/second.out" 2>&1; echo "second hangard: exit $?"
cat "$W/second.out"
grep -q "$SVCPID" "$W/second.out" || defect "service unreachable, and the second start refuses without naming the running hangard (pid $SVCPID)"
echo OK; exit 0

#!/bin/bash
# Kept from the black-box attack of round 13 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# `hangar --json watch` is "one JSON object a line, for scripts" (README). When the stream ends
# (--no-reconnect, service gone) the last thing it prints is an error object pretty-printed over
# seven lines, so a script reading line by line (while read l; do jq ... <<<"$l") fails on "{".
D=$(cd "$(dirname "$0")" && pwd)
source "$D/lib.sh"
start_sim '{"time_scale":60}'
start_svc --poll-interval 1
gen "$W/a.csv" WX-:3 >/dev/null; H import "$W/a.csv" --profile standard >/dev/null 2>&1; sleep 6
"$BIN/hangar" --endpoint "$EP" --json watch --no-reconnect > "$W/w.out" 2>/dev/null & WP=$!; PIDS+=($WP)
sleep 1; kill -9 "$SVCPID"; wait $WP; echo "exit $?"
cat "$W/w.out"
bad=0; n=0
while IFS= read -r l; do n=$((n+1)); printf '%s' "$l" | jq -e . >/dev/null 2>&1 || { echo "line $n is no JSON object: $l"; bad=1; }; done < "$W/w.out"
[ $bad = 1 ] && defect "--json watch output is not one JSON object a line"
echo OK; exit 0

#!/usr/bin/env bash
# The main job: install what is needed, build, start hangard on a private endpoint and data
# directory, and show `hangar status` (the full registration demo arrives with the simulated cloud).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
cmake --preset linux-release >/dev/null
cmake --build --preset linux-release -j "$(nproc)" --target hangard hangar

BIN=build/linux-release/bin
DEMO=${HANGAR_DEMO_DIR:-$(mktemp -d /tmp/hangar-demo.XXXXXX)}
export HANGAR_ENDPOINT="$DEMO/run/hangar.sock"
"$BIN/hangard" --data-dir "$DEMO/data" --log-level warn &
PID=$!
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  "$BIN/hangar" ping >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { echo "demo: hangard exited early" >&2; exit 1; }
  sleep 0.1
done
"$BIN/hangar" ping
"$BIN/hangar" status
echo
echo "demo: hangard is serving $HANGAR_ENDPOINT with data in $DEMO/data"
echo "demo: try  HANGAR_ENDPOINT=$HANGAR_ENDPOINT $BIN/hangar --json status"
kill "$PID"
wait "$PID"
echo "demo: hangard stopped cleanly (log: $DEMO/data/logs/hangard.log)"

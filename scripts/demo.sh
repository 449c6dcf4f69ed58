#!/usr/bin/env bash
# The main job: install what is needed, build, then register a staging room's worth of devices
# against the simulated cloud: hangar-cloudsim and hangard start on loopback, a realistic batch
# (a few devices failing for each of the seed's reasons) is generated, validated and imported, and
# live progress is shown until every device is Ready for user or failed with its reason. Both
# keep running afterwards, so the commands it suggests work; it prints how to stop them.
# HANGAR_DEMO_BIN=DIR uses the binaries already built in DIR (no install, no build);
# HANGAR_DEMO_DIR=DIR puts everything in DIR instead of a new temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [ -n "${HANGAR_DEMO_BIN:-}" ]; then
  BIN=$(cd "$HANGAR_DEMO_BIN" && pwd)
else
  bash scripts/setup-deps.sh
  cmake --preset linux-release >/dev/null
  cmake --build --preset linux-release -j "$(nproc)" --target hangard hangar hangar-cloudsim hangar-devicegen
  BIN=$ROOT/build/linux-release/bin
fi
DEMO=${HANGAR_DEMO_DIR:-$(mktemp -d /tmp/hangar-demo.XXXXXX)}
mkdir -p "$DEMO"
export HANGAR_ENDPOINT="$DEMO/run/hangar.sock"
pids=()
# A demo that fails stops what it started; one that succeeds leaves both running (see the end).
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# 1. The simulated cloud (registration takes ~5 minutes of cloud time, scaled to ~15 s; 5% of
#    Graph calls fail with a 5xx; the seed's failures come from the scenario's rules).
"$BIN/hangar-cloudsim" --port 0 --scenario scripts/demo-scenario.json >"$DEMO/cloudsim.out" \
  2>"$DEMO/cloudsim.log" &
pids+=($!)
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on //p' "$DEMO/cloudsim.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "demo: the simulated cloud did not start (see $DEMO/cloudsim.log)" >&2; exit 1; }
echo "demo: simulated cloud at $url"

# 2. The service, talking to it.
"$BIN/hangard" --data-dir "$DEMO/data" --cloud-url "$url" --poll-interval 2 >"$DEMO/hangard.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  "$BIN/hangar" ping >/dev/null 2>&1 && break
  sleep 0.1
done
"$BIN/hangar" ping

# 3. A staging room's hash files: 60 good devices, and a few for each of the seed's failures.
"$BIN/hangar-devicegen" -o "$DEMO/oem-batch.csv" --devices LAB-:60 --devices REUSED-:2 \
  --devices OTHERORG-:2 --devices BADHASH-:2 --devices FLAKY-:2 --devices ODD-:1
printf 'Manufacturer,Model,Serial Number\r\nFabrikam,Tablet 3,OEMROW-0001\r\nFabrikam,Tablet 3,NOSUCH-0001\r\n' \
  >"$DEMO/partner-rows.csv"
echo
echo "demo: hangar validate (offline)"
"$BIN/hangar" validate "$DEMO/oem-batch.csv" "$DEMO/partner-rows.csv" || true
echo
echo "demo: hangar import"
"$BIN/hangar" import "$DEMO/oem-batch.csv" "$DEMO/partner-rows.csv" --profile standard
echo

# 4. Live progress until nothing is queued or pending (bounded).
deadline=$((SECONDS + 240))
last=""
while :; do
  status=$("$BIN/hangar" --json status)
  line=$(python3 -c 'import json,sys; s=json.load(sys.stdin)["states"]; print("queued {queued:3}  pending {registration_pending:3}  ready for user {ready_for_user:3}  failed {registration_failed:3}".format(**s))' <<<"$status")
  if [ -t 1 ]; then
    printf '\r%s' "$line"
  elif [ "$line" != "$last" ]; then
    echo "$line"
  fi
  last=$line
  depth=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["queue_depth"])' <<<"$status")
  [ "$depth" = 0 ] && break
  if [ $SECONDS -ge $deadline ]; then
    echo
    echo "demo: devices still in flight after 4 minutes; see $DEMO/data/logs/hangard.log" >&2
    exit 1
  fi
  sleep 1
done
echo
echo
"$BIN/hangar" status
echo
echo "demo: the devices that failed, with the seed's reasons:"
"$BIN/hangar" list --state registration-failed
echo
# The service and the simulated cloud stay up for the commands below; stop.sh ends them.
# It stops a pid only while that pid still runs the demo's binary (after a reboot, or days later,
# the number may belong to anything), waits for each to end, and says what it found and did.
cat >"$DEMO/stop.sh" <<STOP
#!/usr/bin/env bash
# Stops the demo's service (hangard, pid ${pids[1]}) and simulated cloud (pid ${pids[0]}).
set -u
stop() { # NAME PID BINARY
  local name=\$1 pid=\$2 binary=\$3 running=
  running=\$(readlink "/proc/\$pid/exe" 2>/dev/null) || running=
  running=\${running% (deleted)}  # the binary was rebuilt since
  if [ -z "\$running" ] && ! kill -0 "\$pid" 2>/dev/null; then
    echo "demo: \$name (pid \$pid) is not running any more: nothing to stop"
    return 0
  fi
  if [ "\$running" != "\$binary" ]; then
    echo "demo: pid \$pid is no longer the demo's \$name (it runs \${running:-something else}): left alone"
    return 0
  fi
  kill "\$pid" 2>/dev/null || true
  for _ in \$(seq 1 100); do
    kill -0 "\$pid" 2>/dev/null || { echo "demo: stopped \$name (pid \$pid)"; return 0; }
    sleep 0.1
  done
  echo "demo: \$name (pid \$pid) did not stop within 10 s; it is still running" >&2
  return 1
}
status=0
stop hangard ${pids[1]} "$(readlink -f "$BIN/hangard")" || status=1
stop hangar-cloudsim ${pids[0]} "$(readlink -f "$BIN/hangar-cloudsim")" || status=1
exit \$status
STOP
chmod +x "$DEMO/stop.sh"
trap - EXIT
echo "demo: done. Everything is in $DEMO (the queue: $DEMO/data/hangar.db)."
echo "demo: hangard (pid ${pids[1]}) and hangar-cloudsim (pid ${pids[0]}) are still running, so"
echo "demo: you can look next with"
echo "  export HANGAR_ENDPOINT=$HANGAR_ENDPOINT"
echo "  $BIN/hangar list"
echo "  $BIN/hangar show REUSED-0001"
echo "  $BIN/hangar watch --from-seq 0 --count 20"
echo "demo: when you are done, stop them with"
echo "  bash $DEMO/stop.sh"

#!/usr/bin/env bash
# The demo as a newcomer meets it: run it, then type the commands it suggests at the end (they
# must work: the service is still running), then stop everything the way it says.
# usage: demo_test.sh DEMO_SCRIPT BIN_DIR
set -euo pipefail
demo_script=$1
bin=$2
work=$(mktemp -d /tmp/hangar-demo-test.XXXXXX)
stop_anyway() {
  [ -f "$work/demo/stop.sh" ] && bash "$work/demo/stop.sh" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop_anyway EXIT

HANGAR_DEMO_BIN=$bin HANGAR_DEMO_DIR=$work/demo bash "$demo_script" >"$work/demo.out" 2>&1 || {
  echo "FAIL: the demo failed:"; cat "$work/demo.out"; exit 1; }

# The closing lines: "  export HANGAR_ENDPOINT=...", the commands, then "  bash .../stop.sh".
look=$(sed -n '/you can look next with/,/when you are done/p' "$work/demo.out" | grep '^  ' || true)
[ -n "$look" ] || { echo "FAIL: no look-next commands:"; tail -20 "$work/demo.out"; exit 1; }
stop=$(sed -n '/when you are done, stop them with/,$p' "$work/demo.out" | grep '^  ' || true)
[ -n "$stop" ] || { echo "FAIL: no stop instructions:"; tail -20 "$work/demo.out"; exit 1; }
ran=0
while IFS= read -r command; do
  if ! out=$(bash -c "$(printf '%s\n' "$look" | grep '^  export'); $command" 2>&1); then
    echo "FAIL: the demo's suggestion \`$command\` failed:"; echo "$out"; exit 1
  fi
  case "$command" in
    *"hangar list"*) grep -q "device(s)" <<<"$out" || { echo "FAIL: list said: $out"; exit 1; } ;;
    *"hangar show REUSED-0001"*) grep -q "Device REUSED-0001" <<<"$out" || {
      echo "FAIL: show said: $out"; exit 1; } ;;
  esac
  ran=$((ran + 1))
done < <(printf '%s\n' "$look" | grep -v '^  export' | sed 's/^  //')
[ "$ran" -ge 3 ] || { echo "FAIL: only $ran look-next command(s)"; exit 1; }

# Stopping as told: it says what it stopped, and afterwards nothing answers at the endpoint.
stopped=$(bash -c "$stop" 2>&1) || { echo "FAIL: the stop instructions failed: $stopped"; exit 1; }
for name in hangard hangar-cloudsim; do
  grep -q "stopped $name (pid [0-9]*)" <<<"$stopped" || {
    echo "FAIL: stop.sh did not say it stopped $name: $stopped"; exit 1; }
done
endpoint=$(printf '%s\n' "$look" | sed -n 's/^  export HANGAR_ENDPOINT=//p')
for _ in $(seq 1 100); do
  "$bin/hangar" --endpoint "$endpoint" ping >/dev/null 2>&1 || break
  sleep 0.1
done
if "$bin/hangar" --endpoint "$endpoint" ping >/dev/null 2>&1; then
  echo "FAIL: the service still answers after the stop instructions"; exit 1
fi
# Run again, it finds nothing to stop and says so; a recorded pid that now belongs to another
# process (after a reboot, days later) is left alone, not killed.
again=$(bash -c "$stop" 2>&1) || { echo "FAIL: stop.sh run twice failed: $again"; exit 1; }
grep -q "hangard (pid [0-9]*) is not running any more" <<<"$again" || {
  echo "FAIL: stop.sh run twice said: $again"; exit 1; }
sleep 300 &
victim=$!
sed "s/^stop hangard [0-9]* /stop hangard $victim /" "$work/demo/stop.sh" >"$work/stop-reused.sh"
reused=$(bash "$work/stop-reused.sh" 2>&1)
if ! kill -0 "$victim" 2>/dev/null; then
  echo "FAIL: stop.sh killed pid $victim, which was not the demo's hangard: $reused"; exit 1
fi
kill "$victim"
grep -q "pid $victim is no longer the demo's hangard" <<<"$reused" || {
  echo "FAIL: stop.sh did not say pid $victim is another process now: $reused"; exit 1; }
echo "ok: the demo's $ran look-next commands worked, and its stop instructions stopped it"

#!/usr/bin/env bash
# Flaky is failing: runs the tests most exposed to timing (engine, event feed, IPC server and
# transport, stop stress, tray monitor, end to end) many times in a row, natively and under Wine,
# and reports every failure with the run it happened in. Run it before you stop; fix what it finds.
#
#   bash scripts/stress-tests.sh [--runs N] [--native] [--wine]   (default: 5 runs, both)
#
# Needs the linux-debug and mingw-x64 builds (scripts/test-all.sh makes both). Logs of failing runs
# are kept in build/stress/.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

runs=5
native=0
wine=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --native) native=1; shift ;;
    --wine) wine=1; shift ;;
    *) echo "usage: $0 [--runs N] [--native] [--wine]" >&2; exit 2 ;;
  esac
done
if ((native == 0 && wine == 0)); then native=1; wine=1; fi

# GoogleTest suites and CTest names, as regular expressions for ctest -R.
NATIVE_TESTS='^(EngineTest|GroupSweepTest|EventFeedTest|ServerTest|StreamProbe|UnixSocket|Frame|StopTest|MonitorStop|ServiceE2E|IntakeE2E|RegistrationE2E|CredentialsE2E|TrayE2E)\.'
WINE_TESTS='^((EngineTest|GroupSweepTest|EventFeedTest|ServerTest|StreamProbe|NamedPipe[A-Za-z]*|StopTest|MonitorStop)\.|WineService$|WineServiceStop$|WineRegistrationE2E$)'

logs="$ROOT/build/stress"
mkdir -p "$logs"
declare -A failures=()
declare -a report=()

# run_preset PRESET REGEX: N ctest runs, each failing test counted and its run's log kept.
run_preset() {
  local preset=$1 regex=$2 jobs=$3 run log failed
  if [[ ! -d "$ROOT/build/$preset" ]]; then
    echo "stress: build/$preset is missing (run scripts/test-all.sh or cmake --build --preset $preset)" >&2
    return 1
  fi
  for ((run = 1; run <= runs; run++)); do
    log="$logs/$preset-run$run.log"
    local started=$SECONDS
    ctest --preset "$preset" -R "$regex" -j "$jobs" >"$log" 2>&1
    failed=$(sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^\s+[0-9]+ - ' |
             sed -E 's/^\s+[0-9]+ - (.*) \((.*)\)$/\1 (\2)/' || true)
    local summary
    summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log" | tail -n1)
    echo "stress: $preset run $run/$runs ($((SECONDS - started)) s): ${summary:-no summary}"
    if [[ -z "$summary" ]]; then
      failures["$preset: ctest printed no summary"]+=" $run"
    fi
    if [[ -n "$failed" ]]; then
      while IFS= read -r test; do
        failures["$preset: $test"]+=" $run"
        echo "stress:   FAILED $test"
      done <<<"$failed"
    elif [[ -n "$summary" ]]; then
      rm -f "$log"
    fi
  done
}

start=$SECONDS
if ((native)); then run_preset linux-debug "$NATIVE_TESTS" 2; fi
if ((wine)); then
  # shellcheck source=wine-env.sh
  source "$ROOT/scripts/wine-env.sh"
  wine_prefix_up || { echo "stress: no Wine prefix" >&2; exit 1; }
  trap 'wine_prefix_down' EXIT
  run_preset mingw-x64 "$WINE_TESTS" 1
fi

echo
echo "=== stress: $runs run(s) of each, $((SECONDS - start)) s"
if [[ ${#failures[@]} -eq 0 ]]; then
  echo "no failures"
  exit 0
fi
for key in "${!failures[@]}"; do
  report+=("$key: failed in run(s)${failures[$key]}")
done
printf '%s\n' "${report[@]}" | sort
echo "logs of the failing runs: $logs"
exit 1

#!/usr/bin/env bash
# The whole test suite, as CI runs it: the ASan/UBSan build + ctest (every native test, with the
# sanitizers on, plus fuzzer smoke runs), then the mingw-x64 cross build (it runs beside the
# sanitizer tests) + the Windows tests under Wine. No plain debug build: the sanitizer build runs
# the same tests and finds more, and building the tree twice would cost the time the Wine run
# needs. Prints a closing total line.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${HANGAR_JOBS:-$(nproc)}

bash scripts/setup-deps.sh

declare -a SUMMARY=()
TOTAL_PASSED=0
TOTAL_FAILED=0

# Runs ctest for a preset and adds its counts to the totals (ctest's own summary is kept as is).
run_ctest() {
  local preset=$1
  shift
  local log
  log=$(mktemp)
  local rc=0
  ctest --preset "$preset" "$@" 2>&1 | tee "$log" || rc=$?
  local line
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "test-all: ctest for $preset printed no summary" >&2
    return 1
  fi
  local failed total
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  TOTAL_PASSED=$((TOTAL_PASSED + total - failed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  SUMMARY+=("$preset: $((total - failed)) passed, $failed failed")
  return $rc
}

build() {
  local preset=$1
  local -a extra=()
  [[ $preset == mingw-x64 ]] && extra=("${HANGAR_MINGW_CONFIGURE_ARGS[@]}")
  echo "=== configure + build: $preset"
  cmake --preset "$preset" "${extra[@]}" >/dev/null
  cmake --build --preset "$preset" -j "$JOBS"
}

status=0
start=$(date +%s)

build linux-asan

# The Wine end-to-end tests run the native simulator and device generator: the sanitizer build's.
HANGAR_MINGW_CONFIGURE_ARGS=("-DHANGAR_NATIVE_BIN_DIR=$ROOT/build/linux-asan/bin")
# The cross build runs beside the sanitizer tests, at the lowest CPU priority: most of those tests
# wait on timers and sockets, and the build takes only the CPU time they leave (the kernel gives a
# nice-19 process about 1.5% of a core that a nice-0 one wants), so the tests' timing is kept.
mingw_log=$(mktemp)
(nice -n 19 bash -c "set -euo pipefail; $(declare -f build); $(declare -p HANGAR_MINGW_CONFIGURE_ARGS); JOBS=$JOBS; build mingw-x64" \
  >"$mingw_log" 2>&1) &
mingw_pid=$!
run_ctest linux-asan || status=1
echo "=== waiting for the mingw-x64 build (started beside the linux-asan tests)"
mingw_rc=0
wait "$mingw_pid" || mingw_rc=$?
if [ $mingw_rc -ne 0 ]; then
  tail -n 80 "$mingw_log"
  rm -f "$mingw_log"
  echo "test-all: the mingw-x64 build failed (exit $mingw_rc)" >&2
  exit 1
fi
tail -n 3 "$mingw_log"
rm -f "$mingw_log"
# One private Wine prefix for the whole Windows run (see docs/testing.md and scripts/wine-env.sh).
# shellcheck source=wine-env.sh
source "$ROOT/scripts/wine-env.sh"
wine_prefix_up
trap 'wine_prefix_down' EXIT
run_ctest mingw-x64 || status=1
wine_prefix_down
trap - EXIT

echo
echo "=== summary ($(($(date +%s) - start)) s)"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo "total: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
exit $status

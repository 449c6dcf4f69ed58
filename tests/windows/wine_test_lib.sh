# shellcheck shell=bash
# Sourced by the Wine test harnesses (tests/windows/*_under_wine.sh), after scripts/wine-env.sh:
# the pieces they share, so each harness says only what it tests. Every function is safe in a
# cleanup trap under `set -e`.
#
#   wine_test_fail MESSAGE          FAIL line, the tails of $data_dir's log and the simulator's, exit 1
#   require_native_tools DIR TOOL...   exit 77 (skipped) when a native linux-debug tool is missing
#   start_native_cloudsim BIN_DIR WORK SCENARIO   SCENARIO is a file or JSON text; sets sim_pid, sim_url
#   stop_native_cloudsim
#   wait_for_service_state NAME STATE SECONDS   polls `sc query` (RUNNING, STOPPED)
#   start_hangard_service NAME HANGARD_EXE DATA_DIR PIPE CLOUD_URL   sc create + start, RUNNING
#   remove_hangard_service NAME     best-effort sc stop + sc delete
#   utf16_csv IN OUT                a CSV as PowerShell 5.1's Out-File writes it (UTF-16LE, BOM)
#   wait_for_status HANGAR_EXE SECONDS PATTERN [ARGS...]  polls `hangar --json status` until it
#                                   matches the extended regex; leaves the last status in $status_out
#   wait_until_final HANGAR_EXE SECONDS [ARGS...]  wait_for_status until the queue is empty
# Harnesses define fail() (most as `fail() { wine_test_fail "$@"; }`).

wine_test_fail() {
  echo "FAIL: $*" >&2
  if [[ -n "${data_dir:-}" && -f "$data_dir/logs/hangard.log" ]]; then
    echo "--- hangard.log (last 40 lines)" >&2
    tail -n 40 "$data_dir/logs/hangard.log" >&2
  fi
  if [[ -n "${work:-}" && -f "$work/cloudsim.err" ]]; then
    echo "--- cloudsim" >&2
    tail -n 20 "$work/cloudsim.err" >&2
  fi
  exit 1
}

require_native_tools() {
  local dir=$1 tool
  shift
  for tool in "$@"; do
    if [[ ! -x "$dir/$tool" ]]; then
      echo "SKIP: $dir/$tool is missing (build the linux-debug preset first)"
      exit 77
    fi
  done
}

# The simulator cannot run under Wine (cpprest's listener needs http.sys): it runs natively on a
# free loopback port.
start_native_cloudsim() {
  local bin=$1 dir=$2 scenario=$3
  if [[ ! -f "$scenario" ]]; then
    printf '%s\n' "$scenario" >"$dir/scenario.json"
    scenario="$dir/scenario.json"
  fi
  "$bin/hangar-cloudsim" --port 0 --scenario "$scenario" >"$dir/cloudsim.out" \
    2>"$dir/cloudsim.err" &
  sim_pid=$!
  sim_url=""
  for _ in $(seq 1 100); do
    sim_url=$(sed -n 's/^listening on //p' "$dir/cloudsim.out")
    [[ -n "$sim_url" ]] && return 0
    sleep 0.1
  done
  return 1
}

stop_native_cloudsim() {
  # wait reports the signal the simulator died of: not a failure here.
  if [[ -n "${sim_pid:-}" ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
    sim_pid=""
  fi
  return 0
}

wait_for_service_state() {
  local name=$1 want=$2 seconds=$3 out=""
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    out=$(wine_run 20 sc query "$name" 2>/dev/null | tr -d '\r' || true)
    grep -Eq "STATE *: *[0-9]+ +$want" <<<"$out" && return 0
    sleep 0.5
  done
  echo "$out" >&2
  return 1
}

start_hangard_service() {
  local name=$1 exe=$2 data=$3 pipe=$4 url=$5 win_exe win_data
  win_exe=$(winepath -w "$exe" 2>/dev/null)
  win_data=$(winepath -w "$data" 2>/dev/null)
  [[ -n "$win_exe" && -n "$win_data" ]] || fail "winepath could not map the paths"
  wine_run 60 sc create "$name" \
    binPath= "\"$win_exe\" --data-dir \"$win_data\" --endpoint $pipe --cloud-url $url --poll-interval 0.5" \
    start= demand >/dev/null || fail "sc create"
  wine_run 60 sc start "$name" >/dev/null || fail "sc start"
  wait_for_service_state "$name" RUNNING 60 || fail "the service did not reach RUNNING"
}

remove_hangard_service() {
  wine_run 30 sc stop "$1" >/dev/null 2>&1 || true
  wine_run 30 sc delete "$1" >/dev/null 2>&1 || true
}

utf16_csv() {
  iconv -f UTF-8 -t UTF-16LE "$1" | { printf '\xff\xfe'; cat; } >"$2"
}

wait_for_status() {
  local exe=$1 seconds=$2 pattern=$3
  shift 3
  local deadline=$((SECONDS + seconds))
  status_out=""
  while ((SECONDS < deadline)); do
    status_out=$(wine_run 30 "$exe" "$@" --json status 2>&1 | tr -d '\r' || true)
    grep -Eq "$pattern" <<<"$status_out" && return 0
    sleep 0.5
  done
  return 1
}

wait_until_final() {
  local exe=$1 seconds=$2
  shift 2
  wait_for_status "$exe" "$seconds" '"queue_depth": 0' "$@"
}

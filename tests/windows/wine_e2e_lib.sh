# shellcheck shell=bash
# Sourced helpers for the Wine end-to-end tests (registration_under_wine.sh, tray_under_wine.sh):
# the native simulator and hangard.exe as a Wine service. Source scripts/wine-env.sh first and
# define fail() (message, then exit 1).

# Exits 77 (skipped) when the native linux-debug tools the test needs are missing.
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

# start_native_cloudsim NATIVE_BIN WORK_DIR SCENARIO_JSON: starts hangar-cloudsim on a free
# loopback port (the simulator cannot run under Wine); sets sim_pid and sim_url.
start_native_cloudsim() {
  local native_bin=$1 work=$2 scenario=$3
  printf '%s\n' "$scenario" >"$work/scenario.json"
  "$native_bin/hangar-cloudsim" --port 0 --scenario "$work/scenario.json" >"$work/cloudsim.out" \
    2>"$work/cloudsim.err" &
  sim_pid=$!
  sim_url=""
  for _ in $(seq 1 100); do
    sim_url=$(sed -n 's/^listening on //p' "$work/cloudsim.out")
    [[ -n "$sim_url" ]] && return 0
    sleep 0.1
  done
  return 1
}

stop_native_cloudsim() {
  # Safe under `set -e` in a cleanup trap: wait reports the signal the simulator died of.
  if [[ -n "${sim_pid:-}" ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
    sim_pid=""
  fi
}

# service_wait_state NAME STATE SECONDS: polls `sc query` until the service reports STATE.
service_wait_state() {
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

# start_hangard_service NAME HANGARD_EXE DATA_DIR PIPE CLOUD_URL: sc create + sc start, RUNNING.
start_hangard_service() {
  local name=$1 exe=$2 data=$3 pipe=$4 url=$5 win_exe win_data
  win_exe=$(winepath -w "$exe" 2>/dev/null)
  win_data=$(winepath -w "$data" 2>/dev/null)
  [[ -n "$win_exe" && -n "$win_data" ]] || fail "winepath could not map the paths"
  wine_run 60 sc create "$name" \
    binPath= "\"$win_exe\" --data-dir \"$win_data\" --endpoint $pipe --cloud-url $url --poll-interval 0.5" \
    start= demand >/dev/null || fail "sc create"
  wine_run 60 sc start "$name" >/dev/null || fail "sc start"
  service_wait_state "$name" RUNNING 60 || fail "the service did not reach RUNNING"
}

# remove_hangard_service NAME: best-effort sc stop + sc delete (for cleanup traps).
remove_hangard_service() {
  wine_run 30 sc stop "$1" >/dev/null 2>&1 || true
  wine_run 30 sc delete "$1" >/dev/null 2>&1 || true
}

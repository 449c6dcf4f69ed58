# Sourced by the Wine test harnesses (tests/windows/*_under_wine.sh), after scripts/wine-env.sh:
# the pieces they share, so each harness says only what it tests.
#
#   wine_test_fail MESSAGE          FAIL line, the tails of $data_dir's log and the simulator's, exit 1
#   wait_for_service_state NAME STATE SECONDS   polls `sc query` (RUNNING, STOPPED)
#   start_native_cloudsim BIN_DIR WORK SCENARIO_JSON   sets sim_pid and sim_url
#   utf16_csv IN OUT                a CSV as PowerShell 5.1's Out-File writes it (UTF-16LE, BOM)
#   wait_until_final HANGAR_EXE SECONDS [ARGS...]  polls `hangar status` until the queue is empty;
#                                   leaves the last status in $status_out

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

start_native_cloudsim() {
  local bin=$1 dir=$2 scenario=$3
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
  if [[ -n "${sim_pid:-}" ]]; then
    kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
    sim_pid=""
  fi
  return 0
}

utf16_csv() {
  iconv -f UTF-8 -t UTF-16LE "$1" | { printf '\xff\xfe'; cat; } >"$2"
}

wait_until_final() {
  local exe=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  status_out=""
  while ((SECONDS < deadline)); do
    status_out=$(wine_run 30 "$exe" "$@" --json status 2>&1 | tr -d '\r' || true)
    grep -q '"queue_depth": 0' <<<"$status_out" && return 0
    sleep 1
  done
  return 1
}

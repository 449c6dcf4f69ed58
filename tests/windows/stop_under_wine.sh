#!/usr/bin/env bash
# `sc stop` ends hangard.exe within a few seconds whatever its engine is waiting for. Each case
# starts the service under Wine's SCM with every pass of one kind due far in the future, then
# stops it and times SERVICE_STOPPED (the engine's stop was once lost under mingw-w64 and the
# service sat in STOP_PENDING: core/include/hangar/core/stop.h):
#   idle        nothing queued: the activity pass is 6 h away, the group sweep a day away
#   pending     devices Registration Pending, the next poll an hour away (--poll-interval 3600)
#   throttled   a 429 with Retry-After 3600 on the import: uploads blocked for an hour
#   offline     the cloud's port closed: offline, probing every few seconds
# and then five quick start/stop cycles, each stop landing wherever the first pass happens to be.
# Usage: stop_under_wine.sh HANGARD_EXE HANGAR_EXE NATIVE_BIN_DIR
set -euo pipefail

hangard_exe=$(readlink -f "$1")
hangar_exe=$(readlink -f "$2")
native_bin=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/wine-env.sh
source "$here/../../scripts/wine-env.sh"
# shellcheck source=wine_test_lib.sh
source "$here/wine_test_lib.sh"

require_native_tools "$native_bin" hangar-cloudsim hangar-devicegen

# A stop must reach STOPPED within this many seconds, measured from outside: `sc stop` and each
# `sc query` take a few tenths of a second under Wine, more on a loaded machine.
readonly kStopLimit=6
work=$(mktemp -d "${TMPDIR:-/tmp}/hangar-wine-stop.XXXXXX")
data_dir=""
name=""
sim_pid=""
fail() { wine_test_fail "$@"; }
cleanup() {
  set +e
  [[ -n "$name" ]] && remove_hangard_service "$name"
  stop_native_cloudsim
  rm -rf -- "$work"
  wine_prefix_down
}
trap cleanup EXIT

# Registrations take ten simulated hours; one write per hour, the second answered 429 with a
# Retry-After of an hour; the group of the 'standard' profile exists.
start_native_cloudsim "$native_bin" "$work" \
  '{"seed": 3, "registration": {"delay_seconds": 36000},
    "throttling": {"enabled": true, "writes": {"limit": 1, "window_seconds": 3600},
                   "requests": {"limit": 100000, "window_seconds": 20}},
    "tenant": {"groups": [{"id": "6d1c2b8e-4f1a-4c55-9d3e-0a7b2c1d9e01",
                           "display_name": "MMD standard"}]}}' ||
  fail "hangar-cloudsim did not start"
echo "== native simulator at $sim_url"
wine_prefix_up || fail "could not prepare a Wine prefix"
"$native_bin/hangar-devicegen" -o "$work/devices-utf8.csv" --devices "STOP-:4" >/dev/null ||
  fail "hangar-devicegen"
utf16_csv "$work/devices-utf8.csv" "$work/devices.csv"
win_csv=$(winepath -w "$work/devices.csv" 2>/dev/null)

# Creates and starts service $name on data directory $data_dir with the given cloud URL.
start_case() {
  local case_name=$1 url=$2 win_exe win_data
  name="HangarStop${case_name}$$"
  pipe="hangar-stop-$case_name-$$"
  data_dir="$work/$case_name"
  mkdir -p "$data_dir"
  cat >"$data_dir/hangar.json" <<'JSON'
{"activity_interval_hours": 6, "group_sweep_interval_hours": 24,
 "profile_groups": {"standard": "6d1c2b8e-4f1a-4c55-9d3e-0a7b2c1d9e01"}}
JSON
  win_exe=$(winepath -w "$hangard_exe" 2>/dev/null)
  win_data=$(winepath -w "$data_dir" 2>/dev/null)
  wine_run 60 sc create "$name" \
    binPath= "\"$win_exe\" --data-dir \"$win_data\" --endpoint $pipe --cloud-url $url --poll-interval 3600" \
    start= demand >/dev/null || fail "sc create ($case_name)"
  wine_run 60 sc start "$name" >/dev/null || fail "sc start ($case_name)"
  wait_for_service_state "$name" RUNNING 60 || fail "$case_name: the service did not reach RUNNING"
}

# Polls the case's status until it matches the extended regex $1 (within $2 seconds).
case_status() {
  wait_for_status "$hangar_exe" "$2" "$1" --endpoint "$pipe" || { echo "$status_out" >&2; return 1; }
}

# Imports the four devices into the case's service.
import_devices() {
  local out
  out=$(wine_run 120 "$hangar_exe" --endpoint "$pipe" import "$win_csv" --profile standard 2>&1 |
    tr -d '\r') || fail "import: $out"
}

# sc stop, then STOPPED within kStopLimit seconds and a clean stop in the log.
stop_case() {
  local case_name=$1 started=$SECONDS
  wine_run 30 sc stop "$name" >/dev/null || fail "$case_name: sc stop"
  wait_for_service_state "$name" STOPPED 60 || fail "$case_name: the service did not reach STOPPED"
  local took=$((SECONDS - started))
  echo "   $case_name: STOPPED ${took} s after sc stop"
  ((took <= kStopLimit)) || fail "$case_name: STOPPED only after ${took} s (limit ${kStopLimit} s)"
  grep -q "hangard stopped cleanly" "$data_dir/logs/hangard.log" ||
    fail "$case_name: no clean-stop line in the log"
}

delete_case() {
  wine_run 60 sc delete "$name" >/dev/null || fail "sc delete $name"
  name=""
}

echo "== idle: nothing queued, the activity pass and the group sweep hours away"
start_case idle "$sim_url"
case_status '"next_pass_at": [1-9]' 30 || fail "idle: no activity pass scheduled"
stop_case idle
delete_case

echo "== pending: 4 devices Registration Pending, the next poll an hour away"
start_case pending "$sim_url"
import_devices
case_status '"registration_pending": 4' 60 || fail "pending: the devices were not uploaded"
stop_case pending
delete_case

echo "== throttled: the upload answered 429 with Retry-After 3600"
# Another data directory, the same simulator: its write budget is spent by the case above.
start_case throttled "$sim_url"
import_devices
case_status '"throttled": [1-9]' 60 || fail "throttled: the engine was never throttled"
grep -q '"queued": 4' <<<"$status_out" || fail "throttled: the devices should still be waiting"
stop_case throttled
delete_case

echo "== offline: nothing listens where the cloud should be"
start_case offline "http://127.0.0.1:9"
case_status '"online": false' 60 || fail "offline: the engine never went offline"
stop_case offline

echo "== five start/stop cycles"
for cycle in 1 2 3 4 5; do
  wine_run 60 sc start "$name" >/dev/null || fail "cycle $cycle: sc start"
  wait_for_service_state "$name" RUNNING 60 || fail "cycle $cycle: not RUNNING"
  stop_case "cycle-$cycle"
done
delete_case
echo "PASS: every stop reached STOPPED within ${kStopLimit} s"

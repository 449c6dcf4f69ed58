#!/usr/bin/env bash
# The registration path of the Windows build end to end: hangard.exe as a Windows service under
# Wine's SCM registers devices through its WinHTTP client against the native hangar-cloudsim on
# 127.0.0.1 (cpprest's listener does not run under Wine, see WINDOWS-ON-LINUX.md):
#   cloudsim (native) -> sc create/start hangard.exe --cloud-url -> hangar.exe import (UTF-16 CSV)
#   -> every device Ready for user or Registration failed in the seed's words -> each serial
#   imported once (the simulator's counters) -> sc stop/delete.
# Usage: registration_under_wine.sh HANGARD_EXE HANGAR_EXE NATIVE_BIN_DIR
# Exit 77 (skipped) when NATIVE_BIN_DIR has no hangar-cloudsim / hangar-devicegen (build the
# linux-debug preset first; scripts/test-all.sh does).
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

work=$(mktemp -d "${TMPDIR:-/tmp}/hangar-wine-e2e.XXXXXX")
data_dir="$work/data"
mkdir -p "$data_dir"
name="HangarE2E$$"
pipe="hangar-e2e-test-$$"
sim_pid=""  # set by start_native_cloudsim

fail() { wine_test_fail "$@"; }

cleanup() {
  set +e # best effort: one failing step must not skip the rest
  remove_hangard_service "$name"
  stop_native_cloudsim
  rm -rf -- "$work"
  wine_prefix_down
}
trap cleanup EXIT

# Registration takes 300 simulated seconds, 0.5 s at this scale; the profile follows.
start_native_cloudsim "$native_bin" "$work" \
  '{"seed": 7, "time_scale": 600, "registration": {"delay_seconds": 300},
    "rules": [{"serial_prefix": "OTHER-", "error": "ZtdDeviceAssignedToOtherTenant"}]}' ||
  fail "hangar-cloudsim did not start"
url=$sim_url
echo "== native simulator at $url"

wine_prefix_up || fail "could not prepare a Wine prefix"

echo "== sc create/start $name --cloud-url $url"
start_hangard_service "$name" "$hangard_exe" "$data_dir" "$pipe" "$url"

echo "== hangar.exe import: 6 devices to register, 2 claimed by another organization"
"$native_bin/hangar-devicegen" -o "$work/devices-utf8.csv" --devices "WIN-:6" --devices "OTHER-:2" \
  >/dev/null || fail "hangar-devicegen"
# As PowerShell 5.1 writes it: UTF-16LE with a BOM.
utf16_csv "$work/devices-utf8.csv" "$work/devices.csv"
win_csv=$(winepath -w "$work/devices.csv" 2>/dev/null)
import_out=$(wine_run 120 "$hangar_exe" --endpoint "$pipe" import "$win_csv" --profile standard 2>&1 |
  tr -d '\r') || fail "import: $import_out"
echo "$import_out"
grep -q "8 accepted" <<<"$import_out" || fail "import did not accept the 8 devices"

echo "== waiting until every device is final"
wait_until_final "$hangar_exe" 150 --endpoint "$pipe" || true
grep -q '"queue_depth": 0' <<<"$status_out" || fail "devices still pending after 150 s: $status_out"
grep -q '"ready_for_user": 6' <<<"$status_out" || fail "not 6 Ready for user: $status_out"
grep -q '"registration_failed": 2' <<<"$status_out" || fail "not 2 failed: $status_out"

show_out=$(wine_run 30 "$hangar_exe" --endpoint "$pipe" show OTHER-0001 2>&1 | tr -d '\r') || true
grep -q "Device claimed by another organization" <<<"$show_out" ||
  fail "the failure is not in the seed's words: $show_out"

echo "== the simulator's counters: each serial imported exactly once"
stats=$(curl -fsS "$url/_sim/stats" | tr -d ' \n') || fail "cannot read $url/_sim/stats"
grep -q '"serials_imported_more_than_once":\[\]' <<<"$stats" || fail "a serial was imported twice: $stats"
grep -q '"rows":8[,}]' <<<"$stats" || fail "not 8 rows imported in all: $stats"

echo "== sc stop/delete"
wine_run 60 sc stop "$name" >/dev/null || fail "sc stop"
wait_for_service_state "$name" STOPPED 60 || fail "the service did not reach STOPPED"
wine_run 60 sc delete "$name" >/dev/null || fail "sc delete"
echo "PASS: hangard.exe registered 6 devices and reported 2 failures through WinHTTP to the native simulator"

#!/usr/bin/env bash
# The MSI as an administrator uses it, under Wine, against the native hangar-cloudsim:
#   msiexec /i (silent) -> service Hangar RUNNING, files in Program Files\Hangar, `hangard setup
#   --verify` (what Wine can read back of it: the PATH), event source -> `hangar status` over
#   \\.\pipe\hangar -> import a CSV, devices Ready for user -> msiexec /i of the same files with a
#   higher ProductVersion (major upgrade): service RUNNING again, queue and config kept, the older
#   MSI refused ->
#   msiexec /x: service, program files, PATH entry and event source gone, the data kept ->
#   install again: the kept queue is back -> msiexec /x REMOVEDATA=1: the data gone too.
# Usage: msi_under_wine.sh MSI UPGRADE_MSI NATIVE_BIN_DIR
# Exit 77 (skipped) when NATIVE_BIN_DIR has no hangar-cloudsim / hangar-devicegen.
set -euo pipefail

msi=$(readlink -f "$1")
upgrade_msi=$(readlink -f "$2")
native_bin=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/wine-env.sh
source "$here/../../scripts/wine-env.sh"
# shellcheck source=wine_test_lib.sh
source "$here/wine_test_lib.sh"

require_native_tools "$native_bin" hangar-cloudsim hangar-devicegen

started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/hangar-wine-msi.XXXXXX")
sim_pid=""
data_dir=""
began_installing=0
fail() { wine_test_fail "$@"; }

# Windows Installer's verbose log on failure: the lines that say what went wrong.
msi_fail() {
  local log=$1
  shift
  if [[ -f "$log" ]]; then
    echo "--- $log (errors)" >&2
    # Wine's msiexec writes the log in ANSI; Windows' own writes UTF-16 with a byte order mark.
    local text=cat
    [[ $(head -c 2 "$log" | od -An -tx1 | tr -d ' ') == fffe ]] && text="iconv -f UTF-16LE -t UTF-8"
    $text "$log" | grep -aiE "error|fail|return value 3|halted|DOWNGRADE_DETECTED =" |
      tail -n 30 >&2 || true
  fi
  fail "$@"
}

# msiexec with a time limit, its verbose log in $work; nothing inherits our stdout.
msiexec_run() {
  local log=$1
  shift
  wine_run 240 msiexec "$@" /qn /l*v "$(winepath -w "$log")" </dev/null >>"$work/msiexec.out" 2>&1
}

service=Hangar
svc() { wine_run 30 "$@" </dev/null 2>&1 | tr -d '\r'; }

cleanup() {
  # Leave the shared prefix as we found it: neither version installed, no data folder.
  # Once this run has started installing, by product code too: a failed step can leave a product
  # registered without its service. (What was installed before we started is left alone.)
  if wine_run 20 sc query "$service" >/dev/null 2>&1 ||
    { ((began_installing)) && [[ -n "$(installed_version "$new_code")$(installed_version "$old_code")" ]]; }; then
    msiexec_run "$work/cleanup-upgrade.log" /x "$upgrade_msi" || true
    msiexec_run "$work/cleanup.log" /x "$msi" || true
  fi
  [[ -n "$data_dir" ]] && rm -rf -- "$data_dir"
  stop_native_cloudsim
  rm -rf -- "$work"
  wine_prefix_down
}
trap cleanup EXIT

cat >"$work/scenario.json" <<'JSON'
{"seed": 11, "time_scale": 600, "registration": {"delay_seconds": 300},
 "rules": [{"serial_prefix": "OTHER-", "error": "ZtdDeviceAssignedToOtherTenant"}]}
JSON
start_native_cloudsim "$native_bin" "$work" "$work/scenario.json" || fail "hangar-cloudsim did not start"
echo "== native simulator at $sim_url"

wine_prefix_up || fail "could not prepare a Wine prefix"
drive_c="$WINEPREFIX/drive_c"
program_dir="$drive_c/Program Files/Hangar"
data_dir="$drive_c/ProgramData/Hangar"
win_hangar='C:\Program Files\Hangar\hangar.exe'
win_hangard='C:\Program Files\Hangar\hangard.exe'
event_key='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\Hangar'
if wine_run 20 sc query "$service" >/dev/null 2>&1; then
  fail "a service named $service already exists in this prefix ($WINEPREFIX)"
fi
rm -rf -- "$data_dir"

# An unattended install: the config is in place before the service first starts. It names the
# simulator and a short poll (the service runs with no flags, as the MSI registers it).
mkdir -p "$data_dir"
printf '{"cloud_url": "%s", "poll_interval_seconds": 0.5}\n' "$sim_url" >"$data_dir/hangar.json"
cp "$data_dir/hangar.json" "$work/hangar.json.orig"
tray=0
msiinfo export "$msi" File | grep -q 'hangar-tray.exe' && tray=1
msi_property() { msiinfo export "$1" Property | tr -d '\r' | awk -v p="$2" '$1 == p { print $2 }'; }
old_code=$(msi_property "$msi" ProductCode)
new_code=$(msi_property "$upgrade_msi" ProductCode)
old_version=$(msi_property "$msi" ProductVersion)
new_version=$(msi_property "$upgrade_msi" ProductVersion)
[[ $old_code != "$new_code" && $(printf '%s\n' "$old_version" "$new_version" | sort -V | tail -n1) == "$new_version" && $old_version != "$new_version" ]] ||
  fail "$(basename "$upgrade_msi") ($new_version, $new_code) is no upgrade of $(basename "$msi") ($old_version, $old_code)"
# The DisplayVersion Windows Installer registered for a product code; empty when not installed.
# The product's key under Programs and Features.
uninstall_key() { echo "HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\\$1"; }

installed_version() {
  svc reg query "$(uninstall_key "$1")" /v DisplayVersion 2>/dev/null |
    awk '$1 == "DisplayVersion" { print $3 }'
}

# Programs and Features shows VERSION for product CODE, read again for up to 10 s: one CI run
# under load read nothing right after an install that had succeeded. On failure, says what
# `reg query` answered.
expect_registered() {
  local code=$1 version=$2 what=$3
  for _ in $(seq 1 20); do
    [[ $(installed_version "$code") == "$version" ]] && return 0
    sleep 0.5
  done
  fail "$what; reg query said: $(svc reg query "$(uninstall_key "$code")" /v DisplayVersion)"
}

# Hangar already registered (an earlier run cut short; product codes change with each build)
# would make this install a downgrade or a repair: say so instead of letting msiexec fail (1603).
while read -r key; do
  [[ $key == *'\{'*'}' ]] || continue
  name=$(svc reg query "$key" /v DisplayName | awk '$1 == "DisplayName" { print $3 }' || true)
  [[ $name == Hangar ]] || continue
  code=${key##*\\}
  fail "Hangar $(installed_version "$code" || true) ($code) is already installed in $WINEPREFIX:" \
    "use a fresh WINEPREFIX, or remove it (\`wine msiexec /x $code /qn\`, which needs its cached package)"
done < <(svc reg query "$(uninstall_key '')" || true)

check_installed() {
  local label=$1
  wait_for_service_state "$service" RUNNING 60 || fail "$label: the service is not RUNNING"
  for exe in hangard.exe hangar.exe; do
    [[ -f "$program_dir/$exe" ]] || fail "$label: $exe is not in Program Files\\Hangar"
  done
  # The install ran `hangard setup` (Return="check": had it failed, msiexec would have failed).
  # Its --verify reads the results back. Wine 8 keeps no file security descriptors, which verify
  # detects and reports as "unverifiable", and has no QueryServiceConfig2W for failure actions
  # (error 124): those two Wine answers are accepted, any other FAIL is not. windows_setup_tests
  # checks the folder's DACL where Windows keeps it, and the descriptor setup applies everywhere.
  local verify
  verify=$(svc "$win_hangard" setup --verify || true)
  echo "$verify" | sed 's/^/   /'
  grep -q "^machine PATH: ok" <<<"$verify" || fail "$label: the CLI is not on the PATH: $verify"
  grep -Eq "^failure actions( of Hangar)?: (ok|FAIL: .*\(error 124\))" <<<"$verify" ||
    fail "$label: failure actions: $verify"
  grep -Eq "^data directory .*: (ok|unverifiable: the file system keeps no file security)" \
    <<<"$verify" || fail "$label: data directory: $verify"
  svc reg query "$event_key" /v EventMessageFile | grep -qi 'hangard.exe' ||
    fail "$label: the event source is not registered"
  if ((tray)); then
    [[ -f "$program_dir/hangar-tray.exe" ]] || fail "$label: hangar-tray.exe is not installed"
    svc reg query 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run' /v "Hangar tray" |
      grep -qi 'hangar-tray.exe' || fail "$label: the tray does not start at logon"
  fi
}

echo "== msiexec /i $(basename "$msi") /qn"
t0=$SECONDS
began_installing=1
msiexec_run "$work/install.log" /i "$msi" || msi_fail "$work/install.log" "msiexec /i failed"
echo "   installed in $((SECONDS - t0)) s"
check_installed install
expect_registered "$old_code" "$old_version" "Hangar $old_version is not registered"

echo "== hangar status over \\\\.\\pipe\\hangar (no --endpoint: the installed defaults)"
status_out=$(svc "$win_hangar" --json status) || fail "status: $status_out"
grep -q '"queue_depth"' <<<"$status_out" || fail "status has no queue depth: $status_out"

echo "== import 4 devices (1 claimed by another organization); all final"
"$native_bin/hangar-devicegen" -o "$work/devices-utf8.csv" --devices "MSI-:3" --devices "OTHER-:1" \
  >/dev/null || fail "hangar-devicegen"
utf16_csv "$work/devices-utf8.csv" "$work/devices.csv"
import_out=$(svc "$win_hangar" import "$(winepath -w "$work/devices.csv")" --profile standard) ||
  fail "import: $import_out"
grep -q "4 accepted" <<<"$import_out" || fail "import did not accept the 4 devices: $import_out"
wait_until_final "$win_hangar" 120 || fail "devices still pending after 120 s: $status_out"
grep -q '"ready_for_user": 3' <<<"$status_out" || fail "not 3 Ready for user: $status_out"
grep -q '"registration_failed": 1' <<<"$status_out" || fail "not 1 failed: $status_out"

echo "== major upgrade: msiexec /i $(basename "$upgrade_msi") /qn"
t0=$SECONDS
msiexec_run "$work/upgrade.log" /i "$upgrade_msi" || msi_fail "$work/upgrade.log" "upgrade failed"
echo "   upgraded in $((SECONDS - t0)) s"
check_installed upgrade
# Programs and Features: the new product, at the new version; the old one removed.
expect_registered "$new_code" "$new_version" "Hangar $new_version ($new_code) is not registered as installed"
[[ -z $(installed_version "$old_code") ]] || fail "the old product $old_code is still installed"
wait_until_final "$win_hangar" 60 || fail "status after the upgrade: $status_out"
grep -q '"ready_for_user": 3' <<<"$status_out" || fail "the queue did not survive: $status_out"
grep -q '"registration_failed": 1' <<<"$status_out" || fail "the queue did not survive: $status_out"
cmp -s "$data_dir/hangar.json" "$work/hangar.json.orig" || fail "the upgrade changed hangar.json"

echo "== the older MSI is refused now"
if msiexec_run "$work/downgrade.log" /i "$msi"; then fail "msiexec installed $old_version over $new_version"; fi
[[ -z $(installed_version "$old_code") ]] || fail "the refused downgrade registered $old_version"
wait_for_service_state "$service" RUNNING 30 || fail "the refused downgrade stopped the service"

echo "== msiexec /x REMOVEDATA=0: the program goes, the data stays"
t0=$SECONDS
# REMOVEDATA=0 must keep the data as well: only exactly 1 removes it.
msiexec_run "$work/uninstall.log" /x "$upgrade_msi" REMOVEDATA=0 ||
  msi_fail "$work/uninstall.log" "msiexec /x failed"
echo "   uninstalled in $((SECONDS - t0)) s"
if wine_run 20 sc query "$service" >/dev/null 2>&1; then fail "the service is still registered"; fi
[[ ! -e "$program_dir/hangard.exe" && ! -e "$program_dir/hangar.exe" ]] ||
  fail "program files are left in Program Files\\Hangar"
if svc reg query "$event_key" >/dev/null; then fail "the event source is still registered"; fi
if ((tray)) && svc reg query 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run' /v "Hangar tray" >/dev/null; then
  fail "the tray still starts at logon"
fi
[[ ! -e "$program_dir/hangar-tray.exe" ]] || fail "hangar-tray.exe is left in Program Files\\Hangar"
path_value=$(svc reg query 'HKLM\System\CurrentControlSet\Control\Session Manager\Environment' /v Path)
if grep -qi 'Program Files\\Hangar' <<<"$path_value"; then fail "PATH still names Hangar: $path_value"; fi
for kept in hangar.db hangar.json logs/hangard.log; do
  [[ -e "$data_dir/$kept" ]] || fail "uninstall removed the data: $kept is gone"
done

echo "== install again: the kept queue is back; then msiexec /x REMOVEDATA=1"
msiexec_run "$work/reinstall.log" /i "$msi" || msi_fail "$work/reinstall.log" "reinstall failed"
wait_for_service_state "$service" RUNNING 60 || fail "reinstall: the service is not RUNNING"
list_out=$(svc "$win_hangar" list --state ready-for-user) || fail "list: $list_out"
grep -q "MSI-0003" <<<"$list_out" || fail "the reinstalled service lost the queue: $list_out"
msiexec_run "$work/purge.log" /x "$msi" REMOVEDATA=1 || msi_fail "$work/purge.log" "msiexec /x REMOVEDATA=1 failed"
if wine_run 20 sc query "$service" >/dev/null 2>&1; then fail "the service is still registered"; fi
[[ ! -e "$data_dir/hangar.db" ]] || fail "REMOVEDATA=1 left the queue in ProgramData\\Hangar"

echo "PASS: the MSI installed, served, registered, upgraded keeping the queue, and uninstalled" \
  "($((SECONDS - started)) s)"

#!/usr/bin/env bash
# hangard.exe as a real Windows service under Wine's service control manager:
#   sc create -> sc start -> RUNNING -> hangar.exe ping/status over the named pipe -> sc stop ->
#   STOPPED with a clean log line -> sc delete.
# Usage: service_under_wine.sh HANGARD_EXE HANGAR_EXE
# Uses $WINEPREFIX when the runner prepared one (scripts/test-all.sh), else a private temporary one.
set -euo pipefail

hangard_exe=$(readlink -f "$1")
hangar_exe=$(readlink -f "$2")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/wine-env.sh
source "$here/../../scripts/wine-env.sh"
# shellcheck source=wine_test_lib.sh
source "$here/wine_test_lib.sh"

fail() { wine_test_fail "$@"; }

wine_prefix_up || fail "could not prepare a Wine prefix"
name="HangarTest$$"
pipe="hangar-svc-test-$$"
data_dir=$(mktemp -d "${TMPDIR:-/tmp}/hangar-svc-data.XXXXXX")
cleanup() {
  wine_run 30 sc stop "$name" >/dev/null 2>&1 || true
  wine_run 30 sc delete "$name" >/dev/null 2>&1 || true
  rm -rf -- "$data_dir"
  wine_prefix_down
}
trap cleanup EXIT

win_exe=$(winepath -w "$hangard_exe" 2>/dev/null)
win_data=$(winepath -w "$data_dir" 2>/dev/null)
[[ -n "$win_exe" && -n "$win_data" ]] || fail "winepath could not map the paths"

wait_for_state() { wait_for_service_state "$name" "$@"; }

echo "== sc create $name"
wine_run 60 sc create "$name" binPath= "\"$win_exe\" --data-dir \"$win_data\" --endpoint $pipe" \
  start= demand >/dev/null || fail "sc create"

echo "== sc start"
wine_run 60 sc start "$name" >/dev/null || fail "sc start"
wait_for_state RUNNING 60 || fail "the service did not reach RUNNING"

echo "== hangar.exe ping / status over \\\\.\\pipe\\$pipe"
ping_out=$(wine_run 60 "$hangar_exe" --endpoint "$pipe" ping 2>&1 | tr -d '\r') || fail "ping: $ping_out"
echo "$ping_out"
grep -q "pong" <<<"$ping_out" || fail "ping did not answer pong: $ping_out"
status_out=$(wine_run 60 "$hangar_exe" --endpoint "$pipe" --json status 2>&1 | tr -d '\r') ||
  fail "status: $status_out"
echo "$status_out"
grep -q '"queue_depth"' <<<"$status_out" || fail "status has no queue depth: $status_out"

echo "== hangar.exe import of a PowerShell 5.1 file (UTF-16LE) over the pipe, then list"
# The public sample hash from the Microsoft Managed Desktop docs (unpadded, one byte short).
sample_hash="T0EeBAEAHAAAAAoAAQBjRQAACgAgAWNFTw76I3gCCQMCABAACQABAAIABAABAAAABQAZAAgAAAAAAAAACAAAAAAAAAACAAEAAwMAEQBHZW51aW5lSW50ZWwABAA0AEludGVsKFIpIENvcmUoVE0pIGk1LTczMDBVIENQVSBAIDIuNjBHSHoAAAAAAAAAAAYAEAAAAQAAAAAAABEAAAEHAEUAMzMzM180QTMwXzRBMjFfNjExNV8wMDI1XzM4NTlfMDAwMF8wMDAxLnxTQU1TVU5HIEtVUzAzMDIwMk0tQjAwMHwIABoACQAAALyDhexPuwgAAABQAEMASQAAAAgAGgAKAAAAvIOF7E+8CAAAAEIAVABIAAAACQAQAB0BvgDQCOAFAAAAgBsACAAdABMACgAJAAkCAMUKDQBQAFRQTS1WZXJzaW9uOjIuMCAtTGV2ZWw6MC1SZXZpc2lvbjoxLjE2LVZlbmRvcklEOidOVEMgJy1GaXJtd2FyZTo2NTUzOS42NTUzNgAZAAQBtp4c1IQUNQ6Wiaih3jV16sI/9xdNPxB/iAT1+02gHsHpieOUbnlL39zVxDIgPDwhRM1Fjgh2d8KJu2AM+SiHPXBbuWAP5/NwJlEyf3Te5/5yChEedFWdfgG1/13oK0AmEDSdfdJfDekpeloYSgZr73vsoClJ8DR67BnmyzSKnIY4I8lqDBXrcETeZwqAoqQbv1IP9MB/qersMJjMyuDrnkixiPpBgOGE8r6Oip+KMm3MTVbawqCgMhfl/xfMMR+l+krrAR75msvN9Jzf3ixXZu4uaHJYIobDIufyJYn29BgPllOtVfrK44IogwUeP1H09CT8TH1T9TPBi9CKh8zxjwsALgAAAAAAAQAgAAAAc3sivcVFJ1E85y+Gixfq87gUTmg7UlAfCesRyIuOLtgMABQANG6FKrfG3VAA6wI+Fp4TLQ4AEQAwMTY1MjA3NzEzNTcADwAaAE1pY3Jvc29mdCBDb3Jwb3JhdGlvbgAQABoATWljcm9zb2Z0IENvcnBvcmF0aW9uABEAEwBTdXJmYWNlIExhcHRvcAASABMAU3VyZmFjZV9MYXB0b3AAEwAMAFN1cmZhY2UAFwAnAEQ6RiBCOjBDODUwMkIxIEY6VSBDOjA5IFA6QzEgUzowMSAAFAAaAE1pY3Jvc29mdCBDb3Jwb3JhdGlvbgAVABMAU3VyZmFjZSBMYXB0b3AAFgAaAFNNQklPU19TVFJJTkdfSU5ERVhfMAAYABIAMzg2MzQ3NTI5Nzc4NwAaABMAW1JTMl1YMjEtMzYzMTEAHABGADMzMzNfNEEzMF80QTIxXzYxMTVfMDAyNV8zODU5XzAwMDBfMDAwMS58U0FNU1VORyBLVVMwMzAyMDJNLUIwMDB8AENTJADoMJEDquTVL+c3M1mlkr6E6sftOEuJD9f72qWBKCIr"
csv="$data_dir/hardwarehash.csv"
printf 'Device Serial Number,Windows Product ID,Hardware Hash\r\n016520771357,,%s\r\n' "$sample_hash" \
  >"$csv.utf8"
utf16_csv "$csv.utf8" "$csv"
win_csv=$(winepath -w "$csv" 2>/dev/null)
import_out=$(wine_run 60 "$hangar_exe" --endpoint "$pipe" import "$win_csv" --profile standard 2>&1 |
  tr -d '\r') || fail "import: $import_out"
echo "$import_out"
grep -q "1 accepted" <<<"$import_out" || fail "import did not accept the sample device: $import_out"
list_out=$(wine_run 60 "$hangar_exe" --endpoint "$pipe" list 2>&1 | tr -d '\r') || fail "list: $list_out"
grep -q "016520771357 *Queued" <<<"$list_out" || fail "list does not show the device: $list_out"

echo "== sc stop"
wine_run 60 sc stop "$name" >/dev/null || fail "sc stop"
wait_for_state STOPPED 60 || fail "the service did not reach STOPPED"
grep -q "hangard stopped cleanly" "$data_dir/logs/hangard.log" || fail "no clean-stop line in the log"
# The pipe must be gone with the service.
if wine_run 30 "$hangar_exe" --endpoint "$pipe" ping >/dev/null 2>&1; then
  fail "the pipe still answers after the service stopped"
fi

echo "== sc delete"
wine_run 60 sc delete "$name" >/dev/null || fail "sc delete"
if wine_run 20 sc query "$name" >/dev/null 2>&1; then
  fail "the service still exists after sc delete"
fi
echo "PASS: hangard ran under the SCM, served the pipe and stopped cleanly"

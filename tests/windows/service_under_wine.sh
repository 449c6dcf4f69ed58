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

fail() {
  echo "FAIL: $*" >&2
  if [[ -n "${data_dir:-}" && -f "$data_dir/logs/hangard.log" ]]; then
    echo "--- hangard.log" >&2
    tail -n 40 "$data_dir/logs/hangard.log" >&2
  fi
  exit 1
}

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

# Polls `sc query` until the service reports the wanted state (RUNNING, STOPPED) or time runs out.
wait_for_state() {
  local want=$1 seconds=$2 out=""
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    out=$(wine_run 20 sc query "$name" 2>/dev/null | tr -d '\r' || true)
    if grep -Eq "STATE *: *[0-9]+ +$want" <<<"$out"; then
      return 0
    fi
    sleep 0.5
  done
  echo "$out" >&2
  return 1
}

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

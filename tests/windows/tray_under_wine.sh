#!/usr/bin/env bash
# The Windows tray under Wine on a virtual X display:
#   Xvfb (free display) -> hangar-tray.exe in `wine explorer /desktop=hangar,800x600` before the
#   service exists: slate "offline" icon in the taskbar (screenshot 1) -> native hangar-cloudsim
#   + hangard.exe as a Wine service -> hangar.exe import of 3 devices -> they reach Ready for user
#   -> one coalesced balloon "3 devices are Ready for user" (the tray's log says what it showed)
#   -> screenshot 2: the green "all well" icon in the taskbar and the balloon above it
#   -> right-click the icon, click "Pause uploads" (xdotool): the service is paused, the icon amber
#   -> sc stop / sc start: offline, then reconnected, resuming from the last seq it saw
#   -> taskkill (WM_CLOSE): the tray quits cleanly.
# The screenshots stay in OUT_DIR (tray-offline.png, tray-screenshot.png, tray-menu.png,
# tray-paused.png).
# Usage: tray_under_wine.sh HANGARD_EXE HANGAR_EXE TRAY_EXE NATIVE_BIN_DIR OUT_DIR
# Exit 77 (skipped) only when the native linux-debug tools are missing; a missing Xvfb,
# ImageMagick or xdotool is a failure.
set -euo pipefail

hangard_exe=$(readlink -f "$1")
hangar_exe=$(readlink -f "$2")
tray_exe=$(readlink -f "$3")
native_bin=$4
out_dir=$5
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/wine-env.sh
source "$here/../../scripts/wine-env.sh"
# shellcheck source=wine_test_lib.sh
source "$here/wine_test_lib.sh"

# Colours of tray/src/windows/icons.cpp, and Wine's balloon: black text on white, above the icon
# and left of it (BALLOON_AREA), where the desktop is otherwise plain blue.
readonly OK_COLOUR="#00B050" OFFLINE_COLOUR="#707090" PAUSED_COLOUR="#F0A000" BALLOON_COLOUR="#FFFFFF" TEXT_COLOUR="#000000"
readonly TASKBAR_AREA=800x40+0+560 BALLOON_AREA=400x108+400+470
# ImageMagick: /usr/local/bin/convert is a stand-in on the CI machines (WINDOWS-ON-LINUX.md).
readonly CONVERT=/usr/bin/convert IMPORT=/usr/bin/import

fail() {
  [[ -f "${work:-}/tray.log" ]] && { echo "--- tray.log" >&2; cat "$work/tray.log" >&2; }
  wine_test_fail "$@"
}

for tool in Xvfb "$CONVERT" "$IMPORT" /usr/bin/xdotool; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing: run scripts/setup-deps.sh (xvfb, imagemagick, xdotool)"
done
require_native_tools "$native_bin" hangar-cloudsim hangar-devicegen

work=$(mktemp -d "${TMPDIR:-/tmp}/hangar-wine-tray.XXXXXX")
data_dir="$work/data"
mkdir -p "$data_dir" "$out_dir"
name="HangarTray$$"
pipe="hangar-tray-test-$$"
xvfb_pid="" tray_pid=""

cleanup() {
  set +e # best effort: one failing step must not skip the rest
  # In a shared prefix the wineserver outlives us: make sure the tray and its desktop end.
  wine_run 20 taskkill /f /im hangar-tray.exe >/dev/null 2>&1 || true
  if [[ -n "$tray_pid" ]]; then
    kill "$tray_pid" 2>/dev/null
    wait "$tray_pid" 2>/dev/null
  fi
  remove_hangard_service "$name"
  stop_native_cloudsim
  # Our explorer desktop and the tray in it end with the wineserver (our prefix) or the display.
  wine_prefix_down
  if [[ -n "$xvfb_pid" ]]; then
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  rm -rf -- "$work"
}
trap cleanup EXIT

# A free display chosen by Xvfb itself (-displayfd): no race with other tests.
Xvfb -displayfd 3 -screen 0 800x600x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.err" &
xvfb_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$work/display" ]] && break
  sleep 0.1
done
[[ -s "$work/display" ]] || fail "Xvfb did not start: $(cat "$work/xvfb.err")"
DISPLAY=":$(head -n1 "$work/display")"
export DISPLAY
echo "== Xvfb on $DISPLAY"

wine_prefix_up || fail "could not prepare a Wine prefix"

# pixels COLOUR GEOMETRY FILE: how many pixels of COLOUR the region WxH+X+Y holds.
pixels() {
  "$CONVERT" "$3" -crop "$2" +repage -format %c histogram:info:- 2>/dev/null |
    awk -v c="$1" 'toupper($0) ~ c { n += $1 } END { print n + 0 }'
}

# wait_log TEXT SECONDS [N]: until the tray's log has N (default 1) lines containing TEXT.
wait_log() {
  local deadline=$((SECONDS + $2)) want=${3:-1}
  while ((SECONDS < deadline)); do
    local n
    n=$(grep -cF -- "$1" "$work/tray.log" 2>/dev/null)  # nothing while the log does not exist
    ((${n:-0} >= want)) && return 0
    sleep 0.2
  done
  return 1
}

echo "== hangar-tray.exe in a Wine desktop, before the service exists"
win_log=$(winepath -w "$work/tray.log" 2>/dev/null)
wine explorer /desktop=hangar,800x600 "$tray_exe" --endpoint "$pipe" --coalesce-ms 2000 \
  --log-file "$win_log" >"$work/explorer.out" 2>&1 &
tray_pid=$!
wait_log "health: offline" 30 || fail "the tray did not start or never reported offline"
sleep 1 # let the taskbar paint the icon
"$IMPORT" -window root "$out_dir/tray-offline.png" || fail "import could not take a screenshot"
# The taskbar is the bottom strip of the desktop; the icon sits at its right end.
offline=$(pixels "$OFFLINE_COLOUR" $TASKBAR_AREA "$out_dir/tray-offline.png")
no_balloon=$(pixels "$BALLOON_COLOUR" $BALLOON_AREA "$out_dir/tray-offline.png")
echo "offline icon pixels in the taskbar: $offline; white pixels above it: $no_balloon"
((offline >= 150)) || fail "no offline (slate) icon in the taskbar: see $out_dir/tray-offline.png"
# Without a balloon the area is plain desktop: the balloon check below cannot pass by accident.
((no_balloon < 100)) || fail "white above the icon before any balloon: see $out_dir/tray-offline.png"

start_native_cloudsim "$native_bin" "$work" \
  '{"seed": 7, "time_scale": 600, "registration": {"delay_seconds": 300}}' ||
  fail "hangar-cloudsim did not start"
echo "== native simulator at $sim_url; sc create/start $name"
start_hangard_service "$name" "$hangard_exe" "$data_dir" "$pipe" "$sim_url"
wait_log "health: ok" 30 || fail "the tray did not connect to the service"

echo "== hangar.exe import: 3 devices"
"$native_bin/hangar-devicegen" -o "$work/devices.csv" --devices "TRAY-:3" >/dev/null ||
  fail "hangar-devicegen"
import_out=$(wine_run 120 "$hangar_exe" --endpoint "$pipe" import "$(winepath -w "$work/devices.csv")" \
  --profile standard 2>&1 | tr -d '\r') || fail "import: $import_out"
grep -q "3 accepted" <<<"$import_out" || fail "import did not accept the 3 devices: $import_out"

wait_log "balloon shown:" 60 || fail "no balloon within 60 s"
grep -F "balloon shown:" "$work/tray.log"
balloons=$(grep -c "balloon shown:" "$work/tray.log")
((balloons == 1)) || fail "$balloons balloons for 3 devices, expected one"
grep -qF "balloon shown: 3 devices are Ready for user" "$work/tray.log" ||
  fail "the balloon does not say the 3 devices are Ready for user"
# Wine's tray creates the balloon 2 s after the request and keeps it at least 10 s: take
# screenshots until it is there (or 8 s have passed).
ok=0 balloon=0 text=0
deadline=$((SECONDS + 8))
while ((SECONDS < deadline)); do
  sleep 0.5
  "$IMPORT" -window root "$out_dir/tray-screenshot.png" || fail "import could not take a screenshot"
  ok=$(pixels "$OK_COLOUR" $TASKBAR_AREA "$out_dir/tray-screenshot.png")
  balloon=$(pixels "$BALLOON_COLOUR" $BALLOON_AREA "$out_dir/tray-screenshot.png")
  text=$(pixels "$TEXT_COLOUR" $BALLOON_AREA "$out_dir/tray-screenshot.png")
  ((ok >= 150 && balloon >= 3000 && text >= 50)) && break
done
echo "all-well icon pixels in the taskbar: $ok; balloon above it: $balloon white, $text text pixels"
((ok >= 150)) || fail "no green (all well) icon in the taskbar: see $out_dir/tray-screenshot.png"
((balloon >= 3000 && text >= 50)) || fail "no balloon above the icon: see $out_dir/tray-screenshot.png"
echo "== the menu: right-click the icon, click Pause uploads"
# The menu opens above the icon at the bottom-right corner: Open status, Pause uploads, Open log
# folder, a separator, Quit; rows of about 17 pixels (Wine's default font), see tray-menu.png.
XDOTOOL=/usr/bin/xdotool
"$XDOTOOL" mousemove 790 590 click 3 || fail "xdotool could not click the icon"
sleep 1
"$IMPORT" -window root "$out_dir/tray-menu.png" || fail "import could not take a screenshot"
"$XDOTOOL" mousemove 730 535 click 1 || fail "xdotool could not click Pause uploads"
wait_log "pause: " 15 || fail "choosing Pause uploads sent no pause: see $out_dir/tray-menu.png"
wait_log "health: paused" 15 || fail "the tray did not show paused after Pause uploads"
status_out=$(wine_run 30 "$hangar_exe" --endpoint "$pipe" --json status 2>&1 | tr -d '\r') || true
grep -q '"paused": true' <<<"$status_out" || fail "the service is not paused: $status_out"
paused=0
deadline=$((SECONDS + 5))
while ((SECONDS < deadline)); do
  sleep 0.3
  "$IMPORT" -window root "$out_dir/tray-paused.png" || fail "import could not take a screenshot"
  paused=$(pixels "$PAUSED_COLOUR" $TASKBAR_AREA "$out_dir/tray-paused.png")
  ((paused >= 150)) && break
done
echo "paused (amber) icon pixels in the taskbar: $paused"
((paused >= 150)) || fail "no amber (paused) icon in the taskbar: see $out_dir/tray-paused.png"

echo "== sc stop, sc start: the tray goes offline, reconnects and resumes from its last seq"
wine_run 60 sc stop "$name" >/dev/null || fail "sc stop"
wait_log "health: offline" 30 2 || fail "the tray did not notice the service stopping"
wait_for_service_state "$name" STOPPED 60 || fail "the service did not reach STOPPED"
wine_run 60 sc start "$name" >/dev/null || fail "sc start"
wait_log "connected to" 30 2 || fail "the tray did not reconnect after the service restarted"
grep "connected to" "$work/tray.log" | tail -n 1 | grep -Eq "subscribed since [0-9]+ " ||
  fail "the reconnect did not resume from the last seq"

echo "== taskkill (WM_CLOSE, as at logoff): the tray removes its icon and exits"
# taskkill finds windows on its own desktop only: run it on the tray's.
wine_run 30 explorer /desktop=hangar,800x600 taskkill /im hangar-tray.exe >"$work/taskkill.out" 2>&1 ||
  fail "taskkill hangar-tray.exe: $(cat "$work/taskkill.out")"
wait_log "hangar-tray: quit" 15 || fail "the tray did not quit on WM_CLOSE"
echo "PASS: icon and balloon on screen ($out_dir/tray-screenshot.png)"

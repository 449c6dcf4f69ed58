#!/usr/bin/env bash
# The hostile-user attack of round 2 (issue 13, items 6-10), the checks that need the service and
# the simulated cloud: a re-import with another profile or group tag, a group tag the portal's CSV
# cannot carry (import, export), the failed list's reasons at 80 columns, long and wide serials,
# watch --from-seq past the newest change, the import summary's duplicates, and `status` while a
# cloud call hangs. Each check prints what it expected and saw.
# usage: cli_service_attack_test.sh BIN_DIR
set -u
bin=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/hangar-attack-service.XXXXXX)
sim_pid=
hangard_pid=
stop_all() {
  [ -n "$hangard_pid" ] && kill "$hangard_pid" 2>/dev/null && wait "$hangard_pid" 2>/dev/null
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  hangard_pid=
  sim_pid=
}
trap 'stop_all; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# start NAME SCENARIO_JSON: a simulated cloud with that scenario and a service on a fresh data dir.
start() {
  stop_all
  local dir=$work/$1
  mkdir -p "$dir"
  printf '%s\n' "$2" >"$dir/scenario.json"
  "$bin/hangar-cloudsim" --port 0 --scenario "$dir/scenario.json" >"$dir/sim.out" 2>"$dir/sim.log" &
  sim_pid=$!
  local url=
  for _ in $(seq 100); do
    url=$(sed -n 's/^listening on //p' "$dir/sim.out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  "$bin/hangard" --data-dir "$dir/data" --endpoint "$dir/h.sock" --cloud-url "$url" \
    --poll-interval 1 >"$dir/hangard.out" 2>&1 &
  hangard_pid=$!
  export HANGAR_ENDPOINT=$dir/h.sock
  for _ in $(seq 100); do
    "$bin/hangar" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the service did not start:"; cat "$dir/hangard.out"; exit 1
}
# wait_for_state STATE N: until N devices are in STATE (at most 60 s).
wait_for_state() {
  for _ in $(seq 120); do
    n=$("$bin/hangar" --json list --state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    [ "$n" -ge "$2" ] && return 0
    sleep 0.5
  done
  fail "never $2 device(s) in $1 (saw $n)"
}
column_widths() { python3 -c 'import sys,unicodedata
print(max(sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
              for c in l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")))' "$1"; }

# --- 11, 10: re-import with another profile / group tag; tags the portal cannot carry ---------
start queue '{"time_scale": 60}'
"$bin/hangar" pause >/dev/null
"$bin/hangar-devicegen" -o "$work/p.csv" --devices PQ-:2 >/dev/null
"$bin/hangar" import "$work/p.csv" --profile standard --group-tag Lab >/dev/null 2>&1
out=$("$bin/hangar" import "$work/p.csv" --profile power-user --group-tag Sales 2>/dev/null)
stored=$("$bin/hangar" --json list | python3 -c 'import json,sys
print(" ".join(sorted(set(d["profile"]+"/"+d.get("group_tag","") for d in json.load(sys.stdin)["devices"]))))')
[ "$stored" = "power-user/Sales" ] || fail "11: a queued device kept $stored after a re-import as power-user/Sales"
grep -q 'profile standard -> power-user, group tag Lab -> Sales' <<<"$out" ||
  fail "11: the re-import did not say what it changed: $out"
# A tag with a comma in the FILE (quoted) is refused by the service, as --group-tag is by the CLI.
"$bin/hangar-devicegen" -o "$work/t.csv" --devices TAGGED-:1 >/dev/null
python3 - "$work/t.csv" "$work/tagged.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
w = csv.writer(open(sys.argv[2], 'w', newline=''), lineterminator='\r\n')
w.writerow(rows[0] + ['Group Tag'])
w.writerow(rows[1] + ['Sales,EU'])
PY
"$bin/hangar" import "$work/tagged.csv" --profile standard >"$work/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "10: import of a row tagged 'Sales,EU' exited $rc: $(cat "$work/out")"
grep -q 'Group Tag.*contains a comma' "$work/out" || fail "10: the refusal does not name the tag's problem: $(cat "$work/out")"
"$bin/hangar" show TAGGED-0001 >/dev/null 2>&1 && fail "10: TAGGED-0001 was queued with the tag 'Sales,EU'"
"$bin/hangar" export --format csv -o "$work/upload.csv" >"$work/out" 2>&1 ||
  fail "10: export failed: $(cat "$work/out")"
[ "$(grep -c "^PQ-" "$work/upload.csv" 2>/dev/null || true)" = 2 ] || fail "10: export did not write the 2 queued devices"

# --- the import summary: a row twice in the file is a duplicate, not "already queued" ---------
"$bin/hangar-devicegen" -o "$work/d.csv" --devices DUP-:1 >/dev/null
tail -1 "$work/d.csv" >>"$work/d.csv"
out=$("$bin/hangar" import "$work/d.csv" --profile standard 2>/dev/null)
grep -q '1 accepted, 0 already queued, 1 duplicate row(s) in the input' <<<"$out" ||
  fail "import summary of a file with one row twice: $out"

# --- 03, 02: long serials stay distinguishable; wide characters count two columns -------------
"$bin/hangar-devicegen" -o "$work/l.csv" --devices "VERYLONGSERIALNUMBER-ABCDEFGHIJKLMNOP-SITE42-:3" >/dev/null
"$bin/hangar-devicegen" -o "$work/w.csv" --devices "漢字漢字漢字漢字漢字漢字-:2" >/dev/null
python3 - "$work/l.csv" "$work/w.csv" "$work/lw.csv" <<'PY'
import csv, sys
long_rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
wide_rows = list(csv.reader(open(sys.argv[2], newline='', encoding='utf-8')))
w = csv.writer(open(sys.argv[3], 'w', newline='', encoding='utf-8'), lineterminator='\r\n')
w.writerow(long_rows[0] + ['Manufacturer', 'Model'])
for r in long_rows[1:]:
    w.writerow(r + ['Hewlett-Packard Enterprise Development Company', 'ThinkPad X1 Carbon Gen 11'])
for r in wide_rows[1:]:
    w.writerow(r + ['漢字漢字漢字漢字漢字漢字漢字漢字', '🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀'])
PY
"$bin/hangar" import "$work/lw.csv" --profile power-user >/dev/null 2>&1
"$bin/hangar" list --profile power-user >"$work/list.txt"
n=$(grep -c '^VERYLONG' "$work/list.txt")
distinct=$(grep '^VERYLONG' "$work/list.txt" | awk '{print $1}' | sort -u | wc -l)
[ "$n" -eq 3 ] && [ "$distinct" -eq 3 ] || fail "03: $distinct distinct serial cell(s) for 3 long serials:
$(cat "$work/list.txt")"
grep -q -- '-0003 ' "$work/list.txt" || fail "03: the serials' distinguishing end was cut: $(cat "$work/list.txt")"
widest=$(column_widths "$work/list.txt")
[ "$widest" -le 80 ] || fail "02: a line of the 80-column list is $widest columns wide:
$(cat "$work/list.txt")"

# --- 16: watch --from-seq beyond the newest change says so ------------------------------------
timeout 20 "$bin/hangar" watch --from-seq 50000 --count 1 >"$work/watch.txt" 2>&1
grep -q 'beyond this service' "$work/watch.txt" || fail "16: watch --from-seq 50000 replayed without a word:
$(cat "$work/watch.txt")"

# --- 12: the failed list gives the reason room at 80 columns ----------------------------------
start failed '{"time_scale": 60, "rules": [{"serial_prefix": "OTHERORG-", "error": "ZtdDeviceAssignedToOtherTenant"}, {"serial_prefix": "BADHASH-", "error": "InvalidZtdHardwareHash"}]}'
"$bin/hangar-devicegen" -o "$work/f.csv" --devices OTHERORG-:2 --devices BADHASH-:2 >/dev/null
"$bin/hangar" import "$work/f.csv" --profile standard >/dev/null 2>&1
wait_for_state failed 4
"$bin/hangar" list --state registration-failed >"$work/failed.txt"
shown=$(grep '^OTHERORG-0001' "$work/failed.txt" | awk -F'  +' '{print $NF}')
[ "$(python3 -c 'import sys; print(len(sys.argv[1]))' "$shown")" -ge 30 ] ||
  fail "12: the failure reason is cut to '$shown' in the 80-column failed list:
$(cat "$work/failed.txt")"
grep -q 'all Registration failed' "$work/failed.txt" || fail "12: the count line does not name the state left out"

# --- 07: status while a cloud call hangs says what it waits for, and since when ---------------
start hang '{"faults": {"endpoints": ["imported.import"], "latency_ms": 3600000}}'
"$bin/hangar-devicegen" -o "$work/h.csv" --devices HA-:2 >/dev/null
"$bin/hangar" import "$work/h.csv" --profile standard >/dev/null 2>&1
seen=
for _ in $(seq 30); do
  sleep 0.5
  status=$("$bin/hangar" status)
  if grep -q 'waiting .*a write to Intune.*no answer yet after [0-9]* s' <<<"$status"; then seen=yes; break; fi
done
[ -n "$seen" ] || fail "07: status never said a request was waiting:
$status"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "ok: every service attack check held"

#!/usr/bin/env bash
# The hostile-user attack of round 2 (issue 13, items 6-10), the checks that need no service:
# merge's output set (stale parts of an earlier merge, its own inputs, a bad --group-tag never
# replacing a good file), argument validation (non-UTF-8 text, --expect-build, --timeout, repeated
# flags, empty serials, --since overflow, help with extra words, usage errors under --json) and
# capture's closing words when nothing was saved. Each check prints what it expected and saw.
# usage: cli_offline_attack_test.sh BIN_DIR
set -u
bin=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/hangar-attack-offline.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export HANGAR_ENDPOINT=$work/nobody.sock  # nothing listens: usage errors come first
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect_exit CODE DESCRIPTION COMMAND...: the command's exit code, and no crash.
expect_exit() {
  local want=$1 what=$2; shift 2
  "$@" >"$work/out" 2>&1; local rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: expected exit $want, saw $rc: $(head -c 300 "$work/out")"
}

"$bin/hangar-devicegen" -o old.csv --devices OLD-:1200 >/dev/null
"$bin/hangar-devicegen" -o new.csv --devices NEW-:600 >/dev/null

# 04: parts an earlier merge to the same name wrote, and this one did not, are removed and named.
"$bin/hangar" merge old.csv -o upload.csv --group-tag Sales >/dev/null 2>&1
[ -f upload-003.csv ] || fail "04: the first merge did not write upload-003.csv"
out=$("$bin/hangar" merge new.csv -o upload.csv --group-tag Lab 2>&1) || fail "04: merge failed: $out"
[ -f upload-003.csv ] && fail "04: an earlier merge's upload-003.csv is still there beside today's parts"
grep -q 'upload-003.csv' <<<"$out" || fail "04: merge did not name the earlier part it removed: $out"
stale=$(cat upload-*.csv | grep -c '^OLD-')
[ "$stale" -eq 0 ] || fail "04: $stale of yesterday's devices among upload-*.csv"
# A file named like a part that is not an upload file is someone else's: kept, and named.
printf 'my notes\r\n' >upload-2024.csv
out=$("$bin/hangar" merge new.csv -o upload.csv 2>&1)
[ -f upload-2024.csv ] || fail "04: merge removed upload-2024.csv, which no merge wrote"
grep -q 'upload-2024.csv' <<<"$out" || fail "04: merge did not warn about upload-2024.csv: $out"
rm -f upload-2024.csv

# 05: merge never writes over (or removes) one of its own inputs.
before=$(md5sum upload-002.csv)
expect_exit 2 "05: merging upload-00N.csv into -o upload.csv" \
  "$bin/hangar" merge upload-001.csv upload-002.csv old.csv -o upload.csv
[ "$before" = "$(md5sum upload-002.csv)" ] || fail "05: the input upload-002.csv was overwritten"
grep -q 'upload-001.csv' "$work/out" || fail "05: the refusal does not name the input: $(cat "$work/out")"

# 06: an invalid --group-tag is a usage error, and a good upload file is never replaced by a worse
# one (nor by a header alone when nothing is left to write).
"$bin/hangar" merge new.csv -o single.csv --no-split >/dev/null 2>&1
good=$(md5sum single.csv)
for tag in 'Sales,EU' 'Sa"les' "$(printf 'Sales\nEU')" 'Café'; do
  expect_exit 2 "06: merge --group-tag '$tag'" "$bin/hangar" merge new.csv -o single.csv --no-split --group-tag "$tag"
  [ "$(wc -l <"$work/out")" -le 3 ] || fail "06: --group-tag '$tag' printed $(wc -l <"$work/out") lines, not one usage error"
done
expect_exit 2 "06/10: import --group-tag 'Sales,EU'" "$bin/hangar" import new.csv --profile standard --group-tag 'Sales,EU'
printf 'Device Serial Number,Windows Product ID,Hardware Hash\r\nX-1,,not-a-hash\r\n' >broken.csv
expect_exit 1 "06: merging nothing valid" "$bin/hangar" merge broken.csv -o single.csv --no-split
# Round 5: -o naming a folder is a usage error said before any work (it printed "3 written" and
# then failed to replace "."); a write that fails says "to write", never "written".
expect_exit 2 "r5: merge -o ." "$bin/hangar" merge new.csv -o .
out=$("$bin/hangar" merge new.csv -o . 2>&1)
grep -q 'is a folder; name the file to write' <<<"$out" || fail "r5: merge -o . said: $out"
grep -q ' written + ' <<<"$out" && fail "r5: merge -o . claimed rows written: $out"
out=$("$bin/hangar" merge new.csv -o no-such-dir/x.csv 2>&1)
grep -q ' written + ' <<<"$out" && fail "r5: a merge that could not write claimed rows written: $out"
grep -q ' to write + ' <<<"$out" || fail "r5: a merge that could not write did not say what it had to write: $out"
[ "$good" = "$(md5sum single.csv)" ] || fail "06: single.csv was replaced although there was nothing to write"

# 14: arguments that are not UTF-8 are usage errors naming them, never an abort.
latin1=$(printf 'Caf\xe9')
for args in "show|$latin1" "remove|$latin1" "retry|$latin1"; do
  expect_exit 2 "14: ${args%%|*} <Latin-1>" "$bin/hangar" "${args%%|*}" "${args#*|}"
  grep -q 'not UTF-8' "$work/out" || fail "14: ${args%%|*} does not say the argument is not UTF-8: $(cat "$work/out")"
done
expect_exit 2 "14: deliver --user <Latin-1>" "$bin/hangar" deliver X-1 --user "$(printf '\xe9@x.com')"
expect_exit 2 "14: import --group-tag <Latin-1>" "$bin/hangar" import new.csv --profile standard --group-tag "$latin1"
expect_exit 2 "14: import --user <Latin-1>" "$bin/hangar" import new.csv --profile standard --user "$(printf '\xe9@x.com')"
expect_exit 2 "14: capture --group-tag <Latin-1>" "$bin/hangar" capture --no-queue --group-tag "$latin1"
# ... while a file name in another code page is still a file name.
cp new.csv "$latin1.csv"
expect_exit 0 "14: validate <Latin-1 file name>" "$bin/hangar" validate "$latin1.csv"

# 08: --expect-build takes a build; anything else is a usage error.
for v in "" abc -1 0 "2263１" 11.0.22631 22631.2861.5 99999999; do
  expect_exit 2 "08: validate --expect-build '$v'" "$bin/hangar" validate new.csv --expect-build "$v"
done
for v in 22631 22631.2861 10.0.22631 10.0.22631.2861; do
  "$bin/hangar" validate new.csv --expect-build "$v" >"$work/out" 2>&1
  [ $? -le 1 ] || fail "08: validate --expect-build $v is refused: $(head -2 "$work/out")"
done
expect_exit 2 "08: --expect-build given twice" "$bin/hangar" validate new.csv --expect-build 22631 --expect-build 19045

# 15: --timeout inf/nan/huge: usage errors, no undefined conversion.
for v in inf nan 1e308 -inf; do
  expect_exit 2 "15: --timeout $v" "$bin/hangar" --timeout "$v" version
  grep -q 'runtime error' "$work/out" && fail "15: --timeout $v: $(cat "$work/out")"
done

# 01: the small inconsistencies.
expect_exit 2 "01a: list --since 99999999999d" "$bin/hangar" list --since 99999999999d
expect_exit 2 '01b: show ""' "$bin/hangar" show ""
expect_exit 2 '01b: remove ""' "$bin/hangar" remove ""
expect_exit 2 "01d: help list extra" "$bin/hangar" help list extra
"$bin/hangar" --jsno status >"$work/out" 2>&1
grep -q -- '"--json"' "$work/out" || fail "01c: no suggestion of --json for --jsno: $(cat "$work/out")"
"$bin/hangar" --json list --wdie 2>/dev/null >"$work/out"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and d["error"]["code"]=="usage"' \
  "$work/out" 2>/dev/null || fail "01e: --json usage error printed no JSON: $(cat "$work/out")"
expect_exit 2 "01f: list --limit 5 --limit 6" "$bin/hangar" list --limit 5 --limit 6
expect_exit 2 "01f: list --state ready --state failed" "$bin/hangar" list --state ready --state failed

# Observation: capture --output "" is one usage line, not the whole help page.
expect_exit 2 'capture --output ""' "$bin/hangar" capture --output ""
[ "$(wc -l <"$work/out")" -le 2 ] || fail "capture --output \"\": $(wc -l <"$work/out") lines of output"

# 09: capture that saved nothing does not tell the admin to wait for a registration.
"$bin/hangar" capture --no-queue --output "$work/cap" >"$work/out" 2>&1
if grep -q 'NOTHING was saved' "$work/out"; then
  grep -q 'until its registration is complete' "$work/out" &&
    fail "09: nothing was saved, yet capture says to wait until the registration is complete"
fi

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "ok: every offline attack check held"

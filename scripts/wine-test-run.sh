#!/usr/bin/env bash
# CTest's emulator for the mingw build (cmake/toolchain-mingw-x64.cmake): runs one test program
# under Wine and passes its output and exit status through.
#
# One thing is added. A CI run saw a unit test "fail" in 0.02 s with no output at all: Wine had
# not run the program (every test program prints a line first: the filter or "[==========]"),
# and 150 runs of the same test afterwards all passed. A launch that ends non-zero within a few
# seconds without a byte on stdout is therefore run once more, with Wine's error channel on so
# that the log says why the first launch failed if the second fails too. A program that printed
# anything is never run again: its failure is the test's.
set -u
out="$(mktemp "${TMPDIR:-/tmp}/hangar-wine-run.XXXXXX")"
trap 'rm -f -- "$out"' EXIT
started=$SECONDS
wine "$@" | tee -- "$out"
rc=${PIPESTATUS[0]}
if [[ $rc -ne 0 && ! -s "$out" ]] && ((SECONDS - started <= 5)); then
  echo "wine-test-run: wine exited $rc after $((SECONDS - started)) s and the program printed" \
    "nothing (Wine did not start it); running it once more: $*" >&2
  WINEDEBUG="${WINEDEBUG:+$WINEDEBUG,}err+all" wine "$@"
  rc=$?
fi
exit "$rc"

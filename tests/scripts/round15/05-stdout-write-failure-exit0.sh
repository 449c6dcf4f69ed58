#!/bin/bash
# Kept from the black-box attack of round 15 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# A failed write of the command's output (disk full) is ignored: `hangar export --format json`,
# `hangar list` / `list --json`, `show`, `status`, `validate --json` exit 0 with their output lost,
# while `hangar export --format csv` to the same place says "writing the CSV failed (disk full?)", exit 1.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/h15-full.XXXXXX); chmod 700 "$T"
cleanup(){ [ -n "$HD" ] && kill $HD 2>/dev/null; [ -n "$SIM" ] && kill $SIM 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
"$BIN/hangar-cloudsim" --port 0 --time-scale 60 >"$T/sim.out" 2>"$T/sim.err" & SIM=$!
for i in $(seq 50); do grep -q listening "$T/sim.out" && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")
mkdir -m 700 "$T/data"
"$BIN/hangard" --data-dir "$T/data" --endpoint "$T/data/run/h.sock" --cloud-url "http://127.0.0.1:$PORT" >"$T/hd.out" 2>&1 & HD=$!
export HANGAR_ENDPOINT="$T/data/run/h.sock"
for i in $(seq 50); do "$BIN/hangar" ping >/dev/null 2>&1 && break; sleep 0.2; done
"$BIN/hangar-devicegen" -o "$T/d.csv" --devices DF:600 >/dev/null
"$BIN/hangar" import "$T/d.csv" --profile standard >/dev/null 2>&1
"$BIN/hangar" export --format csv >/dev/full 2>/dev/null; csv=$?
bad=""
for c in "export --format json" "list --json" "list" "show DF0001" "status"; do
  "$BIN/hangar" $c >/dev/full 2>/dev/null; rc=$?; echo "hangar $c >/dev/full: rc=$rc"
  [ $rc -eq 0 ] && bad="$bad [$c]"
done
"$BIN/hangar" validate "$T/d.csv" --json >/dev/full 2>/dev/null; rc=$?; echo "hangar validate --json >/dev/full: rc=$rc"; [ $rc -eq 0 ] && bad="$bad [validate --json]"
echo "(export --format csv >/dev/full: rc=$csv)"
if [ -n "$bad" ]; then echo "DEFECT: output lost to a full disk but exit 0:$bad"; exit 1; fi
echo ok; exit 0

#!/bin/bash
# Kept from the black-box attack of round 15 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# U+061C ARABIC LETTER MARK (a Unicode Bidi_Control character) and U+2028/U+2029 pass CSV validation,
# are queued, and are written raw to the terminal by `hangar list` / `show`.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/h15-bidi.XXXXXX); chmod 700 "$T"
cleanup(){ [ -n "$HD" ] && kill $HD 2>/dev/null; [ -n "$SIM" ] && kill $SIM 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
"$BIN/hangar-cloudsim" --port 0 --time-scale 60 >"$T/sim.out" 2>"$T/sim.err" & SIM=$!
for i in $(seq 50); do grep -q listening "$T/sim.out" && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")
mkdir -m 700 "$T/data"
"$BIN/hangard" --data-dir "$T/data" --endpoint "$T/data/run/h.sock" --cloud-url "http://127.0.0.1:$PORT" >"$T/hd.out" 2>&1 & HD=$!
export HANGAR_ENDPOINT="$T/data/run/h.sock"
for i in $(seq 50); do "$BIN/hangar" ping >/dev/null 2>&1 && break; sleep 0.2; done
"$BIN/hangar-devicegen" -o "$T/d.csv" --devices BD:2 >/dev/null
python3 - "$T" <<'PY'
import csv,sys
t=sys.argv[1]
rows=list(csv.reader(open(t+'/d.csv',newline='')))
w=csv.writer(open(t+'/b.csv','w',newline='',encoding='utf-8'),lineterminator='\r\n')
w.writerow(['Device Serial Number','Windows Product ID','Hardware Hash','Manufacturer name','Device model'])
w.writerow([rows[1][0],'',rows[1][2],'Contoso\u061cABC','Model\u2028X'])
PY
"$BIN/hangar" validate "$T/b.csv" >"$T/v.out" 2>&1; vrc=$?
"$BIN/hangar" import "$T/b.csv" --profile standard >/dev/null 2>&1
"$BIN/hangar" list >"$T/l.out" 2>&1
"$BIN/hangar" show BD0001 >"$T/s.out" 2>&1
if grep -q $'\xd8\x9c' "$T/l.out" "$T/s.out" || grep -q $'\xe2\x80\xa8' "$T/l.out" "$T/s.out" || [ $vrc -eq 0 ]; then
  echo "DEFECT: U+061C (bidi control ALM) / U+2028 accepted in a CSV cell (validate rc=$vrc) and printed raw by list/show"
  exit 1
fi
echo "ok: refused or escaped"; exit 0

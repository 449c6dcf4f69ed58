#!/bin/bash
# Kept from the black-box attack of round 15 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# merge: the same device (same serial, same hash) in a second file with a Group Tag (and Assigned
# User) the first copy lacks is dropped as a plain "duplicate": the tag and user are silently lost
# from the upload and no message names the differing values.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/h15-mtag.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$BIN/hangar-devicegen" -o "$T/a.csv" --devices TG:3 >/dev/null
python3 - "$T" <<'PY'
import csv,sys
t=sys.argv[1]
r=list(csv.reader(open(t+'/a.csv',newline='')))
w=csv.writer(open(t+'/tags.csv','w',newline=''),lineterminator='\r\n')
w.writerow(r[0]+['Group Tag','Assigned User'])
w.writerow([r[1][0],r[1][1],r[1][2],'Lab','ada@contoso.com'])
PY
"$BIN/hangar" merge "$T/a.csv" "$T/tags.csv" -o "$T/up.csv" >"$T/o" 2>"$T/e"; rc=$?
row=$(grep '^TG0001,' "$T/up.csv" | tr -d '\r')
echo "merge rc=$rc; written row for TG0001 ends: ${row: -40}"
cat "$T/o" "$T/e" | grep tags.csv
if ! grep -q ',Lab,' "$T/up.csv" && ! cat "$T/o" "$T/e" | grep tags.csv | grep -qi 'group tag\|Lab\|conflict\|differ'; then
  echo "DEFECT: TG0001's Group Tag 'Lab' and user from tags.csv silently lost (reported only as a same-hash duplicate)"; exit 1
fi
echo ok; exit 0

#!/bin/bash
# Kept from the black-box attack of round 14 (issue 13). Exit 1 + "DEFECT" while the defect is there.
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
# hangar.json's tenant_id / client_id are not checked at start-up: a value that is no GUID
# ("not a guid/../x") starts the service, which then sends it to the token endpoint. The
# README says tenant and client id "must be GUIDs" (set-credentials refuses one with exit 2)
# and that hangar.json mistakes stop the service at start-up naming file and key.
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-r14-f05.XXXXXX); mkdir -p $W/d $W/r; chmod 700 $W/d; chmod 750 $W/r
printf '{"tenant_id": "not a guid/../x", "client_id": "22222222-2222-4222-8222-222222222222"}' > $W/d/hangar.json
HANGAR_CLIENT_SECRET=s3cret timeout 4 $BIN/hangard --data-dir $W/d --endpoint $W/r/s.sock --cloud-url http://127.0.0.1:1 >$W/o 2>&1
rc=$?
head -3 $W/o | cut -c1-200
rm -rf $W
if [ $rc -eq 124 ]; then
  echo "DEFECT: hangard started with tenant_id \"not a guid/../x\" instead of refusing hangar.json at start-up"
  exit 1
fi
echo "ok: refused (exit $rc)"; exit 0

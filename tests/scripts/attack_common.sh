# The setup the kept black-box attack scripts share (sourced): a private temp dir, the simulator,
# the service on its own socket, H = the CLI against it; everything started is stopped on exit.
set -u
B=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
T=$(mktemp -d /tmp/hangar-find.XXXXXX); chmod 700 "$T"; cd "$T"
PIDS=()
cleanup(){ for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; sleep 0.5; for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
start_sim(){ # $1 = optional scenario file
  if [ -n "${1:-}" ]; then "$B/hangar-cloudsim" --port 0 --scenario "$1" > sim.out 2> sim.err & else "$B/hangar-cloudsim" --port 0 --time-scale 60 > sim.out 2> sim.err & fi
  SIMPID=$!; PIDS+=($SIMPID)
  for i in $(seq 300); do grep -q listening sim.out 2>/dev/null && break; sleep 0.1; done
  U=$(grep -o 'http://[^ ]*' sim.out | head -1)
}
start_sim_json(){ printf '%s\n' "$1" > "$T/scenario.json"; start_sim "$T/scenario.json"; }
start_svc(){ mkdir -p "$T/data"; chmod 700 "$T/data"
  "$B/hangard" --data-dir "$T/data" --endpoint "$T/s/h.sock" --cloud-url "$U" --poll-interval 1 "$@" >> d.out 2>> d.err &
  SVCPID=$!; PIDS+=($SVCPID)
  for i in $(seq 300); do "$B/hangar" --endpoint "$T/s/h.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
}
stop_svc(){ kill -TERM "$SVCPID"; wait "$SVCPID" 2>/dev/null; }
H(){ "$B/hangar" --endpoint "$T/s/h.sock" "$@"; }
# wait_state STATE COUNT SECONDS: until `status` counts at least COUNT devices in STATE.
wait_state(){
  for i in $(seq $(( $3 * 2 ))); do
    n=$(H --json status 2>/dev/null | grep -o "\"$1\": *[0-9]*" | head -1 | grep -o '[0-9]*$')
    [ "${n:-0}" -ge "$2" ] && return 0; sleep 0.5
  done; return 1
}
# import_devices SPEC [PROFILE]: generates devices (hangar-devicegen --devices SPEC, e.g. AB:5)
# into gen.csv and imports them with PROFILE (standard by default).
import_devices(){
  "$B/hangar-devicegen" -o "$T/gen.csv" --devices "$1" >/dev/null || return 1
  H import "$T/gen.csv" --profile "${2:-standard}" >/dev/null 2>&1
}
# start_tenant [SCENARIO FIELDS]: a simulated tenant $X whose app $CID must present its secret
# (tokens live 5 s), and the service with those credentials set; rotate_secret makes the tenant
# refuse the stored secret from now on (the new one is "rotated").
X=44444444-4444-4444-8444-444444444444; CID=22222222-2222-4222-8222-222222222222
start_tenant(){
  start_sim_json "{\"time_scale\":60,\"auth\":{\"tenant_id\":\"$X\",\"token_lifetime_seconds\":5}${1:+,$1}}"
  start_svc
  echo hangar-cloudsim-secret | H config set-credentials --tenant $X --client-id $CID --secret-stdin | head -1
}
rotate_secret(){
  curl -s -X PUT "$U/_sim/scenario" -d "{\"time_scale\":60,\"auth\":{\"tenant_id\":\"$X\",\"token_lifetime_seconds\":5,\"apps\":[{\"client_id\":\"$CID\",\"client_secret\":\"rotated\"}]}}" >/dev/null
}

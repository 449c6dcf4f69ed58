# shared helpers for the finding scripts; source after setting BIN
BIN=${HANGAR_BIN:?set HANGAR_BIN to the folder of the built binaries}
W=$(mktemp -d ${TMPDIR:-/tmp}/hangar-r13.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -n "$EXTRA_CLEANUP" ] && eval "$EXTRA_CLEANUP"
  rm -rf "$W"
}
trap cleanup EXIT
# start_sim SCENARIO_JSON -> sets SIMURL
start_sim() {
  printf '%s' "${1:-{\}}" > "$W/scenario.json"
  "$BIN/hangar-cloudsim" --port 0 --scenario "$W/scenario.json" > "$W/sim.out" 2> "$W/sim.err" &
  SIMPID=$!; PIDS+=($SIMPID)
  for i in $(seq 1 100); do grep -q listening "$W/sim.out" 2>/dev/null && break; sleep 0.1; done
  SIMURL=$(sed -n 's/.*listening on //p' "$W/sim.out")
}
# start_svc [extra args] -> sets EP, SVCPID
start_svc() {
  mkdir -p "$W/data" "$W/run"; chmod 750 "$W/data" "$W/run"
  EP="$W/run/hangar.sock"
  "$BIN/hangard" --data-dir "$W/data" --endpoint "$EP" --cloud-url "$SIMURL" "$@" >> "$W/svc.out" 2>&1 &
  SVCPID=$!; PIDS+=($SVCPID)
  for i in $(seq 1 100); do "$BIN/hangar" --endpoint "$EP" ping >/dev/null 2>&1 && break; sleep 0.1; done
}
stop_svc() { kill "$SVCPID" 2>/dev/null; for i in $(seq 1 100); do kill -0 "$SVCPID" 2>/dev/null || break; sleep 0.1; done; }
H() { "$BIN/hangar" --endpoint "$EP" "$@"; }
simput() { curl -s -X PUT -H 'Content-Type: application/json' --data "$1" "$SIMURL/_sim/scenario"; }
simstats() { curl -s "$SIMURL/_sim/stats"; }
simadv() { curl -s -X POST -H 'Content-Type: application/json' --data "{\"seconds\":$1}" "$SIMURL/_sim/advance"; }
gen() { "$BIN/hangar-devicegen" -o "$1" --devices "$2"; }
defect() { echo "DEFECT: $*"; exit 1; }
# mkuser NAME GROUP: a local user in a group of its own; removed at exit
mkuser() {
  [ "$(id -u)" = 0 ] || { echo "SKIP: creating a hostile user needs root"; exit 77; }
  HU=$1; HG=$2
  getent group "$HG" >/dev/null || groupadd "$HG"
  id "$HU" >/dev/null 2>&1 || useradd -M -s /bin/bash -G "$HG" "$HU"
  EXTRA_CLEANUP="pkill -KILL -u $HU 2>/dev/null; sleep 0.2; userdel $HU 2>/dev/null; groupdel $HG 2>/dev/null; $EXTRA_CLEANUP"
}

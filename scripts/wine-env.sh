# Sourced helper for the Windows tests: a private Wine prefix with a persistent wineserver.
#
#   source scripts/wine-env.sh
#   wine_prefix_up      # uses $WINEPREFIX if set (shared by a whole test run), else a fresh temp prefix
#   ...wine sc ..., wine app.exe ...
#   wine_prefix_down    # stops the wineserver and removes the prefix, but only one we created
#
# Order matters (docs/WINDOWS-ON-LINUX.md): in a fresh prefix `wineboot -i; wineserver -w;
# wineserver -p`. Starting the persistent server first left two services.exe and broke `sc stop`;
# without a persistent server, wineserver exits right after `sc start` and kills the service.

_hangar_wine_log() { echo "wine-env: $*" >&2; }

wine_prefix_up() {
  export WINEARCH=win64
  export WINEDEBUG="${WINEDEBUG:--all}"
  export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
  if [[ -n "${WINEPREFIX:-}" ]]; then
    HANGAR_WINE_OWNS_PREFIX=0
    mkdir -p "$WINEPREFIX"
  else
    WINEPREFIX="$(mktemp -d "${TMPDIR:-/tmp}/hangar-wine.XXXXXX")"
    export WINEPREFIX
    HANGAR_WINE_OWNS_PREFIX=1
  fi
  if [[ ! -f "$WINEPREFIX/system.reg" ]]; then
    _hangar_wine_log "creating prefix $WINEPREFIX (about 15 s)"
    if ! timeout 180 wineboot -i >"$WINEPREFIX/hangar-wineboot.log" 2>&1; then
      _hangar_wine_log "wineboot -i failed or timed out"
      return 1
    fi
    timeout 120 wineserver -w || { _hangar_wine_log "wineserver did not settle"; return 1; }
  fi
  # Persistent until `wineserver -k`. If a server already runs for this prefix (a shared prefix
  # prepared by the test runner) this is a no-op that exits at once.
  timeout 30 wineserver -p >/dev/null 2>&1 || true
  # Start Wine's own services (services.exe, rpcss, ...) now, detached from our output: the first
  # program run otherwise starts them, they inherit its stdout, and a runner that waits for the
  # end of that pipe (ctest) waits forever, because they live as long as the wineserver.
  timeout 120 wine cmd.exe /c exit </dev/null >/dev/null 2>&1 || true
  export HANGAR_WINE_OWNS_PREFIX
}

# Runs a Windows program with a time limit: `wine_run SECONDS program args...`.
wine_run() {
  local seconds="$1"
  shift
  timeout --kill-after=5 "$seconds" wine "$@"
}

wine_prefix_down() {
  [[ -n "${WINEPREFIX:-}" ]] || return 0
  if [[ "${HANGAR_WINE_OWNS_PREFIX:-0}" == 1 ]]; then
    timeout 30 wineserver -k >/dev/null 2>&1 || true
    timeout 30 wineserver -w >/dev/null 2>&1 || true
    rm -rf -- "$WINEPREFIX"
    unset WINEPREFIX
  fi
}

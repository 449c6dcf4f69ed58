# Sourced by setup-deps.sh (and its test): finds the Debian archive this machine's apt already
# uses, so the deb-src entry setup-deps.sh adds goes to the same mirror (a local one, a proxy, a
# snapshot) instead of a hard-coded one.
#
# apt_debian_source [APT_DIR] [CODENAME]
#   prints "URI<TAB>SIGNED_BY" of the first enabled "deb" source for CODENAME (the release suite
#   itself, not -security or -updates), from the one-line format (sources.list, *.list) and the
#   deb822 format (*.sources, Enabled: no skipped); SIGNED_BY is empty when the entry names none.
#   Prints nothing (and returns 1) when no such source exists.
apt_debian_source() {
  local dir=${1:-/etc/apt} codename=${2:-}
  if [ -z "$codename" ]; then
    codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  fi
  [ -n "$codename" ] || return 1
  local files=() f
  [ -f "$dir/sources.list" ] && files+=("$dir/sources.list")
  for f in "$dir"/sources.list.d/*.list; do [ -f "$f" ] && files+=("$f"); done
  local found
  if [ ${#files[@]} -gt 0 ]; then
    # deb [opt=value ...] URI SUITE COMPONENT...
    found=$(awk -v cn="$codename" '
      $1 == "deb" {
        i = 2; signed = ""
        if ($2 ~ /^\[/) {
          for (; i <= NF; i++) {
            if ($i ~ /signed-by=/) { s = $i; sub(/.*signed-by=/, "", s); sub(/\]$/, "", s); signed = s }
            if ($i ~ /\]$/) { i++; break }
          }
        }
        if ($(i + 1) == cn) { printf "%s\t%s\n", $i, signed; exit }
      }' "${files[@]}")
    if [ -n "$found" ]; then
      printf '%s\n' "$found"
      return 0
    fi
  fi
  for f in "$dir"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # Stanzas are separated by blank lines; field names are case-insensitive.
    found=$(awk -v cn="$codename" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " cn " ") && uri != "") {
          printf "%s\t%s\n", uri, signed; done = 1; exit
        }
        types = ""; uris = ""; uri = ""; suites = ""; signed = ""; enabled = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      {
        key = tolower($1); sub(/:$/, "", key)
        value = $0; sub(/^[^:]*:[ \t]*/, "", value)
        if (key == "types") types = value
        else if (key == "uris") { uri = value; sub(/[ \t].*/, "", uri) }
        else if (key == "suites") suites = value
        else if (key == "signed-by") signed = value
        else if (key == "enabled") enabled = tolower(value)
      }
      END { if (!done) flush() }' "$f")
    if [ -n "$found" ]; then
      printf '%s\n' "$found"
      return 0
    fi
  done
  return 1
}

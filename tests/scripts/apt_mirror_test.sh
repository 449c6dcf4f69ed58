#!/usr/bin/env bash
# scripts/apt-mirror.sh: the deb-src entry of setup-deps.sh comes from the machine's own apt
# sources, in the one-line and the deb822 format, never from a hard-coded mirror.
set -uo pipefail
source "$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {  # name, expected output ("" = none), apt dir
  local name=$1 want=$2 dir=$3 got
  got=$(apt_debian_source "$dir" bookworm)
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: got '$got', want '$want'"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}
tab=$'\t'

d=$work/one-line; mkdir -p "$d/sources.list.d"
cat >"$d/sources.list" <<'X'
# a comment
deb http://security.example/debian-security bookworm-security main
deb http://mirror.example/debian bookworm main contrib
deb-src http://elsewhere.example/debian bookworm main
X
check "one-line sources.list" "http://mirror.example/debian${tab}" "$d"

d=$work/options; mkdir -p "$d/sources.list.d"
echo 'deb [arch=amd64 signed-by=/etc/apt/keyrings/local.gpg] https://proxy.local/debian bookworm main' \
  >"$d/sources.list.d/local.list"
check "one-line with options" "https://proxy.local/debian${tab}/etc/apt/keyrings/local.gpg" "$d"

d=$work/deb822; mkdir -p "$d/sources.list.d"
cat >"$d/sources.list.d/debian.sources" <<'X'
Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://mirror.corp/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://mirror.corp/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
check "deb822 stanzas" "http://mirror.corp/debian${tab}/usr/share/keyrings/debian-archive-keyring.gpg" "$d"

d=$work/disabled; mkdir -p "$d/sources.list.d"
cat >"$d/sources.list.d/a.sources" <<'X'
Types: deb
URIs: http://off.example/debian
Suites: bookworm
Components: main
Enabled: no
X
cat >"$d/sources.list.d/b.sources" <<'X'
types: deb
uris: http://on.example/debian
suites: bookworm
components: main
X
check "deb822 Enabled: no skipped, lower-case keys" "http://on.example/debian${tab}" "$d"

d=$work/third-party; mkdir -p "$d/sources.list.d"
echo 'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main' >"$d/sources.list.d/g.list"
printf 'Types: deb\nURIs: http://ftp.example/debian\nSuites: bookworm\nComponents: main\n' \
  >"$d/sources.list.d/debian.sources"
check "another suite ignored, deb822 found" "http://ftp.example/debian${tab}" "$d"

d=$work/none; mkdir -p "$d/sources.list.d"
echo 'deb http://old.example/debian bullseye main' >"$d/sources.list"
check "no source for the release" "" "$d"
apt_debian_source "$d" bookworm >/dev/null && { echo "FAIL: should return 1"; failures=$((failures + 1)); }

[ "$failures" -eq 0 ] && echo "all passed" || exit 1

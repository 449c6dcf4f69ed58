#!/usr/bin/env bash
# Installs every Debian package the native and cross builds need, and prepares the mingw prefix
# (header symlinks + a cached static SQLite built from Debian's source package). Idempotent.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates tcl
  libsqlite3-dev sqlite3 libcsv-dev libspdlog-dev libfmt-dev libboost-dev libcpprest-dev libssl-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev googletest
  clang libclang-rt-14-dev lld
  g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
  wine wine64 wixl msitools xvfb xauth imagemagick xdotool libnotify-dev dpkg-dev xz-utils procps curl
  tmux
)

need_root() { if [ "$(id -u)" -ne 0 ]; then echo "setup-deps: run as root (or via sudo)" >&2; exit 2; fi; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian source packages feed the cross build (SQLite now, cpprest later): enable deb-src once,
# from the same archive the machine's own apt sources use (a local mirror, a proxy, a snapshot).
# shellcheck source=apt-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-mirror.sh"
SRC_LIST=/etc/apt/sources.list.d/hangar-deb-src.sources
if [ ! -f "$SRC_LIST" ] && ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  need_root
  CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  if ! SOURCE=$(apt_debian_source /etc/apt "$CODENAME"); then
    echo "setup-deps: no enabled 'deb' source for $CODENAME in /etc/apt: cannot tell which" \
         "Debian mirror to take source packages from; add a deb-src line for your mirror" >&2
    exit 1
  fi
  MIRROR=${SOURCE%%$'\t'*}
  SIGNED_BY=${SOURCE#*$'\t'}
  echo "setup-deps: adding deb-src from $MIRROR ($CODENAME), the mirror apt already uses"
  {
    echo "Types: deb-src"
    echo "URIs: $MIRROR"
    echo "Suites: $CODENAME $CODENAME-updates"
    echo "Components: main"
    echo "Signed-By: ${SIGNED_BY:-/usr/share/keyrings/debian-archive-keyring.gpg}"
  } >"$SRC_LIST"
  FORCE_UPDATE=1
fi
if [ ${#missing[@]} -gt 0 ] || [ -n "${FORCE_UPDATE:-}" ]; then
  need_root
  echo "setup-deps: installing ${missing[*]:-(source lists only)}"
  apt-get update -q
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# --- mingw prefix -----------------------------------------------------------------------------
PREFIX=${HANGAR_CROSS_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/hangar/mingw-x64}
mkdir -p "$PREFIX/include" "$PREFIX/lib" "$PREFIX/src"
# Only symlinks to header-only libraries: never -I/usr/include, or glibc headers leak into mingw.
for d in boost spdlog fmt nlohmann; do
  ln -sfn "/usr/include/$d" "$PREFIX/include/$d"
done

if [ ! -f "$PREFIX/lib/libsqlite3.a" ]; then
  echo "setup-deps: building SQLite for mingw from Debian's source package (cached in $PREFIX)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get source --download-only sqlite3 >/dev/null 2>&1 || apt-get source --download-only sqlite3)
  tar -C "$work" -xf "$work"/sqlite3_*.orig.tar.xz
  srcdir=$(find "$work" -maxdepth 1 -type d -name 'sqlite*' | head -n1)
  (cd "$srcdir" && ./configure --disable-tcl >/dev/null && make -j"$(nproc)" sqlite3.c >/dev/null)
  cp "$srcdir/sqlite3.c" "$srcdir/sqlite3.h" "$PREFIX/src/"
  cp "$srcdir/sqlite3.h" "$PREFIX/include/"
  x86_64-w64-mingw32-gcc-posix -O2 -c "$PREFIX/src/sqlite3.c" -o "$work/sqlite3.o" \
    -DSQLITE_THREADSAFE=1 -DSQLITE_DEFAULT_WAL_SYNCHRONOUS=1 -DSQLITE_DQS=0 -DSQLITE_OMIT_LOAD_EXTENSION
  x86_64-w64-mingw32-ar rcs "$PREFIX/lib/libsqlite3.a.tmp" "$work/sqlite3.o"
  mv "$PREFIX/lib/libsqlite3.a.tmp" "$PREFIX/lib/libsqlite3.a"
fi
# --- libcsv for mingw (hangar_core's CSV parser) -------------------------------------------------
# Debian ships libcsv only for the host: compile its single source file with the cross compiler
# once, from Debian's source package, and cache libcsv.a + csv.h in the prefix.
if [ ! -f "$PREFIX/lib/libcsv.a" ] || [ ! -f "$PREFIX/include/libcsv/csv.h" ]; then
  echo "setup-deps: building libcsv for mingw from Debian's source package (cached in $PREFIX)"
  csvwork=$(mktemp -d)
  (cd "$csvwork" && apt-get source --download-only libcsv >/dev/null 2>&1 || apt-get source --download-only libcsv)
  tar -C "$csvwork" -xzf "$csvwork"/libcsv_*.orig.tar.gz
  csvsrc=$(find "$csvwork" -maxdepth 1 -type d -name 'libcsv*' | head -n1)
  mkdir -p "$PREFIX/include/libcsv"
  x86_64-w64-mingw32-gcc-posix -O2 -c "$csvsrc/libcsv.c" -I"$csvsrc" -o "$csvwork/libcsv.o"
  x86_64-w64-mingw32-ar rcs "$PREFIX/lib/libcsv.a.tmp" "$csvwork/libcsv.o"
  cp "$csvsrc/csv.h" "$PREFIX/include/libcsv/csv.h"
  mv "$PREFIX/lib/libcsv.a.tmp" "$PREFIX/lib/libcsv.a"
  rm -rf "$csvwork"
fi
# --- end libcsv ----------------------------------------------------------------------------------
# spdlog + fmt for mingw (static, compiled once instead of header-only in every file that logs).
bash "$(dirname "${BASH_SOURCE[0]}")/build-logging-mingw.sh"
# cpprestsdk for mingw (static WinHTTP client), built once from Debian's source package.
bash "$(dirname "${BASH_SOURCE[0]}")/build-cpprest-mingw.sh"
echo "setup-deps: ready (mingw prefix: $PREFIX)"

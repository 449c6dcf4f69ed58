#!/usr/bin/env bash
# Builds spdlog and fmt (Debian source packages `spdlog` and `fmtlib`) as static libraries for the
# mingw cross build and installs them into the cached mingw prefix:
#   $PREFIX/lib/libspdlog.a, $PREFIX/lib/libfmt.a
# The headers are Debian's own (/usr/include/spdlog and /usr/include/fmt, linked into the prefix by
# setup-deps.sh), so the libraries are compiled against exactly the headers the project includes.
# Why: in header-only mode every translation unit that logs compiles spdlog's and fmt's
# implementation again at -O2; measured on service/src/cloud_health.cpp, 24 s header-only against
# 9.5 s with the compiled libraries.
# Called by scripts/setup-deps.sh after deb-src is enabled. Idempotent: does nothing if both
# libraries are already there. To rebuild, delete them.
set -euo pipefail

PREFIX=${HANGAR_CROSS_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/hangar/mingw-x64}
[ -f "$PREFIX/lib/libspdlog.a" ] && [ -f "$PREFIX/lib/libfmt.a" ] && exit 0
[ -f "$PREFIX/include/spdlog/spdlog.h" ] && [ -f "$PREFIX/include/fmt/format-inl.h" ] || {
  echo "build-logging-mingw: $PREFIX/include has no spdlog/fmt headers (run scripts/setup-deps.sh)" >&2
  exit 1
}

echo "build-logging-mingw: building spdlog and fmt for mingw from Debian's source packages" \
  "(cached in $PREFIX)"
start=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Root gets a harmless "unsandboxed download" warning: stay quiet unless it fails.
for pkg in spdlog fmtlib; do
  (cd "$work" && { apt-get source --download-only "$pkg" >/dev/null 2>&1 ||
    apt-get source --download-only "$pkg"; })
done
for pkg in spdlog fmtlib; do
  orig=$(find "$work" -maxdepth 1 -name "${pkg}_*.orig.tar.*" | head -n1)
  [ -n "$orig" ] || { echo "build-logging-mingw: no $pkg orig tarball (is deb-src enabled?)" >&2; exit 1; }
  mkdir "$work/$pkg"
  tar -C "$work/$pkg" --strip-components=1 -xf "$orig"
done

# The sources the upstream CMake builds for a static library with an external fmt (spdlog's
# src/fmt.cpp is its bundled fmt, which Debian's headers do not use: SPDLOG_FMT_EXTERNAL).
fmt_sources=("$work/fmtlib/src/format.cc" "$work/fmtlib/src/os.cc")
spdlog_sources=()
for f in spdlog stdout_sinks color_sinks file_sinks async cfg; do
  spdlog_sources+=("$work/spdlog/src/$f.cpp")
done
mkdir "$work/obj"
compile() {
  x86_64-w64-mingw32-g++-posix -O2 -DNDEBUG -std=c++20 -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL \
    -isystem "$PREFIX/include" -c "$1" -o "$work/obj/$(basename "$(dirname "$(dirname "$1")")")-$(basename "$1").o"
}
export -f compile
export PREFIX work
printf '%s\n' "${fmt_sources[@]}" "${spdlog_sources[@]}" |
  xargs -P "$(nproc)" -I{} bash -c 'compile "$1"' _ {}

mkdir -p "$PREFIX/lib"
rm -f "$PREFIX/lib/libfmt.a.tmp" "$PREFIX/lib/libspdlog.a.tmp"
x86_64-w64-mingw32-ar rcs "$PREFIX/lib/libfmt.a.tmp" "$work"/obj/fmtlib-*.o
x86_64-w64-mingw32-ar rcs "$PREFIX/lib/libspdlog.a.tmp" "$work"/obj/spdlog-*.o
mv "$PREFIX/lib/libfmt.a.tmp" "$PREFIX/lib/libfmt.a"
mv "$PREFIX/lib/libspdlog.a.tmp" "$PREFIX/lib/libspdlog.a"
echo "build-logging-mingw: done in $((SECONDS - start)) s"

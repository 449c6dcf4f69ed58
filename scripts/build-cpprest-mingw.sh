#!/usr/bin/env bash
# Builds cpprestsdk (Debian source package `cpprest`, 2.10.18) as a static library for the mingw cross
# build and installs it into the cached mingw prefix:
#   $PREFIX/include/cpprest, $PREFIX/include/pplx, $PREFIX/lib/libcpprest.a
# Configuration: WinHTTP client, no websockets, no compression, PPLX (CPPREST_FORCE_PPLX), no http.sys
# listener (it does not run under Wine 8). Needs no Boost, zlib or OpenSSL. Compatibility fixes for GCC
# live in scripts/patches/cpprest-mingw.patch (each hunk is explained there).
# Called by scripts/setup-deps.sh after deb-src is enabled; needs cmake, ninja-build, patch (dpkg-dev)
# and the mingw posix compilers. Idempotent: does nothing if the library is already there. To rebuild
# (e.g. after changing the patch) delete $PREFIX/lib/libcpprest.a.
set -euo pipefail

PREFIX=${HANGAR_CROSS_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/hangar/mingw-x64}
[ -f "$PREFIX/lib/libcpprest.a" ] && exit 0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
toolchain="$here/../cmake/toolchain-mingw-x64.cmake"
patchfile="$here/patches/cpprest-mingw.patch"
expected_version=2.10.18

echo "build-cpprest-mingw: building cpprestsdk for mingw from Debian's source package (cached in $PREFIX)"
start=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Root gets a harmless "unsandboxed download" warning: stay quiet unless it fails.
(cd "$work" && { apt-get source --download-only cpprest >/dev/null 2>&1 || apt-get source --download-only cpprest; })
orig=$(find "$work" -maxdepth 1 -name 'cpprest_*.orig.tar.*' | head -n1)
[ -n "$orig" ] || { echo "build-cpprest-mingw: no orig tarball downloaded (is deb-src enabled?)" >&2; exit 1; }
case "$(basename "$orig")" in
  "cpprest_${expected_version}.orig.tar."*) ;;
  *) echo "build-cpprest-mingw: warning: expected cpprest $expected_version, got $(basename "$orig")" >&2 ;;
esac
mkdir "$work/src"
tar -C "$work/src" --strip-components=1 -xf "$orig"
# Debian's own patches (debian tarball) only change upstream tests, which we do not build.
patch -d "$work/src" -p1 -N -s --no-backup-if-mismatch -i "$patchfile"

log="$work/build.log"
if ! {
  cmake -S "$work/src" -B "$work/build" -G Ninja --toolchain "$toolchain" \
    -DHANGAR_CROSS_PREFIX="$PREFIX" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_STANDARD=14 -DCMAKE_CXX_STANDARD_REQUIRED=ON -DCMAKE_CXX_EXTENSIONS=OFF \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTS=OFF -DBUILD_SAMPLES=OFF -DWERROR=OFF \
    -DCPPREST_EXCLUDE_WEBSOCKETS=ON -DCPPREST_EXCLUDE_COMPRESSION=ON -DCPPREST_EXCLUDE_BROTLI=ON \
    -DCPPREST_PPLX_IMPL=winpplx -DCPPREST_HTTP_CLIENT_IMPL=winhttp -DCPPREST_HTTP_LISTENER_IMPL=none \
    -DCPPREST_ABI_TAG= &&
  cmake --build "$work/build" -j"$(nproc)" &&
  cmake --install "$work/build" --prefix "$work/stage"
} >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "build-cpprest-mingw: build failed (log above)" >&2
  exit 1
fi

mkdir -p "$PREFIX/include" "$PREFIX/lib"
rm -rf "$PREFIX/include/cpprest" "$PREFIX/include/pplx"
cp -R "$work/stage/include/cpprest" "$work/stage/include/pplx" "$PREFIX/include/"
# The library goes last: its presence marks a complete install.
cp "$work/stage/lib/libcpprest.a" "$PREFIX/lib/libcpprest.a.tmp"
mv "$PREFIX/lib/libcpprest.a.tmp" "$PREFIX/lib/libcpprest.a"
echo "build-cpprest-mingw: done in $((SECONDS - start)) s"

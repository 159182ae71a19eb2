#!/usr/bin/env bash
# gpu_bundle.sh — `make gpu-bundle`: copies what the build takes from the Debian packages of the field's
# libraries (Random123's headers; jansson's, libpng's and nettle's headers and static libraries, with
# zlib's that libpng needs) into build/gpu-deps/, for a machine that has a compiler (and nvcc) but
# neither these packages nor a package registry: the GPU machine of tests/gpu/run.sh. The folder is
# ignored by git; the device tool carries it (carry: ["build/gpu-deps"], about 2.3 MB), and there the
# Makefile compiles with -Ibuild/gpu-deps/include and links the static libraries (no run-time
# library path needed), and tools/deps.sh counts the four -dev packages as present. The packages'
# copyright files go along (build/gpu-deps/licences/).
# Usage: tools/gpu_bundle.sh [DEST]   (default build/gpu-deps; installs the packages here if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-build/gpu-deps}

RNNREG_BLAS=builtin RNNREG_CONV=im2col bash tools/deps.sh build
command -v pkg-config > /dev/null || { echo "gpu-bundle: pkg-config is needed to find the libraries" >&2; exit 1; }
r123=$(dpkg -L librandom123-dev 2> /dev/null | grep '/Random123/philox\.h$' | head -n1 || true)
[ -n "$r123" ] || r123=/usr/include/Random123/philox.h
[ -f "$r123" ] || { echo "gpu-bundle: Random123/philox.h not found (librandom123-dev)" >&2; exit 1; }

tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/include" "$tmp/lib" "$tmp/licences"
cp -R "$(dirname "$r123")" "$tmp/include/Random123"
# a header folder of a package: the -I folder pkg-config names, else its includedir
incdir() { local d; d=$(pkg-config --cflags-only-I "$1" | sed -n 's/^-I\([^ ]*\).*/\1/p'); echo "${d:-$(pkg-config --variable=includedir "$1")}"; }
for h in jansson.h jansson_config.h; do cp -L "$(incdir jansson)/$h" "$tmp/include/"; done
for h in png.h pngconf.h pnglibconf.h; do cp -L "$(incdir libpng)/$h" "$tmp/include/"; done
for h in zlib.h zconf.h; do cp -L "$(incdir zlib)/$h" "$tmp/include/"; done
cp -RL "$(pkg-config --variable=includedir nettle)/nettle" "$tmp/include/nettle"
for l in jansson:libjansson.a libpng:libpng16.a zlib:libz.a nettle:libnettle.a; do
    lib="$(pkg-config --variable=libdir "${l%%:*}")/${l#*:}"
    [ -f "$lib" ] || { echo "gpu-bundle: $lib not found (the static library of ${l%%:*})" >&2; rm -rf "$tmp"; exit 1; }
    cp -L "$lib" "$tmp/lib/"
done
for p in librandom123-dev libjansson-dev libpng-dev zlib1g-dev nettle-dev; do
    [ -f "/usr/share/doc/$p/copyright" ] && cp "/usr/share/doc/$p/copyright" "$tmp/licences/$p.copyright"
done
rm -rf "$dest"
mv "$tmp" "$dest"
echo "gpu-bundle: $dest ($(du -sh "$dest" | cut -f1)): Random123, jansson $(pkg-config --modversion jansson), libpng $(pkg-config --modversion libpng), zlib $(pkg-config --modversion zlib), nettle $(pkg-config --modversion nettle)"

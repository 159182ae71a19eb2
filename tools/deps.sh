#!/usr/bin/env bash
# deps.sh — installs what rnnreg needs on Debian/Ubuntu with apt-get, only what is missing; the Makefile
# runs it for the groups each target needs (build, data, test, paper), before it parses its flags.
# Usage: tools/deps.sh GROUP...   groups: build data test paper all (= those four), bare, slurm
#   build   compiler, make, libc headers, pkg-config, OpenBLAS (not with RNNREG_BLAS=builtin), oneDNN
#           (the CPU convolutions; not with RNNREG_CONV=im2col), and the libraries the trainer is built
#           on: Random123 (Philox), jansson (JSON), libpng (strips), nettle (SHA-256)
#   data    curl and CA certificates (make data; the npm digits are fetched with curl)
#   test    Python with numpy/scipy/torch/scikit-image (the reference checks), bc, curl (test_download),
#           qemu-user (test_portable: the portable build under emulated CPUs)
#   paper   gnuplot, latexmk, TeX Live, poppler-utils, Python with numpy (tables)
#   bare    debootstrap and zstd (make test-bare);  slurm  slurm-wlm and munge (make test-slurm)
# A package counts as present when dpkg says it is installed, or else when what the build uses from it
# works (OpenBLAS: a program calling openblas_get_parallel() compiles and links with -lopenblas; Random123,
# jansson, libpng, nettle, oneDNN: a program using each compiles, links and runs, with build/gpu-deps/ when present; a tool:
# it is on PATH; a Python module: it imports; a LaTeX package: kpsewhich finds it) — never "some
# cblas.h exists". Installing prints one line naming the packages. Without root, apt-get or dpkg, it
# prints ONE line naming the missing packages and exits 1. With --quiet-fail the failure line goes to
# stdout instead of stderr (the Makefile turns it into its error message).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

pkgs_build="gcc g++ make libc6-dev pkg-config libopenblas-dev libdnnl-dev librandom123-dev libjansson-dev libpng-dev nettle-dev"
pkgs_data="curl ca-certificates"
pkgs_test="python3 python3-numpy python3-scipy python3-torch python3-skimage bc curl ca-certificates qemu-user"
pkgs_paper="python3 python3-numpy gnuplot-nox latexmk texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended poppler-utils"
pkgs_bare="debootstrap zstd"
pkgs_slurm="slurm-wlm munge"

fail_fd=2
groups=()
for a in "$@"; do
    case "$a" in --quiet-fail) fail_fd=1 ;; *) groups+=("$a") ;; esac
done
[ ${#groups[@]} -gt 0 ] || groups=(all)
fail() { echo "deps: $*" >&"$fail_fd"; exit 1; }

want=""
for g in "${groups[@]}"; do
    case "$g" in
        build) want="$want $pkgs_build" ;;
        data) want="$want $pkgs_data" ;;
        test) want="$want $pkgs_test" ;;
        paper) want="$want $pkgs_paper" ;;
        all) want="$want $pkgs_build $pkgs_data $pkgs_test $pkgs_paper" ;;
        bare) want="$want $pkgs_bare" ;;
        slurm) want="$want $pkgs_slurm" ;;
        *) echo "deps: unknown group '$g' (build, data, test, paper, all, bare, slurm)" >&2; exit 2 ;;
    esac
done
# BLAS=builtin builds with our own sgemm: no OpenBLAS needed
[ "${RNNREG_BLAS:-openblas}" = builtin ] && want=${want// libopenblas-dev/}
# CONV=im2col builds the convolutions on sgemm: no oneDNN needed
[ "${RNNREG_CONV:-onednn}" = im2col ] && want=${want// libdnnl-dev/}
# each package once, in the order given
want=$(printf '%s\n' $want | awk '!seen[$0]++' | tr '\n' ' ')

py() { local p; for p in /usr/bin/python3 python3; do command -v "$p" >/dev/null 2>&1 && { "$p" "$@"; return; }; done; return 1; }
# links PKG: a program using what the build uses from the library of PKG compiles and links
links() {
    local tmp rc prog flags
    case "$1" in
        librandom123-dev) prog='#include <Random123/philox.h>
int main(void) { philox4x32_ctr_t c = {{0}}; philox4x32_key_t k = {{0}}; return philox4x32(c, k).v[0] != 0x6627e8d5u; }'; flags="" ;;
        libjansson-dev) prog='#include <jansson.h>
int main(void) { json_t *j = json_loads("[1]", 0, NULL); int bad = !json_is_array(j); json_decref(j); return bad; }'
            flags=$(pkg-config --cflags --libs jansson 2>/dev/null || echo -ljansson) ;;
        libpng-dev) prog='#include <png.h>
int main(void) { return png_access_version_number() == 0; }'
            flags=$(pkg-config --cflags --libs libpng 2>/dev/null || echo -lpng16) ;;
        libdnnl-dev) prog='#include <dnnl.h>
int main(void) { dnnl_engine_t e; if (dnnl_engine_create(&e, dnnl_cpu, 0) != dnnl_success) return 1; return dnnl_engine_destroy(e) != dnnl_success; }'
            flags="-ldnnl" ;;
        nettle-dev) prog='#include <nettle/sha2.h>
int main(void) { struct sha256_ctx c; unsigned char d[32]; sha256_init(&c); sha256_digest(&c, 32, d); return d[0] != 0xe3; }'
            flags=$(pkg-config --cflags --libs nettle 2>/dev/null || echo -lnettle) ;;
    esac
    # on a machine without the packages, `make gpu-bundle`'s copies count (the Makefile uses them)
    if [ "$1" != libdnnl-dev ] && [ -f "$repo/build/gpu-deps/include/Random123/philox.h" ]; then
        flags="-I$repo/build/gpu-deps/include $repo/build/gpu-deps/lib/libjansson.a $repo/build/gpu-deps/lib/libpng16.a $repo/build/gpu-deps/lib/libz.a $repo/build/gpu-deps/lib/libnettle.a -lm"
    fi
    tmp=$(mktemp -d) || return 1
    printf '%s\n' "$prog" > "$tmp/p.c"
    # shellcheck disable=SC2086
    cc -o "$tmp/p" "$tmp/p.c" $flags >/dev/null 2>&1 && "$tmp/p"
    rc=$?; rm -rf "$tmp"; return $rc
}
# works PKG: does what the build uses from PKG work here (for a system without dpkg, or a tool
# installed outside the package manager)?
works() {
    local tmp rc
    case "$1" in
        gcc) command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 ;;
        g++) command -v g++ >/dev/null 2>&1 ;;
        make|curl|bc|latexmk|debootstrap|zstd) command -v "$1" >/dev/null 2>&1 ;;
        qemu-user) command -v qemu-x86_64 >/dev/null 2>&1 ;;
        pkg-config) command -v pkg-config >/dev/null 2>&1 ;;
        libc6-dev) printf 'int main(void) { return 0; }\n' | cc -x c - -o /dev/null >/dev/null 2>&1 ;;
        libopenblas-dev)
            tmp=$(mktemp -d) || return 1
            printf '#include <cblas.h>\nint main(void) { return openblas_get_parallel() < 0; }\n' > "$tmp/p.c"
            # shellcheck disable=SC2046
            cc -o "$tmp/p" "$tmp/p.c" $(pkg-config --cflags --libs openblas 2>/dev/null || echo -lopenblas) >/dev/null 2>&1
            rc=$?; rm -rf "$tmp"; return $rc ;;
        librandom123-dev|libjansson-dev|libpng-dev|nettle-dev|libdnnl-dev) links "$1" ;;
        ca-certificates) [ -s /etc/ssl/certs/ca-certificates.crt ] ;;
        python3) command -v python3 >/dev/null 2>&1 ;;
        python3-numpy) py -c 'import numpy' >/dev/null 2>&1 ;;
        python3-scipy) py -c 'import scipy' >/dev/null 2>&1 ;;
        python3-torch) py -c 'import torch' >/dev/null 2>&1 ;;
        python3-skimage) py -c 'import skimage' >/dev/null 2>&1 ;;
        gnuplot-nox) command -v gnuplot >/dev/null 2>&1 ;;
        texlive-latex-base) command -v pdflatex >/dev/null 2>&1 ;;
        texlive-latex-recommended) kpsewhich microtype.sty >/dev/null 2>&1 ;;
        texlive-latex-extra) kpsewhich placeins.sty >/dev/null 2>&1 ;;
        texlive-fonts-recommended) kpsewhich ptmr7t.tfm >/dev/null 2>&1 ;;
        poppler-utils) command -v pdftotext >/dev/null 2>&1 ;;
        slurm-wlm) command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 ;;
        munge) command -v munged >/dev/null 2>&1 ;;
        *) return 1 ;;
    esac
}

# Which are missing: one dpkg-query for all (fast when everything is there), then the functional check
# for those dpkg does not know as installed.
installed=""
if command -v dpkg-query >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    installed=$(dpkg-query -W -f='${Package} ${Status}\n' $want 2>/dev/null | awk '/ ok installed$/ {print $1}')
fi
missing=""
for p in $want; do
    grep -qxF "$p" <<<"$installed" && continue
    works "$p" && continue
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    fail "missing (for ${groups[*]}):$missing — this is not a Debian/Ubuntu system with apt-get: install the equivalents of these packages, then rerun"
fi
if [ "$(id -u)" -ne 0 ]; then
    fail "missing (for ${groups[*]}):$missing — run as root: apt-get install --no-install-recommends$missing"
fi

t0=$(date +%s)
# one line: what is installed, then (same line) how long it took
printf 'deps: installing with apt-get (for %s):%s ...' "${groups[*]}" "$missing" >&2
log=$(mktemp /tmp/rnnreg-deps.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
# an index that cannot be refreshed is not fatal by itself (install says whether the packages are found)
# shellcheck disable=SC2086
if ! { apt-get update -q || true; apt-get install -y -q --no-install-recommends $missing; } > "$log" 2>&1; then
    echo " failed" >&2
    tail -n 15 "$log" >&2
    fail "apt-get install of$missing failed (the last lines of $log are above)"
fi
rm -f "$log"
echo " done in $(( $(date +%s) - t0 )) s" >&2

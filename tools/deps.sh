#!/usr/bin/env bash
# deps.sh — installs what rnnreg needs on Debian/Ubuntu with apt-get, and only what is missing.
# Usage: tools/deps.sh GROUP...   groups: build data test paper all
# Says what it installs. Without apt-get or root it prints the missing packages and exits 1.
set -euo pipefail

pkgs_build="gcc g++ make libc6-dev pkg-config libopenblas-dev"
pkgs_data="curl ca-certificates coreutils npm"
pkgs_test="python3 python3-numpy python3-torch python3-skimage"
pkgs_paper="gnuplot-nox latexmk texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended poppler-utils"

want=""
for g in "${@:-all}"; do
    case "$g" in
        build) want="$want $pkgs_build" ;;
        data) want="$want $pkgs_data" ;;
        test) want="$want $pkgs_test" ;;
        paper) want="$want $pkgs_paper" ;;
        all) want="$want $pkgs_build $pkgs_data $pkgs_test $pkgs_paper" ;;
        *) echo "deps: unknown group '$g' (build, data, test, paper, all)" >&2; exit 2 ;;
    esac
done

if ! command -v dpkg >/dev/null 2>&1; then
    echo "deps: not a Debian/Ubuntu system; please install the equivalents of:$want" >&2
    exit 0
fi
missing=""
for p in $want; do
    # a tool that is already on PATH from elsewhere (npm bundled with a nodejs build) counts as present
    case "$p" in npm|curl) command -v "$p" >/dev/null 2>&1 && continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing packages:$missing — run as root: apt-get install$missing" >&2
    exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: installed:$missing"

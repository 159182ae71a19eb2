#!/usr/bin/env bash
# latex.sh — one reproducible pdfLaTeX build (latexmk): the PDF depends only on its sources, not on the
# time, the folder or the machine's paths, so two builds from the same inputs are byte-identical
# (`make check-artifacts` builds the paper twice and compares them; pipeline.mk's paper rule calls this).
#
#   latex.sh SRC_DIR MAIN OUTDIR [INPUT_DIR]
#
# Runs in SRC_DIR: latexmk -pdf on MAIN (e.g. paper.tex) with its aux files and the PDF in OUTDIR (an
# absolute path), INPUT_DIR (absolute) first in TEXINPUTS. Reproducibility:
#  - tools/pipeline/reproducible.tex before the document (latexmk -usepretex; -jobname keeps MAIN's
#    name): no Info dates, an empty trailer /ID, no PTEX.* keys (the included figures' paths);
#  - SOURCE_DATE_EPOCH (default PAPER_EPOCH, else 0 = 1970-01-01) with FORCE_SOURCE_DATE=1, so that
#    \today, \time and anything pdfTeX still dates are fixed.
# On failure: the first errors of the log on stderr, exit 1. Environment: LATEXMK (default latexmk),
# PAPER_EPOCH.
set -u
[ $# -ge 3 ] || { echo "usage: latex.sh SRC_DIR MAIN OUTDIR [INPUT_DIR]" >&2; exit 2; }
src=$1 main=$2 out=$3 inputs=${4:-}
pretex="$(cd "$(dirname "$0")" && pwd)/reproducible.tex"
job=${main%.tex}
export SOURCE_DATE_EPOCH=${PAPER_EPOCH:-0} FORCE_SOURCE_DATE=1
[ -z "$inputs" ] || export TEXINPUTS="$inputs:${TEXINPUTS:-}"
mkdir -p "$out"
cd "$src" || exit 1
if ! ${LATEXMK:-latexmk} -pdf -silent -interaction=nonstopmode -halt-on-error -file-line-error \
        -jobname="$job" -usepretex="\\input{$pretex}" -outdir="$out" "$main" >/dev/null; then
    grep -E -m3 -A3 '^(\./|/).*:[0-9]+: |^! ' "$out/$job.log" >&2
    exit 1
fi

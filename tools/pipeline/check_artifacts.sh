#!/usr/bin/env bash
# check_artifacts.sh — `make check-artifacts [SCALE=...]`: checks that the paper of a scale is what its
# results say, printing test-style lines (ok/FAIL/skip) and exiting 1 on any FAIL:
#   0. files     every generated file (paper build, summary) is whole: not empty, not cut short
#   1. configs   every listed experiment has a labelled .conf; scale files set sizes only and experiment
#                files none (tools/pipeline/checks.py configs)
#   2. tex       no digit in the results parts of paper/*.tex (allow-list); every \rv key used is defined
#                in the generated values.tex, each value naming its source
#   3. pdf       the PDF text holds the numbers of the tables and values; figure widths = LaTeX's
#   4. runs      determinism (identical configs → identical outputs, byte for byte) and one test set,
#                when the run directories are present (skipped when only the summary is, e.g. a
#                fresh clone with the committed quick summary)
#   5. compare   the summary against the committed one (git HEAD's $RESULTS/summary, or the folder
#                COMMITTED_SUMMARY names), as a reviewer needs them to agree (compare_summaries.py):
#                - per-experiment means of test MSE, PSNR and SSIM within the seed spread: Welch's
#                  t-test per experiment and metric, p = 2(1 - T_nu(|m_f - m_c| / sqrt(s_f^2/n_f + s_c^2/n_c))),
#                  nu by Welch-Satterthwaite, all comparisons together under Holm's step-down correction
#                  at family-wise level 0.05 (a difference fails when it exceeds t_{1-a/2,nu} * se at its
#                  Holm level a); an experiment with one run (or no spread) takes its model's base
#                  experiment's seed spread;
#                - the baselines (no training) equal to a relative 1e-5;
#                - every claim of the paper (tools/pipeline/claims.py) the same;
#                - per-run equality, bit for bit, only where setup.json's numerics (CPU model and bf16
#                  flags, BLAS library and core, precision, conv engine, threads, backend, math) match,
#                  or, when both sides ran the portable build (docs/portable.md), whatever the CPUs, and
#                  the seed lists of setup.json match (a regeneration with SEEDS=... has other runs); else
#                  one skip line saying which differ
#   6. complete  the summary covers every planned run
#   7. pdf twice the paper built a second time from the same summary, in a temporary copy of the
#                sources at another path, is byte-identical to $PAPER_BUILD/paper.pdf (no dates, IDs or
#                paths inside: tools/pipeline/latex.sh); on a difference, the first differing bytes
# Environment (from pipeline.mk): PYTHON, SCALE, RESULTS, PAPER_BUILD, TWIN_SUMMARY (may be empty), OPT_SEEDS,
# MODELS, ALL_RUNS, LATEXMK, GNUPLOT, PAPER_EPOCH; COMMITTED_SUMMARY (optional, a summary folder standing for
# the committed one).
set -u
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
C="$PYTHON tools/pipeline/checks.py"
rc=0
$C configs || rc=1
$C files "$PAPER_BUILD" "$RESULTS/summary" || rc=1
$C tex "$PAPER_BUILD" || rc=1
$C pdf "$PAPER_BUILD" || rc=1
$C runs "$RESULTS" || rc=1

summary=$RESULTS/summary
scratch=$(mktemp -d "${TMPDIR:-/tmp}/check-artifacts.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
committed=${COMMITTED_SUMMARY:-}
if [ -z "$committed" ] && git cat-file -e "HEAD:$summary/runs.csv" 2>/dev/null; then
    mkdir -p "$scratch/committed"
    git archive HEAD "$summary" | tar -x -C "$scratch/committed" && committed=$scratch/committed/$summary
fi
if [ -n "$committed" ]; then
    "$PYTHON" tools/pipeline/compare_summaries.py "$committed" "$summary" || rc=1
else
    echo "skip check-artifacts: comparison with the committed summary: git HEAD has no $summary/runs.csv"
fi

if [ -f "$summary/setup.json" ]; then
    read -r fin plan < <("$PYTHON" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["runs_finished"], s["runs_planned"])' "$summary/setup.json")
    if [ "$fin" = "$plan" ]; then
        echo "ok check-artifacts: the $SCALE summary covers all $plan planned runs"
    else
        echo "FAIL check-artifacts: the $SCALE summary covers $fin of $plan planned runs (make runs SCALE=$SCALE)"; rc=1
    fi
else
    echo "FAIL check-artifacts: no $summary/setup.json (make summary SCALE=$SCALE)"; rc=1
fi

# 7. the paper once more, from the same summary, in a copy of the sources at another path
if [ -f "$PAPER_BUILD/paper.pdf" ]; then
    copy=$scratch/elsewhere/repo
    mkdir -p "$copy" "$scratch/elsewhere/results/$SCALE"
    cp -r pipeline.mk experiments tools figures paper "$copy/"
    cp -r "$summary" "$scratch/elsewhere/results/$SCALE/"
    # the other horizon's summary, which the paper reads too (scale.mk's TWIN; sentences.horizon)
    if [ -n "${TWIN_SUMMARY:-}" ] && [ -f "$TWIN_SUMMARY/runs.csv" ]; then
        twin=$(basename "$(dirname "$TWIN_SUMMARY")")
        mkdir -p "$scratch/elsewhere/results/$twin" && cp -r "$TWIN_SUMMARY" "$scratch/elsewhere/results/$twin/"
    fi
    if (cd "$copy" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -f pipeline.mk SCALE="$SCALE" PYTHON="$PYTHON" RNNREG=/nonexistent \
            RESULTS_DIR="$scratch/elsewhere/results" PAPER_DIR="$scratch/elsewhere/paper" LATEXMK="${LATEXMK:-latexmk}" \
            GNUPLOT="${GNUPLOT:-gnuplot}" PAPER_EPOCH="${PAPER_EPOCH:-0}" paper) >"$scratch/rebuild.log" 2>&1; then
        again=$scratch/elsewhere/paper/$SCALE/paper.pdf
        if cmp -s "$PAPER_BUILD/paper.pdf" "$again"; then
            echo "ok check-artifacts: the paper built again from the same summary at another path is byte-identical ($(stat -c %s "$again") bytes)"
        else
            echo "FAIL check-artifacts: the paper built again from the same summary at another path differs from $PAPER_BUILD/paper.pdf:"
            "$PYTHON" - "$PAPER_BUILD/paper.pdf" "$again" <<'EOF'
import sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
show = lambda d: d[max(0, i - 40):i + 40].decode("latin-1").encode("unicode_escape").decode()
print("    %d and %d bytes; first difference at byte %d:\n    here:  %s\n    again: %s" % (len(a), len(b), i, show(a), show(b)))
EOF
            rc=1
        fi
    else
        echo "FAIL check-artifacts: the paper could not be built again in a copy of the sources ($scratch/rebuild.log):"
        tail -5 "$scratch/rebuild.log" | sed 's/^/    /'
        rc=1
    fi
else
    echo "skip check-artifacts: the paper built twice: no $PAPER_BUILD/paper.pdf"
fi
exit $rc

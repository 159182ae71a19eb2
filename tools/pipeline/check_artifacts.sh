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
#   5. compare   if git HEAD holds a committed summary of this scale and the working tree's differs,
#                the fresh numbers must agree within the tolerances stated in checks.py (TOL)
#   6. complete  the summary covers every planned run
# Environment (from pipeline.mk): PYTHON, SCALE, RESULTS, PAPER_BUILD, OPT_SEEDS, MODELS, ALL_RUNS.
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
if git cat-file -e "HEAD:$summary/runs.csv" 2>/dev/null; then
    committed=$(mktemp)
    git show "HEAD:$summary/runs.csv" > "$committed"
    $C compare "$committed" "$summary/runs.csv" || rc=1
    rm -f "$committed"
else
    echo "skip check-artifacts: comparison with committed numbers: git HEAD has no $summary/runs.csv"
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
exit $rc

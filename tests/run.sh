#!/usr/bin/env bash
# run.sh — runs every test program and script, shows their check lines, and ends with the one
# closing line "N passed, M failed[, K skipped]". Exit status is non-zero when anything failed.
# A program that crashes or exits non-zero without printing a FAIL line counts as one failure.
# Usage: tests/run.sh build/tests/test_a build/tests/test_b ...   (tests/test_*.sh are added)
set -u
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
export RNNREG="${RNNREG:-build/rnnreg}" PYTHON="${PYTHON:-/usr/bin/python3}" BUILD="${BUILD:-build}"
passed=0; failed=0; skipped=0
log="$BUILD/tests/last-run.log"
mkdir -p "$BUILD/tests"; : > "$log"
for t in "$@" tests/test_*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    if [[ "$t" == *.sh ]]; then out=$(bash "$t" 2>&1); rc=$?; else out=$("$t" 2>&1); rc=$?; fi
    printf '%s\n' "$out" >> "$log"
    p=$(grep -c '^ok ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out"); s=$(grep -c '^skip ' <<<"$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; out="$out
FAIL $name: exited with status $rc without a FAIL line (crash?)"
    fi
    if [ "$f" -gt 0 ]; then
        printf '%s\n' "$out" | grep -vE '^(ok|skip) ' # show failures and their details
    else
        printf '%s\n' "$out" | grep -E '^skip ' || true
    fi
    printf '%-28s %3d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$s"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
echo "(every check line is in $log)"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]

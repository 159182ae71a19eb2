# lib.sh — what every shell test shares: the check-line protocol of tests/run.sh (ok / FAIL / skip,
# each naming the test $T) and the tools' locations. Source it after setting T.
RNNREG="${RNNREG:-build/rnnreg}" PYTHON="${PYTHON:-/usr/bin/python3}" BUILD="${BUILD:-build}"
ok() { echo "ok $T: $*"; }
fails=0   # how many FAIL lines this test printed (for its exit status)
fail() { echo "FAIL $T: $*"; fails=$((fails + 1)); }
skip() { echo "skip $T: $*"; }
# check WHAT COMMAND...: one check line, ok when COMMAND succeeds
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

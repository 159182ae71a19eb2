# lib.sh — what every shell test shares: the check-line protocol of tests/run.sh (ok / FAIL / skip,
# each naming the test $T) and the tools' locations. Source it after setting T.
RNNREG="${RNNREG:-build/rnnreg}" PYTHON="${PYTHON:-/usr/bin/python3}" BUILD="${BUILD:-build}"
ok() { echo "ok $T: $*"; }
fails=0   # how many FAIL lines this test printed (for its exit status)
fail() { echo "FAIL $T: $*"; fails=$((fails + 1)); }
skip() { echo "skip $T: $*"; }
# check WHAT COMMAND...: one check line, ok when COMMAND succeeds
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
# trainer_scratch PREFIX — what the trainer tests share: a FAIL line and exit unless $RNNREG is built;
# W, a scratch folder under $BUILD/tests removed on exit; DATA, 40 tiny generated sequences in it.
trainer_scratch() {
    if [ ! -x "$RNNREG" ]; then fail "no executable $RNNREG"; exit 1; fi
    mkdir -p "$BUILD/tests"
    W=$(mktemp -d "$BUILD/tests/$1.XXXXXX")
    trap 'rm -rf "$W"' EXIT
    DATA=$W/data.npy
    if ! "$RNNREG" mmnist --digits tests/fixtures/digits_npm20.npy --count 40 --out "$DATA" >/dev/null 2>&1; then
        fail "rnnreg mmnist could not generate the test data"; exit 1
    fi
}

#!/usr/bin/env bash
# test_metrics_cli.sh — `rnnreg metrics` end to end: JSON for the committed fixture arrays (float32)
# and for uint8 / mixed-dtype variants made here, compared with the numpy / scikit-image reference of
# tests/reference/make_metrics_fixture.py (recomputed now, not read from our output); --help; and the
# error paths (shape mismatch, wrong ndim, not a .npy file, missing option): non-zero exit, one line
# naming the file, no --out file left behind.
# Env (from tests/run.sh): RNNREG, PYTHON, BUILD.
set -u
cd "$(dirname "$0")/.."
T=test_metrics_cli
. tests/lib.sh
FIX=tests/fixtures

if [ ! -x "$RNNREG" ]; then echo "skip $T: every check: $RNNREG is not built"; exit 0; fi
if ! "$PYTHON" -c 'import numpy, skimage' 2>/dev/null; then
    echo "skip $T: every check: $PYTHON lacks numpy or scikit-image"; exit 0
fi
mkdir -p "$BUILD/tests"
tmp=$(mktemp -d "$BUILD/tests/metrics_cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# --- help -----------------------------------------------------------------------------------------
if "$RNNREG" metrics --help >"$tmp/help.txt" 2>&1 && grep -q -- '--truth' "$tmp/help.txt"; then
    ok "--help exits 0 and shows the usage"
else
    fail "--help: status or text wrong: $(head -c 300 "$tmp/help.txt")"
fi

# --- inputs: uint8 and mixed-dtype variants of the fixtures ---------------------------------------
"$PYTHON" - "$FIX" "$tmp" <<'EOF' || fail "making the uint8 inputs failed"
import sys, numpy as np
fix, tmp = sys.argv[1:]
t = np.load(fix + "/metrics_truth.npy"); p = np.load(fix + "/metrics_pred.npy")
np.save(tmp + "/truth_u8.npy", np.uint8(np.round(t * 255)))
np.save(tmp + "/pred_u8.npy", np.uint8(np.round(np.clip(p, 0, 1) * 255)))
ts = np.load(fix + "/metrics_small_truth.npy")
np.save(tmp + "/small_truth_u8.npy", np.uint8(np.round(ts * 255)))
np.save(tmp + "/bad_ndim.npy", t[0])
np.save(tmp + "/bad_dtype.npy", t.astype(np.float64))
EOF
printf 'this is not a numpy file\n' >"$tmp/not_npy.npy"

# Run rnnreg metrics (truth, pred, name) and compare its JSON with the reference.
compare() {
    local truth=$1 pred=$2 name=$3 json="$tmp/$3.json" use_out=$4
    if [ "$use_out" = out ]; then
        "$RNNREG" metrics --truth "$truth" --pred "$pred" --out "$json" >"$tmp/$name.stdout" 2>"$tmp/$name.err"
    else
        "$RNNREG" metrics --truth "$truth" --pred "$pred" >"$json" 2>"$tmp/$name.err"
    fi
    local rc=$?
    if [ $rc -ne 0 ]; then fail "$name: exit status $rc: $(head -c 300 "$tmp/$name.err")"; return; fi
    if [ "$use_out" = out ] && [ -s "$tmp/$name.stdout" ]; then fail "$name: --out also printed to stdout"; fi
    "$PYTHON" - "$truth" "$pred" "$json" "$name" "$T" <<'EOF'
import json, math, sys
import numpy as np
sys.path.insert(0, "tests/reference")
from make_metrics_fixture import NAMES, reference_arrays
truth, pred, path, name, T = sys.argv[1:]
try:
    got = json.load(open(path))
except Exception as e:
    print(f"FAIL {T}: {name}: output is not JSON: {e}"); sys.exit(0)
want = reference_arrays(np.load(truth), np.load(pred))
# 1e-12 relative: the same protocol in float64 on both sides, sums in a different order
# (tests/test_metrics.c explains; observed agreement is about 5e-14).
def close(g, w):
    if w is None or (isinstance(w, float) and math.isnan(w)):
        return g is None
    return isinstance(g, (int, float)) and abs(g - w) <= 1e-13 + 1e-12 * abs(w)
shape_ok = got.get("frames") == want["frames"] and got.get("sequences") == want["sequences"]
print(("ok" if shape_ok else "FAIL") + f" {T}: {name}: frames = {got.get('frames')}, sequences = {got.get('sequences')}")
for k in NAMES:
    g, w = got.get(k), want[k]
    good = isinstance(g, list) and len(g) == len(w) and all(close(a, b) for a, b in zip(g, w))
    gm, wm = got.get("mean", {}).get(k), want["mean"][k]
    good_mean = close(gm, wm)
    print(("ok" if good else "FAIL") + f" {T}: {name}: per-frame {k} matches skimage/numpy" +
          ("" if good else f": got {g} want {w}"))
    print(("ok" if good_mean else "FAIL") + f" {T}: {name}: mean {k} = {gm}" +
          ("" if good_mean else f" want {wm}"))
EOF
}

compare "$FIX/metrics_truth.npy" "$FIX/metrics_pred.npy" float32 out
compare "$tmp/truth_u8.npy" "$tmp/pred_u8.npy" uint8 stdout
compare "$tmp/small_truth_u8.npy" "$FIX/metrics_small_pred.npy" mixed_small out

# --- errors ---------------------------------------------------------------------------------------
# expect_error NAME SUBSTRING ARGS...: non-zero exit, one stderr line containing SUBSTRING, no --out file.
expect_error() {
    local name=$1 sub=$2
    shift 2
    rm -f "$tmp/err_out.json"
    "$RNNREG" metrics "$@" --out "$tmp/err_out.json" >"$tmp/err.stdout" 2>"$tmp/err.txt"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err.txt")
    if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -qF -- "$sub" "$tmp/err.txt" && [ ! -e "$tmp/err_out.json" ]; then
        ok "$name: exit $rc, one line: $(cat "$tmp/err.txt")"
    else
        fail "$name: exit $rc, $lines stderr lines (want non-zero, 1 line containing '$sub', no output file): $(head -c 400 "$tmp/err.txt")"
    fi
}
expect_error "shape mismatch" "$FIX/metrics_small_pred.npy: shape (1, 2, 20, 13) differs" \
    --truth "$FIX/metrics_truth.npy" --pred "$FIX/metrics_small_pred.npy"
expect_error "wrong ndim" "$tmp/bad_ndim.npy: 3 dimensions" \
    --truth "$tmp/bad_ndim.npy" --pred "$FIX/metrics_pred.npy"
expect_error "not a .npy file" "$tmp/not_npy.npy" --truth "$FIX/metrics_truth.npy" --pred "$tmp/not_npy.npy"
expect_error "float64 array" "$tmp/bad_dtype.npy" --truth "$FIX/metrics_truth.npy" --pred "$tmp/bad_dtype.npy"
expect_error "missing file" "$tmp/missing.npy" --truth "$tmp/missing.npy" --pred "$FIX/metrics_pred.npy"
expect_error "missing --pred" "--pred" --truth "$FIX/metrics_truth.npy"
exit 0

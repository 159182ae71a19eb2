#!/usr/bin/env bash
# test_paperstats.sh — the statistics and measurements behind the paper's generated claims
# (tools/pipeline/paperdata.py), each against an independent source: the paired t-test's p-value against
# scipy.stats.ttest_1samp; Holm's adjusted p-values against the sequentially rejective procedure as Holm
# (1979) states it (reject H_(1..k) while p_(j) <= alpha / (m - j + 1)), over random families and levels;
# the base-vs-all-zero interval against scipy's t interval; the pure-Python PNG reader against PIL (the
# committed strips and PNGs that PIL writes with every filter type); the strips' background grey levels
# against numpy medians; the "learnt" criterion against the summary's numbers recomputed here. Runs on
# the committed quick summary (results/quick/summary); needs scipy, numpy and PIL (skipped without).
set -u
cd "$(dirname "$0")/.."
T=test_paperstats
. tests/lib.sh
S=results/quick/summary
if ! "$PYTHON" -c 'import scipy, numpy, PIL' 2>/dev/null; then
    skip "scipy, numpy or PIL is missing (tools/deps.sh test)"; exit 0
fi
if [ ! -f "$S/runs.csv" ]; then skip "no committed summary $S"; exit 0; fi

check "the paired t-test's p-value equals scipy.stats.ttest_1samp (200 random samples, n = 2..8)" \
    "$PYTHON" - <<'EOF'
import random, sys
sys.path.insert(0, "tools/pipeline")
from scipy import stats
from paperdata import t_test_p
rng = random.Random(7)
for _ in range(200):
    n = rng.randint(2, 8)
    xs = [rng.gauss(rng.uniform(-2, 2), rng.uniform(0.1, 3)) for _ in range(n)]
    want = stats.ttest_1samp(xs, 0.0).pvalue
    got = t_test_p(xs)
    assert abs(got - want) <= 1e-9 + 1e-7 * want, (xs, got, want)
assert t_test_p([1.0]) is None and t_test_p([2.0, 2.0]) == 0.0 and t_test_p([0.0, 0.0]) == 1.0
EOF

check "Holm's adjusted p-values reject exactly what the sequentially rejective procedure rejects (500 families, 9 levels)" \
    "$PYTHON" - <<'EOF'
import random, sys
sys.path.insert(0, "tools/pipeline")
from paperdata import holm
rng = random.Random(11)
for _ in range(500):
    m = rng.randint(1, 20)
    ps = {"h%d" % i: (rng.random() ** rng.choice([1, 3, 6])) for i in range(m)}
    adj = holm(ps)
    assert set(adj) == set(ps)
    assert all(adj[k] >= ps[k] and adj[k] <= 1.0 for k in ps)
    for alpha in (0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.9):
        order = sorted(ps, key=lambda k: ps[k])
        rejected = set()
        for j, k in enumerate(order):            # Holm 1979: step down while p_(j) <= alpha / (m - j + 1)
            if ps[k] <= alpha / (m - j):
                rejected.add(k)
            else:
                break
        assert {k for k in ps if adj[k] <= alpha} == rejected, (ps, alpha, adj)
# a hand example: p = 0.01, 0.04, 0.03 -> 0.03, 0.06, 0.06
adj = holm({"a": 0.01, "b": 0.04, "c": 0.03})
assert abs(adj["a"] - 0.03) < 1e-12 and abs(adj["c"] - 0.06) < 1e-12 and abs(adj["b"] - 0.06) < 1e-12, adj
EOF

check "each base model minus all-zero frames: mean and interval equal scipy's t interval on its runs, p its t-test; the criterion ratio and frames recomputed from runs.csv and frames.csv" \
    "$PYTHON" - "$S" <<'EOF'
import csv, sys
sys.path.insert(0, "tools/pipeline")
import numpy as np
from scipy import stats
from paperdata import Summary, LEARNT_RATIO
S = sys.argv[1]
s = Summary(S)
runs = [r for r in csv.DictReader(open(S + "/runs.csv")) if r["status"] == "ok"]
zero = [float(r["test_mse"]) for r in runs if r["model"] == "baseline" and r["experiment"] == "zero"]
assert len(zero) == 1, zero
frames = list(csv.DictReader(open(S + "/frames.csv")))
vz = s.vs_zero("test_mse")
assert set(vz) == {"convlstm", "predrnn_pp"}, vz
pvals = {}
for m, (mu, lo, hi, n, padj) in vz.items():
    d = np.array([float(r["test_mse"]) for r in runs if r["model"] == m and r["experiment"] == "base"]) - zero[0]
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    assert n == len(d) and abs(mu - d.mean()) < 1e-9 and abs(lo - (d.mean() - half)) < 1e-6 and abs(hi - (d.mean() + half)) < 1e-6
    pvals[m] = stats.ttest_1samp(d, 0.0).pvalue
    # the criterion: ratio of means, frames where the base's mean MSE is not below all-zero's
    ratio, above, ssim_ok, met = s.learnt(m)
    assert abs(ratio - (d.mean() + zero[0]) / zero[0]) < 1e-12
    seeds = {r["seed"] for r in runs if r["model"] == m and r["experiment"] == "base"}
    want = []
    for t in range(1, 11):
        b = np.mean([float(r["mse"]) for r in frames if r["model"] == m and r["experiment"] == "base"
                     and r["seed"] in seeds and int(r["frame"]) == t])
        z = [float(r["mse"]) for r in frames if r["model"] == "baseline" and r["experiment"] == "zero" and int(r["frame"]) == t]
        if b >= z[0]:
            want.append(t)
    assert above == want, (m, above, want)
    assert met == (ratio <= LEARNT_RATIO and not want and ssim_ok)
# Holm over the two base models
lo_m, hi_m = sorted(pvals, key=pvals.get)
assert abs(vz[lo_m][4] - min(1, 2 * pvals[lo_m])) < 1e-9
assert abs(vz[hi_m][4] - max(min(1, 2 * pvals[lo_m]), pvals[hi_m])) < 1e-9
EOF

check "the PNG reader equals PIL on the committed strips and on PNGs PIL writes with each filter type; the strips' background levels are numpy's medians" \
    "$PYTHON" - "$S" <<'EOF'
import json, os, sys, tempfile
sys.path.insert(0, "tools/pipeline")
import numpy as np
from PIL import Image
from paperdata import Summary, png_grey
S = sys.argv[1]
def ours(path):
    w, h, rows = png_grey(path)
    return np.array([list(r) for r in rows], dtype=np.uint8).reshape(h, w)
strips = json.load(open(S + "/strip.json"))["strips"]
for st in strips:
    img = np.asarray(Image.open(os.path.join(S, st["file"])))
    assert np.array_equal(ours(os.path.join(S, st["file"])), img), st["file"]
rng = np.random.default_rng(3)
with tempfile.TemporaryDirectory() as d:
    # smooth and noisy content makes the encoder pick different filters per row (PIL/zlib adaptive)
    y, x = np.mgrid[0:37, 0:53]
    for k, a in enumerate([rng.integers(0, 256, (37, 53)), (x * 4 + y * 3) % 256, (x * y) % 251]):
        p = os.path.join(d, "t%d.png" % k)
        Image.fromarray(a.astype(np.uint8), "L").save(p, optimize=True)
        assert np.array_equal(ours(p), a.astype(np.uint8)), k
    try:
        png_grey(os.path.join(S, "strip.json"))
        raise AssertionError("a non-PNG file was read")
    except ValueError as e:
        assert "not a PNG" in str(e)
s = Summary(S)
got = dict(s.strip_background())
n = 0
for st in strips:
    img = np.asarray(Image.open(os.path.join(S, st["file"]))).astype(float)
    for i, r in enumerate(st["rows"]):
        if r["row"] not in s.exps:
            continue
        meds = [np.sort(img[2 + 66 * i:66 + 66 * i, 2 + 66 * t:66 + 66 * t].ravel())[64 * 64 // 2] for t in range(10)]
        assert abs(got[r["row"]] - np.mean(meds)) < 1e-9, (r["row"], got[r["row"]], np.mean(meds))
        n += 1
assert n == len(got) and n >= 20, n
EOF

check "every regularizer's resolved verdict of the test MSE is Holm over the family of all regularizers (scipy p-values), and a resolved one's uncorrected interval excludes zero" \
    "$PYTHON" - "$S" <<'EOF'
import sys
sys.path.insert(0, "tools/pipeline")
from scipy import stats
from paperdata import Summary
s = Summary(sys.argv[1])
for field in ("test_mse", "test_ssim"):
    ps = {e: stats.ttest_1samp(s.paired_diffs(e, field), 0.0).pvalue for e in s.regularizers}
    m = len(ps)
    order = sorted(ps, key=ps.get)
    rejected = set()
    for j, e in enumerate(order):
        if ps[e] <= 0.05 / (m - j):
            rejected.add(e)
        else:
            break
    for e in s.regularizers:
        r = s.resolved(e, field)
        assert (r != 0) == (e in rejected), (field, e, r, ps[e])
        if r:
            mu, lo, hi, n = s.paired(e, field)
            assert (hi < 0 and r == -1) or (lo > 0 and r == 1), (e, mu, lo, hi)
EOF
exit $((fails > 0))

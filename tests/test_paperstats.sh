#!/usr/bin/env bash
# test_paperstats.sh — the statistics and measurements behind the paper's generated claims
# (tools/pipeline/paperdata.py), each against an independent source: the paired t-test's p-value against
# scipy.stats.ttest_1samp; Holm's adjusted p-values against the sequentially rejective procedure as Holm
# (1979) states it (reject H_(1..k) while p_(j) <= alpha / (m - j + 1)), over random families and levels;
# the base-vs-all-zero interval against scipy's t interval; the pure-Python PNG reader against PIL (the
# committed strips and PNGs that PIL writes with every filter type); the strips' background grey levels
# against numpy medians; the "learnt" criterion against the summary's numbers recomputed here; every
# interval-backed claim of tools/pipeline/claims.py (the lowest method, sweep point, optimizer and model;
# the base models against the baselines, overall, per frame and in SSIM) against scipy's tests with Holm's
# procedure (tests/claims_scipy.py), and on perturbed copies of the summary: an argmin reordered within
# the seed spread leaves every claim as it was, one moved beyond its interval changes it. Runs on the
# committed summaries: the study one (the paper's scale) and the quick one, whose optimizer study and
# sweeps the perturbation checks need; needs scipy, numpy and PIL (skipped without).
set -u
cd "$(dirname "$0")/.."
T=test_paperstats
. tests/lib.sh
# the short scale's (the default: the study's recipe on two predicted frames), and the study's stored
# replications: the committed fp32 study of a Zen 3 EPYC before session 12 and its bf16 regeneration on a
# Zen 5 EPYC (their PredRNN++ runs are of the recipe before the gradient clipping; each summary is still a
# valid input of every check here)
SUMMARIES="results/short/summary results/study/summary results/quick/summary experiments/scales/study/replications/zen5-bf16/summary
           experiments/scales/study/replications/zen3-fp32/summary"
if ! "$PYTHON" -c 'import scipy, numpy, PIL' 2>/dev/null; then
    skip "scipy, numpy or PIL is missing (tools/deps.sh test)"; exit 0
fi
for S in $SUMMARIES; do
    if [ ! -f "$S/runs.csv" ]; then fail "no committed summary $S (git checkout -- $S)"; exit 1; fi
done

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

export PYTHONPATH="tests${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$BUILD/tests"
W=$(mktemp -d "$BUILD/tests/paperstats.XXXXXX")
trap 'rm -rf "$W"' EXIT

# The checks below hold for every committed summary (the quick one and the study one, the paper's);
# the perturbation checks after the loop need the quick one's optimizer study and sweeps.
for S in $SUMMARIES; do

check "[$S] gradient clipping (sent.clipping, tab-setup): the sentence names exactly the models whose base config in experiments.json sets clip_grad_norm above zero, with its value, and is empty where none does; tab-setup's row (there only where some model clips) gives each model's value or --" \
    "$PYTHON" - "$S" <<'EOF'
import json, sys
sys.path.insert(0, "tools/pipeline")
import paperdata, sentences, tables
S = sys.argv[1]
ex = json.load(open(S + "/experiments.json"))["experiments"]
s = paperdata.Summary(S)
want = {m: float(ex[m + "/base"]["config"].get("clip_grad_norm", "0")) for m in s.models}
sent = sentences.clipping(s)[0]
rows = [l for l in tables.tab_setup(s)["tab-setup.tex"].splitlines() if l.startswith("gradient norm clipped at")]
assert len(rows) == (1 if max(want.values()) > 0 else 0), rows
for m, c in want.items():
    assert (s.mlabel(m) in sent) == (c > 0), (m, c, sent)
    if rows:
        cells = [x.strip(" \\") for x in rows[0].split("&")[1:]]
        assert cells[s.models.index(m)] == (ex[m + "/base"]["config"]["clip_grad_norm"] if c > 0 else "--"), (m, cells)
assert (sent == "") == (max(want.values()) == 0), sent
for c in {c for c in want.values() if c > 0}:
    assert paperdata.num(c, 2) in sent, (c, sent)
EOF

check "[$S] each base model minus all-zero frames: mean and interval equal scipy's t interval on its runs, p its t-test; the criterion ratio and frames recomputed from runs.csv and frames.csv" \
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
    for t in sorted({int(r["frame"]) for r in frames if r["model"] == "baseline"}):
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

check "[$S] the PNG reader equals PIL on the committed strips and on PNGs PIL writes with each filter type; the strips' background levels are numpy's medians and their last frames' pixel mass numpy's sums (divided by a row's contrast stretch); the stretch's factor and clipping" \
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
# the predicted frames are a row's last cells: as many as the base runs' configs predict (seq_len - input_frames)
cfg = json.load(open(os.path.join(S, "experiments.json")))["experiments"]["convlstm/base"]["config"]
future = int(cfg["seq_len"]) - int(cfg["input_frames"])
n = 0
for st in strips:
    img = np.asarray(Image.open(os.path.join(S, st["file"]))).astype(float)
    cols = img.shape[1] // 66
    for i, r in enumerate(st["rows"]):
        if r["row"] not in s.exps:
            continue
        meds = [np.sort(img[2 + 66 * i:66 + 66 * i, 2 + 66 * t:66 + 66 * t].ravel())[64 * 64 // 2] / r.get("stretch", 1.0)
                for t in range(cols - future, cols)]
        assert abs(got[r["row"]] - np.mean(meds)) < 1e-9, (r["row"], got[r["row"]], np.mean(meds))
        n += 1
assert n == len(got) and n >= 5 * len(strips), n          # base and the report's four regularizers per model
# the last predicted frame's pixel mass over the true one's (the fading criterion), recomputed with numpy
mass = dict(s.strip_mass())
n = 0
for st in strips:
    img = np.asarray(Image.open(os.path.join(S, st["file"]))).astype(float)
    names = [r["row"] for r in st["rows"]]
    last = lambda i: img[2 + 66 * i:66 + 66 * i, 2 + 66 * 9:66 + 66 * 9].sum()
    for i, r in enumerate(st["rows"]):
        if r["row"] in s.exps:
            want = last(i) / r.get("stretch", 1.0) / last(names.index("truth"))
            assert abs(mass[r["row"]] - want) < 1e-12, (r["row"], mass[r["row"]], want)
            n += 1
assert n == len(mass) and n >= 5 * len(strips) and max(mass.values()) > 0, (n, mass)
# the contrast stretch of a dim strip row (summarize.strip_stretch): k = 1 / the 99.9th percentile rounded
# down to a tenth, at most 4, none below 1.2; at most 0.1 % of the pixels clip; a bright row is unchanged
import summarize
for scale in (0.05, 0.3, 0.5, 0.7, 0.83, 1.0):
    x = (rng.random((10, 1, 64, 64)) ** 4 * scale).astype(np.float32)
    k, y = summarize.strip_stretch(x)
    p = np.percentile(x.astype(np.float64), 99.9)
    want = min(4.0, np.floor(10.0 / p) / 10.0)
    if want < 1.2:
        assert k == 1.0 and y is x, (scale, k)
    else:
        assert abs(k - want) < 1e-12 and y.dtype == np.float32 and y.max() <= 1.0, (scale, k, want)
        assert np.mean(x * k > 1.0) <= 0.001 + 1e-9, (scale, np.mean(x * k > 1.0))
        assert np.allclose(y, np.minimum(x.astype(np.float64) * k, 1.0), atol=1e-7)
EOF

check "[$S] the base models' gap growth after scheduled sampling (sentences.gap_growth) recomputed from curves.csv and the configs: the first all-free-running epoch, the mean gaps over the first w free-running epochs and the last w (w = min(5, half the span)), the seeds in which it grew" \
    "$PYTHON" - "$S" <<'EOF'
import csv, json, math, sys
sys.path.insert(0, "tools/pipeline")
from paperdata import Summary
import sentences
S = sys.argv[1]
s = Summary(S)
sent = sentences.gap_growth(s)
ex = json.load(open(S + "/experiments.json"))["experiments"]
curves = list(csv.DictReader(open(S + "/curves.csv")))
n = 0
for m, label in (("convlstm", "ConvLSTM"), ("predrnn_pp", "PredRNN++")):
    c = ex[m + "/base"]["config"]
    assert c["sampling"] == "scheduled", c["sampling"]
    steps = int(c["n_train"]) // int(c["batch"])
    e0 = math.ceil(int(c["sampling_iters"]) / steps) + 1        # the first epoch whose every step is past the schedule
    assert (e0 - 1) * steps >= int(c["sampling_iters"]) > (e0 - 2) * steps
    g = {}
    for r in curves:
        if r["model"] == m and r["experiment"] == "base":
            g.setdefault(r["seed"], {})[int(r["epoch"])] = float(r["val_loss"]) - float(r["train_loss"])
    end = max(max(x) for x in g.values())
    w = max(1, min(5, (end - e0 + 1) // 2))
    first = [sum(x[e] for e in range(e0, e0 + w)) / w for x in g.values()]
    last = [sum(x[e] for e in range(end - w + 1, end + 1)) / w for x in g.values()]
    grew = sum(1 for a, b in zip(first, last) if b > a)
    span = lambda a, b: "epoch %d" % a if a == b else "epochs %d to %d" % (a, b)
    prep = "over" if w > 1 else "at"
    want = "%s's base gap goes from $%+.5f$ %s %s to $%+.5f$ %s %s (means over %s;" % (
        label, sum(first) / len(first), prep, span(e0, e0 + w - 1), sum(last) / len(last), prep, span(end - w + 1, end),
        "those epochs and the seeds" if w > 1 else "the seeds")
    assert want in sent, (want, sent)
    over = grew == len(first) and sum(last) > sum(first)
    clause = sent.split(" therefore overfit")[0].rsplit(". ", 1)[-1] if " therefore overfit" in sent else ""
    assert (label in clause) == over, (label, over, sent)
    n += 1
assert n == 2
EOF

check "[$S] how small an error SSIM asks for (sentences.ssim_error), recomputed from frames.csv with numpy: the frames of the methods' runs (optimizer-study and sweep runs left out) whose SSIM is above all-zero's at that frame, the largest MSE among them, the frames at or below it; a frame of larger error made to win raises the level, the top wins made to lose lower it" \
    "$PYTHON" - "$S" <<'EOF'
import csv, json, os, shutil, sys, tempfile
import numpy as np
sys.path.insert(0, "tools/pipeline")
from paperdata import Summary
import sentences
S = sys.argv[1]

def expect(path):
    stage = {k: v["stage"] for k, v in json.load(open(path + "/experiments.json"))["experiments"].items()}
    ok = {(r["model"], r["experiment"], r["seed"]) for r in csv.DictReader(open(path + "/runs.csv")) if r["status"] == "ok"}
    rows = list(csv.DictReader(open(path + "/frames.csv")))
    zs = {r["frame"]: float(r["ssim"]) for r in rows if r["model"] == "baseline" and r["experiment"] == "zero"}
    pts = np.array([(float(r["mse"]), float(r["ssim"]) > zs[r["frame"]]) for r in rows if r["model"] != "baseline"
                    and stage[r["model"] + "/" + r["experiment"]] not in ("opt", "sweep") and (r["model"], r["experiment"], r["seed"]) in ok])
    won = pts[pts[:, 1] == 1, 0]
    if not len(won):
        return len(pts), 0, None, 0
    return len(pts), len(won), won.max(), int((pts[:, 0] <= won.max()).sum())

def check(path):
    n, k, top, small = expect(path)
    sent = sentences.ssim_error(Summary(path))[0]
    nf = len({r["frame"] for r in csv.DictReader(open(path + "/frames.csv")) if r["model"] == "baseline"})
    assert sent.startswith("Of the %d predicted frames of the %d model runs" % (n, n // nf)), sent
    if not k:
        assert "none scores a higher SSIM" in sent, sent
        return n, k, top, small
    assert ("none of the %d with a larger error" % (n - small)) in sent, (n, small, sent)
    if small > 1:
        assert ("of the %d frames with an MSE per frame of at most %.1f," % (small, top)) in sent, (small, top, sent)
    else:
        assert ("the frame with the lowest error, %.1f" % top) in sent, (top, sent)
    return n, k, top, small

n, k, top, small = check(S)
assert 0 < k < n, (k, n)
rows = list(csv.DictReader(open(S + "/frames.csv")))
fields = list(rows[0].keys())
zs = {r["frame"]: float(r["ssim"]) for r in rows if r["model"] == "baseline" and r["experiment"] == "zero"}
with tempfile.TemporaryDirectory() as d:
    for f in os.listdir(S):
        if os.path.isfile(os.path.join(S, f)):
            shutil.copy(os.path.join(S, f), d)
    def write(rs):
        with open(d + "/frames.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields); w.writeheader(); w.writerows(rs)
    # the method frame with the largest error (of those counted) made to win: the level rises to its MSE
    stage = {k: v["stage"] for k, v in json.load(open(S + "/experiments.json"))["experiments"].items()}
    ok = {(r["model"], r["experiment"], r["seed"]) for r in csv.DictReader(open(S + "/runs.csv")) if r["status"] == "ok"}
    counted = [i for i, r in enumerate(rows) if r["model"] != "baseline" and (r["model"], r["experiment"], r["seed"]) in ok
               and stage[r["model"] + "/" + r["experiment"]] not in ("opt", "sweep")]
    hi = max(counted, key=lambda i: float(rows[i]["mse"]))
    rs = [dict(r) for r in rows]; rs[hi]["ssim"] = repr(zs[rs[hi]["frame"]] + 0.01)
    write(rs)
    n2, k2, top2, small2 = check(d)
    assert (n2, k2) == (n, k + 1) and top2 == float(rows[hi]["mse"]) > top and small2 > small, (n2, k2, top2, small2)
    # the winning frames with the largest error made to lose: the level falls
    tw = [i for i, r in enumerate(rows) if r["model"] != "baseline" and float(r["mse"]) == top]
    rs = [dict(r) for r in rows]
    for i in tw:
        rs[i]["ssim"] = repr(zs[rs[i]["frame"]] - 0.01)
    write(rs)
    n3, k3, top3, small3 = check(d)
    assert k3 == k - len(tw) and (k3 == 0 or (top3 < top and small3 < small)), (k3, top3, small3)
EOF

check "[$S] the control seeds (sentences.controlseeds): the seeds that the base runs and the controls have beyond the regularizers', read off runs.csv; no sentence where every seed is one of setup.json's" \
    "$PYTHON" - "$S" <<'EOF'
import csv, json, os, shutil, sys, tempfile
sys.path.insert(0, "tools/pipeline")
from paperdata import Summary, words
import sentences
S = sys.argv[1]
ex = json.load(open(S + "/experiments.json"))["experiments"]
ctrl = [e for e, x in ex.items() if x["config"].get("fresh_train") == "1"]
regs = [e for e, x in ex.items() if x["stage"] == "main" and x["name"] != "base" and e not in ctrl]
got = {}
for r in csv.DictReader(open(S + "/runs.csv")):
    if r["status"] == "ok" and r["model"] != "baseline":
        got.setdefault(r["model"] + "/" + r["experiment"], set()).add(int(r["seed"]))
sent = sentences.controlseeds(Summary(S))[0]
reg_seeds = set.union(*(got[e] for e in regs)) if regs else set()
extra = sorted(set.union(set(), *(got.get(e, set()) for e in ctrl)) - reg_seeds)
if ctrl and extra:
    assert all(got[m + "/base"] == got[c] for c in ctrl for m in [c.split("/")[0]]), got
    n = len(got[ctrl[0]])
    assert (" also run with the seed%s %s (%s runs each)" % ("s" if len(extra) > 1 else "", " and ".join(
        [", ".join(str(x) for x in extra[:-1]), str(extra[-1])] if len(extra) > 1 else [str(extra[0])]), words(n))) in sent, (extra, sent)
else:
    assert sent == "", sent
# the same summary told that every seed of the runs is a seed of all experiments: no sentence
with tempfile.TemporaryDirectory() as d:
    for f in os.listdir(S):
        if os.path.isfile(os.path.join(S, f)):
            shutil.copy(os.path.join(S, f), d)
    st = json.load(open(d + "/setup.json"))
    st["seeds"] = sorted(set(st["seeds"]) | {x for v in got.values() for x in v})
    json.dump(st, open(d + "/setup.json", "w"))
    assert sentences.controlseeds(Summary(d))[0] == ""
EOF

check "[$S] every regularizer's resolved verdict of the test MSE is Holm over the family of all regularizers (scipy p-values), and a resolved one's uncorrected interval excludes zero" \
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

check "[$S] the interval-backed claims (lowest method, sweep point, optimizer, lower model; base models against copy-last and all-zero frames, overall, per frame and in SSIM) equal scipy's tests with Holm's procedure (tests/claims_scipy.py); the lowest method's intervals are scipy's" \
    "$PYTHON" - "$S" <<'EOF'
import sys
sys.path.insert(0, "tools/pipeline")
import numpy as np
from scipy import stats
from claims_scipy import check_expected, col, load
from paperdata import Summary
S = sys.argv[1]
got = check_expected(S)
_, _, val = load(S)
s = Summary(S)
want = {"models.lower"} | {k % m for m in s.models for k in ("best.%s", "optimizer.%s", "base.%s.below_copy_last",
        "base.%s.below_zero", "base.%s.below_zero_every_frame", "base.%s.ssim_above_zero")}
assert want <= set(got) and (not s.sweep_blocks() or any(k.startswith("sweep.") for k in got)), (want - set(got), got)
for m in s.models:
    low = s.lowest_mse(m)
    top = low.top.split("/")[1]
    for o, c in low.comps.items():
        a, b = col(val, m, o.split("/")[1]), col(val, m, top)
        d = np.array([a[k] - b[k] for k in sorted(set(a) & set(b))])
        lo, hi = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
        assert c.n == len(d) and abs(c.d - d.mean()) < 1e-9 and abs(c.lo - lo) < 1e-6 and abs(c.hi - hi) < 1e-6, (m, o, c, lo, hi)
EOF

check "[$S] the control regime (sentences.regime): the fresh-sequence runs found by their config (fresh_train = 1), their gap over the first w free-running epochs and the last w (w = min(5, half the span)) and the base runs' of the same seeds recomputed from curves.csv, the test MSE from runs.csv, the verdict from the rule; no sentence and flag 0 without such runs" \
    "$PYTHON" - "$S" "$W" <<'EOF'
import csv, json, math, os, shutil, sys
sys.path.insert(0, "tools/pipeline")
from paperdata import Summary
import sentences
S, W = sys.argv[1], sys.argv[2]
ex = json.load(open(S + "/experiments.json"))["experiments"]
fresh = {e.split("/")[0]: e for e, x in ex.items() if x["config"].get("fresh_train") == "1"}
curves = list(csv.DictReader(open(S + "/curves.csv")))
runs = list(csv.DictReader(open(S + "/runs.csv")))
labels = {"convlstm": "ConvLSTM", "predrnn_pp": "PredRNN++"}

def gaps(m, name, rows):
    g = {}
    for r in rows:
        if r["model"] == m and r["experiment"] == name:
            g.setdefault(r["seed"], {})[int(r["epoch"])] = float(r["val_loss"]) - float(r["train_loss"])
    return g

def expected(rows):
    """per model: (the clause the sentence must contain, verdict: sep | open | no)"""
    from scipy import stats
    import numpy as np
    out = {}
    for m, e in fresh.items():
        c = ex[m + "/base"]["config"]
        steps = int(c["n_train"]) // int(c["batch"])
        e0 = math.ceil(int(c["sampling_iters"]) / steps) + 1
        fg, bg = gaps(m, e.split("/")[1], rows), gaps(m, "base", rows)
        # a pair with a run whose last validation loss exceeds 1.10 x its best while its training loss has not
        # fallen below that of its best epoch is left out (unstable; one whose training loss fell overfits)
        rr = {(r["experiment"], r["seed"]): r for r in runs if r["model"] == m and r["status"] == "ok"}
        tl = {(r["experiment"], r["seed"], r["epoch"]): float(r["train_loss"]) for r in rows if r["model"] == m}
        left, seeds = [], []
        def unstable(n_, x):
            r = rr[(n_, x)]
            return (float(r["last_val_loss"]) > 1.10 * float(r["best_val_loss"]) and
                    float(r["last_train_loss"]) >= tl[(n_, x, r["best_epoch"])])
        for x in sorted(set(fg) & set(bg), key=int):
            bad = [(who, rr[(n_, x)]) for n_, who in ((e.split("/")[1], "on fresh sequences"), ("base", "on the fixed set"))
                   if unstable(n_, x)]
            if bad:
                who, r = bad[0]
                left.append("seed %s, whose run %s became unstable: its last validation loss is %.2f times its best, of epoch %s"
                            % (x, who, float(r["last_val_loss"]) / float(r["best_val_loss"]), r["best_epoch"]))
            else:
                seeds.append(x)
        last = max(fg[seeds[0]])
        w = max(1, min(5, (last - e0 + 1) // 2))
        start = lambda g: sum(g[e] for e in range(e0, e0 + w)) / w
        end = lambda g: sum(g[e] for e in range(last - w + 1, last + 1)) / w
        span = lambda a, b: "epoch %d" % a if a == b else "epochs %d to %d" % (a, b)
        f0 = sum(start(fg[x]) for x in seeds) / len(seeds); fN = sum(end(fg[x]) for x in seeds) / len(seeds)
        b0 = sum(start(bg[x]) for x in seeds) / len(seeds); bN = sum(end(bg[x]) for x in seeds) / len(seeds)
        tm = {(r["experiment"], r["seed"]): float(r["test_mse"]) for r in runs if r["model"] == m and r["status"] == "ok"}
        ft = sum(tm[(e.split("/")[1], x)] for x in seeds) / len(seeds)
        bt = sum(tm[("base", x)] for x in seeds) / len(seeds)
        allb = [v for (e_, x), v in tm.items() if e_ == "base"]
        n = len(seeds)
        clause = ("%s's gap goes from $%+.5f$ over %s to $%+.5f$ over %s%s%s, where the base run%s of the same seed%s "
                  "on the fixed %d sequences went from $%+.5f$ to $%+.5f$" % (
                      labels[m], f0, span(e0, e0 + w - 1), fN, span(last - w + 1, last),
                      " (%s)" % ", ".join((["means over %s seeds" % {2: "two", 3: "three", 4: "four", 5: "five"}.get(n, str(n))] if n > 1 else []) +
                                          (["leaving out " + "; ".join(left)] if left else [])) if (n > 1 or left) else "", "",
                      "" if n == 1 else "s", "" if n == 1 else "s", int(c["n_train"]), b0, bN))
        growth = np.array([(end(fg[x]) - start(fg[x])) - (end(bg[x]) - start(bg[x])) for x in seeds])
        if n == 1:
            where = "below" if ft < min(allb) else "above" if ft > max(allb) else "within"
            clause += "; its test MSE is %.1f against the base run's %.1f, %s the range of the %s base runs (%.1f to %.1f)" % (
                ft, bt, where, {2: "two", 3: "three", 4: "four", 5: "five"}.get(len(allb), str(len(allb))), min(allb), max(allb))
            g_hi = -1.0
        else:
            g_lo, g_hi = stats.t.interval(0.95, n - 1, loc=growth.mean(), scale=stats.sem(growth))
            td = np.array([tm[(e.split("/")[1], x)] - tm[("base", x)] for x in seeds])
            t_lo, t_hi = stats.t.interval(0.95, n - 1, loc=td.mean(), scale=stats.sem(td))
            clause += ("; paired by seed, the gap's growth on fresh sequences minus that on the fixed set is $%+.5f$ [$%+.5f$, "
                       "$%+.5f$], and the test MSE is %.1f against %.1f, a difference of $%+.1f$ [$%+.1f$, $%+.1f$]" % (
                           growth.mean(), g_lo, g_hi, ft, bt, td.mean(), t_lo, t_hi))
        less = bool((growth < 0).all()) and fN < min(end(g) for g in bg.values())
        out[m] = [clause, less, stats.ttest_1samp(growth, 0.0).pvalue if n > 1 else None, growth.mean()]
    # Holm over the models with two or more pairs (one family): m p-values sorted, the i-th times (m - i + 1),
    # made non-decreasing
    ps = sorted((v[2], m) for m, v in out.items() if v[2] is not None)
    adj, run = {}, 0.0
    for i, (p, m) in enumerate(ps):
        run = max(run, min(1.0, p * (len(ps) - i)))
        adj[m] = run
    for m, v in out.items():
        clause, less, p, mean = v
        if m in adj:
            clause = clause.replace("$], and the test MSE", "$] (Holm-adjusted $p %s$), and the test MSE" % (
                "< 0.001" if adj[m] < 0.001 else "= %.3f" % adj[m]), 1)
        sep = less and (p is None or (adj[m] <= 0.05 and mean < 0))
        out[m] = (clause, "sep" if sep else "open" if less else "no")
    return out

def verdict_of(sent, m):
    def clause(tail):
        return sent.split(tail)[0].rsplit(". ", 1)[-1] if tail in sent else ""
    got = [v for v, tail in (("sep", "the gap grows less than on the fixed set"),
                             ("open", "the gap on fresh sequences grows less in every seed"),
                             ("no", "the gap on fresh sequences does not grow less")) if labels[m] in clause(tail)]
    return got[0] if len(got) == 1 else got

sent = sentences.regime(Summary(S))[0]   # values.tex is the paper's; flag and sentence via tables.py's rule
import tables
vals = {}
class V:
    def add(self, k, t, src): vals[k] = t
    def sentence(self, k, made): vals[k] = made[0]
tables.regime_values(Summary(S), V())
if not fresh:
    assert sent == "" and vals["flag.regime"] == "0", (sent, vals["flag.regime"])
    print("no fresh-sequence runs in %s: no sentence, flag 0" % S)
    sys.exit(0)
assert vals["flag.regime"] == "1" and vals["sent.regime"] == sent
for m, (clause, sep) in expected(curves).items():
    assert clause.replace("$", "") in sent.replace("$", ""), (clause, sent)
    assert verdict_of(sent, m) == sep, (m, sep, verdict_of(sent, m), sent)
# a copy whose fresh runs' validation loss rises by 0.01 per epoch after the first free-running one: the
# gap grows far more than the base's, so the verdict must turn for every model
P = os.path.join(W, "regime-" + S.replace("/", "_"))   # one per summary
shutil.copytree(S, P)
rows = list(csv.DictReader(open(P + "/curves.csv")))
for r in rows:
    if r["model"] in fresh and r["experiment"] == fresh[r["model"]].split("/")[1]:
        r["val_loss"] = repr(float(r["val_loss"]) + 0.01 * int(r["epoch"]))
with open(P + "/curves.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
sent2 = sentences.regime(Summary(P))[0]
for m, (clause, sep) in expected(rows).items():
    assert sep == "no" and clause.replace("$", "") in sent2.replace("$", ""), (clause, sent2)
    assert verdict_of(sent2, m) == "no", (m, sent2)
EOF

done
S=results/quick/summary

check "an argmin reordered within the seed spread (each runner-up method, sweep point and optimizer moved just below the lowest; the higher model's runs moved just below the other's, inside Welch's interval) changes the lowest means but no claim" \
    "$PYTHON" - "$S" "$W" <<'EOF'
import json, sys
sys.path.insert(0, "tools/pipeline")
import numpy as np
from scipy import stats
from claims_scipy import check_expected, claims, col, copy, load, rewrite_runs
from paperdata import Summary
S, W = sys.argv[1], sys.argv[2]
before = claims(S)
s = Summary(S)
# 1. per model, the method closest to the lowest mean in units of its own seed spread (gap / sd): every
#    run moved down by the gap and a little more, which must stay within one standard deviation
D = copy(S, W + "/best")
shift = {}
for m in s.models:
    ranked = s.mse_ranked(m)
    top = ranked[0]
    gap = lambda e: s.stat(e, "test_mse")[0] - s.stat(top, "test_mse")[0]
    nxt = min((e for e in ranked[1:] if s.stat(e, "test_mse")[1] > 0), key=lambda e: gap(e) / s.stat(e, "test_mse")[1])
    sd = s.stat(nxt, "test_mse")[1]
    shift[tuple(nxt.split("/"))] = gap(nxt) + 0.01 * sd
    assert shift[tuple(nxt.split("/"))] < sd, ("not within the seed spread", nxt, gap(nxt), sd)
def f(r):
    if (r["model"], r["experiment"]) in shift:
        r["test_mse"] = repr(float(r["test_mse"]) - shift[(r["model"], r["experiment"])])
rewrite_runs(D, f)
s2 = Summary(D)
assert [s2.mse_ranked(m)[0] for m in s.models] == ["/".join(k) for k in shift], "the lowest mean did not change"
assert check_expected(D) == before
# 2. each sweep's runner-up point: its run on the shared seed moved just below the lowest
D = copy(S, W + "/sweep")
moves = {}
for (m, w, pts) in s.sweep_blocks():
    low, common = s.sweep_lowest(pts)
    moves[(low.next(), common[0])] = low.comps[low.next()].d + 0.01
def f(r):
    k = (r["model"] + "/" + r["experiment"], int(r["seed"]))
    if k in moves:
        r["test_mse"] = repr(float(r["test_mse"]) - moves[k])
rewrite_runs(D, f)
s2 = Summary(D)
assert sorted(s2.sweep_lowest(p)[0].top for (_, _, p) in s2.sweep_blocks()) == sorted(e for e, _ in moves), "no sweep flipped"
assert check_expected(D) == before
# 3. each optimizer choice moved to its runner-up (score and run just below the chosen one's)
D = copy(S, W + "/opt")
ex = json.load(open(D + "/experiments.json"))
for m, ch in ex["optimizer_choice"].items():
    nxt = sorted((o for o in ch["scores"] if o != ch["chosen"]), key=ch["scores"].get)[0]
    ch["scores"][nxt] = ch["scores"][ch["chosen"]] * (1 - 1e-6)
    for r in ch["runs"][nxt]:
        r["best_val_loss"] = ch["scores"][nxt]
    ch["chosen"] = nxt
json.dump(ex, open(D + "/experiments.json", "w"))
assert check_expected(D) == before
# 4. every run of the model with the higher base mean moved just below the other's base mean
D = copy(S, W + "/models")
(lo_m, a), (hi_m, b) = sorted(((m, list(col(load(S)[2], m, "base").values())) for m in s.models), key=lambda x: np.mean(x[1]))
gap = np.mean(b) - np.mean(a) + 0.01
va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
nu = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
assert gap < stats.t.ppf(0.975, nu) * np.sqrt(va + vb), ("not within Welch's interval", gap)
def f(r):
    if r["model"] == hi_m and r["test_mse"] != "":
        r["test_mse"] = repr(float(r["test_mse"]) - gap)
rewrite_runs(D, f)
assert Summary(D).models_welch()[0] == hi_m, "the lower model did not change"
assert check_expected(D) == before
EOF

check "a perturbation beyond the interval changes the claim: a method, sweep point, optimizer or model made lower than the others by far more than the seed spread is named, as scipy's tests say" \
    "$PYTHON" - "$S" "$W" <<'EOF'
import csv, json, sys
sys.path.insert(0, "tools/pipeline")
from scipy import stats
from claims_scipy import check_expected, claims, copy, rewrite_runs
from paperdata import Summary
S, W = sys.argv[1], sys.argv[2]
before = claims(S)
s = Summary(S)
m = s.models[0]
ranked = s.mse_ranked(m)
names = [e.split("/")[1] for e in ranked]
pick = names[1]
assert before["best." + m] == "unresolved", before["best." + m]
# 1. every method of model m: its base's run of the same seed plus an offset per method (the runner-up
#    30 below, the others 3, 6, ... above) and a small seed-dependent jitter
base = {r["seed"]: float(r["test_mse"]) for r in csv.DictReader(open(S + "/runs.csv"))
        if r["model"] == m and r["experiment"] == "base" and r["status"] == "ok"}
D = copy(S, W + "/best-far")
def f(r):
    if r["model"] == m and r["experiment"] in names and r["status"] == "ok":
        i = names.index(r["experiment"])
        off = -30.0 if r["experiment"] == pick else 3.0 * (i + 1)
        r["test_mse"] = repr(base[r["seed"]] + off + 0.1 * int(r["seed"]) * (i + 1))
rewrite_runs(D, f)
assert check_expected(D)["best." + m] == m + "/" + pick
# 2. every dropout-sweep point of model m run with seeds 2 and 3 too (its seed-1 value with a jitter),
#    the first point far below the others: 20 times the largest seed spread of any point, at least 30
pts = sorted(e.split("/")[1] for (mm, w, p) in s.sweep_blocks() if mm == m and w == "dropout" for (_, _, _, _, e) in p)
seeded = {r["experiment"] for r in csv.DictReader(open(S + "/runs.csv")) if r["model"] == m and r["seed"] == "2"}
far = max([30.0] + [20.0 * s.stat(m + "/" + e, "test_mse")[1] for e in pts if s.stat(m + "/" + e, "test_mse")[1] > 0])
D = copy(S, W + "/sweep-far")
def f(r):
    if r["model"] == m and r["experiment"] in pts and r["status"] == "ok":
        i = pts.index(r["experiment"])
        r["test_mse"] = repr(float(r["test_mse"]) - (far if i == 0 else 0.0))
        if r["seed"] == "1" and r["experiment"] not in seeded:
            return [dict(r, seed=str(k), test_mse=repr(float(r["test_mse"]) + 0.1 * k * (i + 1))) for k in (2, 3)]
rewrite_runs(D, f)
x = Summary(D).cfg(m + "/" + pts[0], "dropout")
assert before["sweep.%s.dropout" % m] == "single-run" and check_expected(D)["sweep.%s.dropout" % m] == repr(float(x))
# 3. a three-seed optimizer study whose second optimizer lies far below the others; then the two lowest
#    within each other's spread (unresolved), the choice either way
D = copy(S, W + "/opt-far")
ex = json.load(open(D + "/experiments.json"))
ch = ex["optimizer_choice"][m]
opts = sorted(ch["scores"])
def study(vals):
    ch["seeds"] = [1, 2, 3]
    ch["runs"] = {o: [{"seed": k, "status": "ok", "best_val_loss": vals[o][k - 1]} for k in (1, 2, 3)] for o in opts}
    ch["scores"] = {o: sum(vals[o]) / 3 for o in opts}
    ch["chosen"] = min(opts, key=lambda o: ch["scores"][o])
    json.dump(ex, open(D + "/experiments.json", "w"))
    return check_expected(D)["optimizer." + m]
assert study({o: [0.05 + 0.01 * i + 0.0001 * k * (i + 1) - (0.03 if i == 1 else 0.0) for k in (1, 2, 3)]
              for i, o in enumerate(opts)}) == opts[1]
close = {o: [0.05 + 0.01 * i * (i > 1) + [0.004, -0.003, 0.002][k - 1] * (1 if i == 0 else -1) * (1 + 0.5 * i)
             for k in (1, 2, 3)] for i, o in enumerate(opts)}
first = study(close), ch["chosen"]
close[opts[0]], close[opts[1]] = close[opts[1]], close[opts[0]]      # the other of the two lowest is chosen
assert first == ("unresolved", opts[1]) and (study(close), ch["chosen"]) == ("unresolved", opts[0]), (first, ch["chosen"])
# ... and each of the others above the chosen one with p near 0.03 (paired t, 2 df): every test alone
# rejects at 0.05, Holm over the three rejects none, so the choice is unresolved
holm_bound = {o: [0.05 + (0.0033 + [-0.001, 0.0, 0.001][k - 1]) * (i > 0) for k in (1, 2, 3)] for i, o in enumerate(opts)}
assert all(0.02 < stats.ttest_rel(holm_bound[o], holm_bound[opts[0]]).pvalue < 0.05 for o in opts[1:])
assert study(holm_bound) == "unresolved"
# 4. one model's runs moved far above the other's
D = copy(S, W + "/models-far")
lo_m, hi_m = s.models_welch()[:2]
def f(r):
    if r["model"] == hi_m and r["test_mse"] != "":
        r["test_mse"] = repr(float(r["test_mse"]) + 500.0)
rewrite_runs(D, f)
assert before["models.lower"] == "unresolved" and check_expected(D)["models.lower"] == lo_m
EOF

check "the stored replications (tab-replication, sent.replication): each one's claims from the claims.py command against this summary's, counted in the table and each differing claim named in the sentence; a replication that is this summary again has every claim alike, one with a regularizer's runs moved far up names that claim; one compared on ConvLSTM alone (its models file) checks only the claims about ConvLSTM, made as from a copy that holds ConvLSTM's rows alone; one with new seeds (setup.json) is said to be, with its seeds, on this kind of machine or on another by its numerics; an unknown model in that file is a one-line error" \
    "$PYTHON" - results/study/summary "$W" <<'EOF'
import csv, glob, json, os, re, shutil, subprocess, sys
sys.path.insert(0, "tools/pipeline")
import paperdata, sentences, tables
S, W = sys.argv[1], sys.argv[2]

def cli_claims(d, models=None):
    out = subprocess.run([sys.executable, "tools/pipeline/claims.py", d] + (["--models", ",".join(models)] if models else []),
                         check=True, capture_output=True, text=True).stdout
    return dict(re.match(r"([^:]+): (.*?)  # ", line).groups() for line in out.splitlines())

def scope_of(d):
    """the models a stored replication is compared on (its models file), None for all"""
    f = os.path.join(os.path.dirname(d), "models")
    return [x.split("#")[0].strip() for x in open(f) if x.split("#")[0].strip()] if os.path.exists(f) else None

def expect(S, reps):
    """reps: {name: summary dir}; the table's 'k of N' and the sentence's differing claims, from the CLI (a
    replication with a models file: the claims about those models, on both summaries seen through them)"""
    s = paperdata.Summary(S)
    vals = {}
    class V:
        def add(self, k, t, src): vals[k] = t
        def sentence(self, k, m): vals[k] = m[0]
    tables.replication_values(s, V())
    tab = tables.tab_replication(s)["tab-replication.tex"]
    full = cli_claims(S)
    assert vals["flag.replication"] == ("1" if reps else "0")
    assert len([l for l in tab.splitlines() if l.endswith("\\\\") and " of " in l]) == len(reps) + 1, tab
    checked, anydiff = set(), set()
    for name, d in sorted(reps.items()):
        scope = scope_of(d)
        here, there = cli_claims(S, scope), cli_claims(d, scope)
        same = sum(1 for k in here if there.get(k) == here[k])
        row = [l for l in tab.splitlines() if l.startswith(paperdata.tex_text(name) + " &")]
        tail = "" if not scope else " (%s)" % ", ".join(s.mlabel(m) for m in s.models if m in scope)
        assert len(row) == 1 and row[0].endswith("& %d of %d%s \\\\" % (same, len(here), tail)), (name, row, same)
        for m in s.models:   # a model outside the scope: no base mean in its row
            if scope and m not in scope:
                assert row[0].split(" & ")[5 + s.models.index(m)] == "--", row
        diff = [k for k in here if there.get(k) != here[k]]
        checked |= set(here)
        anydiff |= set(diff)
        for k in diff:
            assert sentences.claim_phrase(s, k) in vals["sent.replication"], (k, vals["sent.replication"])
        if not diff:
            assert ("on %s every claim is the same" % paperdata.tex_text(name) if not scope else
                    "only: its %s runs are of an earlier recipe) every claim it checks is the same" % ", ".join(
                        s.mlabel(m) for m in s.models if m not in scope)) in vals["sent.replication"].lower().replace(
                            "convlstm", "ConvLSTM").replace("predrnn++", "PredRNN++"), vals["sent.replication"]
    # the abstract's short form: every claim that differs on any of them, and how many do not
    for k in anydiff:
        assert sentences.claim_phrase(s, k) in vals["sent.absreplication"], (k, vals["sent.absreplication"])
    if len(checked) == len(full):
        want = "%s of this paper's %s claims" % (paperdata.words(len(full) - len(anydiff)), paperdata.words(len(full)))
    else:
        want = "%s of the %s claims" % (paperdata.words(len(checked - anydiff)), paperdata.words(len(checked)))
    assert want in vals["sent.absreplication"], (want, vals["sent.absreplication"])
    return vals

# a scale without stored replications (quick): flag 0, no sentence, and a table with no number (the paper
# leaves it out, and check-artifacts looks for every table's numbers in the PDF)
q = paperdata.Summary("results/quick/summary")
assert not q.replications()
qv = {}
class QV:
    def add(self, k, t, src): qv[k] = t
    def sentence(self, k, m): qv[k] = m[0]
tables.replication_values(q, QV())
assert qv["flag.replication"] == "0" and qv["sent.replication"] == "" == qv["sent.absreplication"], qv
assert not re.search(r"\d", tables.tab_replication(q)["tab-replication.tex"].split("(")[0]), tables.tab_replication(q)
reps = {os.path.basename(os.path.dirname(d)): d for d in glob.glob("experiments/scales/study/replications/*/summary")}
assert reps, "no stored replication of the study"
expect(S, reps)
# a scratch replications folder: this summary itself, and a copy with the runs of a ConvLSTM regularizer that
# is "unclear" here moved 60 up (so "worse" there)
def moved(name, eid, by):
    d = os.path.join(W, name) if "/" not in name else name
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(S, d)
    rows = list(csv.DictReader(open(d + "/runs.csv")))
    for r in rows:
        if "%s/%s" % (r["model"], r["experiment"]) == eid and r["test_mse"]:
            r["test_mse"] = repr(float(r["test_mse"]) + by)
    with open(d + "/runs.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    return d

mine = cli_claims(S)
target = next(e for e in ("convlstm/rec_dropout", "convlstm/dropout", "convlstm/layernorm") if mine["regularizer." + e] == "unclear")
root = os.path.join(W, "scales", "study", "replications")
shutil.rmtree(root, ignore_errors=True)
shutil.copytree(S, os.path.join(root, "same", "summary"))
far = moved(os.path.join(root, "far", "summary"), target, 60.0)
paperdata.REPLICATIONS = os.path.join(W, "scales", "%s", "replications")
s = paperdata.Summary(S)
vals = expect(S, {"same": os.path.join(root, "same", "summary"), "far": far})
assert cli_claims(far)["regularizer." + target] == "worse" != mine["regularizer." + target]
assert sentences.claim_phrase(s, "regularizer." + target) in vals["sent.replication"], vals["sent.replication"]
assert "on same every claim is the same" in vals["sent.replication"], vals["sent.replication"]
# a replication compared on ConvLSTM alone (a models file): its PredRNN++ runs moved far up change nothing it
# checks, its row counts the ConvLSTM claims and shows no PredRNN++ base, and the sentences say so
shutil.rmtree(root)
shutil.copytree(S, os.path.join(root, "same", "summary"))
scoped = moved(os.path.join(root, "scoped", "summary"), "predrnn_pp/base", 60.0)
with open(os.path.join(root, "scoped", "models"), "w") as f:
    f.write("# its PredRNN++ runs: an earlier recipe\nconvlstm\n")
assert cli_claims(scoped)["base.predrnn_pp.learnt_mse"] != mine["base.predrnn_pp.learnt_mse"]
vals = expect(S, {"same": os.path.join(root, "same", "summary"), "scoped": scoped})
assert "on scoped (ConvLSTM only: its PredRNN++ runs are of an earlier recipe) every claim it checks is the same" \
    in vals["sent.replication"], vals["sent.replication"]
assert sentences.claim_phrase(s, "base.predrnn_pp.learnt_mse") not in vals["sent.replication"]
# the claims of a summary seen through ConvLSTM (claims.py --models) are those of a copy that holds
# ConvLSTM's rows alone: every Holm family over ConvLSTM's tests only
alone = os.path.join(W, "convlstm-alone")
shutil.rmtree(alone, ignore_errors=True)
shutil.copytree(S, alone)
for fname in ("runs.csv", "frames.csv", "curves.csv", "protocol.csv"):
    rows = list(csv.DictReader(open(os.path.join(alone, fname))))
    with open(os.path.join(alone, fname), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows([r for r in rows if r["model"] != "predrnn_pp"])
ex = json.load(open(os.path.join(alone, "experiments.json")))
ex["experiments"] = {k: v for k, v in ex["experiments"].items() if v["model"] != "predrnn_pp"}
ex["optimizer_choice"].pop("predrnn_pp", None)
json.dump(ex, open(os.path.join(alone, "experiments.json"), "w"))
out = lambda *a: subprocess.run([sys.executable, "tools/pipeline/claims.py", *a], check=True, capture_output=True,  # noqa: E731
                                text=True).stdout
assert out(alone) == out(S, "--models", "convlstm") and "predrnn_pp" not in out(alone), (out(alone), out(S, "--models", "convlstm"))
# a models file naming a model the summaries lack: one line naming the file
with open(os.path.join(root, "scoped", "models"), "w") as f:
    f.write("convlstm\nconvgru\n")
r = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'tools/pipeline'); import paperdata; "
                    "paperdata.REPLICATIONS = %r; paperdata.Summary(%r).replications()" % (paperdata.REPLICATIONS, S)],
                   capture_output=True, text=True)
assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "scoped/models: unknown model 'convgru'" in r.stderr, r.stderr
# check-artifacts names a claim that flips from unclear to resolved "resolved on one side only", and one
# resolved both ways (a regularizer moved 60 up, "worse", against the same moved 60 down, "better") a contradiction
up, down = moved("l2-up", "convlstm/l2", 60.0), moved("l2-down", "convlstm/l2", -60.0)
assert (cli_claims(up)["regularizer.convlstm/l2"], cli_claims(down)["regularizer.convlstm/l2"]) == ("worse", "better")
far = moved("far-again", target, 60.0)   # the one in the replications folder went with it above
for a, d, line in ((S, far, "    regularizer.%s [resolved on one side only]: committed unclear" % target),
                   (up, down, "    regularizer.convlstm/l2 [contradiction: resolved both ways]: committed worse")):
    out = subprocess.run([sys.executable, "tools/pipeline/compare_summaries.py", a, d], capture_output=True, text=True).stdout
    assert line in out, (line, out)
# a regeneration with new seeds: on this summary's numerics it is "a machine of this paper's kind", on other
# numerics "another machine", each with its seeds in the lead sentence and the table; the abstract counts the
# kinds; a regularizer moved far up in it is named as on any replication
def reseeded(name, numerics=None, by=0.0):
    d = moved(os.path.join(root, name, "summary"), target, by)
    st = json.load(open(os.path.join(d, "setup.json")))
    st.update(seeds=[6, 7, 8], opt_seeds=[6], sweep_seeds=[6], control_seeds=[6, 7, 8, 9, 10])
    if numerics:
        st["numerics"] = dict(st["numerics"], **numerics)
    json.dump(st, open(os.path.join(d, "setup.json"), "w"))
    return d
shutil.rmtree(root)
scoped = moved(os.path.join(root, "scoped", "summary"), "predrnn_pp/base", 60.0)
with open(os.path.join(root, "scoped", "models"), "w") as f:
    f.write("convlstm\n")
vals = expect(S, {"seeds": reseeded("seeds", by=60.0), "scoped": scoped})
lead = vals["sent.replication"].split(". Of this paper")[0]
assert ("from a fresh clone twice (Table" in lead and
        "on one other machine with this paper's seeds, where another CPU" in lead and
        "; and on a machine of this paper's kind (the same numerics) with the new seeds 6--8 (the control regime's 6--10)" in lead), lead
assert sentences.claim_phrase(s, "regularizer." + target) in vals["sent.replication"], vals["sent.replication"]
assert vals["sent.absreplication"].startswith("Regenerated from a fresh clone on one other machine (on ConvLSTM's claims) "
                                              "and once with new seeds on this kind of machine, "), vals["sent.absreplication"]
row = [l for l in tables.tab_replication(s)["tab-replication.tex"].splitlines() if l.startswith("seeds &")]
assert len(row) == 1 and row[0].split(" & ")[4] == "6--8 (6--10)", row
shutil.rmtree(root)
other = reseeded("elsewhere", numerics={"cpu": "AMD EPYC 7B13", "cpu_flags": ""})
vals = expect(S, {"elsewhere": other})
assert vals["sent.replication"].startswith(
    "This study was also regenerated from a fresh clone once (Table~\\ref{tab:replication}): on another machine with the new "
    "seeds 6--8 (the control regime's 6--10); new seeds draw"), vals["sent.replication"]
assert vals["sent.absreplication"].startswith("Regenerated from a fresh clone once with new seeds on another machine, "), vals["sent.absreplication"]
st = paperdata.Summary(other)
for xs, want in (([1, 2, 3], "1--3"), ([1, 2], "1, 2"), ([1, 2, 4], "1, 2, 4"), ([5, 3, 4], "3--5")):
    st.setup.update(seeds=xs, control_seeds=xs)
    assert st.seeds_words() == want, (xs, st.seeds_words())
EOF
# the horizon (issue 14's easier variant): the short scale runs the study scale's recipe on two predicted
# frames; each paper says what the other horizon shows, with numbers recomputed here from runs.csv
check "the horizon sentences (sent.horizon, sent.abshorizon, the literature's and the abstract's notes): the horizon read off the configs, the other horizon's SSIM, MSE ratios and base MSE recomputed from its runs.csv with csv and statistics; no sentence on the standard horizon without a twin; the short scale's sizes and seeds as its committed runs' resolved configs and setup.json give them" \
    "$PYTHON" - "$W" <<'EOF'
import csv, json, os, shutil, statistics, sys
sys.path.insert(0, "tools/pipeline")
import paperdata, sentences
W = sys.argv[1]

def base_means(d, col):
    rows = [r for r in csv.DictReader(open(d + "/runs.csv")) if r["status"] == "ok"]
    out = {m: statistics.mean(float(r[col]) for r in rows if r["model"] == m and r["experiment"] == "base")
           for m in ("convlstm", "predrnn_pp")}
    out["zero"] = statistics.mean(float(r[col]) for r in rows if r["model"] == "baseline" and r["experiment"] == "zero")
    return out

def horizon_copy(src, name, seq_len, ssim=None):
    """src's summary with every run's seq_len set (and the base runs' SSIM, if given)."""
    d = os.path.join(W, name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(src, d)
    ex = json.load(open(d + "/experiments.json"))
    for e in ex["experiments"].values():
        e["config"]["seq_len"] = str(seq_len) if isinstance(e["config"].get("seq_len"), str) else seq_len
    json.dump(ex, open(d + "/experiments.json", "w"))
    if ssim is not None:
        rows = list(csv.DictReader(open(d + "/runs.csv")))
        for r in rows:
            if r["experiment"] == "base" and r["test_ssim"]:
                r["test_ssim"] = repr(ssim)
        with open(d + "/runs.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)
    return d

S10 = "results/study/summary"
ten = paperdata.Summary(S10)
assert ten.future() == 10 == int(ten.cfg("convlstm/base", "seq_len")) - int(ten.cfg("convlstm/base", "input_frames"))
# the standard horizon without a twin: nothing to say
assert sentences.horizon(ten)[0] == "" == sentences.abshorizon(ten)[0]
assert "They are means over" not in sentences.literature(ten)[0] and "over ten predicted frames" not in sentences.absbaselines(ten)[0]
# a two-frame copy of the study summary, the ten-frame study its twin
two = paperdata.Summary(horizon_copy(S10, "two", 12))
two.twin = paperdata.Summary(S10)
assert two.future() == 2
ssim, mse = base_means(S10, "test_ssim"), base_means(S10, "test_mse")
h = sentences.horizon(two)[0]
for m, label in (("convlstm", "ConvLSTM"), ("predrnn_pp", "PredRNN++")):
    assert "%s's %.3f" % (label, ssim[m]) in h, (m, ssim[m], h)
    assert "%.2f" % (mse[m] / mse["zero"]) in h, (m, h)
assert "against %.3f" % ssim["zero"] in h and "ten predicted frames (the \\texttt{study} scale" in h, h
want_below = all(ssim[m] <= ssim["zero"] for m in ("convlstm", "predrnn_pp"))
assert ("stays below that of black frames" in h) == want_below, h
a = sentences.abshorizon(two)[0]
assert a.startswith("It predicts two frames from ten, not the standard ten"), a
assert ("neither base model's SSIM rises above that of black frames" in a) == want_below, a
lit = sentences.literature(two)[0]
assert "They are means over ten predicted frames and ours over two" in lit, lit
assert "On ten frames, the study scale's base models reach ConvLSTM %.1f and PredRNN++ %.1f." % (mse["convlstm"], mse["predrnn_pp"]) in lit, lit
assert "(over ten predicted frames" in sentences.absbaselines(two)[0], sentences.absbaselines(two)[0]
# the study's paper names its two-frame twin; a twin whose base SSIM is above black frames' is said to be so
up = paperdata.Summary(horizon_copy(S10, "two-up", 12, ssim=0.9))
ten.twin = up
h = sentences.horizon(ten)[0]
assert h.startswith("The \\texttt{study} scale runs this recipe on two predicted frames, where the base models' SSIM, "
                    "ConvLSTM's 0.900 and PredRNN++'s 0.900 against %.3f, is above that of black frames" % ssim["zero"]), h
assert sentences.abshorizon(ten)[0] == ""
# the short scale's files: its sizes (includes followed) as its committed runs' resolved configs, its seeds
# (study's scale.mk, through its include) as its summary's setup.json
for m in ("convlstm", "predrnn_pp"):
    got = sentences.scale_conf("short", m + ".conf")
    cfg = dict(l.split(" = ", 1) for l in open("results/short/%s/base/1/config" % m).read().splitlines() if " = " in l)
    for k, v in got.items():
        if k != "include":
            assert cfg[k].strip() == v, (m, k, v, cfg[k])
    assert got["seq_len"] == "12" and "include" not in got, got
setup = json.load(open("results/short/summary/setup.json"))
assert [int(x) for x in sentences.scale_mk_words("short", "SEEDS")] == setup["seeds"], setup["seeds"]
assert [int(x) for x in sentences.scale_mk_words("short", "CONTROL_SEEDS")] == setup["control_seeds"]
EOF

exit $((fails > 0))

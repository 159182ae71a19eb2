"""claims_scipy.py — the interval-backed claims of tools/pipeline/claims.py recomputed from a summary's
CSV and JSON files with scipy's tests and Holm's step-down procedure as Holm (1979) states it, sharing no
code with tools/pipeline; and the helpers that perturb a copy of a summary (tests/test_paperstats.sh)."""
import csv
import json
import re
import shutil
import subprocess
import sys

import numpy as np
from scipy import stats

ALPHA = 0.05


def holm_rejects(ps):
    """{key: p} -> the keys Holm's procedure rejects at ALPHA: step down while p_(j) <= ALPHA / (m - j + 1)."""
    order = sorted(ps, key=ps.get)
    out = set()
    for j, k in enumerate(order):
        if ps[k] > ALPHA / (len(order) - j):
            break
        out.add(k)
    return out


def load(S):
    """(finished runs.csv rows, experiments.json, {(model, experiment): {seed: row}})."""
    runs = [r for r in csv.DictReader(open(S + "/runs.csv")) if r["status"] == "ok"]
    ex = json.load(open(S + "/experiments.json"))
    val = {}
    for r in runs:
        if r["test_mse"] != "":
            val.setdefault((r["model"], r["experiment"]), {})[int(r["seed"])] = r
    return runs, ex, val


def col(val, m, e, c="test_mse"):
    """{seed: value} of one column of experiment m/e."""
    return {k: float(r[c]) for k, r in val.get((m, e), {}).items() if r[c] != ""}


def below_all(top, others):
    """Whether the candidate top = {seed: value} is below each of others = {name: {seed: value}}: paired
    t-tests (scipy.stats.ttest_rel) over the seeds both have, Holm over the others, each rejected with the
    other's mean above."""
    ps, diffs = {}, {}
    for o, v in others.items():
        ks = sorted(set(v) & set(top))
        a, b = np.array([v[k] for k in ks]), np.array([top[k] for k in ks])
        diffs[o] = a - b
        if len(ks) >= 2:
            ps[o] = stats.ttest_rel(a, b).pvalue
    rej = holm_rejects(ps)
    return all(o in rej and diffs[o].mean() > 0 for o in others)


def expected(S):
    """{claim id: value} of the which-one and yes/no claims that rest on intervals."""
    runs, ex, val = load(S)
    exps, out = ex["experiments"], {}
    models = sorted({e["model"] for e in exps.values()})
    # the regularizers: seeded experiments other than the base and the controls (fresh_train = 1)
    regs = [(m, e) for (m, e) in val if m + "/" + e in exps and exps[m + "/" + e]["stage"] == "main" and e != "base"
            and exps[m + "/" + e]["config"].get("fresh_train") != "1"]

    def diffs_to_base(m, e):
        a, b = col(val, m, e), col(val, m, "base")
        ks = sorted(set(a) & set(b))
        return [a[k] for k in ks], [b[k] for k in ks]
    # the regularizer family: each regularizer's paired t-test against its base, Holm over all of them
    reg_p = {k: stats.ttest_rel(*diffs_to_base(*k)).pvalue for k in regs if len(diffs_to_base(*k)[0]) >= 2}
    reg_rej = holm_rejects(reg_p)

    def reg_d(m, e):
        a, b = diffs_to_base(m, e)
        return np.mean(np.array(a) - np.array(b))
    for m in models:
        cands = [e for (mm, e) in val if mm == m and (e == "base" or (m, e) in regs)]
        if not cands:
            continue
        top = min(cands, key=lambda e: np.mean(list(col(val, m, e).values())))
        if top == "base":
            ok = all((m, e) in reg_rej and reg_d(m, e) > 0 for e in cands if e != "base")
        else:
            ok = (m, top) in reg_rej and reg_d(m, top) < 0 and below_all(
                col(val, m, top), {e: col(val, m, e) for e in cands if e not in ("base", top)})
        out["best." + m] = m + "/" + top if ok else "unresolved"
    # the sweeps: on the seeds that every point has
    for m in models:
        for w, sw in ex.get("sweeps", {}).items():
            pts = [p for p in sw["points"] if m + "/" + p in exps and (m, p) in val]
            if not pts:
                continue
            common = sorted(set.intersection(*[set(col(val, m, p)) for p in pts]))
            if not common:
                continue
            v = {p: {k: col(val, m, p)[k] for k in common} for p in pts}
            top = min(pts, key=lambda p: np.mean(list(v[p].values())))
            x = repr(float(exps[m + "/" + top]["config"][sw["key"]]))
            out["sweep.%s.%s" % (m, w)] = "single-run" if len(common) < 2 else \
                x if below_all(v[top], {p: v[p] for p in pts if p != top}) else "unresolved"
    # the optimizer study's recorded choice, by its runs' best validation losses
    for m, ch in ex["optimizer_choice"].items():
        if len(ch["seeds"]) < 2:
            out["optimizer." + m] = "single-run"
            continue
        v = {o: {r["seed"]: r["best_val_loss"] for r in rs if r["best_val_loss"] is not None} for o, rs in ch["runs"].items()}
        live = {o: x for o, x in v.items() if o != ch["chosen"] and x}
        out["optimizer." + m] = ch["chosen"] if below_all(v[ch["chosen"]], live) else "unresolved"
    # the two base models: Welch's test
    b = {m: list(col(val, m, "base").values()) for m in models if col(val, m, "base")}
    if len(b) == 2:
        lo_m = min(b, key=lambda m: np.mean(b[m]))
        hi_m = [m for m in b if m != lo_m][0]
        p = stats.ttest_ind(b[hi_m], b[lo_m], equal_var=False).pvalue
        out["models.lower"] = lo_m if p <= ALPHA else "unresolved"
    # each base model against a baseline (one deterministic value): one-sample t-tests, Holm over the models
    base_v = {(r["experiment"], c): float(r[c]) for r in runs if r["model"] == "baseline" for c in ("test_mse", "test_ssim")}
    for ref, c, name, below in (("copy_last", "test_mse", "below_copy_last", True), ("zero", "test_mse", "below_zero", True),
                                ("zero", "test_ssim", "ssim_above_zero", False)):
        d = {m: np.array(list(col(val, m, "base", c).values())) - base_v[(ref, c)] for m in b}
        rej = holm_rejects({m: stats.ttest_1samp(d[m], 0.0).pvalue for m in d})
        for m in d:
            out["base.%s.%s" % (m, name)] = ("yes" if (d[m].mean() < 0) == below else "no") if m in rej else "unresolved"
    # the MSE line of the study's criterion: the base runs' test MSE minus 0.75 x all-zero's (issue 14)
    d = {m: np.array(list(col(val, m, "base", "test_mse").values())) - 0.75 * base_v[("zero", "test_mse")] for m in b}
    rej = holm_rejects({m: stats.ttest_1samp(d[m], 0.0).pvalue for m in d})
    for m in d:
        out["base.%s.learnt_mse" % m] = ("yes" if d[m].mean() < 0 else "no") if m in rej else "unresolved"
    # per frame: the base runs' MSE at each frame minus all-zero's there, Holm over every frame of both models
    frames = list(csv.DictReader(open(S + "/frames.csv")))
    fz = {int(r["frame"]): float(r["mse"]) for r in frames if r["model"] == "baseline" and r["experiment"] == "zero"}
    d = {}
    for m in b:
        seeds = {str(k) for k in col(val, m, "base")}
        for r in frames:
            if r["model"] == m and r["experiment"] == "base" and r["seed"] in seeds:
                d.setdefault((m, int(r["frame"])), []).append(float(r["mse"]) - fz[int(r["frame"])])
    rej = holm_rejects({k: stats.ttest_1samp(x, 0.0).pvalue for k, x in d.items()})
    for m in b:
        ks = [k for k in d if k[0] == m]
        below = [k for k in ks if k in rej and np.mean(d[k]) < 0]
        above = [k for k in ks if k in rej and np.mean(d[k]) > 0]
        out["base.%s.below_zero_every_frame" % m] = "yes" if len(below) == len(ks) else "no" if above else "unresolved"
    # the control regime: per model with fresh-sequence runs (fresh_train = 1), seed pairs without an
    # unstable run (last validation loss > 1.10 x best); growth of the gap from the start of free running
    # to the end, fresh minus base, per seed, each end the mean gap of w = min(5, half the free-running
    # epochs) epochs; scipy's t-test of its mean, Holm over the models
    curves = list(csv.DictReader(open(S + "/curves.csv")))
    reg_p, reg_less, reg_mean = {}, {}, {}
    rr = {(r["model"], r["experiment"], r["seed"]): r for r in runs if r["status"] == "ok"}
    for eid, x in exps.items():
        if x["config"].get("fresh_train") != "1":
            continue
        m, name = eid.split("/")
        c = exps[m + "/base"]["config"]
        e0 = -(-int(c["sampling_iters"]) // (int(c["n_train"]) // int(c["batch"]))) + 1
        gap = {}
        for r in curves:
            if r["model"] == m and r["experiment"] in (name, "base"):
                gap.setdefault((r["experiment"], r["seed"]), {})[int(r["epoch"])] = float(r["val_loss"]) - float(r["train_loss"])
        seeds = sorted({sd for (e, sd) in gap if e == name and ("base", sd) in gap}, key=int)
        unstable = [sd for sd in seeds if any(float(rr[(m, e, sd)]["last_val_loss"]) > 1.10 * float(rr[(m, e, sd)]["best_val_loss"])
                                              for e in (name, "base"))]
        keep = [sd for sd in seeds if sd not in unstable]
        if not keep:
            out["regime." + m] = "not-computed"
            continue
        last = max(gap[(name, keep[0])])
        w = max(1, min(5, (last - e0 + 1) // 2))
        def ends(g):
            return (np.mean([g[e] for e in range(e0, e0 + w)]), np.mean([g[e] for e in range(last - w + 1, last + 1)]))
        growth = np.array([np.subtract(*ends(gap[(name, sd)])[::-1]) - np.subtract(*ends(gap[("base", sd)])[::-1])
                           for sd in keep])
        f_last = np.mean([ends(gap[(name, sd)])[1] for sd in keep])
        base_last = min(ends(g)[1] for (e, sd), g in gap.items() if e == "base")
        less = bool((growth < 0).all()) and f_last < base_last
        if len(keep) == 1:
            out["regime." + m] = "single-run"
        else:
            reg_p[m], reg_less[m], reg_mean[m] = stats.ttest_1samp(growth, 0.0).pvalue, less, growth.mean()
    rej = holm_rejects(reg_p)
    for m in reg_p:
        out["regime." + m] = ("overfit" if reg_less[m] and m in rej and reg_mean[m] < 0 else
                              "unresolved" if reg_less[m] else "not-overfit")
    return out


def claims(S):
    """{claim id: value} as tools/pipeline/claims.py prints them."""
    txt = subprocess.run([sys.executable, "tools/pipeline/claims.py", S], check=True, capture_output=True, text=True).stdout
    return dict(re.match(r"([^:]+): (.*?)  # ", line).groups() for line in txt.splitlines())


def copy(S, dst):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(S, dst)
    return dst


def rewrite_runs(D, f):
    """runs.csv of D with f(row) applied to every row (f edits the row; rows it returns are added)."""
    rows = list(csv.DictReader(open(D + "/runs.csv")))
    extra = []
    for r in rows:
        extra += f(r) or []
    with open(D + "/runs.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows + extra)


def check_expected(S):
    """Every claim that expected() computes equals claims.py's, and claims.py has no which-one claim that
    expected() lacks; returns claims.py's claims."""
    got, want = claims(S), expected(S)
    bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    assert not bad, ("claims.py (got) against scipy (want)", S, bad)
    extra = [k for k in got if k.startswith(("best.", "sweep.", "optimizer.", "models.", "base.", "regime.")) and k not in want]
    assert not extra, ("claims that scipy did not recompute", extra)
    return got

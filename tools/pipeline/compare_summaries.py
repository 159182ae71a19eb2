#!/usr/bin/env python3
"""compare_summaries.py — a fresh summary against the committed one, as a reviewer needs them to agree
(`make check-artifacts`, tools/pipeline/check_artifacts.sh). Prints test-style lines (ok / FAIL / skip)
and exits 1 on a FAIL. Five checks:

  0. optimizer The optimizer study's recorded choice per model (experiments.json, choose_optimizer.py) is
               a pipeline decision: every stage-2 run of the model (every experiment but opt-*) includes
               it, so a flipped choice changes all of them. It is expected only where the choice is not
               resolved by the study's seeds (claims.py's optimizer.<model> is "unresolved" or
               "single-run" on both sides: the lowest mean of, e.g., one run per optimizer, which another
               machine's rounding may reorder). Such a flip is reported in one line (skip), and that
               model's stage-2 experiments are left out of the means check (1), which would compare runs
               trained with different optimizers; the claims (3) are still compared. A flip of a choice
               that is resolved on either side FAILs.
  1. means     For every experiment e (model/name) and metric f in MEANS_FIELDS, over the finished
               (status ok) runs of each side: means m_c, m_f, sample sds s_c, s_f, counts n_c, n_f.
               Welch's test of equal means: t = (m_f - m_c) / se, se = sqrt(s_c^2/n_c + s_f^2/n_f),
               nu = se^4 / ((s_c^2/n_c)^2/(n_c-1) + (s_f^2/n_f)^2/(n_f-1)) (Welch-Satterthwaite),
               two-sided p = 2 (1 - T_nu(|t|)). The p-values of all (e, f) are tested together with
               Holm's step-down procedure at family-wise level ALPHA = 0.05: sorted p_(1) <= ... <= p_(k),
               p_(i) fails when p_(j) <= ALPHA / (k - j + 1) for every j <= i. So a comparison fails when
               |m_f - m_c| > t_{1 - a_i/2, nu} * se, a_i its Holm level (printed with the numbers), and
               the whole check gives a false alarm with probability <= 5 % when both sides' runs come
               from the same distribution. Floor for a side with fewer than two runs (an experiment run
               with one seed: optimizer study, sweep points) or zero spread: its s and n-1 are those of
               the same model's base experiment on that side (seed-to-seed spread of the model, trained
               under the same protocol); when that has fewer than two runs too, or the experiment is a
               run-once one (stage "once": the centred head and its control, trained under a protocol of
               their own whose spread the base's does not measure), the means must be equal (printed as
               skip when they are not: no spread to test against).
  2. baselines the all-zero and copy-last-frame rows (no training: only the data and the metric code)
               agree to a relative 1e-5.
  3. claims    every claim of the paper (tools/pipeline/claims.py: whether the optimizer choice is
               resolved, which regularizer is better/worse/unclear, base below the baselines, ...) is the
               same on both sides: a claim that flips between machines was not supported by its
               interval. Every claim is interval-backed, so the lowest of several means (the best method,
               a sweep's best point, the lower model) is a claim only where the seeds resolve it, and
               "unresolved" or "single-run" otherwise: its order may differ between machines. Each
               failing claim is marked a contradiction (resolved both ways) or resolved on one side only.
  4. per run   bit for bit (runs.csv without its timing columns, frames.csv, curves.csv without seconds)
               only where setup.json's "numerics" (CPU model and bf16 flags, BLAS library and core,
               precision, conv engine, threads, backend, math; summarize.py) are known, one value for
               every run, and equal on both sides — where both sides ran the portable build (math
               "portable", docs/portable.md), on any CPUs, and where both sides ran the same seeds
               (setup.json's seed lists: a regeneration with other seeds, make reproduce SEEDS=..., has
               other runs); otherwise one skip line saying which differ or are unknown.

  compare_summaries.py COMMITTED_SUMMARY_DIR FRESH_SUMMARY_DIR
Run from the repository root (claims.py reads experiments/report/original.csv)."""
import csv
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402
from paperdata import SEED_KEYS  # noqa: E402

T = "check-artifacts"
ALPHA = 0.05
MEANS_FIELDS = ["test_mse", "test_psnr", "test_ssim"]
BASELINE_RTOL = 1e-5
TIMING = {"train_seconds", "wall_seconds", "seq_per_s", "seconds"}
# claim values that assert nothing (claims.py): a flip to or from one of them is a claim resolved on one
# side only, which a regeneration repeats only as often as the test's power allows; every other flip is a
# contradiction. Both fail the check; the failure line says which. The control regime's "not-overfit" is
# one of them: not every seed points the same way, and the paper says only that these seeds do not show
# overfitting (sentences.regime).
OPEN_CLAIMS = {"unclear", "unresolved", "single-run", "not-computed", "no-interval", "not-overfit"}
LOG = pl.CheckLog(T)
ok, fail, skip = LOG.ok, LOG.fail, LOG.skip


def rows(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    with open(p, newline="") as f:
        return list(csv.DictReader(f))


def runs_by_exp(runs):
    """{(model, experiment): [row]} of runs.csv."""
    out = {}
    for r in runs:
        out.setdefault((r["model"], r["experiment"]), []).append(r)
    return out


def side_stats(rs, field, base_rs):
    """(mean, variance of the mean, df, n, note) of a field over rows rs (status ok); the floor for fewer
    than two runs or no spread: the base experiment's variance (its n - 1 as df), where base_rs is given
    (not for a run-once experiment: check_means)."""
    xs = [float(r[field]) for r in rs if r["status"] == "ok" and r.get(field) not in (None, "")]
    n = len(xs)
    if n == 0:
        return None
    m, s = pl.mean(xs), pl.std(xs)
    if n >= 2 and s > 0:
        return m, s * s / n, n - 1, n, ""
    bx = [float(r[field]) for r in base_rs if r["status"] == "ok" and r.get(field) not in (None, "")]
    if len(bx) >= 2 and pl.std(bx) > 0:
        return m, pl.std(bx) ** 2 / n, len(bx) - 1, n, " (spread of the base: %d runs)" % len(bx)
    return m, 0.0, 0, n, " (no spread)"


def welch(m1, v1, df1, m2, v2, df2):
    """Welch's two-sided test of equal means from each side's mean, variance of the mean (s^2/n) and
    degrees of freedom (n - 1): (p, nu, se), nu by Welch-Satterthwaite (Welch 1947, Biometrika 34)."""
    var = v1 + v2
    se = math.sqrt(var)
    nu = var * var / sum(v * v / df for v, df in ((v1, df1), (v2, df2)) if v > 0)
    return 2.0 * (1.0 - pl.t_cdf(abs(m2 - m1) / se, nu)), nu, se


def check_choice(cdir, fdir):
    """Check 0: the models whose recorded optimizer choice differs between the two summaries (a set; each
    reported in one line: skip where the choice is unresolved on both sides, FAIL where resolved)."""
    from paperdata import optimizer_lowest
    try:
        cc = pl.read_json(os.path.join(cdir, "experiments.json"))["optimizer_choice"]
        fc = pl.read_json(os.path.join(fdir, "experiments.json"))["optimizer_choice"]
        flips = [(m, cc[m], fc[m], optimizer_lowest(cc[m]).status, optimizer_lowest(fc[m]).status)
                 for m in sorted(set(cc) & set(fc)) if cc[m]["chosen"] != fc[m]["chosen"]]
    except (OSError, KeyError, ValueError, TypeError, AttributeError) as e:
        fail("the optimizer choices could not be read from experiments.json: %s: %s" % (type(e).__name__, e))
        return set()
    for m, c, f, sc, sf in flips:
        what = ("optimizer choice for %s differs (committed %s, fresh %s): every stage-2 run of %s was trained with "
                "another optimizer, so its stage-2 means are not compared" % (m, c["chosen"], f["chosen"], m))
        if sc != "resolved" and sf != "resolved":
            skip(what, "expected, since the choice is not resolved by the study's seeds (committed %s, fresh %s)" % (sc, sf))
        else:
            fail("%s; the choice is resolved by the study's seeds (committed %s, fresh %s), so it must not flip" % (what, sc, sf))
    return {m for m, *_ in flips}


def check_means(com, fre, flipped=(), once=()):
    """Check 1; the stage-2 experiments of the models in flipped (check_choice) are left out. The base's
    spread stands in for a single run's only where that run was trained as the base is (an optimizer-study
    run, a sweep point: one key changed); a run-once experiment (once: (model, name) of stage "once", the
    centred head and its control) is trained under a protocol of its own (teacher forcing, other epochs,
    last weights), whose run-to-run spread the base's does not measure, so one run of it on each side has
    no spread to test against (a skip line)."""
    ce, fe = runs_by_exp(com), runs_by_exp(fre)
    tests, nospread, missing = [], [], []
    for key in sorted(set(ce) | set(fe)):
        if key[0] == "baseline" or (key[0] in flipped and not key[1].startswith("opt-")):
            continue
        if key not in ce or key not in fe:
            missing.append("%s/%s (%s only)" % (key[0], key[1], "committed" if key in ce else "fresh"))
            continue
        for f in MEANS_FIELDS:
            a = side_stats(ce[key], f, [] if key in once else ce.get((key[0], "base"), []))
            b = side_stats(fe[key], f, [] if key in once else fe.get((key[0], "base"), []))
            if a is None and b is None:
                continue
            if a is None or b is None:
                missing.append("%s/%s %s (no finished run %s)" % (key[0], key[1], f, "committed" if a is None else "fresh"))
                continue
            var = a[1] + b[1]
            diff = b[0] - a[0]
            desc = "%s/%s %s: committed %.6g (n %d%s), fresh %.6g (n %d%s)" % (
                key[0], key[1], f, a[0], a[3], a[4], b[0], b[3], b[4])
            if var == 0:
                if diff != 0:
                    nospread.append(desc)
                continue
            p, nu, se = welch(a[0], a[1], a[2], b[0], b[1], b[2])
            tests.append((p, desc, diff, se, nu))
    for m in missing:
        fail("experiment in only one summary: %s" % m)
    for d in nospread:
        skip("mean of %s" % d, "no seed spread to test the difference against (fewer than two runs of it, and "
             "no base of the same protocol to stand in)")
    k = len(tests)
    bad, rejecting = [], True
    for i, (p, desc, diff, se, nu) in enumerate(sorted(tests, key=lambda x: x[0])):
        level = ALPHA / (k - i)
        if rejecting and p <= level:
            bad.append("%s: |difference| %.4g > %.4g = t(1 - %.3g/2, %.1f df) x se %.4g (Welch p = %.2g, Holm level %.3g)" % (
                desc, abs(diff), pl.t_ppf(1 - level / 2, nu) * se, level, nu, se, p, level))
        else:
            rejecting = False
    if bad:
        fail("per-experiment means differ beyond the seed spread (Welch, Holm at %g over %d comparisons):%s" % (
            ALPHA, k, "".join("\n    " + b for b in bad)))
    else:
        worst = min(tests, key=lambda x: x[0]) if tests else None
        ok("per-experiment means of %s agree within the seed spread: %d comparisons, Welch's test with Holm's "
           "correction at family-wise level %g%s" % (", ".join(MEANS_FIELDS), k, ALPHA,
                                                    "; smallest p = %.2g (%s)" % (worst[0], worst[1]) if worst else ""))


def check_baselines(com, fre):
    cb = {r["experiment"]: r for r in com if r["model"] == "baseline"}
    fb = {r["experiment"]: r for r in fre if r["model"] == "baseline"}
    if not cb and not fb:
        skip("baselines", "neither summary has baseline rows")
        return
    bad = []
    for b in sorted(set(cb) | set(fb)):
        if b not in cb or b not in fb:
            bad.append("%s: in the %s summary only" % (b, "committed" if b in cb else "fresh"))
            continue
        for f in [k for k in cb[b] if k.startswith("test_")]:
            x, y = cb[b][f], fb[b].get(f)
            if x in ("", None) and y in ("", None):
                continue
            if x in ("", None) or y in ("", None) or not abs(float(y) - float(x)) <= BASELINE_RTOL * abs(float(x)):
                bad.append("%s %s: committed %s, fresh %s" % (b, f, x, y))
    (fail if bad else ok)("the baselines (%s) agree to a relative %g%s" % (
        ", ".join(sorted(cb)), BASELINE_RTOL, "".join("\n    " + x for x in bad)))


def check_claims(cdir, fdir):
    import claims as cl
    from paperdata import Summary
    try:
        c = {k: (v, ev) for k, v, ev in cl.claims(Summary(cdir))}
        f = {k: (v, ev) for k, v, ev in cl.claims(Summary(fdir))}
    except (OSError, KeyError, ValueError, TypeError, AttributeError) as e:
        fail("the claims could not be derived from a summary (claims.py against paperdata.py): %s: %s" % (
            type(e).__name__, e))
        return
    bad = []
    for k in list(c) + [k for k in f if k not in c]:
        if k not in c or k not in f:
            bad.append("%s: only in the %s summary (%s)" % (k, "committed" if k in c else "fresh", (c.get(k) or f.get(k))[0]))
        elif c[k][0] != f[k][0]:
            kind = ("resolved on one side only" if {c[k][0], f[k][0]} & OPEN_CLAIMS else "contradiction: resolved both ways")
            bad.append("%s [%s]: committed %s (%s), fresh %s (%s)" % (k, kind, c[k][0], c[k][1], f[k][0], f[k][1]))
    (fail if bad else ok)("the paper's claims (%d, tools/pipeline/claims.py) are the same%s" % (
        len(c), ": these differ" + "".join("\n    " + b for b in bad) if bad else ""))


def seeds_mismatch(cs, fs):
    """Why the two summaries' runs are not the same runs (a list: each seed list of setup.json that
    differs), or []: a regeneration with other seeds (make reproduce SEEDS=...) draws other data orders and
    initial weights, so only its means and claims can agree with the committed ones."""
    return ["%s: committed %s, fresh %s" % (k, json.dumps(cs.get(k)), json.dumps(fs.get(k)))
            for k in SEED_KEYS if cs.get(k) != fs.get(k)]


def numerics_mismatch(cs, fs):
    """Why per-run equality cannot be expected (a list of reasons), or [] when the numerics agree."""
    cn, fn = cs.get("numerics"), fs.get("numerics")
    if cn is None:
        return ["the committed setup.json records no numerics (made before summarize.py recorded them)"]
    if fn is None:
        return ["the fresh setup.json records no numerics"]
    # A setup from before "math" was recorded ran glibc's math (the portable build came later). Two
    # portable summaries must agree bit for bit whatever CPU each ran on (docs/portable.md).
    cn, fn = dict(cn), dict(fn)
    cn.setdefault("math", "glibc libm")
    fn.setdefault("math", "glibc libm")
    any_cpu = cn["math"] == fn["math"] == "portable"
    why = []
    for k in sorted(set(cn) | set(fn)):
        if any_cpu and k in ("cpu", "cpu_flags", "blas_core"):
            continue
        a, b = cn.get(k), fn.get(k)
        if a is None or b is None:
            why.append("%s not recorded (committed %s, fresh %s)" % (k, json.dumps(a), json.dumps(b)))
        elif isinstance(a, list) or isinstance(b, list):
            why.append("%s differs between runs (committed %s, fresh %s)" % (k, json.dumps(a), json.dumps(b)))
        elif a != b:
            why.append("%s: committed %s, fresh %s" % (k, json.dumps(a), json.dumps(b)))
    return why


def strip_timing(rs):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rs or []]


def check_per_run(cdir, fdir, com, fre):
    cs, fs = pl.read_json(os.path.join(cdir, "setup.json")), pl.read_json(os.path.join(fdir, "setup.json"))
    why = seeds_mismatch(cs, fs) + numerics_mismatch(cs, fs)
    if why:
        skip("per-run equality (bit for bit) not checked", "; ".join(why))
        return
    bad = []
    for name, cr, fr in [("runs.csv", com, fre), ("frames.csv", rows(cdir, "frames.csv"), rows(fdir, "frames.csv")),
                         ("curves.csv", rows(cdir, "curves.csv"), rows(fdir, "curves.csv"))]:
        a, b = strip_timing(cr), strip_timing(fr)
        if a == b:
            continue
        ka, kb = {}, {}      # run -> its rows (one in runs.csv, one per frame or epoch in the others)
        for r in a:
            ka.setdefault((r["model"], r["experiment"], r["seed"]), []).append(r)
        for r in b:
            kb.setdefault((r["model"], r["experiment"], r["seed"]), []).append(r)
        diff = sorted(k for k in set(ka) | set(kb) if ka.get(k) != kb.get(k))
        for k in diff[:8]:
            ra, rb = ka.get(k, []), kb.get(k, [])
            pairs = [(x, y) for x, y in zip(ra, rb) if x != y]
            if len(ra) != len(rb) or not pairs:
                bad.append("%s %s: %d rows committed, %d fresh" % (name, "/".join(k), len(ra), len(rb)))
                continue
            x, y = pairs[0]
            fields = [f for f in x if x.get(f) != y.get(f)]
            bad.append("%s %s: %s" % (name, "/".join(k), "; ".join("%s %s -> %s" % (f, x[f], y.get(f)) for f in fields[:4])))
        if len(diff) > 8:
            bad.append("%s: %d more runs differ" % (name, len(diff) - 8))
    n = len([r for r in fre if r["model"] != "baseline"])
    (fail if bad else ok)("per-run equality: the numerics match setup.json (%s), so all %d runs must be bit for bit "
                          "the committed ones (runs.csv without timings, frames.csv, curves.csv)%s" % (
                              ", ".join("%s %s" % (k, v) for k, v in sorted(fs["numerics"].items())), n,
                              "; they are not:" + "".join("\n    " + b for b in bad) if bad else ""))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare_summaries.py COMMITTED_SUMMARY_DIR FRESH_SUMMARY_DIR")
    cdir, fdir = sys.argv[1], sys.argv[2]
    for d in (cdir, fdir):
        for f in ("runs.csv", "setup.json", "experiments.json"):
            if not os.path.exists(os.path.join(d, f)):
                sys.exit("compare_summaries.py: %s: no such file" % os.path.join(d, f))
    com, fre = rows(cdir, "runs.csv"), rows(fdir, "runs.csv")
    flipped = check_choice(cdir, fdir)
    try:
        once = {tuple(e.split("/", 1)) for e, x in pl.read_json(os.path.join(cdir, "experiments.json"))["experiments"].items()
                if x.get("stage") == "once"}
    except (OSError, KeyError, ValueError, AttributeError) as e:
        sys.exit("compare_summaries.py: %s: %s: %s" % (os.path.join(cdir, "experiments.json"), type(e).__name__, e))
    check_means(com, fre, flipped, once)
    check_baselines(com, fre)
    check_claims(cdir, fdir)
    check_per_run(cdir, fdir, com, fre)
    sys.exit(1 if LOG.failed else 0)


if __name__ == "__main__":
    main()

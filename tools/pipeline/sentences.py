"""sentences.py — the result sentences of the paper: every sentence whose words depend on the results
(which method is best, whether an interval excludes zero, where we agree with the report), one function
each, written from the numbers it states. Each takes the scale's paperdata.Summary and returns
(TeX text, source), the source naming the summary files and fields the sentence comes from;
tables.py puts them into values.tex as \\rrdef{sent.<name>}{...} (paper.tex prints them with \\rv)."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402
from paperdata import (DECIMALS, LEVEL, REPORT_CSV, duration, num, plural_s, tex_escape, tex_text,  # noqa: E402
                       value_tex, words)

MSE = DECIMALS["mse"]
LOSS = DECIMALS["loss"]


def timing(s):
    """sent.timing — the compute statement: the sum of the runs' wall times, per model, and the elapsed
    time from the first run's start to the last run's end (their ratio: how many ran at once on average)."""
    setup = s.setup
    total = setup.get("wall_seconds_total") or 0.0
    per = setup["wall_seconds_mean_per_model"]
    nper = setup.get("runs_per_model", {})
    tparts = ["%s runs of %s, %s on average" % (num(nper[m], 0), s.mlabel(m), duration(per[m]))
              for m in s.models if per.get(m) is not None and m in nper]
    sent = "The %s finished runs took %s of wall time in all%s." % (
        num(setup["runs_finished"], 0), duration(total), " (%s)" % "; ".join(tparts) if tparts else "")
    el = setup.get("elapsed_seconds")
    if el and el > 0:
        sent += (" From the first run's start to the last run's end %s passed, so %s runs were in progress at a time on "
                 "average." % (duration(el), num(total / el, 1)))
    return sent, ("setup.json: runs_finished, wall_seconds_total, wall_seconds_mean_per_model, runs_per_model, "
                  "elapsed_seconds")


def data(s):
    """data.sentence — where the data come from: generated (how, from which digits) or downloaded."""
    d = s.setup.get("data") or {}
    gen = d.get("generator") or {}
    shape = gen.get("shape") or [gen.get("length"), gen.get("count"), gen.get("size"), gen.get("size")]
    nseq, length, size = shape[1], shape[0], shape[2]
    sha = (d.get("sha256") or "")[:16]
    if d.get("source") == "generated":
        digits = d.get("digits", {}).get("source") if isinstance(d.get("digits"), dict) else None
        sent = ("The data were generated with \\texttt{rnnreg mmnist} (%s sequences of %s frames of %s$\\times$%s "
                "pixels, two digits each, seed %s) because %s. The digits come from %s. The file's SHA-256 "
                "begins \\texttt{%s}.") % (
            num(nseq, 0), num(length, 0), num(size, 0), num(size, 0), num(gen.get("seed", 0), 0),
            tex_text(d.get("why") or "no download was attempted"),
            tex_escape(digits or "the %s digits of %s" % (gen.get("digits", {}).get("count", "?"),
                                                           gen.get("digits", {}).get("path", "?"))), tex_escape(sha))
    elif d:
        sent = ("The data are \\texttt{%s}, downloaded from \\url{%s} and checked by its SHA-256 (beginning "
                "\\texttt{%s}).") % (tex_escape(d.get("file", "?")), d.get("url", ""), tex_escape(sha))
    else:
        sent = "The data's provenance file was not found."
    return sent, "setup.json: data (the data's provenance .json)"


def optimizer(s):
    """sent.optimizer — the optimizer the study chose per model, with its mean best validation loss."""
    parts = []
    for m in s.models:
        ch = s.choice.get(m)
        if ch:
            parts.append("%s for %s (mean best validation loss %s)" % (
                s.elabel(m + "/opt-" + ch["chosen"]), s.mlabel(m), num(ch["scores"][ch["chosen"]], LOSS)))
    return (("The study selects " + " and ".join(parts) + ".") if parts
            else "The optimizer study has not finished yet."), "*/optimizer.json"


def regularizers(s):
    """sent.regularizers — per model, the regularizers whose paired interval of the test MSE lies below
    zero (lower the MSE) or above it (raise it); whether any beats its base beyond the seed spread."""
    compared = s.regularizers
    if not compared:
        return ("No regularizer has been run at this scale yet: their slots are the list \\texttt{REGULARIZERS} "
                "in \\texttt{experiments/experiments.mk}, and each fills a row of the tables when its "
                "configuration is added."), "runs.csv: paired differences (tab-paired)"
    verdicts = {e: s.verdict(e) for e in compared}
    parts = []
    for m in s.models:
        mine = [e for e in compared if e.startswith(m + "/")]
        if not mine:
            continue
        better = [e for e in mine if verdicts[e] == "better"]
        worse = [e for e in mine if verdicts[e] == "worse"]
        p = "of the %s regularizers of %s, %s" % (
            words(len(mine)), s.mlabel(m),
            ("%s (%s) lower%s the test MSE" % (words(len(better)), ", ".join(s.elabel(e) for e in better),
                                               plural_s(len(better)))) if better else "none lowers the test MSE")
        if worse:
            p += " and %s (%s) raise%s it" % (words(len(worse)), ", ".join(s.elabel(e) for e in worse), plural_s(len(worse)))
        parts.append(p)
    sent = "Counting only paired %s\\,\\%% intervals that exclude zero, " % num(100 * LEVEL, 0) + "; ".join(parts) + ". "
    if sum(1 for v in verdicts.values() if v is not None) < len(compared):
        sent += "Experiments with fewer than two seed pairs have no interval and are not counted. "
    sent += ("So %s regularizer beats its base model beyond the seed-to-seed variation at this scale; for the "
             "others the interval contains zero." % ("at least one" if "better" in verdicts.values() else "no"))
    return sent, "runs.csv: paired differences (tab-paired)"


def regshort(s):
    """sent.regshort — the same, short (the abstract): which regularized models lower or raise the test
    MSE beyond the seed-to-seed variation."""
    compared = s.regularizers
    if not compared:
        return "No regularizer has been run at this scale yet.", "runs.csv: paired differences (tab-paired)"
    better = [e for e in compared if s.verdict(e) == "better"]
    worse = [e for e in compared if s.verdict(e) == "worse"]
    short = "Of the %s regularized models, %s" % (
        words(len(compared)), ("%s lower%s the test MSE beyond the seed-to-seed variation (%s)" % (
            words(len(better)), plural_s(len(better)), ", ".join(s.full_label(e) for e in better)))
        if better else "none lowers the test MSE beyond the seed-to-seed variation")
    short += (" and %s raise%s it (%s)." % (words(len(worse)), plural_s(len(worse)),
                                             ", ".join(s.full_label(e) for e in worse)) if worse else ".")
    return short, "runs.csv: paired differences (tab-paired)"


def best(s):
    """sent.best — per model, the method with the lowest mean test MSE (base or a regularizer) and
    whether its paired interval against the base excludes zero."""
    parts = []
    for m in s.models:
        cands = [e for e in s.methods if e.split("/")[0] == m and (e == m + "/base" or s.is_reg(e))]
        cands = [e for e in cands if s.stat(e, "test_mse")[2]]
        if not cands:
            continue
        top = min(cands, key=lambda e: s.stat(e, "test_mse")[0])
        mu = s.stat(top, "test_mse")[0]
        if top == m + "/base":
            parts.append("for %s it is the base model itself (%s): no regularizer lowers its mean" % (
                s.mlabel(m), num(mu, MSE)))
            continue
        d, lo, hi, n = s.paired(top, "test_mse")
        if n >= 2:
            res = ("its paired difference to the base model, %s [%s, %s], %s zero" % (
                num(d, MSE, sign=True), num(lo, MSE, sign=True), num(hi, MSE, sign=True),
                "excludes" if hi < 0 or lo > 0 else "contains"))
        else:
            res = "with fewer than two seed pairs it has no interval"
        parts.append("for %s it is %s (%s, base model %s); %s" % (
            s.mlabel(m), s.elabel(top), num(mu, MSE), num(s.stat(m + "/base", "test_mse")[0], MSE), res))
    return (("The lowest mean test MSE: " + "; ".join(parts) + ".") if parts else "",
            "runs.csv: test_mse means of base and regularizers; paired differences")


def sweep(s):
    """sent.sweep — per model and sweep, the point with the lowest test MSE, compared on the seeds every
    point of the sweep has, beside the base model's mean on those seeds."""
    sparts, seeds_used = [], set()
    blocks = s.sweep_blocks()
    for m in s.models:
        mparts = []
        for (mm, w, pts) in blocks:
            if mm != m or not pts:
                continue
            cm, common = s.common_seed_mean(pts)
            if not common:
                continue
            k = min(range(len(pts)), key=lambda i: cm[i])
            base_c = pl.mean([r["test_mse"] for r in s.runs_of(m + "/base") if r["seed"] in common])
            mparts.append("%s at %s (%s; base model %s)" % (
                s.sweep_label(w), value_tex(pts[k][0]), num(cm[k], MSE), num(base_c, MSE)))
            seeds_used.add(tuple(common))
        if mparts:
            sparts.append("%s: %s" % (s.mlabel(m), ", ".join(mparts)))
    if not sparts:
        return "No sweep has finished runs at this scale.", "experiments.json: sweeps"
    su = sorted(seeds_used)
    on = ("seed %s, which every point has" % num(su[0][0], 0)) if len(su) == 1 and len(su[0]) == 1 \
        else "the seeds that every point of a sweep has"
    return ("Compared on %s, the lowest test MSE of each sweep is, for " % on + "; for ".join(sparts) + ".",
            "runs.csv and experiments.json: the sweeps' points")


def sweepseeds(s):
    """sent.sweepseeds — how many runs each sweep point has (the points shared with the regularizer
    matrix have its seeds, drawn with a bar)."""
    pts_all = [(w, p[0], p[3]) for (_, w, pts) in s.sweep_blocks() for p in pts]
    if not pts_all:
        return "", "runs.csv: no sweep point"
    ns = sorted({n for _, _, n in pts_all})
    if len(ns) == 1:
        return "Every point has %s %s." % (words(ns[0]), "run" if ns[0] == 1 else "runs"), "runs.csv: runs per sweep point"
    groups = []
    for n in ns[1:]:
        xs = sorted({(w, x) for w, x, k in pts_all if k == n})
        groups.append("%s (%s runs%s)" % (" and ".join("%s %s" % (s.sweep_label(w), value_tex(x)) for w, x in xs),
                                          words(n), " each" if len(xs) > 1 else ""))
    return ("Points with several runs, drawn with a bar of one standard deviation to either side: %s; the "
            "others %s %s." % ("; ".join(groups), words(ns[0]), "run" if ns[0] == 1 else "runs"),
            "runs.csv: runs per sweep point")


def baselines(s):
    """sent.baselines — each base model's test MSE against copying the last input frame (and against
    empty frames where it is not below them)."""
    bl = s.stat("baseline/copy_last", "test_mse")[0]
    bz = s.stat("baseline/zero", "test_mse")[0]
    parts = []
    for m in s.models:
        mu, sd, n = s.stat(m + "/base", "test_mse")
        if n == 0:
            continue
        parts.append("%s's mean test MSE per frame, %s, is %s that of copying the last input frame (%s)%s" % (
            s.mlabel(m), num(mu, MSE), "below" if mu < bl else "above", num(bl, MSE),
            "" if mu < bz else " and not below that of predicting empty frames (%s)" % num(bz, MSE)))
    return (("; ".join(parts) + ".") if parts and math.isfinite(bl) else "The baselines have not been computed yet.",
            "runs.csv: base and baseline rows, test_mse")


def models(s):
    """sent.models — which base model has the lower mean test MSE, and whether the gap exceeds the sum
    of the two seed standard deviations (empty unless there are exactly two models with runs)."""
    pair = [(m, s.stat(m + "/base", "test_mse")) for m in s.models]
    pair = [(m, st) for m, st in pair if st[2]]
    if len(pair) != 2:
        return "", "runs.csv: base rows"
    (m1, s1), (m2, s2) = sorted(pair, key=lambda p: p[1][0])
    sep = abs(s1[0] - s2[0]) > (s1[1] if math.isfinite(s1[1]) else 0) + (s2[1] if math.isfinite(s2[1]) else 0)
    return ("%s has the lower mean test MSE (%s against %s for %s); the gap is %s the sum of the two seed standard "
            "deviations." % (s.mlabel(m1), num(s1[0], MSE), num(s2[0], MSE), s.mlabel(m2),
                             "larger than" if sep else "within"), "runs.csv: base rows, test_mse")


def gap(s):
    """sent.gap — the generalization gap (last epoch's validation minus training loss) of the base
    models, and the range of the regularizers' mean gaps per model."""
    gaps, gparts = [], []
    for m in s.models:
        g = s.stat(m + "/base", "gap_last")
        if g[2]:
            gaps.append("%s for %s" % (num(g[0], LOSS, sign=True), s.mlabel(m)))
        regs = [e for e in s.regularizers if e.startswith(m + "/") and s.stat(e, "gap_last")[2]]
        if regs and g[2]:
            lo_e = min(regs, key=lambda e: s.stat(e, "gap_last")[0])
            hi_e = max(regs, key=lambda e: s.stat(e, "gap_last")[0])
            gparts.append("for %s from %s (%s) to %s (%s)" % (
                s.mlabel(m), num(s.stat(lo_e, "gap_last")[0], LOSS, sign=True), s.elabel(lo_e),
                num(s.stat(hi_e, "gap_last")[0], LOSS, sign=True), s.elabel(hi_e)))
    sent = ("In the last epoch, validation loss minus training loss of the base models is " + " and ".join(gaps) + ".") if gaps else ""
    if gparts:
        sent += " The regularizers' mean gaps range " + "; ".join(gparts) + "."
    return sent, "runs.csv: gap_last"


def leak(s):
    """sent.leak — the centred-head ConvLSTM under the report's protocol (teacher-forced) against the
    causal head, then autoregressively, and its teacher-forced training loss against the base's."""
    if not s.leak:
        return "The centred-head experiment has not been run at this scale.", "runs.csv"
    base = s.leak.split("/")[0] + "/base"
    lt, bt = s.stat(s.leak, "last_train_loss")[0], s.stat(base, "last_train_loss")[0]
    lm, bm = s.stat(s.leak, "test_mse")[0], s.stat(base, "test_mse")[0]
    parts = []
    if s.leak in s.proto and base in s.proto:
        pl_, pb = s.proto[s.leak], s.proto[base]
        parts.append("Evaluated as the report did, with the true frame as input at every step, the centred-head "
                     "ConvLSTM reaches a test MSE per frame of %s (PSNR %s\\,dB, SSIM %s), against %s for the causal "
                     "head under the same protocol" % (num(pl_["test_mse"], MSE), num(pl_["test_psnr"], DECIMALS["psnr"]),
                                                       num(pl_["test_ssim"], DECIMALS["ssim"]), num(pb["test_mse"], MSE)))
    else:
        parts.append("The report's teacher-forced evaluation was not computed at this scale")
    parts.append("evaluated autoregressively, like every other model here, its MSE per frame is %s against the "
                 "base model's %s" % (num(lm, MSE), num(bm, MSE)))
    sent = "; ".join(parts) + ". "
    if lt and bt and bt / lt >= 1.1:   # "times below" only where it is clearly below
        sent += ("Its teacher-forced training loss in the last epoch, %s, is %s times below the base model's %s, "
                 "which is a scheduled-sampling loss partly on the model's own inputs." % (
                     num(lt, LOSS), num(bt / lt, 1), num(bt, LOSS)))
    else:
        sent += ("Its teacher-forced training loss in the last epoch is %s (base model: %s, a scheduled-sampling "
                 "loss)." % (num(lt, LOSS), num(bt, LOSS)))
    return sent, "runs.csv, protocol.csv: %s and %s" % (s.leak, base)


def leakverdict(s):
    """sent.leakverdict — how the report's protocol ranks the centred head against the causal one,
    beside the autoregressive ranking (empty where the protocol was not computed)."""
    if not s.leak:
        return "", "no centred-head experiment"
    source = "protocol.csv: %s and %s test_mse" % (s.leak, s.leak.split("/")[0] + "/base")
    ratios = s.leak_ratios()
    if ratios is None:
        return "", source
    r_tf, r_ar = ratios
    if r_tf > 1 and r_ar > 1:
        return ("The report's protocol reverses the ranking: given the true frames, the centred head's "
                "MSE is %s times lower than the causal head's, while predicting on its own it is %s times "
                "higher. Its good numbers measure how well it passes on a frame it is given, not how well "
                "it predicts." % (num(r_tf, 1), num(r_ar, 1))), source
    if r_tf > 1:
        return ("Given the true frames, the centred head's MSE is %s times lower than the causal head's; "
                "predicting on its own it is not worse at this scale (ratio %s)." % (num(r_tf, 1), num(r_ar, 2))), source
    return ("At this scale the centred head has not learnt to use the frame it sees: even given the "
            "true frames its MSE is not below the causal head's (ratio %s), so these runs do not "
            "reproduce the report's advantage." % num(r_tf, 2)), source


def reportcmp(s):
    """sent.reportcmp — where our paired differences have the report's sign, where the opposite, what is
    resolved, and whether the report's largest change (relative to its base) is reproduced."""
    agree = s.report_agreement()
    source = REPORT_CSV + " and runs.csv: report rows against our paired differences"
    if not agree:
        return "None of the report's regularizers has finished runs here yet.", source
    same = [x for x in agree if x[3] is not None and x[3] != 0 and x[3] == x[4]]
    opp = [x for x in agree if x[3] is not None and x[3] != 0 and x[3] != x[4]]
    flat = [x for x in agree if x[3] == 0]

    def names(xs):
        return ", ".join("%s %s%s" % (tex_escape(x[0]), s.elabel(x[2]), " (resolved)" if x[5] else "") for x in xs)
    parts = ["Of the report's %s comparisons with its base model, our paired difference of the test MSE has the "
             "report's sign in %s" % (words(len(agree)), words(len(same)) if same else "none")]
    if same:
        parts[-1] += " (%s)" % names(same)
    parts.append("the opposite sign in %s%s" % (words(len(opp)) if opp else "none", " (%s)" % names(opp) if opp else ""))
    if flat:
        parts.append("where the report's MSE did not change at its printed precision (%s), ours %s" % (
            ", ".join("%s %s" % (tex_escape(x[0]), s.elabel(x[2])) for x in flat),
            "; ".join("%s %s" % ("falls" if x[4] < 0 else "rises", "beyond the seed spread" if x[5] else "within the seed spread")
                      for x in flat)))
    n_res = sum(1 for x in agree if x[5])
    sent = "; ".join(parts) + ". "
    sent += ("%s of our %s differences %s resolved (interval excluding zero)." % (
        words(n_res).capitalize() if n_res else "None", words(len(agree)), "is" if n_res <= 1 else "are"))
    # the report's largest effect (relative to its base) and ours
    rep_base = s.report_base_mse()

    def report_mse(x):
        return float(next(r["mse"] for r in s.report if r["model"] == x[0] and r["variant"] == x[1]))
    big = max((x for x in agree if x[3]), default=None, key=lambda x: abs(report_mse(x) / rep_base[x[0]] - 1))
    if big:
        d, lo, hi, n = s.paired(big[2], "test_mse")
        bm = s.stat(big[2].split("/")[0] + "/base", "test_mse")[0]
        sent += (" The report's largest change, %s %s (MSE %s by %s\\,\\%%), %s here: our %s changes the mean test "
                 "MSE by %s\\,\\%% of the base model's" % (
                     tex_escape(big[0]), tex_escape(big[1]), "up" if big[3] > 0 else "down",
                     num(abs(100.0 * (report_mse(big) / rep_base[big[0]] - 1)), 1),
                     ("is reproduced in direction" + ("" if big[5] else ", though not resolved,"))
                     if big[3] == big[4] else "is not reproduced",
                     s.elabel(big[2]), num(100.0 * d / bm, 1, sign=True)))
        sent += (" (paired difference %s [%s, %s])." % (num(d, MSE, sign=True), num(lo, MSE, sign=True),
                                                       num(hi, MSE, sign=True)) if n >= 2 else ".")
    return sent, source


def strips(s):
    """sent.strips — which figures show the qualitative strips."""
    refs = ["\\ref{fig:strip-%s}" % tag for _, tag in s.strips()]
    if not refs:
        return "The qualitative strips need the baselines, which have not been computed yet.", "strip.json"
    return ("Figure%s~%s show%s the first test sequence and every method's prediction of it." % (
        "s" if len(refs) > 1 else "", " and~".join(refs), "" if len(refs) > 1 else "s"), "strip.json")

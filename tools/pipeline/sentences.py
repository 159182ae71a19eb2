"""sentences.py — the result sentences of the paper: every sentence whose words depend on the results
(which method has the lowest mean, whether an interval excludes zero, where we agree with the report), one
function each, written from the numbers it states. A sentence calls a method, sweep point or model the
lower one only where the seeds resolve it (paperdata, the rule of tools/pipeline/claims.py); otherwise it
says "the lowest mean" and gives the interval that leaves it unresolved. The optimizer study's choice is a
decision and is named, with whether the seeds resolve it. Each takes the scale's paperdata.Summary and
returns (TeX text, source), the source naming the summary files and fields the sentence comes from;
tables.py puts them into values.tex as \\rrdef{sent.<name>}{...} (paper.tex prints them with \\rv)."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402
from paperdata import (DECIMALS, LEARNT_RATIO, LEVEL, LITERATURE, REPORT_CSV, REPORT_MATCH, SSIM_C1,  # noqa: E402
                       STANDARD_FUTURE, duration, num, p_math, plural_s, tex_escape, tex_text, value_tex, words)

MSE = DECIMALS["mse"]
LOSS = DECIMALS["loss"]


# elapsed time above this multiple of the busy time (setup.json): the runs were trained in several sittings
SITTINGS = 1.25


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
    el, busy = setup.get("elapsed_seconds"), setup.get("busy_seconds")
    if busy and el and el > SITTINGS * busy:
        # trained in several sittings: the pauses between them say nothing about the compute
        sent += (" At least one run was in progress during %s, and then %s runs were in progress at a time on average "
                 "(from the first run's start to the last run's end %s passed: the runs were trained in several "
                 "sittings)." % (duration(busy), num(total / busy, 1), duration(el)))
    elif el and el > 0:
        sent += (" From the first run's start to the last run's end %s passed, so %s runs were in progress at a time on "
                 "average." % (duration(el), num(total / el, 1)))
    return sent, ("setup.json: runs_finished, wall_seconds_total, wall_seconds_mean_per_model, runs_per_model, "
                  "elapsed_seconds, busy_seconds")


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
    """sent.optimizer — the optimizer the study chose per model, with its mean best validation loss, and
    whether the study's seeds resolve the choice from the other optimizers (paperdata.optimizer_lowest):
    with one run per optimizer nothing separates it from the runner-up, which the sentence names."""
    parts, single, res, unres = [], [], [], []
    one = len(s.setup.get("opt_seeds") or []) == 1
    for m in s.models:
        ch = s.choice.get(m)
        if not ch:
            continue
        parts.append("%s for %s (%sbest validation loss %s)" % (
            s.elabel(m + "/opt-" + ch["chosen"]), s.mlabel(m), "" if one else "mean ", num(ch["scores"][ch["chosen"]], LOSS)))
        low = s.optimizer_lowest(m)
        nxt = low.next()
        runner = ("%s: %s, %s" % (s.mlabel(m), s.elabel(m + "/opt-" + nxt), num(ch["scores"].get(nxt), LOSS))
                  if nxt and ch["scores"].get(nxt) is not None else None)
        if low.status == "single-run":
            single.append(runner)
        elif low.status == "resolved":
            res.append(s.mlabel(m))
        else:
            o = low.unresolved()[0]
            c = low.comps[o]
            unres.append("for %s it is not resolved from %s (paired difference %s [%s, %s])" % (
                s.mlabel(m), s.elabel(m + "/opt-" + o), num(c.d, LOSS, sign=True), num(c.lo, LOSS, sign=True),
                num(c.hi, LOSS, sign=True)) if c.n >= 2 else "for %s it is not resolved from %s (fewer than two runs that did not "
                "diverge)" % (s.mlabel(m), s.elabel(m + "/opt-" + o)))
    if not parts:
        return "The optimizer study has not finished yet.", "*/optimizer.json"
    if all(len(s.opt_exps(m)) <= 1 for m in s.models):
        return ("Every model uses %s (no optimizer study at this scale; %s)." % (
            and_list(sorted({s.elabel(m + "/opt-" + s.choice[m]["chosen"]) for m in s.models if s.choice.get(m)})),
            "; ".join("%s: best validation loss %s" % (s.mlabel(m), num(s.choice[m]["scores"][s.choice[m]["chosen"]], LOSS))
                      for m in s.models if s.choice.get(m)))), "*/optimizer.json"
    sent = "The study selects " + " and ".join(parts) + "."
    if single:
        sent += (" With one run per optimizer, %s on a single seed, and no interval separates it from "
                 "the runner-up (%s)." % ("each choice rests" if len(single) > 1 else "the choice rests",
                                          "; ".join(x for x in single if x)) if any(single) else
                 " With one run per optimizer, the choice rests on a single seed.")
    if res or unres:
        bits = (["for %s the choice is below every other optimizer beyond the seed spread" % and_list(res)] if res else []) + unres
        sent += (" By paired intervals over the study's seeds (Holm's correction over the other optimizers), "
                 "%s." % "; ".join(bits))
        if unres:
            sent += " An unresolved choice is the lowest mean, not a resolved ranking."
    return sent, "*/optimizer.json; setup.json: opt_seeds"


def optseeds(s):
    """scale.optruns — how often each optimizer is run: "once, with seed 1," or "with each of the seeds
    1, 2 and 3"."""
    seeds = s.setup.get("opt_seeds") or []
    if len(seeds) == 1:
        return "once, with seed %s," % num(seeds[0], 0), "setup.json: opt_seeds"
    return ("with each of the seeds %s" % and_list([num(x, 0) for x in seeds])), "setup.json: opt_seeds"


def optplan(s):
    """sent.optplan — the optimizer study as planned at this scale: the optimizers each model is trained
    with and how the later experiments' optimizer is chosen, or, with one optimizer in the plan, that there
    is no study at this scale (its one run repeats the base's first seed)."""
    opts = [e.split("/opt-")[1] for e in s.opt_exps(s.models[0])] if s.models else []
    labels = [s.elabel(s.models[0] + "/opt-" + o) for o in opts]
    if len(opts) <= 1:
        return ("This scale has no optimizer study: every model is trained with %s, the optimizer of the "
                "Keras example and of PredRNN++ (the study runs at the other scales); its one run per model "
                "repeats the base's first seed, a check that training is deterministic." % (
                    and_list(labels) or "its base optimizer")), "experiments.json"
    return ("Each model is trained %s with %s (Table~\\ref{tab:optim}); a script picks, per model, the optimizer "
            "with the lowest mean best validation loss, and every later experiment of that model uses it." % (
                optseeds(s)[0], and_list(labels))), "experiments.json; setup.json: opt_seeds"


SWEEP_PHRASE = {"dropout": "the dropout rate", "l2": "the L2 weight"}


def sweepplan(s):
    """sent.sweepplan — the sweeps of this scale (experiments.json "sweeps"): which regularizer strengths
    are varied on both models, or that the scale runs none."""
    names = sorted(s.sweeps)
    if not names:
        return "This scale runs no sweeps.", "experiments.json: sweeps"
    what = and_list([SWEEP_PHRASE.get(s.sweeps[w].get("key", w), "the %s value" % s.sweeps[w].get("key", w))
                     for w in names])
    return ("%s sweep%s %s one regularizer's strength on both models: %s." % (
        words(len(names)).capitalize(), "s" if len(names) > 1 else "", "vary" if len(names) > 1 else "varies",
        what)), "experiments.json: sweeps"


def optstat(s):
    """text.optstat — what the optimizer study's numbers are: one run's or a mean over seeds."""
    seeds = s.setup.get("opt_seeds") or []
    if not s.has_opt_study():
        return ("each model's single run of its one optimizer (seed %s), the base experiment's first seed "
                "trained again" % num(seeds[0], 0) if len(seeds) == 1 else
                "each model's one optimizer, the mean over %s seeds" % words(len(seeds))), "setup.json: opt_seeds"
    if len(seeds) == 1:
        return "the single run of each optimizer (seed %s)" % num(seeds[0], 0), "setup.json: opt_seeds"
    return "the mean over the study's %s seeds" % words(len(seeds)), "setup.json: opt_seeds"


def and_list(xs):
    """"a", "a and b", "a, b and c"."""
    xs = list(xs)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1] if xs else ""


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
    n_fam = sum(1 for v in verdicts.values() if v is not None)
    sent = ("Counting only differences that stay resolved after Holm's correction over all %s comparisons of "
            "the test MSE (two-sided paired $t$-tests, family-wise error %s\\,\\%%), " % (
                words(n_fam), num(100 * (1 - LEVEL), 0)) + "; ".join(parts) + ". ")
    if n_fam < len(compared):
        sent += "Experiments with fewer than two seed pairs have no interval and are not counted. "
    n_better = sum(1 for v in verdicts.values() if v == "better")
    n_unres = sum(1 for v in verdicts.values() if v == "unclear")
    sent += "So %s regularizer beats its base model beyond the seed-to-seed variation at this scale" % (
        "at least one" if n_better else "no")
    if n_unres == n_fam and n_fam:
        sent += "; no difference is resolved."
    elif n_unres:
        sent += "; for the other %s the difference is not resolved." % words(n_unres)
    else:
        sent += "."
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
        if better else "none lowers the test MSE beyond the seed-to-seed variation (Holm-corrected)")
    short += (" and %s raise%s it (%s)." % (words(len(worse)), plural_s(len(worse)),
                                             ", ".join(s.full_label(e) for e in worse)) if worse else ".")
    return short, "runs.csv: paired differences (tab-paired)"


def best(s):
    """sent.best — per model, the method with the lowest mean test MSE (base or a regularizer) and whether
    the seeds resolve it from every other method of that model (paperdata.Summary.lowest_mse: against the
    base by the regularizer's own Holm-corrected paired test, against the other regularizers by paired
    t-tests with Holm's correction over them). Where they do not, it says "the lowest mean", never "best",
    and names the comparisons left unresolved: the next method and the base model."""
    sents = []

    def above(c):
        return "%s [%s, %s]" % (num(c.d, MSE, sign=True), num(c.lo, MSE, sign=True), num(c.hi, MSE, sign=True)) \
            if c.n >= 2 else "%s (no interval)" % num(c.d, MSE, sign=True)

    def how_many(un, k):
        return "any" if len(un) == k else words(len(un))
    for m in s.models:
        low = s.lowest_mse(m)
        if low is None:
            continue
        top, base = low.top, m + "/base"
        mu = s.stat(top, "test_mse")[0]
        if not low.comps:
            sents.append("For %s only the base model has runs (%s)." % (s.mlabel(m), num(mu, MSE)))
            continue
        k, nxt, un = len(low.comps), low.next(), low.unresolved()

        def lies(o, what):
            return "%s, %s (%s), lies %s above it" % (what, "the base model" if o == base else s.elabel(o),
                                                      num(s.stat(o, "test_mse")[0], MSE), above(low.comps[o]))
        next_txt = lies(nxt, "the next")
        if top == base:
            head = "For %s, the base model itself has the lowest %stest MSE (%s)" % (
                s.mlabel(m), "" if low.status == "resolved" else "mean ", num(mu, MSE))
            if low.status == "resolved":
                sents.append(head + ", and each of the %s regularizers raises it beyond the seed spread: %s." % (words(k), next_txt))
            else:
                sents.append(head + ", but the seeds do not resolve it from %s of the %s regularizers: %s." % (
                    how_many(un, k), words(k), next_txt if nxt in un else lies(un[0], "the closest unresolved")))
            continue
        d, lo, hi, n = s.paired(top, "test_mse")
        base_txt = ("its paired difference to the base model (%s) is %s [%s, %s]" % (
            num(s.stat(base, "test_mse")[0], MSE), num(d, MSE, sign=True), num(lo, MSE, sign=True), num(hi, MSE, sign=True))
            if n >= 2 else "it has fewer than two seed pairs with the base model")
        if low.status == "resolved":
            sents.append("For %s, %s has the lowest test MSE (%s), below each of the other %s methods beyond the seed "
                         "spread: %s, and %s." % (s.mlabel(m), s.elabel(top), num(mu, MSE), words(k), next_txt, base_txt))
            continue
        bits = [next_txt] if nxt in un and nxt != base else []
        if base in un:
            bits.append(base_txt)
        if not bits:
            bits.append(lies(un[0], "the closest unresolved"))
        sents.append("For %s, %s has the lowest mean test MSE (%s), but the seeds do not resolve it from %s of the "
                     "other %s methods: %s." % (s.mlabel(m), s.elabel(top), num(mu, MSE), how_many(un, k), words(k),
                                                ", and ".join(bits)))
    if not sents:
        return "", "runs.csv: test_mse means of base and regularizers; paired differences"
    sents.append("A method counts as below another only where the seeds resolve the difference: against the base model "
                 "by the regularizer's Holm-corrected paired test (Table~\\ref{tab:paired}), against another regularizer "
                 "by a paired $t$-test, Holm-corrected over the comparisons of the lowest mean.")
    return " ".join(sents), "runs.csv: test_mse means of base and regularizers; paired differences"

def sweep(s):
    """sent.sweep — per model and sweep, the point with the lowest test MSE, compared on the seeds every
    point of the sweep has, beside the base model's mean on those seeds, and whether the seeds resolve it
    from the sweep's other points (paperdata.Summary.sweep_lowest): on a single shared seed they cannot,
    and the sentence says so instead of calling a point the best."""
    sparts, seeds_used, statuses = [], set(), []
    blocks = s.sweep_blocks()
    for m in s.models:
        mparts = []
        for (mm, w, pts) in blocks:
            if mm != m or not pts:
                continue
            got = s.sweep_lowest(pts)
            if not got:
                continue
            low, common = got
            x = {p[4]: p[0] for p in pts}
            top_c = pl.mean([r["test_mse"] for r in s.runs_of(low.top) if r["seed"] in common])
            base_c = pl.mean([r["test_mse"] for r in s.runs_of(m + "/base") if r["seed"] in common])
            txt = "%s at %s (%s; base model %s)" % (s.sweep_label(w), value_tex(x[low.top]), num(top_c, MSE), num(base_c, MSE))
            if low.status == "resolved":
                txt += ", below the sweep's other points beyond the seed spread"
            elif low.status == "unresolved":
                o = low.unresolved()[0]
                c = low.comps[o]
                txt += ", not resolved from %s at %s (%s [%s, %s] above it)" % (
                    s.sweep_label(w), value_tex(x[o]), num(c.d, MSE, sign=True), num(c.lo, MSE, sign=True), num(c.hi, MSE, sign=True))
            statuses.append((low.status, "%s's %s sweep" % (s.mlabel(m), s.sweep_label(w))))
            mparts.append(txt)
            seeds_used.add(tuple(common))
        if mparts:
            sparts.append("%s: %s" % (s.mlabel(m), ", ".join(mparts)))
    if not sparts:
        return "No sweep has finished runs at this scale.", "experiments.json: sweeps"
    su = sorted(seeds_used)
    on = ("seed %s, which every point has" % num(su[0][0], 0)) if len(su) == 1 and len(su[0]) == 1 \
        else "the seeds that every point of a sweep has"
    sent = "Compared on %s, the lowest test MSE of each sweep is, for " % on + "; for ".join(sparts) + "."
    single = [what for st, what in statuses if st == "single-run"]
    if len(single) == len(statuses):
        sent += (" With one run per point, none of these minima is resolved from its sweep's other points: a single "
                 "run gives no interval, and the order of close points may differ in another run.")
    elif single:
        sent += (" The points of %s share a single seed, so %s not resolved: a single run gives no "
                 "interval." % (and_list(single), "its minimum is" if len(single) == 1 else "their minima are"))
    return sent, "runs.csv and experiments.json: the sweeps' points"


def controlseeds(s):
    """sent.controlseeds — the seeds that the control regime and the base runs it is paired with have
    beyond the other experiments' (pipeline.mk CONTROL_SEEDS): the finished runs' seeds that are not in
    setup.json's seeds; empty where there are none or the scale has no control."""
    controls = [e for e in s.methods if s.is_control(e)]
    paired = controls + sorted({e.split("/")[0] + "/base" for e in controls})
    seeds = set(s.setup.get("seeds") or [])
    extra = sorted({r["seed"] for e in paired for r in s.runs_of(e)} - seeds)
    if not extra or not controls:
        return "", "runs.csv: no control runs beyond setup.json's seeds"
    ns = sorted({len(s.runs_of(e)) for e in paired})
    each = "%s runs each" % words(ns[0]) if len(ns) == 1 else "%s to %s runs" % (words(ns[0]), words(ns[-1]))
    return ("The base models and their controls (%s) also run with the seed%s %s (%s), so that the control regime's "
            "paired comparison (Figure~\\ref{fig:regime}) has more pairs; a regularizer is compared with the base runs "
            "of its own seeds." % (
                and_list(sorted({s.elabel(e) for e in controls})), "s" if len(extra) > 1 else "",
                and_list([num(x, 0) for x in extra]), each)), \
        "runs.csv: seeds of the base and control runs; setup.json: seeds"


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


def zero_compare(s, m):
    """The clause comparing base model m with all-zero frames: its MSE as a multiple of all-zero's and the
    paired difference with its interval and Holm-adjusted p (over the base models), and the verdict."""
    d, lo, hi, n, p = s.vs_zero("test_mse")[m]
    ratio = s.learnt(m)[0]
    txt = "%s times that of all-zero frames" % num(ratio, 2)
    if n >= 2:
        txt += " (difference %s [%s, %s], Holm-adjusted %s)" % (
            num(d, MSE, sign=True), num(lo, MSE, sign=True), num(hi, MSE, sign=True), p_math(p))
    beats = n >= 2 and p is not None and p <= 1 - LEVEL and d < 0
    worse = n >= 2 and p is not None and p <= 1 - LEVEL and d > 0
    return txt, beats, ratio, worse


def baselines(s):
    """sent.baselines — each base model's test MSE against predicting all-zero (black) frames, with the
    paired difference and its interval, and whether it beats them; then against copying the last input
    frame, the baseline that pays twice for motion."""
    bl = s.stat("baseline/copy_last", "test_mse")[0]
    bz = s.stat("baseline/zero", "test_mse")[0]
    if not (math.isfinite(bl) and math.isfinite(bz)):
        return "The baselines have not been computed yet.", "runs.csv: baseline rows"
    parts, below_copy = [], []
    vs_copy = s.vs_baseline("test_mse", "baseline/copy_last")   # below it: resolved (Holm over the base models)
    for m in s.models:
        mu, sd, n = s.stat(m + "/base", "test_mse")
        if n == 0:
            continue
        txt, beats, ratio, worse = zero_compare(s, m)
        verdict = ("it is worse than predicting black frames" if worse else
                   "it does not beat predicting black frames beyond the seed-to-seed variation" if not beats else
                   "it beats black frames, but by less than the study's criterion (at most %s times)" % num(LEARNT_RATIO, 2)
                   if ratio > LEARNT_RATIO else "it beats black frames by the study's criterion")
        parts.append("%s's base model%s reaches a mean test MSE per frame of %s, %s: %s" % (
            s.mlabel(m), " (one run)" if n == 1 else "", num(mu, MSE), txt, verdict))
        if vs_copy.get(m) and vs_copy[m][4] is not None and vs_copy[m][4] <= 1 - LEVEL and vs_copy[m][0] < 0:
            below_copy.append(s.mlabel(m))
    sent = "Predicting all-zero (black) frames scores %s. " % num(bz, MSE) + "; ".join(parts) + ". "
    sent += ("Copying the last input frame (%s) is %s black frames: where a digit has moved it pays twice, "
             "once where the digit was and once where it is%s." % (
                 num(bl, MSE), "worse than" if bl > bz else "better than",
                 (", so being below it (%s) shows little" % and_list(below_copy)) if below_copy and bl > bz else ""))
    return sent, "runs.csv: base and baseline rows, test_mse; paired differences to baseline/zero"


def absbaselines(s):
    """sent.absbaselines — the abstract's statement of the scale: both baselines, each base model as a
    multiple of all-zero frames, and the published numbers of the same models (LITERATURE)."""
    bl = s.stat("baseline/copy_last", "test_mse")[0]
    bz = s.stat("baseline/zero", "test_mse")[0]
    if not (math.isfinite(bl) and math.isfinite(bz)):
        return "", "runs.csv: baseline rows"
    ours = []
    for m in s.models:
        mu, _, n = s.stat(m + "/base", "test_mse")
        if n:
            ours.append("%s %s (%s times all-zero)" % (s.mlabel(m), num(mu, MSE), num(mu / bz, 2)))
    lit = []
    for m in s.models:
        xs = [r for r in LITERATURE if r["model"] == m]
        if xs:
            lit.append("%s %s" % (s.mlabel(m), " and ".join("%s~\\cite{%s}" % (num(r["mse"], 1), r["cite"]) for r in xs)))
    sent = ("Predicting all-zero (black) frames gives a test MSE per frame of %s and copying the last input "
            "frame %s; our base models reach %s" % (num(bz, MSE), num(bl, MSE), and_list(ours)))
    notes = (["over %s predicted frames" % words(STANDARD_FUTURE)] if short_horizon(s) else []) + \
        (["on other test sets: ours is generated"] if (s.setup.get("data") or {}).get("source") == "generated" else [])
    other = " (%s)" % "; ".join(notes) if notes else ""
    sent += (", where published runs of the same models reach %s%s." % ("; ".join(lit), other)) if lit else "."
    return sent, "runs.csv: base and baseline rows; paperdata.py: LITERATURE (published numbers)"


def scope(s):
    """sent.scope — whether the base models meet the study's criterion of having learnt (LEARNT_RATIO of
    the all-zero MSE, below it at every predicted frame, SSIM above it). A model that meets the MSE part
    (ratio and every frame) but not the SSIM part has learnt by the loss it is trained on: its MSE
    comparisons speak about the methods. When no model meets even the MSE part, this scale checks the
    pipeline, not the methods."""
    got = [(m, s.learnt(m)) for m in s.models]
    got = [(m, x) for m, x in got if x is not None]
    if not got:
        return "", "runs.csv: no base runs or baselines"
    crit = ("mean test MSE at most %s times that of all-zero frames, below it at every predicted frame, and "
            "SSIM above it" % num(LEARNT_RATIO, 2))
    src = "runs.csv, frames.csv: base and baseline/zero (paperdata.py: LEARNT_RATIO)"

    def mse_ok(x):
        return x[0] <= LEARNT_RATIO and not x[1]
    ok = [m for m, x in got if x[3]]
    mse_only = [(m, x) for m, x in got if mse_ok(x) and not x[3]]
    bad = [(m, x) for m, x in got if not mse_ok(x)]

    vl = s.vs_learnt()

    def line(m):
        """'' where the seeds resolve the base's MSE from the criterion's line (claims.py learnt_mse),
        else the words that say they do not"""
        r = vl.get(m)
        return "" if r is not None and r[4] is not None and r[4] <= 1 - LEVEL else \
            "; its seeds do not resolve it from the %s line" % num(LEARNT_RATIO, 2)

    def why(m, x):
        r = ["%s times%s" % (num(x[0], 2), line(m))]
        if x[1]:
            r.append("at or above all-zero frames at predicted frame%s %s" % (
                "s" if len(x[1]) > 1 else "", ("%s to %s" % (num(x[1][0], 0), num(x[1][-1], 0)))
                if len(x[1]) > 1 and x[1] == list(range(x[1][0], x[1][-1] + 1)) else and_list([num(t, 0) for t in x[1]])))
        if not x[2]:
            r.append("SSIM below")
        return "%s (%s)" % (s.mlabel(m), ", ".join(r))
    if not bad and not mse_only:
        return ("Both base models meet the criterion that a model has learnt to predict (%s), so the "
                "comparisons of this scale can speak about the methods." % crit if len(ok) == 2 else
                "The base model meets the criterion that it has learnt to predict (%s)." % crit), src
    sent = "%s the criterion that a model has learnt to predict (%s)" % (
        "No base model meets" if not ok else "Not every base model meets", crit)
    parts = []
    if mse_only:
        parts.append("%s meet%s its MSE part but not its SSIM part" % (
            and_list(["%s (%s times all-zero%s, below it at every frame)" % (s.mlabel(m), num(x[0], 2), line(m))
                      for m, x in mse_only]),
            "s" if len(mse_only) == 1 else ""))
    if bad:
        parts.append("%s %s" % (and_list([why(m, x) for m, x in bad]),
                                "meets neither part" if len(bad) == 1 and mse_only else
                                "meet neither part" if mse_only else "miss%s its MSE part" % ("es" if len(bad) == 1 else "")))
    sent += ": %s. " % "; ".join(parts)
    if not ok and not mse_only:
        sent += ("This build therefore checks the pipeline, not the methods: its comparisons of regularizers say "
                 "nothing about regularizers.")
    else:
        if mse_only:
            sent += ("The MSE comparisons on %s speak about the methods; %s SSIM stays below that of black frames. " % (
                and_list([s.mlabel(m) for m, _ in mse_only]), "its" if len(mse_only) == 1 else "their"))
        if bad:
            sent += "The comparisons on %s check only the pipeline." % and_list([s.mlabel(m) for m, _ in bad])
    return sent.strip(), src


def short_horizon(s):
    """Whether this scale predicts fewer frames than the report and the literature (STANDARD_FUTURE)."""
    f = s.future()
    return f is not None and f < STANDARD_FUTURE


def twin_ssim(t):
    """The words of the other horizon's base models against black frames, e.g. "ConvLSTM's 0.644 and
    PredRNN++'s 0.631 against 0.773" (its mean test SSIM), with [model met SSIM?] and the MSE ratios as
    "0.72 and 0.71 times"; None where that summary has no base runs or baseline."""
    got = [(m, t.learnt(m)) for m in t.models]
    got = [(m, x) for m, x in got if x is not None]
    zero = t.stat("baseline/zero", "test_ssim")[0]
    if not got or not math.isfinite(zero):
        return None
    ssim = "%s against %s" % (and_list(["%s's %s" % (t.mlabel(m), num(t.stat(m + "/base", "test_ssim")[0], DECIMALS["ssim"]))
                                         for m, _ in got]), num(zero, DECIMALS["ssim"]))
    ratios = "%s times" % and_list([num(x[0], 2) for _, x in got])
    return ssim, [x[2] for _, x in got], ratios


def horizon(s):
    """sent.horizon — a scale whose horizon is not the standard one, and why: the short scale predicts
    fewer frames than the report and the literature, because on ten (its twin, the study scale: the same
    recipe) the base models' SSIM stays below black frames'; the study scale names the short one, where it
    does not. From this summary's config and the twin summary (tables.py --twin); "" where neither applies."""
    f, t = s.future(), s.twin
    tf = t.future() if t is not None else None
    tw = twin_ssim(t) if t is not None and tf is not None else None
    tname = "\\texttt{%s}" % tex_escape((t.setup.get("scale") or "?")) if t is not None else ""
    if short_horizon(s):
        sent = ("This is fewer than the %s predicted frames of the report and of the published runs, on purpose. " %
                words(STANDARD_FUTURE))
        if tw is not None and tf == STANDARD_FUTURE:
            ssim, met, ratios = tw
            sent += ("With the same models, data and steps on %s predicted frames (the %s scale, whose results are "
                     "committed beside these), the base models reach %s the MSE of all-zero frames, but their SSIM, "
                     "%s, %s: a blurred digit loses SSIM wherever the truth is black. " % (
                         words(tf), tname, ratios, ssim,
                         "stays below that of black frames" if not any(met) else
                         "is above that of black frames for %s only" % words(sum(met)) if not all(met) else
                         "is above that of black frames there too"))
        sent += ("Predicting %s frames is the easier variant of the task that this scale uses, so that its regularizers "
                 "are compared on models that beat black frames by every measure; the \\texttt{paper} scale keeps %s." % (
                     words(f), words(STANDARD_FUTURE)))
        return sent, "experiments.json: seq_len - input_frames; the twin summary (runs.csv, frames.csv: base, baseline/zero)"
    if tw is not None and tf is not None and f is not None and tf < f:
        ssim, met, ratios = tw
        return ("The %s scale runs this recipe on %s predicted frames, where the base models' SSIM, %s, %s, and their "
                "MSE is %s that of all-zero frames; it is the default of \\texttt{make reproduce}, and this scale is its "
                "measurement on the standard horizon." % (
                    tname, words(tf), ssim, "is above that of black frames" if all(met) else
                    "is above that of black frames for %s of them" % words(sum(met)) if any(met) else
                    "is below that of black frames there too", ratios)), \
            "the twin summary (tables.py --twin): runs.csv, frames.csv"
    return "", "experiments.json: seq_len - input_frames (the standard horizon)"


def abshorizon(s):
    """sent.abshorizon — the abstract's statement of a short horizon: how many frames this scale predicts,
    and why not the standard ten (the twin summary: whether its base models beat black frames' SSIM)."""
    if not short_horizon(s):
        return "", "experiments.json: seq_len - input_frames (the standard horizon)"
    inputs, future = s.frames_in_out()
    sent = "It predicts %s frames from %s, not the standard %s" % (words(future), words(inputs), words(STANDARD_FUTURE))
    t = s.twin
    tw = twin_ssim(t) if t is not None and t.future() == STANDARD_FUTURE else None
    if tw is not None and not any(tw[1]):
        sent += (": on %s, with the same budget, neither base model's SSIM rises above that of black frames "
                 "(%s)" % (words(STANDARD_FUTURE), tw[0]))
    return sent + ".", "experiments.json: seq_len - input_frames; the twin summary: runs.csv"


def literature(s):
    """sent.literature — the published numbers of the same models with their protocols, and whether this
    scale's test set is comparable with them number for number (the data's provenance)."""
    parts = []
    for cite in sorted({r["cite"] for r in LITERATURE}, key=lambda c: [r["cite"] for r in LITERATURE].index(c)):
        xs = [r for r in LITERATURE if r["cite"] == cite]
        parts.append("%s~\\cite{%s}%s reports %s" % (xs[0]["source"], cite, ", after %s epochs," % num(200, 0)
                                                      if "200 epochs" in xs[0]["protocol"] else "", and_list([
            "%s %s%s" % (s.mlabel(r["model"]), num(r["mse"], 1),
                         " (SSIM %s)" % num(r["ssim"], DECIMALS["ssim"]) if r["ssim"] is not None else "") for r in xs])))
    sent = ("For the same models on Moving MNIST (ten input and ten predicted frames, MSE per frame as here), " +
            "; ".join(parts) + ". These runs train %sfor far longer than this scale." % (
                "" if s.setup.get("scale") == "paper" else "larger models "))
    d = s.setup.get("data") or {}
    if short_horizon(s):
        sent += (" They are means over %s predicted frames and ours over %s, where the error of any model is lower "
                 "(it grows with the horizon, Figure~\\ref{fig:frames}), so not even their scale compares with ours%s." % (
                     words(STANDARD_FUTURE), words(s.future()),
                     "; our test sequences are also generated (Section~\\ref{sec:data})" if d.get("source") == "generated" else ""))
        t = s.twin
        if t is not None and t.future() == STANDARD_FUTURE:
            ours = [(m, t.stat(m + "/base", "test_mse")) for m in t.models]
            ours = [(m, x[0]) for m, x in ours if x[2]]
            if ours:
                sent += (" On %s frames, the %s scale's base models reach %s." % (
                    words(STANDARD_FUTURE), tex_escape(t.setup.get("scale") or "?"),
                    and_list(["%s %s" % (t.mlabel(m), num(x, MSE)) for m, x in ours])))
    elif d.get("source") == "generated":
        sent += (" Our test sequences are generated (Section~\\ref{sec:data}), not taken from the canonical "
                 "\\texttt{mnist\\_test\\_seq.npy}, so our numbers are not comparable with these number for "
                 "number: only their scale is.")
    elif d:
        sent += (" Our test sequences are a seeded subset of the canonical \\texttt{mnist\\_test\\_seq.npy} "
                 "(Section~\\ref{sec:data}).")
    return sent, "paperdata.py: LITERATURE; setup.json: data.source"


def models(s):
    """sent.models — which base model has the lower mean test MSE, and whether Welch's interval of their
    difference (paperdata.Summary.models_welch: the models are different networks, not paired by seed)
    resolves it (empty unless there are exactly two models with runs)."""
    mw = s.models_welch()
    if not mw:
        return "", "runs.csv: base rows"
    m1, m2, (d, lo, hi, nu, p) = mw
    sent = "%s has the lower mean test MSE (%s against %s for %s)" % (
        s.mlabel(m1), num(s.stat(m1 + "/base", "test_mse")[0], MSE), num(s.stat(m2 + "/base", "test_mse")[0], MSE), s.mlabel(m2))
    if not math.isfinite(p):
        sent += "; with a single run of one of them there is no interval, so the seeds do not resolve which is lower."
    elif p <= 1 - LEVEL:
        sent += ("; Welch's %s\\,\\%% interval of the difference, %s [%s, %s], excludes zero: the gap is resolved by the "
                 "seeds." % (num(100 * LEVEL, 0), num(d, MSE, sign=True), num(lo, MSE, sign=True), num(hi, MSE, sign=True)))
    else:
        sent += ("; Welch's %s\\,\\%% interval of the difference, %s [%s, %s], contains zero, so the seeds do not "
                 "resolve which base model is lower." % (num(100 * LEVEL, 0), num(d, MSE, sign=True), num(lo, MSE, sign=True),
                                                         num(hi, MSE, sign=True)))
    return sent, "runs.csv: base rows, test_mse (Welch's interval)"


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
    sent += gap_growth(s)
    return sent, "runs.csv: gap_last; curves.csv and experiments.json (sampling_iters, n_train, batch): the gap from free running on"


def epochs_span(a, b):
    """'epoch a' or 'epochs a to b' (not a dash, which the PDF's text would read as a minus sign)."""
    return "epoch %s" % num(a, 0) if a == b else "epochs %s to %s" % (num(a, 0), num(b, 0))


def gap_growth(s):
    """Per base model, the validation-minus-training gap over its first free-running epochs and over its
    last (means over the window of paperdata.gap_window, then over seeds), and in how many seeds it grew: a
    gap that grows in every seed while both losses measure the same free-running prediction is overfitting,
    the work a regularizer has at this scale."""
    parts, over, flat = [], [], []
    for m in s.models:
        win = s.gap_window(m + "/base")
        if win is None:
            continue
        e0, last, w = win
        pairs = [x for x in (s.gap_ends(g, e0, last, w) for g in s.gap_series(m + "/base").values()) if x]
        if not pairs:
            continue
        a, b = pl.mean([x for x, _ in pairs]), pl.mean([y for _, y in pairs])
        grew = sum(1 for x, y in pairs if y > x)
        parts.append("%s's base gap goes from %s %s %s to %s %s %s (means over %s; it grows in %s)" % (
            s.mlabel(m), num(a, LOSS, sign=True), "over" if w > 1 else "at", epochs_span(e0, e0 + w - 1),
            num(b, LOSS, sign=True), "over" if w > 1 else "at", epochs_span(last - w + 1, last),
            "those epochs and the seeds" if w > 1 else "the seeds",
            ("all %s seeds" % words(len(pairs)) if len(pairs) > 2 else "both seeds") if grew == len(pairs) and grew > 1 else
            "%s of %s seeds" % (words(grew) if grew else "none", words(len(pairs)))))
        (over if b > a and grew == len(pairs) else flat).append(m)
    if not parts:
        return ""
    sent = (" Once scheduled sampling is over, training, like validation, feeds the model its own predictions, "
            "so both losses measure the same prediction: %s." % "; ".join(parts))
    if over:
        sent += (" %s therefore overfit%s the training sequences, which leaves a regularizer work to do." % (
            and_list([s.mlabel(m) for m in over]), "s" if len(over) == 1 else ""))
    if flat:
        sent += (" %s show%s no gap that grows in every seed, so these seeds do not show overfitting for a "
                 "regularizer to reduce." % (and_list([s.mlabel(m) for m in flat]), "s" if len(flat) == 1 else ""))
    return sent


def regime(s):
    """sent.regime — the control regime: per model with runs on fresh sequences every epoch
    (paperdata.fresh_control), their validation-minus-training gap at the first free-running epoch and at
    the last (each a mean over the window of paperdata.gap_window), beside the base runs of the same seeds on
    the fixed training set, and the test MSE of both;
    then what the contrast says. A gap that grows on the fixed set and not on sequences the model has
    never seen is the fixed set's overfitting; one that grows on both is not. With two or more seeds the
    differences (fresh minus base: the gap's growth, the test MSE) are paired by seed with their LEVEL
    interval, and the verdict needs the growth's interval below zero; with one seed they are runs."""
    parts, sep, nosep, open_, nseeds, single = [], [], [], [], set(), set()
    who_words = {"fresh": "on fresh sequences", "base": "on the fixed set"}
    for m in s.models:
        r = s.regime(m)
        if r is None:
            continue
        c = s.fresh_control(m)
        left = ["seed %s, whose run %s became unstable: its last validation loss is %s times its best, of epoch %s" % (
            num(sd, 0), who_words[who], num(ratio, 2), num(ep, 0)) for sd, who, ratio, ep in r["left"]]
        seeds = r["seeds"]
        if not seeds:
            parts.append("%s has no pair of stable runs to compare (%s)" % (s.mlabel(m), "; ".join(left)))
            continue
        nseeds.add(len(seeds))
        one = len(seeds) == 1
        if one:
            single.add(seeds[0])
        g, t = r["g"], r["t"]
        clause = ("%s's gap goes from %s over %s to %s over %s%s, where the base %s of the same seed%s on the "
                  "fixed %s sequences went from %s to %s" % (
                      s.mlabel(m), num(r["f0"], LOSS, sign=True), epochs_span(r["e0"], r["e0"] + r["w"] - 1),
                      num(r["fN"], LOSS, sign=True), epochs_span(r["last"] - r["w"] + 1, r["last"]),
                      "" if not (left or not one) else " (%s)" % ", ".join(
                          ([] if one else ["means over %s seeds" % words(len(seeds))]) +
                          (["leaving out %s" % "; ".join(left)] if left else [])),
                      "run" if one else "runs", "" if one else "s", num(int(s.cfg(c, "n_train")), 0),
                      num(r["b0"], LOSS, sign=True), num(r["bN"], LOSS, sign=True)))
        if one:
            # where the fresh test MSE lies against every base seed's (the seed-to-seed spread of the fixed set)
            lo, hi = min(r["base_mse"]), max(r["base_mse"])
            where = "below" if r["ft"] < lo else "above" if r["ft"] > hi else "within"
            clause += "; its test MSE is %s against the base run's %s, %s the range of the %s base runs (%s to %s)" % (
                num(r["ft"], MSE), num(r["bt"], MSE), where, words(len(r["base_mse"])), num(lo, MSE), num(hi, MSE))
        else:
            clause += ("; paired by seed, the gap's growth on fresh sequences minus that on the fixed set is %s [%s, %s]%s, "
                       "and the test MSE is %s against %s, a difference of %s [%s, %s]" % (
                           num(g[0], LOSS, sign=True), num(g[1], LOSS, sign=True), num(g[2], LOSS, sign=True),
                           " (Holm-adjusted %s)" % p_math(r["p_holm"]) if r.get("p_holm") is not None else "",
                           num(r["ft"], MSE), num(r["bt"], MSE), num(t[0], MSE, sign=True), num(t[1], MSE, sign=True),
                           num(t[2], MSE, sign=True)))
        parts.append(clause)
        {"overfit": sep, "unresolved": open_, "not-overfit": nosep}[r["verdict"]].append(m)
    if not parts:
        return "", "curves.csv and runs.csv: no run on fresh sequences"
    sd_words = "seed %s" % and_list([num(x, 0) for x in sorted(single)]) if nseeds == {1} else "the seeds of the base runs"
    sent = ("Trained on fresh sequences every epoch after the first (%s, Figure~\\ref{fig:regime}), %s." % (
        sd_words, "; ".join(parts)))
    if sep:
        sent += (" On sequences %s %s never seen, the gap grows less than on the fixed set and ends below every "
                 "base run's, so %s is overfitting of the fixed training set, the work a regularizer has at this "
                 "scale." % (and_list([s.mlabel(m) for m in sep]), "has" if len(sep) == 1 else "have",
                             "the base model's growing gap" if len(sep) == 1 else "the base models' growing gap"))
    if open_:
        sent += (" For %s the gap on fresh sequences grows less in every seed and ends below every base run's, but "
                 "the difference in growth does not survive Holm's correction over the models: every seed points to "
                 "overfitting of the fixed set, but %s seeds do not resolve it." % (
                     and_list([s.mlabel(m) for m in open_]), words(min(nseeds))))
    if nosep:
        # not every seed points the same way: that is no evidence of overfitting, and no evidence against it
        sent += (" For %s the gap on fresh sequences does not grow less than on the fixed set in every seed, or does "
                 "not end below every base run's, so these seeds do not show that %s growing gap is the fixed set's "
                 "doing." % (and_list([s.mlabel(m) for m in nosep]), "its" if len(nosep) == 1 else "their"))
    if nseeds == {1}:
        sent += " One run per model: these are runs, without an interval."
    return sent, "curves.csv (val_loss - train_loss), runs.csv (test_mse) of <model>/fresh and <model>/base"


def absregime(s):
    """sent.absregime — the control regime's verdict, short (the abstract): per verdict of paperdata's
    regime rule, the models and the seeds behind it; empty without runs on fresh sequences."""
    by, n = {"overfit": [], "unresolved": [], "not-overfit": []}, set()
    for m in s.models:
        r = s.regime(m)
        if r is not None and r["seeds"]:
            by[r["verdict"]].append(m)
            n.add(len(r["seeds"]))
    if not n:
        return "", "curves.csv and runs.csv: no run on fresh sequences"
    seeds = words(min(n)) if len(n) == 1 else "%s to %s" % (words(min(n)), words(max(n)))
    out = []
    if by["overfit"]:
        ms = by["overfit"]
        out.append("Trained again on fresh sequences every epoch, %s %s a gap between validation and training loss "
                   "that grows less than on the fixed training set (%s seeds, paired t-tests, Holm-corrected): "
                   "the base model%s overfit%s %s training set, so the regularizers have work to do." % (
                       and_list([s.mlabel(m) for m in ms]), "shows" if len(ms) == 1 else "show", seeds,
                       "" if len(ms) == 1 else "s", "s" if len(ms) == 1 else "", "its" if len(ms) == 1 else "their"))
    if by["unresolved"]:
        out.append("On fresh sequences every epoch, the gap of %s grows less in every seed than on the fixed set, but "
                   "%s seeds do not resolve it." % (and_list([s.mlabel(m) for m in by["unresolved"]]), seeds))
    if by["not-overfit"]:
        out.append("On fresh sequences every epoch, the gap of %s does not grow less than on the fixed set in every "
                   "seed: %s seeds do not show that the fixed set is overfitted." % (
                       and_list([s.mlabel(m) for m in by["not-overfit"]]), seeds))
    return " ".join(out), "curves.csv, runs.csv: <model>/fresh against <model>/base (paperdata.Summary.regime)"


def leak(s):
    """sent.leak — the centred head against its causal-head control (paperdata.Summary.leak_control: the
    same training and tested weights, the head alone differs), under the report's protocol (teacher-forced,
    first seed) and autoregressively (the centred head's future tap then reads zeros), and their
    teacher-forced training losses; where the build has no finished control, a sentence saying so."""
    if not s.leak:
        return "The centred-head experiment has not been run at this scale.", "runs.csv"
    c = s.leak_control
    if not c:
        return ("This build has no finished run of the causal-head control, so the effect of the head cannot be "
                "separated from that of the training here.",
                "experiments.json: no finished experiment whose config differs from %s in head alone" % s.leak)
    lm, cm = s.stat(s.leak, "test_mse")[0], s.stat(c, "test_mse")[0]
    lt, ct = s.stat(s.leak, "last_train_loss")[0], s.stat(c, "last_train_loss")[0]
    if s.leak in s.proto and c in s.proto:
        pl_, pc = s.proto[s.leak], s.proto[c]
        sent = ("Given the true frame as input at every step, as the report evaluated, the centred head reaches a "
                "test MSE per frame of %s (PSNR %s\\,dB, SSIM %s) and the causal head %s (PSNR %s\\,dB, SSIM %s)" % (
                    num(pl_["test_mse"], MSE), num(pl_["test_psnr"], DECIMALS["psnr"]), num(pl_["test_ssim"], DECIMALS["ssim"]),
                    num(pc["test_mse"], MSE), num(pc["test_psnr"], DECIMALS["psnr"]), num(pc["test_ssim"], DECIMALS["ssim"])))
    else:
        sent = "The report's teacher-forced evaluation was not computed for the two heads at this scale"
    sent += ("; predicting on its own, the centred head's test MSE per frame is %s and the causal head's %s. " % (
        num(lm, MSE), num(cm, MSE)))
    if lt and ct and ct / lt >= 1.1:   # "times below" only where it is clearly below
        sent += ("Under the same teacher-forced training, the centred head's training loss in the last epoch, %s, "
                 "is %s times below the causal head's %s." % (num(lt, LOSS), num(ct / lt, 1), num(ct, LOSS)))
    else:
        sent += ("Under the same teacher-forced training, their training losses in the last epoch are %s (centred) "
                 "and %s (causal)." % (num(lt, LOSS), num(ct, LOSS)))
    return sent, "runs.csv, protocol.csv: %s and %s" % (s.leak, c)


def leakbase(s):
    """sent.leakbase — the centred head against the base model, whose causal head is trained otherwise
    (scheduled sampling, the scale's epochs and schedule, best weights), so that head and training differ
    at once: teacher-forced (first seed), autoregressive (mean over seeds), training losses."""
    base = s.leak_base()
    if not s.leak or not s.runs_of(base):
        return "", "runs.csv: no centred-head experiment or base model"
    n = len(s.runs_of(base))
    lm, bm = s.stat(s.leak, "test_mse")[0], s.stat(base, "test_mse")[0]
    lt, bt = s.stat(s.leak, "last_train_loss")[0], s.stat(base, "last_train_loss")[0]
    sent = ("Our base ConvLSTM, whose causal head is trained with scheduled sampling and tested with its best "
            "weights (so that head and training both differ from the centred head's), has a test MSE per frame of ")
    if s.leak in s.proto and base in s.proto:
        sent += "%s given the true frames (centred head: %s) and " % (
            num(s.proto[base]["test_mse"], MSE), num(s.proto[s.leak]["test_mse"], MSE))
    sent += "%s predicting on its own (%s; centred head: %s). " % (
        num(bm, MSE), "one run" if n == 1 else "mean of %s runs" % words(n), num(lm, MSE))
    if lt and bt and bt / lt >= 1.1:
        sent += ("The centred head's teacher-forced training loss in the last epoch, %s, is %s times below the base "
                 "model's %s, which is a scheduled-sampling loss partly on the model's own inputs." % (
                     num(lt, LOSS), num(bt / lt, 1), num(bt, LOSS)))
    else:
        sent += ("The centred head's teacher-forced training loss in the last epoch is %s (base model: %s, a "
                 "scheduled-sampling loss)." % (num(lt, LOSS), num(bt, LOSS)))
    return sent, "runs.csv, protocol.csv: %s and %s" % (s.leak, base)


def times(r):
    """A ratio as "r times": one decimal, two where one would round a ratio near one to 1.0."""
    return num(r, 1 if r >= 1.1 or r <= 0.9 else 2)


def leakverdict(s):
    """sent.leakverdict — how the report's protocol ranks the centred head against its causal-head
    control (trained alike), beside the autoregressive ranking; without the control, against the base
    model, saying that it is trained otherwise (empty where the protocol was not computed). The abstract
    prints it too."""
    if not s.leak:
        return "", "no centred-head experiment"
    ref = s.leak_control or s.leak_base()
    source = "protocol.csv, runs.csv: %s and %s test_mse" % (s.leak, ref)
    ratios = s.leak_ratios(ref)
    if ratios is None:
        return "", source
    other = ("a causal head trained the same way" if s.leak_control else
             "the causal head of our base model, which is also trained otherwise (no causal-head control trained "
             "alike is in this build)")
    # the centred head has one run, and the protocol tests the first seed only: no interval
    once = (" The centred head was run once and its control too, so these ratios have no interval." if s.leak_control else
            " The centred head was run once, so these ratios have no interval.")
    r_tf, r_ar = ratios
    if r_tf > 1 and r_ar > 1:
        return ("Against %s, the report's protocol reverses the ranking: given the true frames, the centred "
                "head's MSE is %s times lower, while predicting on its own it is %s times higher. Its good "
                "numbers measure how well it passes on a frame it is given, not how well it predicts.%s" % (
                    other, times(r_tf), times(r_ar), once)), source
    if r_tf > 1:
        return ("Given the true frames, the centred head's MSE is %s times lower than that of %s; predicting "
                "on its own it is not worse at this scale (ratio %s).%s" % (times(r_tf), other, num(r_ar, 2), once)), source
    return ("At this scale the centred head has not learnt to use the frame it sees: even given the true "
            "frames its MSE is not below that of %s (ratio %s), so these runs do not reproduce the report's "
            "advantage.%s" % (other, num(r_tf, 2), once)), source


def reportcmp(s):
    """sent.reportcmp — the report's changes against ours, in the same unit (percent of the own base
    model's MSE): a change of ours counts as agreeing or disagreeing with the report only when it is
    resolved after Holm's correction; an unresolved one neither confirms nor contradicts it."""
    agree = s.report_agreement()
    source = REPORT_CSV + " and runs.csv: report rows against our paired differences (Holm-corrected)"
    if not agree:
        return "None of the report's regularizers has finished runs here yet.", source
    res = [x for x in agree if x[5]]
    unres = [x for x in agree if not x[5]]

    def names(xs):
        return and_list(["%s %s" % (tex_escape(x[0]), s.elabel(x[2])) for x in xs])
    if not res:
        sent = (("None of our %s differences that match a row of the report is resolved after Holm's correction, "
                 "so none confirms or contradicts the report" % words(len(agree))) if len(agree) > 1 else
                "Our one difference that matches a row of the report is not resolved after Holm's correction, "
                "so it neither confirms nor contradicts the report")
        sent += (": an interval that contains zero says nothing about the direction, whatever the sign of its mean.")
    else:
        same = [x for x in res if x[3] is not None and x[3] != 0 and x[3] == x[4]]
        opp = [x for x in res if x[3] is not None and x[3] != 0 and x[3] != x[4]]
        flat = [x for x in res if x[3] == 0]
        bits = []
        if same:
            bits.append("%s agree%s with the report's direction" % (names(same), "s" if len(same) == 1 else ""))
        if opp:
            bits.append("%s contradict%s it" % (names(opp), "s" if len(opp) == 1 else ""))
        if flat:
            bits.append("%s change%s where the report's MSE did not" % (names(flat), "s" if len(flat) == 1 else ""))
        sent = ("Of our %s differences that match a row of the report, %s %s resolved after Holm's correction: %s; "
                "the other %s neither confirm nor contradict the report." % (
                    words(len(agree)), words(len(res)), "is" if len(res) == 1 else "are", "; ".join(bits),
                    words(len(unres))) if unres else
                "Of our %s differences that match a row of the report, all are resolved after Holm's correction: %s." % (
                    words(len(agree)), "; ".join(bits)))
    # the report's largest change (relative to its base) and ours, both in percent of the own base model
    rep_base = s.report_base_mse()

    def report_mse(x):
        return float(next(r["mse"] for r in s.report if r["model"] == x[0] and r["variant"] == x[1]))
    big = max((x for x in agree if x[3]), default=None, key=lambda x: abs(report_mse(x) / rep_base[x[0]] - 1))
    if big:
        d, lo, hi, n = s.paired(big[2], "test_mse")
        bm = s.stat(big[2].split("/")[0] + "/base", "test_mse")[0]
        sent += (" The report's largest change, %s %s, raises%s its MSE by %s\\,\\%% of its base model's; ours "
                 "changes the mean test MSE by %s\\,\\%% of our base model's" % (
                     tex_escape(big[0]), tex_escape(big[1]), "" if big[3] > 0 else " (here: lowers)",
                     num(abs(100.0 * (report_mse(big) / rep_base[big[0]] - 1)), 1), num(100.0 * d / bm, 1, sign=True)))
        sent += (" [%s, %s\\,\\%%], %s." % (num(100.0 * lo / bm, 1, sign=True), num(100.0 * hi / bm, 1, sign=True),
                                             "resolved" if big[5] else "not resolved") if n >= 2 else ".")
        sent = sent.replace("raises (here: lowers)", "lowers")
    return sent, source


def strips(s):
    """sent.strips — which figures show the qualitative strips."""
    refs = ["\\ref{fig:strip-%s}" % tag for _, tag in s.strips()]
    ks = [r["stretch"] for st, _ in s.strips() for r in st["rows"] if r.get("stretch", 1) > 1]
    stretch = ("A prediction whose brightest pixels are dim is printed brighter, by the factor beside its row "
               "(its grey levels times $k$, clipped at white; $k$ from its 99.9th percentile, here %s to %s), so "
               "that a blurred digit stays visible in print; every other row, and every number below, is as the "
               "model wrote it." % (num(min(ks), 1), num(max(ks), 1))) if ks else \
        "The predictions are printed as the model wrote them, without a contrast stretch."
    if not refs:
        return "The qualitative strips need the baselines, which have not been computed yet.", "strip.json"
    return ("Figure%s~%s show%s the first test sequence and every method's prediction of it (first-seed runs; "
            "the columns are the input frames and the predicted frames, numbered above). %s A prediction that blurs and fades "
            "to black within a few frames has not learnt the motion: under the MSE, a blur towards the mean "
            "frame is the best guess of a model that does not know where the digits go.%s" % (
                "s" if len(refs) > 1 else "", " and~".join(refs), "" if len(refs) > 1 else "s", stretch, strip_mass(s)),
            "strip.json; strip-*.png: pixel mass of the last predicted frame")


def strip_mass(s):
    """The pixel mass of the strips' last predicted frame against the true one's (paperdata.strip_mass): the
    base models' ratios, and the regularized runs' range or those that kept less than half (faded)."""
    got = [(e, r) for e, r in s.strip_mass() if s.exps[e]["stage"] != "once"]
    if not got:
        return ""
    base = [(e, r) for e, r in got if s.exps[e]["name"] == "base"]
    other = [(e, r) for e, r in got if s.exps[e]["name"] != "base"]
    sent = (" At the last predicted frame of this sequence, %s the true frame's pixel mass (the sum of its grey "
            "levels), where a prediction that keeps less than half has faded" % (
                and_list(["%s's base model keeps %s times" % (s.mlabel(e.split("/")[0]), num(r, 2)) for e, r in base])
                if base else "the predictions keep"))
    if other:
        faded = [(e, r) for e, r in other if r < 0.5]
        sent += ("; the other methods keep %s to %s times%s" % (
            num(min(r for _, r in other), 2), num(max(r for _, r in other), 2),
            ", and %s fade%s below half" % (and_list(["%s %s (%s)" % (s.mlabel(e.split("/")[0]), s.elabel(e), num(r, 2))
                                                      for e, r in faded]),
                                           "s" if len(faded) == 1 else "") if faded else ""))
    return sent + "."


def n_pixels(s):
    """Pixels per frame (the data's generator size squared; 64 x 64 for the canonical file)."""
    gen = (s.setup.get("data") or {}).get("generator") or {}
    return int(gen.get("size") or 64) ** 2


def ssim_flat(g):
    """SSIM of a flat window whose truth is 0 and whose prediction is the uniform grey g (paperdata.SSIM_C1)."""
    return SSIM_C1 / (SSIM_C1 + g * g)


def ssim(s):
    """sent.ssim — why SSIM can rank models against MSE: the black background covers most of a frame, and
    a uniform grey offset g there alone brings a window's SSIM down to C1/(C1 + g^2); the offsets measured
    in the strips (median grey of each prediction row) and the all-zero baseline's SSIM."""
    bg = s.strip_background()
    if not bg:
        return "", "strip-*.png: no strips"
    offset = [(e, g) for e, g in bg if g >= 2.0 and s.exps[e]["stage"] != "once"]
    clean = [(e, g) for e, g in bg if g < 2.0 and s.exps[e]["stage"] != "once"]
    zs = s.stat("baseline/zero", "test_ssim")[0]
    sent = ("SSIM compares local means, variances and covariance in $7\\times7$ windows, and most windows of a "
            "Moving MNIST frame are black background. Where the truth is black, a prediction of uniform grey $g$ "
            "scores $C_1/(C_1+g^2)$ with $C_1 = %s$: %s at $g = %s$, %s at $g = %s$, whatever its digits look "
            "like. " % (num(SSIM_C1, 2), num(ssim_flat(2.0), 2), num(2, 0), num(ssim_flat(6.0), 2), num(6, 0)))
    if offset:
        def grp(m):
            xs = [(e, g) for e, g in offset if e.startswith(m + "/")]
            if not xs:
                return None
            lo, hi = min(g for _, g in xs), max(g for _, g in xs)
            rng = num(lo, 1) if abs(hi - lo) < 0.05 else "%s to %s" % (num(lo, 1), num(hi, 1))
            names = [s.elabel(e) for e, _ in xs]
            who = ("every %s model" % s.mlabel(m)) if len(xs) == len([e for e, _ in bg if e.startswith(m + "/") and
                                                                s.exps[e]["stage"] != "once"]) else \
                "%s's %s" % (s.mlabel(m), and_list(names))
            return "%s (median grey %s)" % (who, rng)
        groups = [x for x in (grp(m) for m in s.models) if x]
        sent += ("In the strips (first test sequence, first-seed runs) the background of %s is not black but grey: "
                 "the model leaves an offset there" % and_list(groups))
        # why: a head without an output activation cannot hold the background at zero; one with a ReLU
        # (or sigmoid) can, so an offset there is a model that has not learnt it yet
        off_base = [m for m in s.models if (m + "/base") in dict(offset)]
        lin = [m for m in off_base if s.cfg(m + "/base", "head_act") == "identity"]
        act = [m for m in off_base if s.cfg(m + "/base", "head_act") not in (None, "identity")]
        if lin:
            sent += ("; %s ends in a linear output head, with no activation to hold the background at zero" %
                     and_list(["%s" % s.mlabel(m) for m in lin]))
        if act:
            sent += ("; the %s after %s output head%s could give exact black, but at this scale the base "
                     "model%s not learnt to" % (
                         and_list(sorted({"ReLU" if s.cfg(m + "/base", "head_act") == "relu" else
                                          str(s.cfg(m + "/base", "head_act")) for m in act})),
                         and_list(["%s's" % s.mlabel(m) for m in act]), "s" if len(act) > 1 else "",
                         "s have" if len(act) > 1 else " has"))
        gmax = max(g for _, g in offset)
        sent += (". Such an offset costs at most $%s\\times(g/255)^2$, %s per frame at $g = %s$, of the MSE, "
                 "but limits SSIM in those windows to %s." % (
                     num(n_pixels(s), 0), num(n_pixels(s) * (gmax / 255.0) ** 2, 1), num(gmax, 1), num(ssim_flat(gmax), 2)))
    if clean:
        relu = all(s.cfg(m + "/base", "head_act") == "relu" for m in s.models)
        sent += (" The other predictions' backgrounds are black (median grey below %s)." % num(2, 0) if offset else
                 "In the strips (first test sequence, first-seed runs) the background of every prediction is black "
                 "(median grey below %s)%s." % (num(2, 0), ": the ReLU after the output head can hold it at exactly zero"
                                                if relu else ""))
    if math.isfinite(zs):
        sent += (" All-zero frames are exactly black there, which is why they score an SSIM of %s while their MSE "
                 "is high." % num(zs, DECIMALS["ssim"]))
    return sent, "strip-*.png (median grey level of each prediction row); runs.csv: baseline/zero test_ssim"


def ssim_error(s):
    """sent.ssimerror — how small an error SSIM asks for before it ranks a prediction above black frames:
    over every predicted frame of every finished run of the methods (base, regularizers, controls, the
    run-once experiments; not the optimizer study's and sweeps' runs, one of which repeats a base run), the
    frames whose SSIM is above all-zero frames' at the same frame, the largest MSE per frame among them, and
    the predicted frames at which the base models' mean MSE per frame is that low."""
    fz, zs = s.frame_means("baseline/zero", "mse"), s.frame_means("baseline/zero", "ssim")
    pts = [(r["mse"], r["ssim"] > zs[r["frame"]]) for e in s.run_methods
           for r in s.finished_rows(s.frames, e)
           if r["frame"] in zs and r.get("mse") is not None and r.get("ssim") is not None]
    if not pts or not fz:
        return "", "frames.csv: no model or baseline frames"
    nruns = sum(len(s.runs_of(e)) for e in s.run_methods)
    won = [x for x, w in pts if w]
    sent = "Of the %s predicted frames of the %s model run%s" % (num(len(pts), 0), num(nruns, 0), "s" if nruns > 1 else "")
    if not won:
        return (sent + ", none scores a higher SSIM than all-zero frames do at the same frame."), \
            "frames.csv: every run's frames and baseline/zero"
    top = max(won)
    small = sum(1 for x, _ in pts if x <= top)
    ratio = num(top / pl.mean(list(fz.values())), 2)
    if small == 1:
        which = "the frame with the lowest error, %s (%s times all-zero's)," % (num(top, MSE), ratio)
    else:
        which = "%s of the %s frames with an MSE per frame of at most %s, %s times all-zero's," % (
            "all" if small == len(won) else num(len(won), 0), num(small, 0), num(top, MSE), ratio)
    sent += (", %s score%s a higher SSIM than all-zero frames do at the same frame: %s and none of the %s with a "
             "larger error. SSIM ranks a prediction above black frames only where its error is far below theirs." % (
                 words(len(won)) if len(won) < 10 else num(len(won), 0), "s" if len(won) == 1 else "", which,
                 num(len(pts) - small, 0)))
    # the base models' frames at that error (their per-frame numbers are sent.frames'), grouped where the
    # models share them
    low, first = {}, {}
    for m in s.models:
        fb = s.frame_means(m + "/base", "mse")
        if fb:
            low.setdefault(tuple(t for t in sorted(fb) if fb[t] <= top), []).append(m)
            first[m] = (min(fb), max(fb))
    parts, early, none = [], False, False
    for frames_low, ms in low.items():
        who = "the base models' mean error is" if len(ms) > 1 or len(s.models) == 1 else \
            "%s's base model's mean error is" % s.mlabel(ms[0])
        f0, fN = first[ms[0]]
        if not frames_low:
            parts.append("%s that low at no predicted frame" % who)
            early = none = True
        elif list(frames_low) == list(range(f0, f0 + len(frames_low))) and len(frames_low) < fN - f0 + 1:
            parts.append("%s that low only at the first %s" % (
                who, "predicted frame" if len(frames_low) == 1 else "%s predicted frames" % words(len(frames_low))))
            early = True
        else:
            parts.append("%s that low at %s of the predicted frames" % (who, words(len(frames_low))))
    if parts:
        sent += " " + "; ".join(parts)[0].upper() + "; ".join(parts)[1:]
    if early and none and len(parts) == 1:
        sent += (": to beat black frames on SSIM, a model would need an error below that of these models' first "
                 "predicted frame at every frame")
    elif early:
        sent += (": to beat black frames on SSIM at every frame, a model would have to predict the last frame about "
                 "as well as these predict the first")
    return sent + ".", "frames.csv: every run's frames (mse, ssim) and baseline/zero, per frame"


def effects(s):
    """sent.effects — every paired difference of PSNR and SSIM to the base model that stays resolved after
    Holm's correction (one family per metric over every regularizer of both models), with its interval."""
    out = []
    for c in ("ssim", "psnr"):
        for e in s.regularizers:
            r = s.resolved(e, "test_" + c)
            if r:
                d, lo, hi, n = s.paired(e, "test_" + c)
                out.append("%s on %s, %s %s [%s, %s] (Holm-adjusted %s)" % (
                    s.elabel(e), s.mlabel(e.split("/")[0]), "SSIM" if c == "ssim" else "PSNR",
                    num(d, DECIMALS[c], sign=True), num(lo, DECIMALS[c], sign=True), num(hi, DECIMALS[c], sign=True),
                    p_math(s.p_holm(e, "test_" + c))))
    n = len([e for e in s.regularizers if s.resolved(e, "test_ssim") is not None])
    if not n:
        return "", "runs.csv: paired differences"
    if not out:
        return ("No difference of SSIM or PSNR to the base model stays resolved after Holm's correction over the "
                "%s regularized models." % words(n)), "runs.csv: paired differences of test_ssim, test_psnr"
    sent = ("After Holm's correction over the %s regularized models (one family per metric), %s: %s." % (
        words(n), "the resolved differences of SSIM and PSNR to the base model are" if len(out) > 1 else
        "the only difference of SSIM or PSNR to the base model that stays resolved is", "; ".join(out)))
    # the report's rows of the same method whose SSIM moved the same way against its own base
    rbase = {r["model"]: float(r["ssim"]) for r in s.report if REPORT_MATCH.get(r["variant"]) == "base"}
    echoes = []
    for e in s.regularizers:
        r = s.resolved(e, "test_ssim")
        if not r:
            continue
        for row in s.report:
            if REPORT_MATCH.get(row["variant"]) == s.exps[e]["name"] and row["model"] in rbase:
                dr = float(row["ssim"]) - rbase[row["model"]]
                if dr != 0 and (dr > 0) == (r > 0):
                    echoes.append("%s (%s: SSIM %s to %s)" % (tex_escape(row["variant"]), tex_escape(row["model"]),
                                                            num(rbase[row["model"]], 3), num(float(row["ssim"]), 3)))
    if echoes:
        sent += " The report found the same direction for %s." % and_list(echoes)
    bg = dict(s.strip_background())
    off = [e for e in s.regularizers if s.resolved(e, "test_ssim") == -1 and bg.get(e, 0) >= 2.0
           and bg.get(e.split("/")[0] + "/base", 0) < 2.0]
    if off:
        sent += (" %s: %s leave%s a grey background (median grey %s in the strips) where the base model's is "
                 "black." % ("The SSIM drop has the cause described above" if len(off) == 1 else "The SSIM drops have the cause described above",
                             and_list(["%s %s" % (s.mlabel(e.split("/")[0]), s.elabel(e)) for e in off]),
                             "s" if len(off) == 1 else "", and_list([num(bg[e], 1) for e in off])))
    return sent, "runs.csv: paired differences of test_ssim, test_psnr; Holm over the regularizers"


def resolved_frames(rows, above):
    """The clause of sent.frames saying at which frames the seeds resolve a base model's difference to the
    all-zero line (rows: paperdata.Summary.frames_vs_zero of the model; above: the frames where its mean is
    at or above the line): the frames above the line that are resolved above it, or, where the mean is below
    at every frame, how many frames are resolved below."""
    ok = {t: r for t, r in rows.items() if r[3] >= 2 and r[4] is not None}
    if not ok:
        return ""
    if not any(r[4] <= 1 - LEVEL for r in ok.values()):
        return " (means over the seeds; the seeds resolve the difference to the line at no frame)"
    if above:
        res = [t for t in above if t in ok and ok[t][4] <= 1 - LEVEL and ok[t][0] > 0]
        if not res:
            return " (means over the seeds; the seeds resolve the difference at none of these frames)"
        if res == above:
            return " (resolved by the seeds at each of these frames)"
        return " (means over the seeds; resolved by the seeds only at frame%s %s)" % (
            "s" if len(res) > 1 else "", and_list([num(t, 0) for t in res]))
    res = [t for t in sorted(ok) if ok[t][4] <= 1 - LEVEL and ok[t][0] < 0]
    if len(res) == len(rows):
        return " (resolved by the seeds at every frame)"
    return " (means over the seeds; resolved below the line at %s of the %s frames)" % (
        "none" if not res else words(len(res)), words(len(rows)))


def frames(s):
    """sent.frames — what the per-frame figure shows: per base model, the predicted frames where its MSE
    is at or above that of all-zero frames, and its SSIM against all-zero's."""
    fz, zs = s.frame_means("baseline/zero", "mse"), s.frame_means("baseline/zero", "ssim")
    if not fz:
        return "", "frames.csv: no baseline"
    parts = []
    pf = s.frames_vs_zero("mse")
    for m in s.models:
        fb, sb = s.frame_means(m + "/base", "mse"), s.frame_means(m + "/base", "ssim")
        if not fb:
            continue
        above = [k for k in sorted(fb) if k in fz and fb[k] >= fz[k]]
        last = max(fb)
        if above and above == list(range(above[0], last + 1)) and above[0] > min(fb):
            p = "%s's base model is below the all-zero line only for the first %s predicted frame%s and at or above it from frame %s on" % (
                s.mlabel(m), words(above[0] - min(fb)), "s" if above[0] - min(fb) > 1 else "", num(above[0], 0))
        elif above:
            p = "%s's base model is at or above the all-zero line at frame%s %s" % (
                s.mlabel(m), "s" if len(above) > 1 else "", and_list([num(k, 0) for k in above]))
        else:
            p = "%s's base model stays below the all-zero line at every frame, by %s\\,\\%% at the last" % (
                s.mlabel(m), num(100 * (1 - fb[last] / fz[last]), 0))
        p += resolved_frames(pf.get(m, {}), above)
        s_below = [k for k in sorted(sb) if k in zs and sb[k] < zs[k]]
        if len(s_below) == len(sb):
            p += ", and its SSIM is below all-zero's at every frame"
        elif s_below:
            p += ", and its SSIM is below all-zero's at %s of the %s frames" % (words(len(s_below)), words(len(sb)))
        parts.append(p)
    if not parts:
        return "", "frames.csv: base and baseline/zero, per frame"
    grow = [m for m in s.models if s.frame_means(m + "/base", "mse") and
            s.frame_means(m + "/base", "mse")[max(s.frame_means(m + "/base", "mse"))] >
            s.frame_means(m + "/base", "mse")[min(s.frame_means(m + "/base", "mse"))]]
    sent = "; ".join(parts) + "."
    if any(pf.values()):
        sent += (" A frame counts as resolved where the one-sample interval of the base model's runs against the "
                 "all-zero line survives Holm's correction over every frame of the base models.")
    if grow:
        fm = {m: s.frame_means(m + "/base", "mse") for m in grow}
        sent += (" %s grows with the horizon (%s from the first predicted frame to the last), "
                 "the mark of predictions that blur as they lose track of the digits." % (
                     "The base models' error" if len(grow) > 1 else "The base model's error", and_list([
                     "%s %s to %s" % (s.mlabel(m), num(fm[m][min(fm[m])], MSE), num(fm[m][max(fm[m])], MSE)) for m in grow])))
    return sent, "frames.csv: base and baseline/zero, per frame"


def final(s):
    """sent.final — what the figure of the final test MSE shows: how many runs of each model (base and
    regularizers) are worse than predicting all-zero frames."""
    bz = s.stat("baseline/zero", "test_mse")[0]
    if not math.isfinite(bz):
        return "", "runs.csv: no baseline"
    parts = []
    for m in s.models:
        base = s.runs_of(m + "/base")
        regs = [r for e in s.regularizers if e.startswith(m + "/") for r in s.runs_of(e)]
        nb = sum(1 for r in base if r["test_mse"] >= bz)
        nr = sum(1 for r in regs if r["test_mse"] >= bz)
        # a model with no finished regularized run yet (a study part-way through): its base runs only
        parts.append("%s of the %s base runs%s of %s" % (
            words(nb) if nb else "none", words(len(base)),
            " and %s of the %s regularized runs" % (words(nr) if nr else "none", words(len(regs))) if regs else "",
            s.mlabel(m)))
    return ("At or above the all-zero line (%s): %s." % (num(bz, MSE), "; ".join(parts))), \
        "runs.csv: test_mse of base and regularizer runs against baseline/zero"


def curves(s):
    """sent.curves — what the learning curves show: in how many base runs the best validation epoch is the
    last (still falling: no overfitting yet) and, for the others, where it was; the all-zero level in loss
    units."""
    parts, early, still, total = [], [], 0, 0
    for m in s.models:
        runs = s.runs_of(m + "/base")
        if not runs:
            continue
        k = sum(1 for r in runs if r["best_epoch"] == r["epochs"])
        still += k
        total += len(runs)
        parts.append("%s of the %s base runs of %s" % (words(k) if k else "none", words(len(runs)), s.mlabel(m)))
        early += ["%s seed %s (epoch %s of %s)" % (s.mlabel(m), num(r["seed"], 0), num(r["best_epoch"], 0), num(r["epochs"], 0))
                  for r in runs if r["best_epoch"] != r["epochs"]]
    if not parts:
        return "", "runs.csv: base rows"
    sent = "The validation loss is lowest in the last epoch in %s" % and_list(parts)
    if still == total:
        sent += (": it is still falling when training stops, so the base models do not overfit yet, and a "
                 "regularizer has no overfitting to correct at this scale.")
    else:
        sent += "; the other%s reached %s lowest earlier: %s." % (
            "s" if len(early) > 1 else "", "their" if len(early) > 1 else "its", and_list(early))
    bz = s.stat("baseline/zero", "test_mse")[0]
    if math.isfinite(bz):
        sent += (" The dotted line is the test MSE of all-zero frames in loss units (per pixel, %s); the validation "
                 "loss also counts the next-frame predictions made from true input frames, which are easier, so it "
                 "falls below that line sooner than the test MSE of the predicted frames." % num(bz / n_pixels(s), LOSS))
    return sent, "runs.csv: best_epoch, epochs of the base runs; baseline/zero test_mse / pixels"


def reportzero(s):
    """sent.reportzero — the report's PredRNN++ base against predicting all-zero frames on our test set
    (all-zero frames score about the same on any Moving MNIST test set: only the digits' ink counts)."""
    bz, zs = s.stat("baseline/zero", "test_mse")[0], s.stat("baseline/zero", "test_ssim")[0]
    r = next((x for x in s.report if x["model"] == "PredRNN++" and x["variant"] == "Base"), None)
    if r is None or not math.isfinite(bz):
        return "", REPORT_CSV
    mse, ssim_ = float(r["mse"]), float(r["ssim"])
    near = mse >= 0.75 * bz
    sent = ("The report's PredRNN++ (MSE %s per frame, SSIM %s) is %s all-zero frames on our test set (%s, SSIM %s), "
            "which score about the same on any Moving MNIST test set since they depend only on the digits' ink" % (
                num(mse, 2), num(ssim_, 3), "%s the level of" % ("above" if mse > bz else "near") if near else "below",
                num(bz, MSE), num(zs, DECIMALS["ssim"])))
    sent += (": its PredRNN++ had not learnt to predict either." if near else ".")
    return sent, REPORT_CSV + ": PredRNN++ Base; runs.csv: baseline/zero"


SCALES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "experiments", "scales")


def scale_conf(scale, name):
    """The 'key = value' lines of experiments/scales/<scale>/<name> as a dict, its `include = ...` files read
    first where they stand (as rnnreg does: a later key overrides); OSError when unreadable."""
    import re

    def read(path, depth=0):
        out = {}
        for k, v in re.findall(r"^(\w+)\s*=\s*(\S+)", open(path).read(), re.M):
            if k == "include" and depth < 8:
                out.update(read(os.path.join(os.path.dirname(path), v), depth + 1))
            else:
                out[k] = v
        return out
    return read(os.path.join(SCALES_DIR, scale, name))


def scale_mk_words(scale, var):
    """The words of `VAR ?= ...` in experiments/scales/<scale>/scale.mk, or in the scale.mk it includes
    (`include experiments/scales/<other>/scale.mk`); AttributeError when absent."""
    import re
    mk = open(os.path.join(SCALES_DIR, scale, "scale.mk")).read()
    got = re.search(r"^%s\s*\?=\s*(.*)$" % var, mk, re.M)
    inc = re.search(r"^include\s+experiments/scales/(\w+)/scale\.mk\s*$", mk, re.M)
    if got is None and inc is not None and inc.group(1) != scale:
        return scale_mk_words(inc.group(1), var)
    return got.group(1).split()


def clipping(s):
    """sent.clipping — the models whose base config clips the global norm of the gradient
    (clip_grad_norm), with the threshold and why (experiments/scales/study/predrnn_pp.conf); "" where none
    does."""
    clipped = [(m, float(s.cfg(m + "/base", "clip_grad_norm") or 0)) for m in s.models]
    clipped = [(m, c) for m, c in clipped if c > 0]
    if not clipped:
        return "", "no base config sets clip_grad_norm"
    who = and_list([s.mlabel(m) for m, _ in clipped])
    sent = ("%s %s the global norm of %s gradient at %s before each update~\\cite{pascanu2013}: in our probes, "
            "single large steps threw some runs off when free running began, and a few never recovered." % (
                who, "clips" if len(clipped) == 1 else "clip", "its" if len(clipped) == 1 else "their",
                and_list(sorted({num(c, 2) for _, c in clipped}))))
    return sent, "clip_grad_norm of the base runs' configs (experiments/scales/study/predrnn_pp.conf)"


def studyscale(s):
    """sent.studyscale — where this is a smaller scale (tiny, quick): the default scale (short), the one sized
    so that both models learn and can overfit on a 2-core CPU, with its sizes read from
    experiments/scales/short (includes followed), and the study scale, the same recipe on the standard
    horizon."""
    if s.setup.get("scale") in ("short", "study", "paper"):
        return "", "setup.json: scale"
    try:
        conf, model = scale_conf("short", "common.conf"), scale_conf("short", "convlstm.conf")
        inputs = scale_conf("..", "common.conf")["input_frames"]
        seeds = len(scale_mk_words("short", "SEEDS"))
        steps = int(conf["n_train"]) // int(conf["batch"]) * int(conf["epochs"])
        future = int(conf["seq_len"]) - int(inputs)
        width = model["layers"].split(",")
    except (OSError, KeyError, ValueError, AttributeError):
        return "", "experiments/scales/short (not readable)"
    sent = ("The short scale (\\texttt{experiments/scales/short}, the default of \\texttt{make reproduce}) is the one "
            "sized to say something about regularizers on a two-core CPU: models of %s layers of %s channels, %s steps "
            "on a fixed set of %s training sequences, small enough to overfit, the report's experiments with %s seeds, "
            "and %s predicted frames; the study scale (\\texttt{experiments/scales/study}) runs the same on %s; the "
            "probes behind both are in \\texttt{experiments/scales/study/PROBES.md}." % (
                words(len(width)), num(int(width[0]), 0), num(steps, 0), num(int(conf["n_train"]), 0), words(seeds),
                words(future), words(STANDARD_FUTURE)))
    return sent, "experiments/scales/short/common.conf, convlstm.conf, scale.mk (and what they include)"


def paperscale(s):
    """sent.paperscale — the paper scale (the report's setting, meant for a GPU): that it has not been run
    where this is another scale, and what it would cost: runs per model (this summary's plan with the
    paper scale's seeds), sequences per run, GPU hours at assumed throughputs (REPRODUCE.md section 7)."""
    if s.setup.get("scale") == "paper":
        return "", "setup.json: scale"
    try:
        conf = scale_conf("paper", "common.conf")
        seeds, oseeds = len(scale_mk_words("paper", "SEEDS")), len(scale_mk_words("paper", "OPT_SEEDS"))
        per_run = int(conf["n_train"]) * int(conf["epochs"]) + (int(conf["n_val"]) * int(conf["epochs"]) + int(conf["n_test"])) / 3.0
    except (OSError, KeyError, ValueError, AttributeError):
        return ("The paper scale (\\texttt{experiments/scales/paper}) needs a GPU and has not been run."), \
            "experiments/scales/paper (not readable)"
    runs = {}
    for m in s.models:
        n_opt = len(s.opt_exps(m))
        # the controls (fresh sequences) do not fit the paper scale's data: not in its plan
        n_main = len([e for e, x in s.exps.items() if x["model"] == m and x["stage"] == "main" and not s.is_control(e)])
        n_other = len([e for e, x in s.exps.items() if x["model"] == m and x["stage"] not in ("main", "opt")])
        runs[m] = n_opt * oseeds + n_main * seeds + n_other
    total = sum(runs.values())
    hours = {v: total * per_run / v / 3600.0 for v in (20.0, 100.0)}
    sent = ("The paper scale (\\texttt{experiments/scales/paper}: the report's setting, %s epochs of %s training "
            "sequences, models of the published sizes, %s seeds) needs a GPU and has not been run. By this "
            "scale's plan it is %s runs of about %s training-sequence equivalents each (evaluation counted as a "
            "third of a training step), that is about %s GPU hours at %s sequences per second and %s at %s "
            "(REPRODUCE.md, section~7; the GPU's throughput is not measured yet)." % (
                num(int(conf["epochs"]), 0), num(int(conf["n_train"]), 0), words(seeds), num(total, 0),
                num(round(per_run, -2), 0), num(hours[20.0], 0), num(20, 0), num(hours[100.0], 0), num(100, 0)))
    return sent, "experiments/scales/paper/common.conf, scale.mk; experiments.json (the plan per model)"


def claim_phrase(s, cid):
    """A claim id of claims.py in words (the replication sentence); the id itself where no phrase fits."""
    kind, _, rest = cid.partition(".")
    if kind == "regularizer" and rest in s.exps:
        return "the effect of %s on %s's test MSE" % (s.elabel(rest), s.mlabel(rest.split("/")[0]))
    if kind == "regime" and rest in s.models:
        return "%s's control-regime verdict" % s.mlabel(rest)
    base_words = {"below_copy_last": "%s's test MSE against copying the last frame",
                  "below_zero": "%s's test MSE against all-zero frames",
                  "below_zero_every_frame": "%s's MSE against all-zero frames at every predicted frame",
                  "ssim_above_zero": "%s's SSIM against all-zero frames",
                  "learnt_mse": "%s's test MSE against the criterion's line of " + num(LEARNT_RATIO, 2) + " times all-zero"}
    m, _, what = rest.partition(".")
    if kind == "base" and m in s.models and what in base_words:
        return base_words[what] % s.mlabel(m)
    if kind == "report":
        model, _, variant = rest.partition(".")
        return "the comparison with the report's %s %s" % (tex_escape(model), tex_escape(variant.replace("_", " ")))
    return "\\texttt{%s}" % tex_escape(cid)


CLAIM_WORDS = {"worse": "raises it, resolved", "better": "lowers it, resolved", "unclear": "not resolved",
               "overfit": "overfit, resolved", "not-overfit": "overfitting not shown", "unresolved": "not resolved",
               "same-sign, resolved": "the same direction, resolved",
               "opposite-sign, resolved": "the opposite direction, resolved", "yes": "yes", "no": "no"}


def claims_differing(here, there):
    """The claim ids of here ({id: value}) whose value there differs or is missing, in here's order."""
    return [k for k in here if there.get(k) != here[k]]


def claim_words(v):
    return CLAIM_WORDS.get(v, tex_escape(str(v)))


def scope_words(s, r):
    """"" for a replication compared on every model, else e.g. " (ConvLSTM only: its PredRNN++ runs are of
    an earlier recipe)"."""
    scope = getattr(r, "scope", s.models)
    rest = [m for m in s.models if m not in scope]
    if not rest:
        return ""
    return " (%s only: its %s runs are of an earlier recipe)" % (
        and_list([s.mlabel(m) for m in s.models if m in scope]), and_list([s.mlabel(m) for m in rest]))


def replication_counts(rows):
    """(ids of this paper's claims that some replication checks, ids that differ on some replication)."""
    checked = {k for _, _, _, cmp in rows[1:] for k in cmp}
    differ = {k for _, _, cl, cmp in rows[1:] for k in claims_differing(cmp, cl)}
    return checked, differ


def checked_by_all(rows):
    """Whether every replication checks every claim of this paper (none is compared on some models only)."""
    return all(len(cmp) == len(rows[0][2]) for _, _, _, cmp in rows[1:])


def how_often(n):
    """"once", "twice", "three times", ..."""
    return "once" if n == 1 else "twice" if n == 2 else words(n) + " times"


def replication(s, rows):
    """sent.replication — the stored regenerations of this scale on other machines (paperdata.replications)
    against this summary: how many of the paper's claims (claims.py) each gives alike, and each claim that
    differs, with its value here and there and, for a regularizer, both paired differences. rows =
    [(name, Summary, {claim id: value} there, {claim id: value} here)] (tables.replication_rows), this
    summary first; a replication that follows this study's recipe for some models only is compared on the
    claims about those, with Holm's correction over those on both sides."""
    if len(rows) < 2:
        return "", "no stored replication of this scale"
    here = rows[0][2]
    w = claim_words

    def iv(x):
        return "%s [%s, %s]" % tuple(num(y, MSE, sign=True) for y in x[:3])
    checked, differ = replication_counts(rows)
    parts = []
    for name, r, cl, cmp in rows[1:]:
        diff = claims_differing(cmp, cl)
        sc = scope_words(s, r)
        if not diff:
            parts.append("on %s%s every claim %s is the same" % (tex_text(name), sc, "it checks" if sc else ""))
            continue
        items = []
        for k in diff:
            eid = k.partition(".")[2]
            if k.startswith("regularizer.") and eid in s.exps and eid in r.exps:
                items.append("%s, here %s (%s), there %s (%s)" % (
                    claim_phrase(s, k), iv(s.paired(eid, "test_mse")), w(cmp[k]), iv(r.paired(eid, "test_mse")),
                    w(cl.get(k, "absent"))))
            else:
                items.append("%s, here %s, there %s" % (claim_phrase(s, k), w(cmp[k]), w(cl.get(k, "absent"))))
        parts.append("on %s%s %s of the %s claims %s differ%s: %s" % (
            tex_text(name), sc, words(len(diff)), words(len(cmp)), "it checks" if sc else "",
            "s" if len(diff) == 1 else "", "; ".join(items)))
    parts = [" ".join(x.split()) for x in parts]
    n = len(rows) - 1
    if len(checked) == len(here):
        of = "Of this paper's %s claims, %s are the same %s" % (
            words(len(here)), words(len(here) - len(differ)), "there" if n == 1 else
            "on every one of them" if checked_by_all(rows) else "on every regeneration that checks them")
    else:
        of = ("Of this paper's %s claims, %s can be checked there, those about the models whose runs follow this "
              "study's recipe (with Holm's correction over those claims alone, here and there); %s of them are the "
              "same %s" % (words(len(here)), words(len(checked)), words(len(checked - differ)),
                           "on every regeneration that checks them" if n > 1 else "there"))
    sent = "%s. %s. %s." % (replication_lead(s, [r for _, r, _, _ in rows[1:]]), of,
                             "; ".join(parts)[0].upper() + "; ".join(parts)[1:])
    return sent, "claims.py of this summary and of %s" % ", ".join(r.path for _, r, _, _ in rows[1:])


def replication_kinds(s, reps):
    """The stored replications reps (Summary objects) in three groups, each a list: on other machines with
    this summary's seeds, with other seeds on this summary's numerics, with other seeds on other machines
    (a replication with this summary's seeds and numerics, the same runs, counts as on another machine:
    setup.json tells no two machines of one kind apart)."""
    machines = [r for r in reps if s.same_seeds(r)]
    seeds = [r for r in reps if not s.same_seeds(r) and s.same_numerics(r)]
    both = [r for r in reps if not s.same_seeds(r) and not s.same_numerics(r)]
    return machines, seeds, both


def replication_lead(s, reps):
    """The first sentence of sent.replication: where the study was regenerated (on how many other machines,
    with which new seeds) and why each kind of regeneration gives other runs."""
    machines, seeds, both = replication_kinds(s, reps)
    diff_cpu = ("another CPU or precision rounds differently, and training turns that into a different run, as a "
                "different seed would")
    new_seeds = "new seeds draw other orders of the training sequences and other initial weights"
    tab = "(Table~\\ref{tab:replication})"
    if machines and not seeds and not both:
        return "This study was also regenerated from a fresh clone on %s other machine%s %s; %s" % (
            words(len(machines)), "s" if len(machines) > 1 else "", tab, diff_cpu)
    groups = []
    if machines:
        groups.append("on %s other machine%s with this paper's seeds, where %s" % (
            words(len(machines)), "s" if len(machines) > 1 else "", diff_cpu))
    for r in seeds:
        groups.append("on a machine of this paper's kind (the same numerics) with the new seeds %s" % r.seeds_words())
    for r in both:
        groups.append("on another machine with the new seeds %s" % r.seeds_words())
    head = "This study was also regenerated from a fresh clone %s %s" % (how_often(len(reps)), tab)
    return "%s: %s; %s, a new sample of the runs every claim rests on" % (head, "; and ".join(groups), new_seeds)


def absreplication(s, rows):
    """sent.absreplication — the replications, short (the abstract): on how many other machines the study
    was regenerated, how many of the paper's claims came out the same on all of them, and which did not."""
    if len(rows) < 2:
        return "", "no stored replication of this scale"
    here = rows[0][2]
    checked, differ = replication_counts(rows)
    diff = [k for k in here if k in differ] + sorted(differ - set(here))
    n = len(rows) - 1
    scoped = [m for m in s.models if all(m in getattr(r, "scope", s.models) for _, r, _, _ in rows[1:])]
    machines, seeds, both = replication_kinds(s, [r for _, r, _, _ in rows[1:]])
    if seeds or both:   # some with new seeds: where each kind was regenerated, and which claims it checks
        groups = [(machines, "on %s other machine%s" % (words(len(machines)), "s" if len(machines) > 1 else "")),
                  (seeds, "%s with new seeds on this kind of machine" % how_often(len(seeds))),
                  (both, "%s with new seeds on %s" % (how_often(len(both)), "another machine" if len(both) == 1 else
                                                      "other machines"))]
        kinds = []
        for group, where in groups:
            if group:
                sc = {m for r in group for m in getattr(r, "scope", s.models)}
                kinds.append(where if sc == set(s.models) else
                             where + " (on %s's claims)" % and_list([s.mlabel(m) for m in s.models if m in sc]))
        sent = "Regenerated from a fresh clone %s, %s of %s came out the same%s" % (
            and_list(kinds), words(len(checked - differ)),
            "this paper's %s claims" % words(len(here)) if len(checked) == len(here) else
            "the %s claims they check" % words(len(checked)),
            "" if n == 1 else " on every one" if checked_by_all(rows) else " on every regeneration that checks them")
    elif len(checked) == len(here):
        sent = "Regenerated from a fresh clone on %s other machine%s, %s of this paper's %s claims came out the same%s" % (
            words(n), "s" if n > 1 else "", words(len(here) - len(differ)), words(len(here)),
            " on every one" if n > 1 else "")
    else:
        rest = [m for m in s.models if m not in scoped]
        sent = ("Regenerated from a fresh clone on %s other machine%s%s, %s of the %s claims %s came out the "
                "same" % (words(n), "s" if n > 1 else "",
                          " (%s only: %s %s runs are of an earlier recipe)" % (
                              and_list([s.mlabel(m) for m in scoped]), "their" if n > 1 else "its",
                              and_list([s.mlabel(m) for m in rest])) if scoped else "",
                          words(len(checked - differ)), words(len(checked)), "they check" if n > 1 else "it checks"))
    if diff:
        sent += "; %s did not: %s" % (words(len(diff)), and_list([claim_phrase(s, k) for k in diff]))
    return sent + ".", "claims.py of this summary and of the stored replications"

#!/usr/bin/env python3
"""claims.py — the paper's claims as a list: every yes/no or which-one decision that the generated
sentences (tools/pipeline/sentences.py) and the abstract draw from a summary, one line each,
"<claim id>: <value>  # <the numbers it rests on>", computed with the same summary reader
(paperdata.Summary) and the same rules. Every claim is backed by an interval (LEVEL, two-sided): a
which-one claim names its candidate only where the seeds resolve it from every other candidate, and is
"unresolved" (the lowest mean alone, which another machine's rounding may reorder) or "single-run" (one
seed: no interval) otherwise; a yes/no claim is "unresolved" where its interval contains the boundary.

  optimizer.<model>                     the optimizer the study chose (lowest mean best validation loss),
                                        where its paired intervals (by seed, Holm over the other
                                        optimizers) resolve it from every other one | unresolved |
                                        single-run. The choice itself is a recorded decision (stage 2 uses
                                        it; compare_summaries.py reports a flipped one in its own line)
  regularizer.<model>/<exp>             better | worse | unclear (paired t-test of the test MSE against the
                                        base, Holm over every regularizer) | no-interval
  regularizers.any_better               yes | no: some regularizer lowers the test MSE beyond the seed spread
  best.<model>                          the method (base or regularizer) with the lowest mean test MSE,
                                        where it is resolved from every other method of the model
                                        (paperdata.Summary.lowest_mse) | unresolved | single-run
  base.<model>.below_copy_last          yes | no | unresolved | no-interval: the base model's test MSE minus
                                        copy-last-frame's (one-sample interval, Holm over the base models)
                                        is resolved below / above zero
  base.<model>.below_zero               ... minus the all-zero prediction's
  base.<model>.below_zero_every_frame   yes (resolved below at every predicted frame) | no (resolved above
                                        at some frame) | unresolved | no-interval (frames.csv, Holm over
                                        every frame of every base model)
  base.<model>.ssim_above_zero          yes | no | unresolved | no-interval: the base model's SSIM against
                                        the all-zero prediction's (one-sample interval, Holm)
  base.<model>.learnt_mse               yes | no | unresolved | no-interval: the base model's test MSE
                                        minus LEARNT_RATIO x the all-zero prediction's (the MSE line of the
                                        study's criterion; one-sample interval, Holm over the base models)
  models.lower                          the model whose base has the lower mean test MSE, where Welch's
                                        interval of the two models' difference excludes zero | unresolved
                                        | no-interval (a model with one run)
  sweep.<model>.<sweep>                 the point with the lowest test MSE on the seeds every point has,
                                        where resolved from every other point (paired, Holm over the
                                        points) | unresolved | single-run (the points share one seed)
  leak.<ref>.teacher_forced_favours_leak   single-run | not-computed: the report's protocol ranks the
                                        centred head before <ref> = control (the causal-head control
                                        trained alike; not-computed where the build has no run of it) or
                                        base (the base model); the protocol runs the first seed only
  leak.<ref>.autoregressive_leak_worse  yes | no | unresolved (Welch, both with two or more runs) |
                                        single-run | not-computed: the centred head predicts worse than
                                        <ref> on its own
  regime.<model>                        overfit | unresolved | not-overfit | single-run | not-computed: the
                                        control regime (paperdata.Summary.regime): on fresh sequences the
                                        free-running gap (each end a mean over paperdata.GAP_WINDOW epochs)
                                        grows less than the base's in every seed and ends
                                        below every base run's, with the paired t-test of the difference in
                                        growth resolved below zero after Holm over the models (overfit: the
                                        base overfits its fixed set) or not (unresolved); single-run with
                                        one seed pair; not-computed when every pair has an unstable run
  report.<model label>.<variant>        same-sign | opposite-sign | report-flat, resolved (our paired
                                        difference against the report's change of MSE, Holm) | unresolved

`make check-artifacts` requires the fresh summary's claims to equal the committed summary's
(compare_summaries.py): a claim that flips between two machines was not supported by its interval.

  claims.py SUMMARY_DIR          print the claims
  claims.py SUMMARY_DIR --models M1,M2   the claims about those models, on the summary seen through them
                                 (paperdata.Summary.only: Holm's families over their tests alone)
Run from the repository root (the report's table experiments/report/original.csv is read from there)."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paperdata import LEARNT_RATIO, LEVEL, Summary, welch_interval  # noqa: E402


def yes(b):
    return "yes" if b else "no"


def one_sided(row, below=True):
    """The value of a yes/no claim from a one-sample row (mean, lo, hi, n, Holm-adjusted p) of a
    difference to a baseline: yes where it is resolved on the claimed side of zero (below, or above with
    below=False), no where resolved on the other, else unresolved; no-interval below two runs."""
    d, lo, hi, n, p = row
    if n < 2 or p is None:
        return "no-interval"
    if p > 1.0 - LEVEL:
        return "unresolved"
    return yes((d < 0) == below)


def lowest_value(low, name=str):
    """A which-one claim's value from a paperdata.Lowest: the candidate where resolved, else its status."""
    return name(low.top) if low.status == "resolved" else low.status


def lowest_evidence(low, what, fmt="%.4g"):
    """The numbers of a Lowest: the top, and each comparison other - top with its interval and p."""
    def c(o, x):
        if x.n < 2:
            return "%s %s" % (o, "diverged on every seed" if math.isinf(x.d) else ("+" + fmt) % x.d if x.d >= 0 else fmt % x.d)
        return "%s %s [%s, %s] p_holm %s" % (o, ("%+" + fmt[1:]) % x.d, fmt % x.lo, fmt % x.hi,
                                             "%.2g" % x.p if x.p is not None else "--")
    return "%s %s; others minus it: %s" % (what, low.top, ", ".join(c(o, x) for o, x in low.comps.items()) or "none")


def claims(s):
    """[(claim id, value, evidence)] of a paperdata.Summary, in the order above; the evidence is the
    numbers the value was decided from (for the failure lines of check-artifacts)."""
    out = []

    def mse(e):
        mu, sd, n = s.stat(e, "test_mse")
        return "%s test MSE %.4g (sd %.3g, n %d)" % (e, mu, sd, n)

    def paired(e):
        d, lo, hi, n = s.paired(e, "test_mse")
        return "%s - base: %.4g [%.4g, %.4g], %d pairs" % (e, d, lo, hi, n)
    for m in s.models:
        low = s.optimizer_lowest(m)
        if low:
            ch = s.choice[m]
            out.append(("optimizer.%s" % m, lowest_value(low), "chosen %s, seeds %s; mean best validation loss %s; %s" % (
                ch["chosen"], " ".join(str(x) for x in ch.get("seeds", [])), ", ".join(
                    "%s %.6g" % (o, v) for o, v in sorted(ch.get("scores", {}).items()) if v is not None),
                lowest_evidence(low, "best validation loss of", "%.3g"))))
    verdicts = {e: s.verdict(e) for e in s.regularizers}
    for e in s.regularizers:
        out.append(("regularizer.%s" % e, verdicts[e] or "no-interval", paired(e)))
    if s.regularizers:
        out.append(("regularizers.any_better", yes("better" in verdicts.values()),
                    "better: " + (" ".join(e for e in s.regularizers if verdicts[e] == "better") or "none")))
    for m in s.models:
        low = s.lowest_mse(m)
        if low:
            out.append(("best.%s" % m, lowest_value(low), lowest_evidence(low, "lowest mean test MSE:")))
    bl = s.stat("baseline/copy_last", "test_mse")[0]
    bz = s.stat("baseline/zero", "test_mse")[0]
    zs = s.stat("baseline/zero", "test_ssim")[0]
    vs_copy = s.vs_baseline("test_mse", "baseline/copy_last") if math.isfinite(bl) else {}
    vs_zero = s.vs_zero("test_mse") if math.isfinite(bz) else {}
    vs_zero_ssim = s.vs_zero("test_ssim") if math.isfinite(zs) else {}
    vs_learnt = s.vs_learnt() if math.isfinite(bz) else {}
    per_frame = s.frames_vs_zero("mse")

    def row(r):
        return "%.4g [%.4g, %.4g], n %d, p_holm %s" % (r[0], r[1], r[2], r[3], "%.2g" % r[4] if r[4] is not None else "--")
    for m in s.models:
        if not s.stat(m + "/base", "test_mse")[2]:
            continue
        if m in vs_copy:
            out.append(("base.%s.below_copy_last" % m, one_sided(vs_copy[m]), "%s - copy-last %.4g: %s" % (
                m + "/base", bl, row(vs_copy[m]))))
        if m in vs_zero:
            out.append(("base.%s.below_zero" % m, one_sided(vs_zero[m]), "%s - all-zero %.4g: %s" % (
                m + "/base", bz, row(vs_zero[m]))))
        if per_frame.get(m):
            vals = {t: one_sided(r) for t, r in per_frame[m].items()}
            v = ("no-interval" if "no-interval" in vals.values() else "yes" if set(vals.values()) == {"yes"} else
                 "no" if "no" in vals.values() else "unresolved")
            out.append(("base.%s.below_zero_every_frame" % m, v, "per frame, base - all-zero: " + "; ".join(
                "%d %s" % (t, row(r)) for t, r in sorted(per_frame[m].items()))))
        if m in vs_zero_ssim:
            out.append(("base.%s.ssim_above_zero" % m, one_sided(vs_zero_ssim[m], below=False),
                        "SSIM %s - all-zero %.4g: %s" % (m + "/base", zs, row(vs_zero_ssim[m]))))
        if m in vs_learnt:
            out.append(("base.%s.learnt_mse" % m, one_sided(vs_learnt[m]), "%s - %.2f x all-zero %.4g: %s" % (
                m + "/base", LEARNT_RATIO, bz, row(vs_learnt[m]))))
    mw = s.models_welch()
    if mw:
        lo_m, hi_m, (d, lo, hi, nu, p) = mw
        out.append(("models.lower", "no-interval" if not math.isfinite(p) else lo_m if p <= 1.0 - LEVEL else "unresolved",
                    "%s; %s; Welch %s - %s: %.4g [%.4g, %.4g], %.3g df, p %.2g" % (
                        mse(lo_m + "/base"), mse(hi_m + "/base"), hi_m, lo_m, d, lo, hi, nu, p)))
    for (m, w, pts) in s.sweep_blocks():
        got = s.sweep_lowest(pts) if pts else None
        if got:
            low, common = got
            x = {p[4]: p[0] for p in pts}
            out.append(("sweep.%s.%s" % (m, w), lowest_value(low, lambda e: repr(x[e])), "test MSE on seeds %s: %s" % (
                " ".join(str(k) for k in common), lowest_evidence(low, "lowest:"))))
    if s.leak:
        for key, ref in (("control", s.leak_control), ("base", s.leak_base())):
            ratios = s.leak_ratios(ref) if ref else None
            ev = ("no run of the causal-head control" if not ref else "no protocol" if ratios is None else
                  "%s/leak teacher-forced %.4g (first seed), leak/%s autoregressive %.4g (runs: leak %d, %s %d)" % (
                      key, ratios[0], key, ratios[1], s.stat(s.leak, "test_mse")[2], key, s.stat(ref, "test_mse")[2]))
            if ratios is None:
                out.append(("leak.%s.teacher_forced_favours_leak" % key, "not-computed", ev))
                out.append(("leak.%s.autoregressive_leak_worse" % key, "not-computed", ev))
                continue
            out.append(("leak.%s.teacher_forced_favours_leak" % key, "single-run", ev))
            xs = [r["test_mse"] for r in s.runs_of(ref) if r.get("test_mse") is not None]
            ys = [r["test_mse"] for r in s.runs_of(s.leak) if r.get("test_mse") is not None]
            d, lo, hi, nu, p = welch_interval(xs, ys)
            out.append(("leak.%s.autoregressive_leak_worse" % key, "single-run" if not math.isfinite(p) else
                        "unresolved" if p > 1.0 - LEVEL else yes(d > 0), ev))
    for m in s.models:
        r = s.regime(m)
        if r is None:
            continue
        if not r["seeds"]:
            out.append(("regime.%s" % m, "not-computed", "every seed pair has an unstable run: %s" % r["left"]))
            continue
        out.append(("regime.%s" % m, "single-run" if len(r["seeds"]) == 1 else r["verdict"],
                    "seeds %s; gap growth fresh - base per seed %s, mean %.4g [%.4g, %.4g], Holm p %s; fresh gap over "
                    "the last %d epochs to %d %.4g" % (
                        " ".join(str(x) for x in r["seeds"]), " ".join("%.4g" % x for x in r["growth"]),
                        r["g"][0], r["g"][1], r["g"][2], "%.3g" % r["p_holm"] if r.get("p_holm") is not None else "-",
                        r["w"], r["last"], r["fN"])))
    for (model, variant, eid, rdir, odir, resolved) in s.report_agreement():
        sign = "report-flat" if rdir == 0 else "same-sign" if rdir == odir else "opposite-sign"
        out.append(("report.%s.%s" % (model, variant.replace(" ", "_")),
                    "%s, resolved" % sign if resolved else "unresolved", paired(eid)))
    return out


def claim_models(s, cid):
    """The models of Summary s that claim cid is about: the one its id names (optimizer, regularizer, best,
    base, regime, sweep), the model of the compared experiment for a report claim, the centred head's model
    for a leak claim, and every model for a claim across models (regularizers.any_better, models.lower).
    A stored replication whose runs follow this study's recipe for some models only is compared on the
    claims about those (tables.replication_rows)."""
    kind, _, rest = cid.partition(".")
    if kind == "report":
        for (model, variant, eid, *_) in s.report_agreement():
            if cid == "report.%s.%s" % (model, variant.replace(" ", "_")):
                return {s.exps[eid]["model"]}
    if kind == "leak" and s.leak:
        return {s.exps[s.leak]["model"]}
    name = rest.partition(".")[0].partition("/")[0]
    return {name} if name in s.models else set(s.models)


def claims_about(s, models):
    """claims() of Summary s seen through the given models (Summary.only: Holm's families over their tests
    alone), keeping the claims about those models only (claim_models)."""
    v = s.only(models)
    return [c for c in claims(v) if claim_models(v, c[0]) <= set(models)]


def main():
    args = sys.argv[1:]
    models = None
    if len(args) == 3 and args[1] == "--models":
        models = [m for m in args[2].split(",") if m]
        args = args[:1]
    if len(args) != 1 or not os.path.isdir(args[0]):
        sys.exit("usage: claims.py SUMMARY_DIR [--models M1,M2] (a results/<scale>/summary folder; --models: the "
                 "claims about those models, on the summary seen through them)")
    s = Summary(args[0])
    if models is not None:
        unknown = [m for m in models if m not in s.models]
        if unknown or not models:
            sys.exit("claims.py: --models: unknown model '%s' (%s has %s)" % (
                ",".join(unknown), args[0], ", ".join(s.models)))
    for k, v, ev in claims(s) if models is None else claims_about(s, models):
        print("%s: %s  # %s" % (k, v, ev))


if __name__ == "__main__":
    main()

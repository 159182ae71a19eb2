#!/usr/bin/env python3
"""claims.py — the paper's claims as a list: every yes/no or which-one decision that the generated
sentences (tools/pipeline/sentences.py) and the abstract draw from a summary, one line each,
"<claim id>: <value>  # <the numbers it rests on>", computed with the same summary reader (paperdata.Summary) and the same rules:

  optimizer.<model>                     the optimizer the study chose (lowest mean best validation loss)
  regularizer.<model>/<exp>             better | worse | unclear (paired 95 % interval of the test MSE
                                        against the base below / above / containing zero) | no-interval
  regularizers.any_better               yes | no: some regularizer lowers the test MSE beyond the seed spread
  best.<model>                          the method (base or regularizer) with the lowest mean test MSE
  best.<model>.interval                 excludes-zero | contains-zero | no-interval | base (the best is the base)
  base.<model>.below_copy_last          yes | no: the base model's mean test MSE is below copy-last-frame's
  base.<model>.below_zero               yes | no: ... below the all-zero prediction's
  base.<model>.below_zero_every_frame   yes | no: ... at every predicted frame (frames.csv, means over seeds)
  base.<model>.ssim_above_zero          yes | no: the base model's mean SSIM is above the all-zero prediction's
  models.lower                          the model whose base has the lower mean test MSE
  models.separated                      yes | no: the gap exceeds the sum of the two seed standard deviations
  sweep.<model>.<sweep>                 the point with the lowest test MSE on the seeds every point has
  leak.<ref>.teacher_forced_favours_leak   yes | no | not-computed: the report's protocol ranks the centred
                                        head before <ref> = control (the causal-head control trained alike;
                                        not-computed where the build has no run of it) or base (the base model)
  leak.<ref>.autoregressive_leak_worse  yes | no | not-computed: the centred head predicts worse than <ref> on its own
  report.<model label>.<variant>        same-sign | opposite-sign | report-flat, then resolved | unresolved
                                        (our paired difference against the report's change of MSE)

`make check-artifacts` requires the fresh summary's claims to equal the committed summary's
(compare_summaries.py): a claim that flips between two machines was not supported by its interval.

  claims.py SUMMARY_DIR          print the claims
Run from the repository root (the report's table experiments/report/original.csv is read from there)."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402
from paperdata import Summary  # noqa: E402


def yes(b):
    return "yes" if b else "no"


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
        ch = s.choice.get(m)
        if ch:
            out.append(("optimizer.%s" % m, ch["chosen"], "mean best validation loss " + ", ".join(
                "%s %.6g" % (o, v) for o, v in sorted(ch.get("scores", {}).items()))))
    verdicts = {e: s.verdict(e) for e in s.regularizers}
    for e in s.regularizers:
        out.append(("regularizer.%s" % e, verdicts[e] or "no-interval", paired(e)))
    if s.regularizers:
        out.append(("regularizers.any_better", yes("better" in verdicts.values()),
                    "better: " + (" ".join(e for e in s.regularizers if verdicts[e] == "better") or "none")))
    for m in s.models:
        ranked = s.mse_ranked(m)
        if not ranked:
            continue
        top, runner_up = ranked[0], ranked[1:2]
        out.append(("best.%s" % m, top, "; ".join(mse(e) for e in [top] + runner_up)))
        if top == m + "/base":
            out.append(("best.%s.interval" % m, "base", mse(top)))
        else:
            d, lo, hi, n = s.paired(top, "test_mse")
            out.append(("best.%s.interval" % m, "no-interval" if n < 2 else
                        "excludes-zero" if hi < 0 or lo > 0 else "contains-zero", paired(top)))
    bl = s.stat("baseline/copy_last", "test_mse")[0]
    bz = s.stat("baseline/zero", "test_mse")[0]
    zs = s.stat("baseline/zero", "test_ssim")[0]
    zero_frames = {int(r["frame"]): r["mse"] for r in s.frames
                   if r["model"] == "baseline" and r["experiment"] == "zero" and r.get("mse") is not None}
    for m in s.models:
        mu, _, n = s.stat(m + "/base", "test_mse")
        if not n:
            continue
        if math.isfinite(bl):
            out.append(("base.%s.below_copy_last" % m, yes(mu < bl), "%s; copy-last %.4g" % (mse(m + "/base"), bl)))
        if math.isfinite(bz):
            out.append(("base.%s.below_zero" % m, yes(mu < bz), "%s; all-zero %.4g" % (mse(m + "/base"), bz)))
            per = {}
            for r in s.finished_rows(s.frames, m + "/base"):
                if r.get("mse") is not None:
                    per.setdefault(int(r["frame"]), []).append(r["mse"])
            if per and zero_frames:
                above = [t for t, v in sorted(per.items()) if not pl.mean(v) < zero_frames.get(t, -math.inf)]
                out.append(("base.%s.below_zero_every_frame" % m, yes(not above),
                            "frames not below all-zero: " + (", ".join("%d (%.4g vs %.4g)" % (
                                t, pl.mean(per[t]), zero_frames.get(t, math.nan)) for t in above) or "none")))
        ss = s.stat(m + "/base", "test_ssim")
        if ss[2] and math.isfinite(zs):
            out.append(("base.%s.ssim_above_zero" % m, yes(ss[0] > zs), "SSIM %.4g; all-zero %.4g" % (ss[0], zs)))
    pair = [(m, s.stat(m + "/base", "test_mse")) for m in s.models]
    pair = [(m, st) for m, st in pair if st[2]]
    if len(pair) == 2:
        (m1, s1), (m2, s2) = sorted(pair, key=lambda p: p[1][0])
        ev = "%s; %s" % (mse(m1 + "/base"), mse(m2 + "/base"))
        out.append(("models.lower", m1, ev))
        out.append(("models.separated", yes(abs(s1[0] - s2[0]) > (s1[1] if math.isfinite(s1[1]) else 0) +
                                            (s2[1] if math.isfinite(s2[1]) else 0)), ev))
    for (m, w, pts) in s.sweep_blocks():
        if not pts:
            continue
        cm, common = s.common_seed_mean(pts)
        if common:
            k = min(range(len(pts)), key=lambda i: cm[i])
            out.append(("sweep.%s.%s" % (m, w), repr(pts[k][0]), "test MSE on seeds %s: %s" % (
                " ".join(str(x) for x in common), ", ".join("%s %.4g" % (repr(p[0]), c) for p, c in zip(pts, cm)))))
    if s.leak:
        for key, ref in (("control", s.leak_control), ("base", s.leak_base())):
            ratios = s.leak_ratios(ref) if ref else None
            ev = ("no run of the causal-head control" if not ref else "no protocol" if ratios is None else
                  "%s/leak teacher-forced %.4g, leak/%s autoregressive %.4g" % (key, ratios[0], key, ratios[1]))
            out.append(("leak.%s.teacher_forced_favours_leak" % key, "not-computed" if ratios is None else yes(ratios[0] > 1), ev))
            out.append(("leak.%s.autoregressive_leak_worse" % key, "not-computed" if ratios is None else yes(ratios[1] > 1), ev))
    for (model, variant, eid, rdir, odir, resolved) in s.report_agreement():
        sign = "report-flat" if rdir == 0 else "same-sign" if rdir == odir else "opposite-sign"
        out.append(("report.%s.%s" % (model, variant.replace(" ", "_")),
                    "%s, %s" % (sign, "resolved" if resolved else "unresolved"), paired(eid)))
    return out


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: claims.py SUMMARY_DIR (a results/<scale>/summary folder)")
    for k, v, ev in claims(Summary(sys.argv[1])):
        print("%s: %s  # %s" % (k, v, ev))


if __name__ == "__main__":
    main()

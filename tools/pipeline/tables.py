#!/usr/bin/env python3
"""tables.py — the summary of a scale (results/<scale>/summary/) → everything the paper prints:

  values.tex      \\rrdef{key}{value}: every number and result-dependent sentence of the text, each with
                  a comment naming the summary file and field it comes from (paper.tex reads them with
                  \\rv{key}; an undefined key stops LaTeX)
  tab-*.tex       the tables (main results, paired differences, optimizer study, setup, report)
  *.dat, figdata.gp   the figures' data (gnuplot blocks) and labels/colours (gnuplot arrays)
Statistics: mean ± sample standard deviation over seeds; paired differences to <model>/base over the
seeds both have (same seed = same data order and initial weights) with a two-sided 95 % Student-t
interval (pipelib.paired_interval). Diverged runs are left out of means and counted in the tables.
Usage: tables.py --summary results/quick/summary --out build/paper/quick"""
import argparse
import csv
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402

# printed decimals per quantity (test metrics per frame: PredRNN conventions, see `rnnreg help metrics`)
DECIMALS = {"mse": 1, "mae": 1, "psnr": 2, "ssim": 3, "ssim_gauss": 3, "mse_pixel": 4, "loss": 5}
METRIC_TEX = {"mse": "MSE", "mae": "MAE", "psnr": "PSNR (dB)", "ssim": "SSIM"}
LEVEL = 0.95
REPORT_CSV = "experiments/report/original.csv"


# --------------------------------------------------------------------------------------------------
# Formatting: every printed number goes through Out.num()

class Out:
    """Collects the values of values.tex; num() formats every printed number the same way."""

    def __init__(self):
        self.values = []    # (key, tex, source)

    @staticmethod
    def num(key, x, decimals, sign=False):
        """x with `decimals` decimals ("--" when missing), signed ones in math mode (a true minus);
        key names the quantity (for reading the code; every number of a table or value is checked
        against the PDF by checks.py)."""
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return "--"
        s = ("%+.*f" if sign else "%.*f") % (decimals, x)
        if s.lstrip("+-").strip("0.") == "" and s.startswith("-"):
            s = s[1:]  # no "-0.0"
        return "$%s$" % s if s.startswith(("-", "+")) else s

    def val(self, key, tex, source):
        self.values.append((key, tex, source))
        return tex


def tex_escape(s):
    rep = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
           "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(rep.get(c, c) for c in str(s))


def tex_text(s):
    """tex_escape, with every URL in the text set by \\url (so that it can break across lines)."""
    out = []
    for i, part in enumerate(re.split(r"(https?://[^\s,;)]+)", str(s))):
        out.append("\\url{%s}" % part.replace("%", "\\%").replace("#", "\\#") if i % 2 else tex_escape(part))
    return "".join(out)


def words(n):
    small = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    return small[n] if 0 <= n < len(small) else str(n)


def duration(s):
    s = float(s)
    if s >= 3600:
        return "%.1f h" % (s / 3600)
    if s >= 60:
        return "%.1f min" % (s / 60)
    return "%.0f s" % s


# --------------------------------------------------------------------------------------------------
# Loading


def load_csv(path):
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            out = {}
            for k, v in r.items():
                if v == "":
                    out[k] = None
                    continue
                try:
                    out[k] = int(v) if re.fullmatch(r"-?\d+", v) else float(v)
                except ValueError:
                    out[k] = v
            rows.append(out)
    return rows


def load_report():
    with open(REPORT_CSV) as f:
        lines = [ln for ln in f if not ln.startswith("#")]
    return list(csv.DictReader(lines))


# --------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--summary", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    S = a.summary
    runs = load_csv(os.path.join(S, "runs.csv"))
    frames = load_csv(os.path.join(S, "frames.csv"))
    curves = load_csv(os.path.join(S, "curves.csv"))
    ex = pl.read_json(os.path.join(S, "experiments.json"))
    exps, choice = ex["experiments"], ex["optimizer_choice"]
    setup = pl.read_json(os.path.join(S, "setup.json"))
    strip = pl.read_json(os.path.join(S, "strip.json"))
    o = Out()
    os.makedirs(a.out, exist_ok=True)

    models = []
    for e in exps.values():
        if e["model"] not in models:
            models.append(e["model"])

    def mlabel(m):
        return pl.MODEL_LABELS.get(m, tex_escape(m))

    def elabel(eid):
        return tex_escape(exps[eid]["label"]) if eid in exps else tex_escape(eid)

    def runs_of(eid, status="ok"):
        m, n = eid.split("/")
        return [r for r in runs if r["model"] == m and r["experiment"] == n and (status is None or r["status"] == status)]

    def stat(eid, field):
        xs = [r[field] for r in runs_of(eid) if r.get(field) is not None]
        return pl.mean(xs), pl.std(xs), len(xs)

    # methods in a fixed order: per model base, regularizers, once-experiments; then the baselines.
    # Their index is their colour in every figure.
    methods = []
    for m in models:
        mine = [eid for eid, e in exps.items() if e["model"] == m and e["stage"] in ("main", "once")]
        mine.sort(key=lambda eid: (exps[eid]["name"] != "base", exps[eid]["stage"] == "once", eid))
        methods += [eid for eid in mine if runs_of(eid)]
    methods += ["baseline/" + b for b in ["copy_last", "zero"] if runs_of("baseline/" + b)]
    blabel = {"baseline/copy_last": "copy last input frame", "baseline/zero": "all-zero frames"}

    def full_label(eid):
        if eid in blabel:
            return blabel[eid]
        return "%s %s" % (mlabel(exps[eid]["model"]), elabel(eid))

    # ------------------------------------------------------------------ setup values
    src_setup = "setup.json"
    o.val("scale.name", tex_escape(setup["scale"]), src_setup + ": scale")
    seeds = setup["seeds"]
    o.val("scale.seeds", o.num("scale.seeds", len(seeds), 0), src_setup + ": seeds (count)")
    o.val("scale.seedlist", ", ".join(o.num("scale.seedlist", s, 0) for s in seeds), src_setup + ": seeds")
    o.val("scale.optseeds", o.num("scale.optseeds", len(setup["opt_seeds"]), 0), src_setup + ": opt_seeds (count)")
    o.val("scale.runs", o.num("scale.runs", setup["runs_finished"], 0), src_setup + ": runs_finished")
    o.val("scale.runsplanned", o.num("scale.runsplanned", setup["runs_planned"], 0), src_setup + ": runs_planned")
    incomplete = setup["runs_finished"] < setup["runs_planned"]
    o.val("scale.completeness",
          ("\\textbf{Incomplete: %s of the %s planned runs are finished; the missing ones are left out.}"
           % (o.num("scale.completeness", setup["runs_finished"], 0), o.num("scale.completeness", setup["runs_planned"], 0)))
          if incomplete else "", src_setup + ": runs_finished, runs_planned")
    env = setup["environment"]
    o.val("env.cpu", tex_escape(env.get("cpu") or "unknown CPU"), src_setup + ": environment.cpu")
    o.val("env.cores", o.num("env.cores", env.get("cores") or 0, 0), src_setup + ": environment.cores")
    o.val("env.memory", tex_escape(env.get("memory") or "?"), src_setup + ": environment.memory")
    commit = (env.get("git_commit") or "unknown")[:12]
    o.val("env.commit", "\\texttt{%s}%s" % (tex_escape(commit), " (with uncommitted changes)" if env.get("git_dirty") else ""),
          src_setup + ": environment.git_commit, git_dirty")
    backend = "CUDA" if "cuda" in " ".join(setup.get("runners", []) + [str(exps[e]["config"].get("backend", ""))
                                                                         for e in exps]).lower() else "CPU"
    o.val("env.backend", backend, "experiments.json: config.backend")
    total = setup.get("wall_seconds_total") or 0.0
    o.val("env.totaltime", o.num("env.totaltime", total / 60.0, 1), src_setup + ": wall_seconds_total (minutes)")
    for m in models:
        s = setup["wall_seconds_mean_per_model"].get(m)
        o.val("env.runtime.%s" % m, o.num("env.runtime.%s" % m, s or 0, 0),
              src_setup + ": wall_seconds_mean_per_model.%s (seconds)" % m)

    # the data
    d = setup.get("data") or {}
    gen = d.get("generator") or {}
    shape = gen.get("shape") or [gen.get("length"), gen.get("count"), gen.get("size"), gen.get("size")]
    nseq, length, size = shape[1], shape[0], shape[2]
    sha = (d.get("sha256") or "")[:16]
    if d.get("source") == "generated":
        digits = d.get("digits", {}).get("source") if isinstance(d.get("digits"), dict) else None
        dsent = ("The data were generated with \\texttt{rnnreg mmnist} (%s sequences of %s frames of %s$\\times$%s "
                 "pixels, two digits each, seed %s) because %s. The digits come from %s. The file's SHA-256 "
                 "begins \\texttt{%s}.") % (
            o.num("data", nseq, 0), o.num("data", length, 0), o.num("data", size, 0), o.num("data", size, 0),
            o.num("data", gen.get("seed", 0), 0),
            tex_text(d.get("why") or "no download was attempted"),
            tex_escape(digits or "the %s digits of %s" % (gen.get("digits", {}).get("count", "?"),
                                                           gen.get("digits", {}).get("path", "?"))), tex_escape(sha))
    elif d:
        dsent = ("The data are \\texttt{%s}, downloaded from \\url{%s} and checked by its SHA-256 (beginning "
                 "\\texttt{%s}).") % (tex_escape(d.get("file", "?")), d.get("url", ""), tex_escape(sha))
    else:
        dsent = "The data's provenance file was not found."
    o.val("data.sentence", dsent, src_setup + ": data (the data's provenance .json)")

    # run settings from the resolved configs of the base experiments
    def cfg(eid, key):
        return exps.get(eid, {}).get("config", {}).get(key)

    with_cfg = [m + "/base" for m in models] + sorted(exps)   # the base runs, else any run
    ref = next((e for e in with_cfg if cfg(e, "n_train")), with_cfg[0])
    for key in ["n_train", "n_val", "n_test", "batch", "epochs", "input_frames", "seq_len", "sampling_iters",
                "predict_sequences", "split_seed", "threads"]:
        v = cfg(ref, key)
        o.val("cfg." + key, o.num("cfg." + key, int(v) if v is not None else None, 0),
              "experiments.json: %s config.%s" % (ref, key))
    have = cfg(ref, "n_train") is not None
    it = (int(cfg(ref, "n_train")) // int(cfg(ref, "batch"))) * int(cfg(ref, "epochs")) if have else None
    o.val("cfg.iterations", o.num("cfg.iterations", it, 0), "experiments.json: n_train / batch * epochs")
    o.val("cfg.future", o.num("cfg.future", int(cfg(ref, "seq_len")) - int(cfg(ref, "input_frames")) if have else None, 0),
          "experiments.json: seq_len - input_frames")

    # ------------------------------------------------------------------ setup table (per model)
    lines = ["\\begin{tabular}{l%s}" % ("l" * len(models)), "\\toprule",
             " & ".join([""] + [mlabel(m) for m in models]) + " \\\\", "\\midrule"]

    def row(name, f):
        lines.append(" & ".join([name] + [f(m) for m in models]) + " \\\\")

    def lst(m, key):
        v = cfg(m + "/base", key)
        return ", ".join(o.num("setup.%s.%s" % (m, key), int(x), 0) for x in v.split(",")) if v else "--"

    row("hidden channels", lambda m: lst(m, "layers"))
    row("kernel sizes", lambda m: lst(m, "kernels"))
    row("patch size", lambda m: lst(m, "patch"))
    row("head", lambda m: tex_escape(cfg(m + "/base", "head") or "--"))
    row("parameters", lambda m: o.num("setup.%s.params" % m, exps[m + "/base"].get("parameters"), 0)
        if exps.get(m + "/base", {}).get("parameters") else "--")
    row("optimizer (chosen)", lambda m: elabel(m + "/opt-" + choice[m]["chosen"]) if m in choice else "--")
    row("learning rate", lambda m: tex_escape(cfg(m + "/base", "lr") or "--"))
    row("mean run time (s)", lambda m: o.num("setup.%s.runtime" % m,
                                             setup["wall_seconds_mean_per_model"].get(m) or 0, 0))
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-setup.tex"), "\n".join(lines) + "\n")

    # ------------------------------------------------------------------ optimizer study
    opt_exps = [eid for eid, e in exps.items() if e["stage"] == "opt"]
    lines = ["\\begin{tabular}{@{}llrrr@{}}", "\\toprule",
             "Model & Optimizer & lr & val.\\ loss & MSE \\\\", "\\midrule"]
    opt_sent = []
    for m in models:
        mine = [eid for eid in opt_exps if exps[eid]["model"] == m]
        for i, eid in enumerate(mine):
            name = exps[eid]["name"][len("opt-"):]
            chosen = choice.get(m, {}).get("chosen") == name
            div = len(runs_of(eid, "diverged"))
            bv = stat(eid, "best_val_loss")[0]
            tm = stat(eid, "test_mse")[0]
            cells = [mlabel(m) if i == 0 else "", elabel(eid) + (" $\\star$" if chosen else ""),
                     tex_escape(exps[eid]["config"].get("lr", "--")),
                     "diverged" if div and not runs_of(eid) else o.num("opt.%s" % eid, bv, DECIMALS["loss"]),
                     "--" if div and not runs_of(eid) else o.num("opt.%s" % eid, tm, DECIMALS["mse"])]
            lines.append(" & ".join(cells) + " \\\\")
        if m != models[-1]:
            lines.append("\\midrule")
        ch = choice.get(m)
        if ch:
            score = ch["scores"][ch["chosen"]]
            o.val("opt.%s.chosen" % m, elabel(m + "/opt-" + ch["chosen"]), "%s/optimizer.json: chosen" % m)
            o.val("opt.%s.score" % m, o.num("opt.%s.score" % m, score, DECIMALS["loss"]),
                  "%s/optimizer.json: scores[chosen]" % m)
            opt_sent.append("%s for %s (mean best validation loss %s)" % (
                elabel(m + "/opt-" + ch["chosen"]), mlabel(m), o.num("opt.sent", score, DECIMALS["loss"])))
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-optim.tex"), "\n".join(lines) + "\n")
    o.val("sent.optimizer", ("The study selects " + " and ".join(opt_sent) + ".") if opt_sent
          else "The optimizer study has not finished yet.", "*/optimizer.json")

    # ------------------------------------------------------------------ main results table
    cols = ["mse", "psnr", "ssim"]
    lines = ["\\begin{tabular}{llr%s}" % ("r" * (len(cols) + 1)), "\\toprule",
             "Model & Method & runs & " + " & ".join(METRIC_TEX[c] for c in cols) + " & best val.\\ loss \\\\",
             "\\midrule"]
    prev = None
    for eid in methods:
        m = eid.split("/")[0]
        if prev is not None and m != prev:
            lines.append("\\midrule")
        n_ok = len(runs_of(eid))
        n_div = len(runs_of(eid, "diverged"))
        cells = [("" if m == prev else (mlabel(m) if m != "baseline" else "baselines")),
                 blabel.get(eid) or elabel(eid),
                 o.num("main.%s.n" % eid, n_ok, 0) + (" (+%s diverged)" % o.num("main.%s.div" % eid, n_div, 0) if n_div else "")
                 if m != "baseline" else "--"]
        for c in cols + ["best_val_loss"]:
            mu, sd, n = stat(eid, "test_" + c if c != "best_val_loss" else c)
            dec = DECIMALS.get(c, DECIMALS["loss"])
            if n == 0:
                cells.append("--")
            elif n >= 2:
                cells.append("%s $\\pm$ %s" % (o.num("main.%s.%s" % (eid, c), mu, dec), o.num("main.%s.%s.sd" % (eid, c), sd, dec)))
            else:
                cells.append(o.num("main.%s.%s" % (eid, c), mu, dec))
            if m != "baseline" or c != "best_val_loss":
                key = "res.%s.%s" % (eid, c)
                o.val(key, o.num(key, mu, dec) if n else "--", "runs.csv: %s %s (mean over runs)" % (eid, c))
                if n >= 2:
                    o.val(key + ".sd", o.num(key + ".sd", sd, dec), "runs.csv: %s %s (sd over runs)" % (eid, c))
        lines.append(" & ".join(cells) + " \\\\")
        prev = m
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-main.tex"), "\n".join(lines) + "\n")

    # ------------------------------------------------------------------ paired differences to base
    lines = ["\\begin{tabular}{llr%s}" % ("r" * len(cols)), "\\toprule",
             "Model & Method & pairs & " + " & ".join("$\\Delta$%s" % METRIC_TEX[c] for c in cols) + " \\\\", "\\midrule"]
    reg_sent = []
    compared = 0
    for eid in methods:
        m, name = eid.split("/")
        if m == "baseline" or name == "base" or exps[eid]["stage"] != "main":
            continue   # the paired table compares the seeded experiments (regularizers) with their base
        base = {r["seed"]: r for r in runs_of(m + "/base")}
        mine = {r["seed"]: r for r in runs_of(eid)}
        common = sorted(set(base) & set(mine))
        cells = [mlabel(m), elabel(eid), o.num("diff.%s.n" % eid, len(common), 0)]
        verdicts = {}
        for c in cols:
            ds = [mine[s]["test_" + c] - base[s]["test_" + c] for s in common]
            mu, lo, hi, n = pl.paired_interval(ds, LEVEL)
            dec = DECIMALS[c]
            if n == 0:
                cells.append("--")
                continue
            txt = o.num("diff.%s.%s" % (eid, c), mu, dec, sign=True)
            if n >= 2:
                txt += " [%s, %s]" % (o.num("diff.%s.%s.lo" % (eid, c), lo, dec, sign=True),
                                      o.num("diff.%s.%s.hi" % (eid, c), hi, dec, sign=True))
                better = (hi < 0) if c == "mse" else (lo > 0)
                worse = (lo > 0) if c == "mse" else (hi < 0)
                verdicts[c] = "better" if better else "worse" if worse else "unclear"
            cells.append(txt)
        lines.append(" & ".join(cells) + " \\\\")
        compared += 1
        if "mse" in verdicts:
            reg_sent.append((eid, verdicts["mse"]))
    if compared == 0:
        lines.append("\\multicolumn{%d}{c}{no experiment besides the base models at this scale} \\\\" % (3 + len(cols)))
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-paired.tex"), "\n".join(lines) + "\n")
    o.val("text.level", o.num("text.level", 100 * LEVEL, 0), "tables.py: LEVEL")

    if compared == 0:
        sent = ("No regularizer has been run at this scale yet: their slots are the list \\texttt{REGULARIZERS} "
                "in \\texttt{experiments/experiments.mk}, and each fills a row of the tables when its "
                "configuration is added.")
    else:
        better = [e for e, v in reg_sent if v == "better"]
        worse = [e for e, v in reg_sent if v == "worse"]
        sent = "Of the %s regularized models, %s lower%s the test MSE with an interval that excludes zero" % (
            words(compared), words(len(better)) if better else "none", "s" if len(better) == 1 else "")
        sent += (" (%s)" % ", ".join(full_label(e) for e in better)) if better else ""
        sent += "; %s raise%s it (%s)" % (words(len(worse)), "s" if len(worse) == 1 else "",
                                          ", ".join(full_label(e) for e in worse)) if worse else ""
        sent += ". For the others the interval contains zero: with %s seeds, their effect is not distinguishable from the seed-to-seed variation." % words(len(seeds))
    o.val("sent.regularizers", sent, "runs.csv: paired differences (tab-paired)")

    # ------------------------------------------------------------------ base models vs baselines
    bl = stat("baseline/copy_last", "test_mse")[0]
    bz = stat("baseline/zero", "test_mse")[0]
    parts = []
    for m in models:
        mu, sd, n = stat(m + "/base", "test_mse")
        if n == 0:
            continue
        rel = "below" if mu < bl else "above"
        parts.append("%s's mean test MSE per frame, %s, is %s that of copying the last input frame (%s)%s" % (
            mlabel(m), o.num("sent.base", mu, DECIMALS["mse"]), rel, o.num("sent.base", bl, DECIMALS["mse"]),
            "" if mu < bz else " and not below that of predicting empty frames (%s)" % o.num("sent.base", bz, DECIMALS["mse"])))
    o.val("sent.baselines", ("; ".join(parts) + ".") if parts and math.isfinite(bl) else
          "The baselines have not been computed yet.", "runs.csv: base and baseline rows, test_mse")
    pair = [(m, stat(m + "/base", "test_mse")) for m in models]
    pair = [(m, s) for m, s in pair if s[2]]
    if len(pair) == 2:
        (m1, s1), (m2, s2) = sorted(pair, key=lambda p: p[1][0])
        sep = abs(s1[0] - s2[0]) > (s1[1] if math.isfinite(s1[1]) else 0) + (s2[1] if math.isfinite(s2[1]) else 0)
        o.val("sent.models", "%s has the lower mean test MSE (%s against %s for %s); the gap is %s the sum of the two seed standard deviations." % (
            mlabel(m1), o.num("sent.models", s1[0], DECIMALS["mse"]), o.num("sent.models", s2[0], DECIMALS["mse"]),
            mlabel(m2), "larger than" if sep else "within"), "runs.csv: base rows, test_mse")
    else:
        o.val("sent.models", "", "runs.csv: base rows")

    # ------------------------------------------------------------------ generalization gap
    gaps = []
    for m in models:
        g = stat(m + "/base", "gap_last")
        if g[2]:
            gaps.append("%s for %s" % (o.num("sent.gap", g[0], DECIMALS["loss"], sign=True), mlabel(m)))
            o.val("gap.%s" % m, o.num("gap.%s" % m, g[0], DECIMALS["loss"], sign=True), "runs.csv: %s/base gap_last" % m)
    o.val("sent.gap", ("In the last epoch, validation loss minus training loss is " + " and ".join(gaps) + ".")
          if gaps else "", "runs.csv: gap_last")

    # ------------------------------------------------------------------ the report's protocol (leak)
    proto = {"%s/%s" % (r["model"], r["experiment"]): r for r in load_csv(os.path.join(S, "protocol.csv"))
             if r["status"] == "ok"} if os.path.exists(os.path.join(S, "protocol.csv")) else {}
    leak = next((eid for eid in methods if exps.get(eid, {}).get("config", {}).get("head") == "conv3d_centered"), None)
    if leak:
        m = leak.split("/")[0]
        base = m + "/base"
        lt, bt = stat(leak, "last_train_loss")[0], stat(base, "last_train_loss")[0]
        lm, bm = stat(leak, "test_mse")[0], stat(base, "test_mse")[0]
        o.val("leak.epochs", o.num("leak.epochs", int(cfg(leak, "epochs")), 0), "experiments.json: %s config.epochs" % leak)
        o.val("leak.train", o.num("leak.train", lt, DECIMALS["loss"]), "runs.csv: %s last_train_loss" % leak)
        o.val("leak.basetrain", o.num("leak.basetrain", bt, DECIMALS["loss"]), "runs.csv: %s last_train_loss" % base)
        o.val("leak.testmse", o.num("leak.testmse", lm, DECIMALS["mse"]), "runs.csv: %s test_mse" % leak)
        o.val("leak.basetestmse", o.num("leak.basetestmse", bm, DECIMALS["mse"]), "runs.csv: %s test_mse" % base)
        parts = []
        if leak in proto and base in proto:
            pl_, pb = proto[leak], proto[base]
            for key, r in (("proto.leak", pl_), ("proto.base", pb)):
                for c in cols:
                    o.val("%s.%s" % (key, c), o.num("%s.%s" % (key, c), r["test_" + c], DECIMALS[c]),
                          "protocol.csv: %s/%s test_%s (teacher-forced)" % (r["model"], r["experiment"], c))
            parts.append("Evaluated as the report did, with the true frame as input at every step, the centred-head "
                         "ConvLSTM reaches a test MSE per frame of %s (PSNR %s\\,dB, SSIM %s), against %s for the causal "
                         "head under the same protocol" % (
                             o.num("sent.leak", pl_["test_mse"], DECIMALS["mse"]),
                             o.num("sent.leak", pl_["test_psnr"], DECIMALS["psnr"]),
                             o.num("sent.leak", pl_["test_ssim"], DECIMALS["ssim"]),
                             o.num("sent.leak", pb["test_mse"], DECIMALS["mse"])))
        else:
            for key in ("proto.leak", "proto.base"):
                for c in cols:
                    o.val("%s.%s" % (key, c), "--", "protocol.csv: not computed")
            parts.append("The report's teacher-forced evaluation was not computed at this scale (it needs PyTorch)")
        parts.append("evaluated autoregressively, like every other model here, its MSE per frame is %s against the "
                     "base model's %s" % (o.num("sent.leak", lm, DECIMALS["mse"]), o.num("sent.leak", bm, DECIMALS["mse"])))
        sent = "; ".join(parts) + ". "
        if lt and bt and lt < bt:
            sent += ("Its teacher-forced training loss in the last epoch, %s, is %s times below the base model's %s, "
                     "which is a scheduled-sampling loss partly on the model's own inputs." % (
                         o.num("sent.leak", lt, DECIMALS["loss"]), o.num("sent.leak", bt / lt, 1),
                         o.num("sent.leak", bt, DECIMALS["loss"])))
        else:
            sent += ("Its teacher-forced training loss in the last epoch is %s (base model: %s, a scheduled-sampling "
                     "loss)." % (o.num("sent.leak", lt, DECIMALS["loss"]), o.num("sent.leak", bt, DECIMALS["loss"])))
        o.val("sent.leak", sent, "runs.csv, protocol.csv: %s and %s" % (leak, base))
        # the verdict: how the report's protocol ranks the centred head against the causal one
        if leak in proto and base in proto and proto[leak]["test_mse"] > 0 and lm and bm:
            r_tf = proto[base]["test_mse"] / proto[leak]["test_mse"]   # > 1: the leak looks better
            r_ar = lm / bm                                             # > 1: the leak predicts worse
            o.val("leak.protoratio", o.num("leak.protoratio", r_tf, 1), "protocol.csv: base/leak test_mse")
            if r_tf > 1 and r_ar > 1:
                verdict = ("The report's protocol reverses the ranking: given the true frames, the centred head's "
                           "MSE is %s times lower than the causal head's, while predicting on its own it is %s times "
                           "higher. Its good numbers measure how well it passes on a frame it is given, not how well "
                           "it predicts." % (o.num("sent.verdict", r_tf, 1), o.num("sent.verdict", r_ar, 1)))
            elif r_tf > 1:
                verdict = ("Given the true frames, the centred head's MSE is %s times lower than the causal head's; "
                           "predicting on its own it is not worse at this scale (ratio %s)." % (
                               o.num("sent.verdict", r_tf, 1), o.num("sent.verdict", r_ar, 2)))
            else:
                verdict = ("At this scale the centred head has not learnt to use the frame it sees: even given the "
                           "true frames its MSE is not below the causal head's (ratio %s), so these runs do not "
                           "reproduce the report's advantage." % o.num("sent.verdict", r_tf, 2))
        else:
            o.val("leak.protoratio", "--", "protocol.csv: not computed")
            verdict = ""
        o.val("sent.leakverdict", verdict, "protocol.csv: %s and %s test_mse" % (leak, base))
    else:
        for k in ["leak.epochs", "leak.train", "leak.basetrain", "leak.testmse", "leak.basetestmse"] + \
                 ["%s.%s" % (key, c) for key in ("proto.leak", "proto.base") for c in cols]:
            o.val(k, "--", "no centred-head experiment")
        o.val("sent.leak", "The centred-head experiment has not been run at this scale.", "runs.csv")
        o.val("leak.protoratio", "--", "no centred-head experiment")
        o.val("sent.leakverdict", "", "no centred-head experiment")

    # the report's table next to ours: ours autoregressive, and the ConvLSTMs under the report's protocol
    rep = load_report()
    lines = ["\\begin{tabular}{llllrrr}", "\\toprule",
             "Source & Model & Variant & Evaluation & MSE & PSNR (dB) & SSIM \\\\", "\\midrule"]
    for i, r in enumerate(rep):
        key = "report.%d" % i
        lines.append(" & ".join(["report" if i == 0 else "", tex_escape(r["model"]), tex_escape(r["variant"]),
                                 "as published" if i == 0 else "",
                                 o.num(key, float(r["mse"]), len(r["mse"].split(".")[1])),
                                 o.num(key, float(r["psnr"]), len(r["psnr"].split(".")[1])),
                                 o.num(key, float(r["ssim"]), len(r["ssim"].split(".")[1]))]) + " \\\\")
    lines.append("\\midrule")
    ours = [m + "/base" for m in models] + ([leak] if leak else [])
    first = True
    for eid in (e for e in ours if runs_of(e)):
        m = eid.split("/")[0]
        lines.append(" & ".join(["this work" if first else "", mlabel(m), elabel(eid), "autoregressive"] +
                                [o.num("report.ours.%s.%s" % (eid, c), stat(eid, "test_" + c)[0], DECIMALS[c]) for c in cols]) + " \\\\")
        first = False
    for eid in (e for e in ours if e in proto):
        m = eid.split("/")[0]
        lines.append(" & ".join(["", mlabel(m), elabel(eid), "teacher-forced"] +
                                [o.num("report.proto.%s.%s" % (eid, c), proto[eid]["test_" + c], DECIMALS[c]) for c in cols]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-report.tex"), "\n".join(lines) + "\n")
    o.val("report.convlstm.mse", o.num("report.convlstm.mse", float(next(r["mse"] for r in rep if r["model"] == "ConvLSTM")), 3),
          REPORT_CSV + ": ConvLSTM Base mse")
    o.val("report.convlstm.psnr", o.num("report.convlstm.psnr", float(next(r["psnr"] for r in rep if r["model"] == "ConvLSTM")), 2),
          REPORT_CSV + ": ConvLSTM Base psnr")
    o.val("report.predrnn.mse", o.num("report.predrnn.mse", float(next(r["mse"] for r in rep if r["model"] == "PredRNN++")), 2),
          REPORT_CSV + ": PredRNN++ Base mse")

    # ------------------------------------------------------------------ figure data
    write_figure_data(a.out, o, methods, full_label, runs, frames, curves, exps, models, mlabel, elabel, choice, strip,
                      os.path.join(S, "strip.png"))

    # ------------------------------------------------------------------ values.tex
    vl = ["% values.tex — generated by tools/pipeline/tables.py from " + S + "; do not edit.",
          "% \\rrdef{key}{value} % source; the paper prints a value with \\rv{key}."]
    seen = set()
    for key, tex, source in o.values:
        if key in seen:
            sys.exit("tables.py: value %s defined twice" % key)
        seen.add(key)
        vl.append("\\rrdef{%s}{%s}%% %s" % (key, tex, source))
    pl.write_atomic(os.path.join(a.out, "values.tex"), "\n".join(vl) + "\n")
    print("[pipeline] tables: %d values → %s" % (len(o.values), a.out))


def png_size(path):
    """(width, height) of a PNG from its IHDR chunk."""
    import struct
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24])


def write_figure_data(out, o, methods, full_label, runs, frames, curves, exps, models, mlabel, elabel, choice, strip,
                      strip_png):
    """Gnuplot data: blocks separated by two blank lines (gnuplot `index`), labels and colours as arrays
    in figdata.gp (loaded by every figure)."""
    gp = ["# figdata.gp — generated by tools/pipeline/tables.py; labels, colours and counts of the figure data"]

    def arr(name, items):
        gp.append("array %s[%d]" % (name, max(1, len(items))))
        for i, v in enumerate(items):
            gp.append("%s[%d] = %s" % (name, i + 1, v if isinstance(v, (int, float)) else "'%s'" % v.replace("'", "''")))

    # per-frame metrics: one block per method, rows frame mean sd for mse psnr ssim
    blocks = []
    for eid in methods:
        m, n = eid.split("/")
        rows = [r for r in frames if r["model"] == m and r["experiment"] == n and
                any(x["model"] == m and x["experiment"] == n and x["seed"] == r["seed"] and x["status"] == "ok" for x in runs)]
        lines = ["# %s: frame mse sd psnr sd ssim sd" % eid]
        for t in sorted({r["frame"] for r in rows}):
            cells = [str(t)]
            for c in ["mse", "psnr", "ssim"]:
                xs = [r[c] for r in rows if r["frame"] == t and r[c] is not None]
                sd = pl.std(xs)
                cells += [repr(pl.mean(xs)), repr(sd if math.isfinite(sd) else 0.0)]
            lines.append(" ".join(cells))
        blocks.append("\n".join(lines))
    pl.write_atomic(os.path.join(out, "frames.dat"), "\n\n\n".join(blocks) + "\n")
    arr("M_LABEL", [full_label(e) for e in methods])
    arr("M_COLOR", list(range(1, len(methods) + 1)))
    arr("M_DASH", [3 if e.startswith("baseline/") else 2 if exps.get(e, {}).get("stage") == "once" else 1 for e in methods])
    gp.append("N_METHODS = %d" % len(methods))

    # final test MSE per method: block 0 = per-seed points (x, method index), block 1 = mean ± sd
    pts, agg = ["# method_index seed test_mse"], ["# method_index mean sd"]
    for i, eid in enumerate(methods):
        m, n = eid.split("/")
        xs = [r for r in runs if r["model"] == m and r["experiment"] == n and r["status"] == "ok"]
        for r in xs:
            pts.append("%d %d %r" % (i + 1, r["seed"], r["test_mse"]))
        vals = [r["test_mse"] for r in xs]
        sd = pl.std(vals)
        agg.append("%d %r %r" % (i + 1, pl.mean(vals), sd if math.isfinite(sd) else 0.0))
    pl.write_atomic(os.path.join(out, "final.dat"), "\n".join(pts) + "\n\n\n" + "\n".join(agg) + "\n")

    # learning curves: per model's base and the once-experiments: epoch train sd val sd gap sd
    cur_ids = [e for e in methods if not e.startswith("baseline/") and (e.endswith("/base") or exps[e]["stage"] == "once")]
    blocks = []
    for eid in cur_ids:
        m, n = eid.split("/")
        rows = [r for r in curves if r["model"] == m and r["experiment"] == n]
        lines = ["# %s: epoch train sd val sd gap sd" % eid]
        for ep in sorted({r["epoch"] for r in rows}):
            at = [r for r in rows if r["epoch"] == ep]
            cells = [str(ep)]
            for xs in ([r["train_loss"] for r in at], [r["val_loss"] for r in at],
                       [r["val_loss"] - r["train_loss"] for r in at]):
                sd = pl.std(xs)
                cells += [repr(pl.mean(xs)), repr(sd if math.isfinite(sd) else 0.0)]
            lines.append(" ".join(cells))
        blocks.append("\n".join(lines))
    pl.write_atomic(os.path.join(out, "curves.dat"), "\n\n\n".join(blocks or ["# none\n0 0 0 0 0 0 0"]) + "\n")
    arr("C_LABEL", [full_label(e) for e in cur_ids])
    arr("C_SHORT", [elabel(e) for e in cur_ids])
    arr("C_COLOR", [methods.index(e) + 1 for e in cur_ids])
    arr("C_MODEL", [models.index(e.split("/")[0]) + 1 for e in cur_ids])
    # per model, the curve indices that belong to it ("1 2"), and those of the base models
    arr("C_OF", [" ".join(str(i + 1) for i, e in enumerate(cur_ids) if e.split("/")[0] == m) or "0" for m in models])
    gp.append("C_BASES = '%s'" % (" ".join(str(i + 1) for i, e in enumerate(cur_ids) if e.endswith("/base")) or "0"))
    gp.append("N_CURVES = %d" % len(cur_ids))
    # log y only where the losses span a decade or more (a log axis within one decade has no tic labels)
    def spans_decade(vals):
        vals = [v for v in vals if v is not None and v > 0 and math.isfinite(v)]
        return 1 if vals and max(vals) / min(vals) >= 10 else 0
    arr("C_LOG", [spans_decade([r[k] for r in curves if r["model"] == m and "%s/%s" % (m, r["experiment"]) in cur_ids
                                for k in ("train_loss", "val_loss")]) for m in models])
    arr("O_LOG", [spans_decade([r["val_loss"] for r in curves if r["model"] == m and r["experiment"].startswith("opt-")])
                  for m in models])
    arr("MODEL_LABEL", [mlabel(m) for m in models])
    gp.append("N_MODELS = %d" % len(models))

    # optimizer study: validation loss per epoch (mean over seeds), one block per model × optimizer
    blocks, olab, omodel, ochosen = [], [], [], []
    for m in models:
        for eid in [e for e, x in exps.items() if x["stage"] == "opt" and x["model"] == m]:
            name = exps[eid]["name"]
            rows = [r for r in curves if r["model"] == m and r["experiment"] == name]
            lines = ["# %s: epoch val_loss" % eid]
            for ep in sorted({r["epoch"] for r in rows}):
                lines.append("%d %r" % (ep, pl.mean([r["val_loss"] for r in rows if r["epoch"] == ep])))
            if len(lines) == 1:
                lines.append("1 NaN")
            blocks.append("\n".join(lines))
            olab.append(elabel(eid))
            omodel.append(models.index(m) + 1)
            ochosen.append(1 if choice.get(m, {}).get("chosen") == name[len("opt-"):] else 0)
    pl.write_atomic(os.path.join(out, "optim.dat"), "\n\n\n".join(blocks or ["# none\n1 NaN"]) + "\n")
    arr("O_LABEL", olab)
    arr("O_MODEL", omodel)
    arr("O_CHOSEN", ochosen)
    arr("O_OF", [" ".join(str(i + 1) for i, x in enumerate(omodel) if x == k + 1) or "0" for k in range(len(models))])
    gp.append("N_OPT = %d" % len(olab))

    # the strip: the picture with its row labels to the left (a LaTeX picture; strip.png from summarize)
    labels = []
    for r in strip.get("rows", []):
        if r["row"] == "truth":
            labels.append("ground truth")
        elif r["row"] == "copy_last":
            labels.append("copy last frame")
        else:
            labels.append(full_label(r["row"]))
    w_px, h_px = png_size(strip_png)
    lab_w, img_w = 0.2, 0.8          # fractions of \textwidth
    h = img_w * h_px / w_px
    lines = ["% strip.tex — generated by tools/pipeline/tables.py from strip.json: strip.png with its row labels",
             "\\setlength{\\unitlength}{\\textwidth}",
             "\\begin{picture}(1,%.5f)" % h,
             "\\put(%.3f,0){\\includegraphics[width=%.3f\\textwidth]{strip.png}}" % (lab_w, img_w)]
    row_px = (h_px - 2) / max(1, len(labels))   # rnnreg strip: rows of frame + 2 px separator, 2 px top
    for i, lab in enumerate(labels):
        y = img_w * (h_px - (2 + row_px * i + (row_px - 2) / 2)) / w_px
        lines.append("\\put(%.3f,%.5f){\\makebox(0,0)[r]{%s}}" % (lab_w - 0.01, y, lab))
    lines.append("\\end{picture}")
    pl.write_atomic(os.path.join(out, "strip.tex"), "\n".join(lines) + "\n")
    pl.write_atomic(os.path.join(out, "figdata.gp"), "\n".join(gp) + "\n")


if __name__ == "__main__":
    main()

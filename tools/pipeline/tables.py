#!/usr/bin/env python3
"""tables.py — the summary of a scale (results/<scale>/summary/) → everything the paper prints:

  values.tex      \\rrdef{key}{value}: every number and result-dependent sentence of the text, each with
                  a comment naming the summary file and field it comes from (paper.tex reads them with
                  \\rv{key}; an undefined key stops LaTeX)
  tab-*.tex       the tables: setup, optimizer study, main results, paired differences, what each
                  experiment sets (methods), the report next to ours (report), the report's protocol
  *.dat, figdata.gp   the figures' data (gnuplot blocks) and labels/styles (gnuplot arrays)
  strip-<model>.tex, strip-<model>.png, strips.tex   the qualitative strips and their floats
Sentences that depend on results (which method is best, whether an interval excludes zero, where we
agree with the report) are values too, written here from the numbers they state.
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
# the report's variants (original.csv) and our experiment of the same method. The report's "Recurrent
# Dropout" cites Semeniuta et al.; its Keras ConvLSTM's recurrent_dropout is the variational mask,
# which is our var_dropout row in the other tables.
REPORT_MATCH = {"Base": "base", "Layer Norm": "layernorm", "Dropout": "dropout", "Recurrent Dropout": "rec_dropout",
                "Kernel Regularizer (L2)": "l2"}
# figure styles (tables.py → figdata.gp): style.gp's linetypes for the methods other than the base (its
# black, 7, is the base's), gnuplot point types filled and open in the same order
PALETTE = [1, 2, 3, 4, 5, 6, 8]
FILLED = [7, 5, 9, 11, 13, 15, 7]
OPEN = [6, 4, 8, 10, 12, 14, 6]
SWEEP_AXIS = {"dropout": "dropout rate $p$", "l2": "L2 weight $\\lambda$"}


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


def conf_value(v):
    """A config value as the paper prints it: numbers as a .conf writes them (0.25, 1e-4), words in
    \\texttt."""
    try:
        x = float(v)
    except ValueError:
        return "\\texttt{%s}" % tex_escape(v)
    if x != 0 and abs(x) <= 1e-3:
        mant, ex = ("%e" % x).split("e")
        return "%se%d" % (mant.rstrip("0").rstrip("."), int(ex))
    return "%g" % x


def value_tex(x):
    """A swept value in text and tic labels: a small power of ten as $10^{k}$, else %g."""
    if x > 0 and x < 1e-2 and abs(math.log10(x) - round(math.log10(x))) < 1e-9:
        return "$10^{%d}$" % round(math.log10(x))
    return "%g" % x


def mean_sd_cells(xs):
    """[mean, sd] of xs as repr strings for a gnuplot data row (sd 0 where undefined: one value)."""
    sd = pl.std(xs)
    return [repr(pl.mean(xs)), repr(sd if math.isfinite(sd) else 0.0)]


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
    exps, choice, sweeps = ex["experiments"], ex["optimizer_choice"], ex.get("sweeps", {})
    setup = pl.read_json(os.path.join(S, "setup.json"))
    strip = pl.read_json(os.path.join(S, "strip.json"))
    o = Out()
    os.makedirs(a.out, exist_ok=True)

    # the experiments in the order of experiments.mk (summarize.py's "order"; by name in older summaries)
    def order(eid):
        return exps[eid].get("order", sorted(exps).index(eid))
    models = []
    for eid in sorted(exps, key=order):
        if exps[eid]["model"] not in models:
            models.append(exps[eid]["model"])

    def mlabel(m):
        return pl.MODEL_LABELS.get(m, tex_escape(m))

    def elabel(eid):
        return tex_escape(exps[eid]["label"]) if eid in exps else tex_escape(eid)

    def runs_of(eid, status="ok"):
        m, n = eid.split("/")
        return [r for r in runs if r["model"] == m and r["experiment"] == n and (status is None or r["status"] == status)]

    def finished_rows(table, eid):
        """The rows of a per-run table (frames, curves) that belong to eid's finished (ok) runs."""
        m, n = eid.split("/")
        ok_seeds = {r["seed"] for r in runs_of(eid)}
        return [r for r in table if r["model"] == m and r["experiment"] == n and r["seed"] in ok_seeds]

    def stat(eid, field):
        xs = [r[field] for r in runs_of(eid) if r.get(field) is not None]
        return pl.mean(xs), pl.std(xs), len(xs)

    def paired(eid, field):
        """(mean, lo, hi, n) of the seed-matched differences eid - <model>/base of a runs.csv field."""
        base = {r["seed"]: r for r in runs_of(eid.split("/")[0] + "/base") if r.get(field) is not None}
        mine = {r["seed"]: r for r in runs_of(eid) if r.get(field) is not None}
        return pl.paired_interval([mine[s][field] - base[s][field] for s in sorted(set(base) & set(mine))], LEVEL)

    # methods: per model its base, the regularizers (stage main) and the run-once experiments in the
    # order of experiments.mk; then the baselines. A method's style (colour, dash, point) follows its
    # NAME, so that e.g. dropout looks the same in every panel of both models.
    methods = []
    for m in models:
        mine = [eid for eid, e in exps.items() if e["model"] == m and e["stage"] in ("main", "once")]
        mine.sort(key=lambda eid: (exps[eid]["name"] != "base", exps[eid]["stage"] == "once", order(eid)))
        methods += [eid for eid in mine if runs_of(eid)]
    methods += ["baseline/" + b for b in ["copy_last", "zero"] if runs_of("baseline/" + b)]
    blabel = {"baseline/copy_last": "copy last input frame", "baseline/zero": "all-zero frames"}

    def full_label(eid):
        if eid in blabel:
            return blabel[eid]
        return "%s %s" % (mlabel(exps[eid]["model"]), elabel(eid))

    def is_reg(eid):
        """A regularizer: a seeded experiment other than the base (compared with the base by seed)."""
        return eid in exps and exps[eid]["stage"] == "main" and exps[eid]["name"] != "base"

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
    # the compute statement: the sum of the runs' wall times, per model, and the elapsed time from the
    # first run's start to the last run's end (their ratio: how many ran at once on average)
    per = setup["wall_seconds_mean_per_model"]
    nper = setup.get("runs_per_model", {})
    tparts = ["%s runs of %s, %s on average" % (o.num("sent.timing", nper[m], 0), mlabel(m), duration(per[m]))
              for m in models if per.get(m) is not None and m in nper]
    sent = "The %s finished runs took %s of wall time in all%s." % (
        o.num("sent.timing", setup["runs_finished"], 0), duration(total), " (%s)" % "; ".join(tparts) if tparts else "")
    el = setup.get("elapsed_seconds")
    if el and el > 0:
        sent += (" From the first run's start to the last run's end %s passed, so %s runs were in progress at a time on "
                 "average." % (duration(el), o.num("sent.timing", total / el, 1)))
        o.val("env.elapsed", duration(el), src_setup + ": elapsed_seconds")
    else:
        o.val("env.elapsed", "--", src_setup + ": elapsed_seconds (not recorded)")
    o.val("sent.timing", sent, src_setup + ": runs_finished, wall_seconds_total, wall_seconds_mean_per_model, "
          "runs_per_model, elapsed_seconds")

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
    verdict_of = {}      # eid -> "better" / "worse" / "unclear" (test MSE; "better" = lower)
    prev = None
    for eid in (e for e in methods if is_reg(e)):
        m = eid.split("/")[0]
        if prev is not None and m != prev:
            lines.append("\\midrule")
        n_pairs = paired(eid, "test_mse")[3]
        cells = [mlabel(m) if m != prev else "", elabel(eid), o.num("diff.%s.n" % eid, n_pairs, 0)]
        for c in cols:
            mu, lo, hi, n = paired(eid, "test_" + c)
            dec = DECIMALS[c]
            if n == 0:
                cells.append("--")
                continue
            txt = o.num("diff.%s.%s" % (eid, c), mu, dec, sign=True)
            if n >= 2:
                txt += " [%s, %s]" % (o.num("diff.%s.%s.lo" % (eid, c), lo, dec, sign=True),
                                      o.num("diff.%s.%s.hi" % (eid, c), hi, dec, sign=True))
                if c == "mse":
                    verdict_of[eid] = "better" if hi < 0 else "worse" if lo > 0 else "unclear"
            cells.append(txt)
        lines.append(" & ".join(cells) + " \\\\")
        prev = m
    compared = [e for e in methods if is_reg(e)]
    if not compared:
        lines.append("\\multicolumn{%d}{c}{no experiment besides the base models at this scale} \\\\" % (3 + len(cols)))
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-paired.tex"), "\n".join(lines) + "\n")
    o.val("text.level", o.num("text.level", 100 * LEVEL, 0), "tables.py: LEVEL")

    # whether any regularizer beats its base beyond the seed spread: per model, the regularizers whose
    # paired interval of the test MSE lies below (better) or above (worse) zero
    if not compared:
        sent = ("No regularizer has been run at this scale yet: their slots are the list \\texttt{REGULARIZERS} "
                "in \\texttt{experiments/experiments.mk}, and each fills a row of the tables when its "
                "configuration is added.")
    else:
        parts = []
        for m in models:
            mine = [e for e in compared if e.startswith(m + "/")]
            if not mine:
                continue
            better = [e for e in mine if verdict_of.get(e) == "better"]
            worse = [e for e in mine if verdict_of.get(e) == "worse"]
            p = "of the %s regularizers of %s, %s" % (words(len(mine)), mlabel(m),
                                                      ("%s (%s) lower%s the test MSE" % (
                                                          words(len(better)), ", ".join(elabel(e) for e in better),
                                                          "s" if len(better) == 1 else "")) if better else
                                                      "none lowers the test MSE")
            if worse:
                p += " and %s (%s) raise%s it" % (words(len(worse)), ", ".join(elabel(e) for e in worse),
                                                  "s" if len(worse) == 1 else "")
            parts.append(p)
        any_better = any(v == "better" for v in verdict_of.values())
        sent = ("Counting only paired %s\\,\\%% intervals that exclude zero, " % o.num("sent.regularizers", 100 * LEVEL, 0) +
                "; ".join(parts) + ". ")
        if len(verdict_of) < len(compared):
            sent += "Experiments with fewer than two seed pairs have no interval and are not counted. "
        sent += ("So %s regularizer beats its base model beyond the seed-to-seed variation at this scale; for the "
                 "others the interval contains zero." % ("at least one" if any_better else "no"))
    o.val("sent.regularizers", sent, "runs.csv: paired differences (tab-paired)")
    # the same, short (the abstract)
    if compared:
        better = [e for e in compared if verdict_of.get(e) == "better"]
        worse = [e for e in compared if verdict_of.get(e) == "worse"]
        short = "Of the %s regularized models, %s" % (
            words(len(compared)), ("%s lower%s the test MSE beyond the seed-to-seed variation (%s)" % (
                words(len(better)), "s" if len(better) == 1 else "", ", ".join(full_label(e) for e in better)))
            if better else "none lowers the test MSE beyond the seed-to-seed variation")
        short += (" and %s raise%s it (%s)." % (words(len(worse)), "s" if len(worse) == 1 else "",
                                                 ", ".join(full_label(e) for e in worse)) if worse else ".")
    else:
        short = "No regularizer has been run at this scale yet."
    o.val("sent.regshort", short, "runs.csv: paired differences (tab-paired)")

    # per model, the method with the lowest mean test MSE (base or a regularizer) and its paired interval
    parts = []
    for m in models:
        cands = [e for e in methods if e.split("/")[0] == m and (e == m + "/base" or is_reg(e))]
        cands = [e for e in cands if stat(e, "test_mse")[2]]
        if not cands:
            continue
        best = min(cands, key=lambda e: stat(e, "test_mse")[0])
        mu = stat(best, "test_mse")[0]
        if best == m + "/base":
            parts.append("for %s it is the base model itself (%s): no regularizer lowers its mean" % (
                mlabel(m), o.num("sent.best", mu, DECIMALS["mse"])))
            continue
        d, lo, hi, n = paired(best, "test_mse")
        if n >= 2:
            res = ("its paired difference to the base model, %s [%s, %s], %s zero" % (
                o.num("sent.best", d, DECIMALS["mse"], sign=True), o.num("sent.best", lo, DECIMALS["mse"], sign=True),
                o.num("sent.best", hi, DECIMALS["mse"], sign=True), "excludes" if hi < 0 or lo > 0 else "contains"))
        else:
            res = "with fewer than two seed pairs it has no interval"
        parts.append("for %s it is %s (%s, base model %s); %s" % (
            mlabel(m), elabel(best), o.num("sent.best", mu, DECIMALS["mse"]),
            o.num("sent.best", stat(m + "/base", "test_mse")[0], DECIMALS["mse"]), res))
    o.val("sent.best", ("The lowest mean test MSE: " + "; ".join(parts) + ".") if parts else "",
          "runs.csv: test_mse means of base and regularizers; paired differences")

    def sweep_label(w):
        for m in models:
            for p in sweeps[w]["points"]:
                if m + "/" + p in exps:
                    return elabel(m + "/" + p)
        return tex_escape(w)

    # ------------------------------------------------------------------ what each experiment sets
    # one row per method name ("both" when both models set the same, else a row per model), then one
    # per sweep; the keys and values are experiments.json delta_from_base (the resolved config minus
    # the base's), values as a .conf writes them
    def setting(eid):
        d = exps.get(eid, {}).get("delta_from_base", {})
        if not d:
            return "the reference (Table~\\ref{tab:setup})" if exps.get(eid, {}).get("name") == "base" else "--"
        return ", ".join("\\texttt{%s}\\,=\\,%s" % (tex_escape(k), conf_value(v)) for k, v in sorted(d.items()))

    names = []
    for e in methods:
        if e in exps and exps[e]["name"] not in names:
            names.append(exps[e]["name"])
    lines = ["\\begin{tabular}{@{}llp{0.62\\textwidth}@{}}", "\\toprule", "Method & Model & Setting \\\\", "\\midrule"]
    for n in names:
        have = [m + "/" + n for m in models if m + "/" + n in exps]
        sets = [setting(e) for e in have]
        if len(have) == len(models) and len(set(sets)) == 1:
            lines.append(" & ".join([elabel(have[0]), "both" if len(models) == 2 else "all", sets[0]]) + " \\\\")
        else:
            for k, e in enumerate(have):
                lines.append(" & ".join([elabel(e) if k == 0 else "", mlabel(e.split("/")[0]), sets[k]]) + " \\\\")
    if sweeps:
        lines.append("\\midrule")
    for w, sw in sweeps.items():
        vals = []
        for m in models:
            xs = [exps[m + "/" + p]["config"].get(sw["key"]) for p in sw["points"] if m + "/" + p in exps]
            vals.append(", ".join(conf_value(x) for x in xs if x is not None))
        vals = [("\\texttt{%s} $\\in$ \\{%s\\}" % (tex_escape(sw["key"]), v)) if v else "--" for v in vals]
        cells = ["%s sweep" % sweep_label(w)]
        if len(set(vals)) == 1:
            lines.append(" & ".join(cells + ["both" if len(models) == 2 else "all", vals[0]]) + " \\\\")
        else:
            for k, m in enumerate(models):
                lines.append(" & ".join([cells[0] if k == 0 else "", mlabel(m), vals[k]]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-methods.tex"), "\n".join(lines) + "\n")

    # ------------------------------------------------------------------ sweeps
    # per model and sweep: every point's value of the swept key (its resolved config), the mean and sd
    # of the test MSE over its finished runs and their number; the base model as the reference band
    sweep_blocks = []   # (model, sweep name, [(x, mean, sd, n, eid)])
    for m in models:
        for w, sw in sweeps.items():
            pts = []
            for p in sw["points"]:
                eid = m + "/" + p
                x = exps.get(eid, {}).get("config", {}).get(sw["key"])
                mu, sd, n = stat(eid, "test_mse") if eid in exps else (None, None, 0)
                if x is not None and n:
                    pts.append((float(x), mu, sd, n, eid))
            sweep_blocks.append((m, w, sorted(pts)))

    def common_seed_mean(pts):
        """Per point, the mean test MSE over the seeds that every point of the sweep has (a point with
        more seeds is compared on those only), and those seeds."""
        per = [{r["seed"]: r["test_mse"] for r in runs_of(p[4]) if r.get("test_mse") is not None} for p in pts]
        common = sorted(set.intersection(*[set(d) for d in per])) if per else []
        return [pl.mean([d[s] for s in common]) for d in per], common
    sparts, seeds_used = [], set()
    for m in models:
        mparts = []
        for (mm, w, pts) in sweep_blocks:
            if mm != m or not pts:
                continue
            key = sweeps[w]["key"]
            cm, common = common_seed_mean(pts)
            if not common:
                continue
            k = min(range(len(pts)), key=lambda i: cm[i])
            base_c = pl.mean([r["test_mse"] for r in runs_of(m + "/base") if r["seed"] in common])
            mparts.append("%s at %s (%s; base model %s)" % (
                sweep_label(w), value_tex(pts[k][0]), o.num("sent.sweep", cm[k], DECIMALS["mse"]),
                o.num("sent.sweep", base_c, DECIMALS["mse"])))
            seeds_used.add(tuple(common))
        if mparts:
            sparts.append("%s: %s" % (mlabel(m), ", ".join(mparts)))
    if sparts:
        su = sorted(seeds_used)
        on = ("seed %s, which every point has" % o.num("sent.sweep", su[0][0], 0)) if len(su) == 1 and len(su[0]) == 1 \
            else "the seeds that every point of a sweep has"
        o.val("sent.sweep", "Compared on %s, the lowest test MSE of each sweep is, for " % on + "; for ".join(sparts) + ".",
              "runs.csv and experiments.json: the sweeps' points")
    else:
        o.val("sent.sweep", "No sweep has finished runs at this scale.", "experiments.json: sweeps")
    # how many seeds each point has: the points shared with the regularizer matrix have its seeds
    pts_all = [(w, p[0], p[3]) for (_, w, pts) in sweep_blocks for p in pts]
    if pts_all:
        ns = sorted({n for _, _, n in pts_all})
        if len(ns) == 1:
            nsent = "Every point has %s %s." % (words(ns[0]), "run" if ns[0] == 1 else "runs")
        else:
            groups = []
            for n in ns[1:]:
                xs = sorted({(w, x) for w, x, k in pts_all if k == n})
                groups.append("%s (%s runs%s)" % (
                    " and ".join("%s %s" % (sweep_label(w), value_tex(x)) for w, x in xs),
                    words(n), " each" if len(xs) > 1 else ""))
            nsent = ("Points with several runs, drawn with a bar of one standard deviation to either side: %s; the "
                     "others %s %s." % ("; ".join(groups), words(ns[0]), "run" if ns[0] == 1 else "runs"))
        o.val("sent.sweepseeds", nsent, "runs.csv: runs per sweep point")
    else:
        o.val("sent.sweepseeds", "", "runs.csv: no sweep point")
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
    gaps, gparts = [], []
    for m in models:
        g = stat(m + "/base", "gap_last")
        if g[2]:
            gaps.append("%s for %s" % (o.num("sent.gap", g[0], DECIMALS["loss"], sign=True), mlabel(m)))
            o.val("gap.%s" % m, o.num("gap.%s" % m, g[0], DECIMALS["loss"], sign=True), "runs.csv: %s/base gap_last" % m)
        regs = [e for e in methods if is_reg(e) and e.startswith(m + "/") and stat(e, "gap_last")[2]]
        if regs and g[2]:
            lo_e = min(regs, key=lambda e: stat(e, "gap_last")[0])
            hi_e = max(regs, key=lambda e: stat(e, "gap_last")[0])
            gparts.append("for %s from %s (%s) to %s (%s)" % (
                mlabel(m), o.num("sent.gap", stat(lo_e, "gap_last")[0], DECIMALS["loss"], sign=True), elabel(lo_e),
                o.num("sent.gap", stat(hi_e, "gap_last")[0], DECIMALS["loss"], sign=True), elabel(hi_e)))
    sent = ("In the last epoch, validation loss minus training loss of the base models is " + " and ".join(gaps) + ".") if gaps else ""
    if gparts:
        sent += " The regularizers' mean gaps range " + "; ".join(gparts) + "."
    o.val("sent.gap", sent, "runs.csv: gap_last")

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
        if lt and bt and bt / lt >= 1.1:   # "times below" only where it is clearly below
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

    # ------------------------------------------------------------------ the report next to ours
    # Each row of the report (experiments/report/original.csv) beside our experiment of the same method
    # (REPORT_MATCH): its numbers, its change of MSE against its own base (relative: the report's two
    # models use different MSE conventions), and our mean and paired difference with its interval; the
    # last column compares the directions.
    rep = load_report()
    label_model = {v: k for k, v in pl.MODEL_LABELS.items()}
    rep_base = {r["model"]: float(r["mse"]) for r in rep if REPORT_MATCH.get(r["variant"]) == "base"}
    lines = ["\\begin{tabular}{@{}lrrrll@{}}", "\\toprule",
             "Variant & MSE & PSNR (dB) & SSIM & $\\Delta$MSE & vs.\\ report \\\\", "\\midrule"]
    agree = []   # (model, variant, our eid, report direction, our direction, resolved)
    prev = None
    for i, r in enumerate(rep):
        key = "report.%d" % i
        m = label_model.get(r["model"])
        name = REPORT_MATCH.get(r["variant"])
        eid = "%s/%s" % (m, name) if m and name else None
        if r["model"] != prev:
            if prev is not None:
                lines.append("\\midrule")
            lines.append("\\multicolumn{6}{@{}l}{\\emph{%s}} \\\\" % tex_escape(r["model"]))
        elif prev is not None:
            lines.append("\\addlinespace[2pt]")
        prev = r["model"]
        # the report's row: its numbers and its change of MSE relative to its base
        cells = ["%s (report)" % tex_escape(r["variant"]),
                 o.num(key, float(r["mse"]), len(r["mse"].split(".")[1])),
                 o.num(key, float(r["psnr"]), len(r["psnr"].split(".")[1])),
                 o.num(key, float(r["ssim"]), len(r["ssim"].split(".")[1]))]
        rb = rep_base.get(r["model"])
        rdir = None
        if name == "base" or rb is None:
            cells.append("")
        else:
            rel = 100.0 * (float(r["mse"]) - rb) / rb
            cells.append(o.num(key, rel, 1, sign=True) + "\\,\\%")
            rdir = 0 if float(r["mse"]) == rb else (1 if rel > 0 else -1)
        lines.append(" & ".join(cells + [""]) + " \\\\")
        # our row: the same method, mean over seeds, paired difference to our base with its interval
        have = eid is not None and eid in exps and stat(eid, "test_mse")[2] > 0
        cells = ["\\quad ours: %s" % (elabel(eid) if eid in exps else "--")]
        for c in cols:
            mu, sd, n = stat(eid, "test_" + c) if have else (None, None, 0)
            cells.append(o.num("report.ours.%s.%s" % (eid, c), mu, DECIMALS[c]) if n else "--")
        verdict = ""
        if have and name != "base":
            d, lo, hi, n = paired(eid, "test_mse")
            if n:
                cells.append(o.num("report.diff", d, DECIMALS["mse"], sign=True) + (
                    " [%s, %s]" % (o.num("report.diff", lo, DECIMALS["mse"], sign=True),
                                   o.num("report.diff", hi, DECIMALS["mse"], sign=True)) if n >= 2 else ""))
                odir = 1 if d > 0 else -1 if d < 0 else 0
                resolved = n >= 2 and (hi < 0 or lo > 0)
                agree.append((r["model"], r["variant"], eid, rdir, odir, resolved))
                verdict = ("report: no change" if rdir == 0 else "same sign" if rdir == odir else "opposite sign")
                verdict += ", resolved" if resolved else ", not resolved"
            else:
                cells.append("--")
        else:
            cells.append("")
        lines.append(" & ".join(cells + [verdict]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-report.tex"), "\n".join(lines) + "\n")

    # the sentence: where we agree with the report, where we differ, and what is resolved
    if agree:
        same = [x for x in agree if x[3] is not None and x[3] != 0 and x[3] == x[4]]
        opp = [x for x in agree if x[3] is not None and x[3] != 0 and x[3] != x[4]]
        flat = [x for x in agree if x[3] == 0]

        def names(xs):
            return ", ".join("%s %s%s" % (tex_escape(x[0]), elabel(x[2]), " (resolved)" if x[5] else "") for x in xs)
        parts = ["Of the report's %s comparisons with its base model, our paired difference of the test MSE has the "
                 "report's sign in %s" % (words(len(agree)), words(len(same)) if same else "none")]
        if same:
            parts[-1] += " (%s)" % names(same)
        parts.append("the opposite sign in %s%s" % (words(len(opp)) if opp else "none", " (%s)" % names(opp) if opp else ""))
        if flat:
            parts.append("where the report's MSE did not change at its printed precision (%s), ours %s" % (
                ", ".join("%s %s" % (tex_escape(x[0]), elabel(x[2])) for x in flat),
                "; ".join("%s %s" % ("falls" if x[4] < 0 else "rises", "beyond the seed spread" if x[5] else "within the seed spread")
                          for x in flat)))
        n_res = sum(1 for x in agree if x[5])
        sent = "; ".join(parts) + ". "
        sent += ("%s of our %s differences %s resolved (interval excluding zero)." % (
            words(n_res).capitalize() if n_res else "None", words(len(agree)), "is" if n_res <= 1 else "are"))
        # the report's largest effect (relative to its base) and ours
        big = max((x for x in agree if x[3]), default=None,
                  key=lambda x: abs(float(next(r["mse"] for r in rep if r["model"] == x[0] and r["variant"] == x[1])) /
                                    rep_base[x[0]] - 1))
        if big:
            rm = float(next(r["mse"] for r in rep if r["model"] == big[0] and r["variant"] == big[1]))
            d, lo, hi, n = paired(big[2], "test_mse")
            bm = stat(big[2].split("/")[0] + "/base", "test_mse")[0]
            sent += (" The report's largest change, %s %s (MSE %s by %s\\,\\%%), %s here: our %s changes the mean test "
                     "MSE by %s\\,\\%% of the base model's" % (
                         tex_escape(big[0]), tex_escape(big[1]), "up" if big[3] > 0 else "down",
                         o.num("sent.reportcmp", abs(100.0 * (rm / rep_base[big[0]] - 1)), 1),
                         ("is reproduced in direction" + ("" if big[5] else ", though not resolved,"))
                         if big[3] == big[4] else "is not reproduced",
                         elabel(big[2]), o.num("sent.reportcmp", 100.0 * d / bm, 1, sign=True)))
            sent += (" (paired difference %s [%s, %s])." % (o.num("sent.reportcmp", d, DECIMALS["mse"], sign=True),
                                                           o.num("sent.reportcmp", lo, DECIMALS["mse"], sign=True),
                                                           o.num("sent.reportcmp", hi, DECIMALS["mse"], sign=True))
                     if n >= 2 else ".")
    else:
        sent = "None of the report's regularizers has finished runs here yet."
    o.val("sent.reportcmp", sent, REPORT_CSV + " and runs.csv: report rows against our paired differences")

    # our centred-head and causal ConvLSTMs under both protocols
    lines = ["\\begin{tabular}{@{}lrrr@{}}", "\\toprule", "%s & MSE & PSNR (dB) & SSIM \\\\" % (
        "%s variant" % mlabel(leak.split("/")[0]) if leak else "Variant"), "\\midrule"]
    ours = [leak.split("/")[0] + "/base", leak] if leak else []
    lines.append("\\multicolumn{4}{@{}l}{\\emph{autoregressive (this work; mean over seeds)}} \\\\")
    for eid in (e for e in ours if runs_of(e)):
        lines.append(" & ".join(["\\quad " + elabel(eid)] +
                                [o.num("proto.ar.%s.%s" % (eid, c), stat(eid, "test_" + c)[0], DECIMALS[c]) for c in cols]) + " \\\\")
    if any(e in proto for e in ours):
        lines.append("\\multicolumn{4}{@{}l}{\\emph{teacher-forced (the report's protocol; first seed)}} \\\\")
    for eid in (e for e in ours if e in proto):
        lines.append(" & ".join(["\\quad " + elabel(eid)] +
                                [o.num("proto.tf.%s.%s" % (eid, c), proto[eid]["test_" + c], DECIMALS[c]) for c in cols]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    pl.write_atomic(os.path.join(a.out, "tab-protocol.tex"), "\n".join(lines) + "\n")
    o.val("report.convlstm.mse", o.num("report.convlstm.mse", float(next(r["mse"] for r in rep if r["model"] == "ConvLSTM")), 3),
          REPORT_CSV + ": ConvLSTM Base mse")
    o.val("report.convlstm.psnr", o.num("report.convlstm.psnr", float(next(r["psnr"] for r in rep if r["model"] == "ConvLSTM")), 2),
          REPORT_CSV + ": ConvLSTM Base psnr")
    o.val("report.predrnn.mse", o.num("report.predrnn.mse", float(next(r["mse"] for r in rep if r["model"] == "PredRNN++")), 2),
          REPORT_CSV + ": PredRNN++ Base mse")

    # ------------------------------------------------------------------ figure data
    # gnuplot data: blocks separated by two blank lines (gnuplot `index`); labels, styles and counts as
    # arrays in figdata.gp, loaded by every figure
    gp = ["# figdata.gp — generated by tools/pipeline/tables.py; labels, styles and counts of the figure data"]

    def arr(name, items):
        gp.append("array %s[%d]" % (name, max(1, len(items))))
        for i, v in enumerate(items):
            if isinstance(v, float):
                v = repr(v) if math.isfinite(v) else "NaN"
            elif not isinstance(v, int):
                v = "'%s'" % v.replace("'", "''")
            gp.append("%s[%d] = %s" % (name, i + 1, v))

    def fin(x):
        return float(x) if x is not None and math.isfinite(x) else float("nan")

    # styles by method name: the base black and solid; the others through the Okabe-Ito colours of
    # style.gp (not black), solid with filled points, then dashed with open points, then dash-dotted
    names = []
    for e in methods:
        if e in exps and exps[e]["name"] not in names:
            names.append(exps[e]["name"])
    style = {}
    others = [n for n in names if n != "base"]
    for n in names:
        if n == "base":
            style[n] = (7, 1, 7)
        else:
            j = others.index(n)
            cyc = (j // len(PALETTE)) % 3
            style[n] = (PALETTE[j % len(PALETTE)], [1, 2, 4][cyc], (FILLED if cyc == 0 else OPEN)[j % len(PALETTE)])
    bstyle = {"baseline/copy_last": (8, 3, 1), "baseline/zero": (7, 3, 2)}

    def sty(e):
        return bstyle[e] if e in bstyle else style[exps[e]["name"]]
    run_methods = [e for e in methods if not e.startswith("baseline/")]
    arr("M_LABEL", [full_label(e) for e in methods])
    arr("M_SHORT", [blabel.get(e) or elabel(e) for e in methods])
    arr("M_COLOR", [sty(e)[0] for e in methods])
    arr("M_DASH", [sty(e)[1] for e in methods])
    arr("M_PT", [sty(e)[2] for e in methods])
    arr("M_LW", [2.5 if e in exps and exps[e]["name"] == "base" else 1.5 for e in methods])
    arr("M_MODEL", [models.index(e.split("/")[0]) + 1 if e in exps else 0 for e in methods])
    arr("M_ONCE", [1 if e in exps and exps[e]["stage"] == "once" else 0 for e in methods])
    # per model, the indices of its methods ("1 2 3"), and those of the baselines
    arr("M_OF", [" ".join(str(i + 1) for i, e in enumerate(methods) if e.split("/")[0] == m) or "0" for m in models])
    gp.append("B_OF = '%s'" % (" ".join(str(i + 1) for i, e in enumerate(methods) if e.startswith("baseline/")) or "0"))
    gp.append("N_METHODS = %d" % len(methods))
    gp.append("N_RUNMETHODS = %d" % len(run_methods))
    # the shared key: one entry per method name (a name run on one model only says which), then the baselines
    klab = []
    for n in names:
        have = [m for m in models if m + "/" + n in run_methods]
        lab = elabel(have[0] + "/" + n)
        klab.append(lab + (" (%s)" % mlabel(have[0]) if len(have) == 1 and len(models) > 1 else ""))
    kb = [e for e in methods if e.startswith("baseline/")]
    arr("K_LABEL", klab + [blabel[e] for e in kb])
    arr("K_COLOR", [style[n][0] for n in names] + [bstyle[e][0] for e in kb])
    arr("K_DASH", [style[n][1] for n in names] + [bstyle[e][1] for e in kb])
    arr("K_PT", [style[n][2] for n in names] + [bstyle[e][2] for e in kb])
    arr("K_LW", [2.5 if n == "base" else 1.5 for n in names] + [1.5 for e in kb])
    # the baselines' test MSE (the final figure marks those inside a panel's range)
    arr("BL_LABEL", [blabel[e] for e in kb])
    arr("BL_MSE", [fin(stat(e, "test_mse")[0]) for e in kb])
    arr("BL_DASH", [{"baseline/copy_last": 3, "baseline/zero": 4}.get(e, 5) for e in kb])
    gp.append("N_BL = %d" % len(kb))
    gp.append("N_KEYS = %d" % (len(names) + len(kb)))
    gp.append("N_NAMEKEYS = %d" % len(names))
    arr("MODEL_LABEL", [mlabel(m) for m in models])
    gp.append("N_MODELS = %d" % len(models))

    # per-frame metrics: one block per method (index = method index - 1): frame, then mean and sd of
    # MSE, PSNR, SSIM over the method's finished runs
    blocks = []
    for eid in methods:
        rows = finished_rows(frames, eid)
        lines = ["# %s: frame mse sd psnr sd ssim sd" % eid]
        for t in sorted({r["frame"] for r in rows}):
            cells = [str(t)]
            for c in ["mse", "psnr", "ssim"]:
                xs = [r[c] for r in rows if r["frame"] == t and r[c] is not None]
                cells += mean_sd_cells(xs)
            lines.append(" ".join(cells))
        if len(lines) == 1:
            lines.append("1 NaN 0 NaN 0 NaN 0")
        blocks.append("\n".join(lines))
    pl.write_atomic(os.path.join(a.out, "frames.dat"), "\n\n\n".join(blocks or ["# none\n1 NaN 0 NaN 0 NaN 0"]) + "\n")

    # per-method points (final test MSE; generalization gap): block 0 = every finished run
    # (position within its model, model index, method index, seed, value), block 1 = per method
    # (position, model index, method index, mean, sd); positions count 1, 2, ... down each model's panel
    pos = {}
    for m in models:
        for k, e in enumerate([e for e in run_methods if e.startswith(m + "/")]):
            pos[e] = k + 1

    def points_file(fname, field):
        pts, agg = ["# pos model method seed %s" % field], ["# pos model method mean sd min max"]
        for i, eid in enumerate(run_methods):
            xs = [r for r in runs_of(eid) if r.get(field) is not None]
            for r in xs:
                pts.append("%d %d %d %d %r" % (pos[eid], models.index(eid.split("/")[0]) + 1, i + 1, r["seed"], r[field]))
            vals = [r[field] for r in xs]
            sd = pl.std(vals)
            if vals:
                agg.append("%d %d %d %r %r %r %r" % (pos[eid], models.index(eid.split("/")[0]) + 1, i + 1, pl.mean(vals),
                                                     sd if math.isfinite(sd) else 0.0, min(vals), max(vals)))
        if len(pts) == 1:
            pts.append("1 0 0 0 NaN")
        if len(agg) == 1:
            agg.append("1 0 0 NaN 0 NaN NaN")
        pl.write_atomic(os.path.join(a.out, fname), "\n".join(pts) + "\n\n\n" + "\n".join(agg) + "\n")
    points_file("final.dat", "test_mse")
    points_file("gap.dat", "gap_last")
    arr("N_POS", [len([e for e in run_methods if e.startswith(m + "/")]) for m in models])

    def robust_range(vals, extra):
        """The x range of a points panel: every value within five interquartile ranges of the
        quartiles (and the base model's mean), padded; a run far outside (a diverging seed, the
        centred-head run) would squeeze the others into a corner, and is written at the edge instead."""
        vals = sorted(v for v in vals if v is not None and math.isfinite(v))
        if not vals:
            return 0.0, 1.0
        q1, q3 = vals[len(vals) // 4], vals[(3 * len(vals)) // 4]
        iqr = q3 - q1
        inside = [v for v in vals if q1 - 5 * iqr <= v <= q3 + 5 * iqr] if iqr > 0 else vals
        inside += [x for x in extra if x is not None and math.isfinite(x)]
        lo, hi = min(inside), max(inside)
        pad = 0.06 * (hi - lo) if hi > lo else 0.05 * abs(hi) or 1.0
        return lo - pad, hi + pad
    for key, field in (("FIN", "test_mse"), ("GAP", "gap_last")):
        arr(key + "_BMEAN", [fin(stat(m + "/base", field)[0]) if stat(m + "/base", field)[2] else fin(None) for m in models])
        arr(key + "_BSD", [fin(stat(m + "/base", field)[1]) if stat(m + "/base", field)[2] >= 2 else 0.0 for m in models])
        rr = [robust_range([r[field] for e in run_methods if e.startswith(m + "/") for r in runs_of(e)],
                           [stat(m + "/base", field)[0] if stat(m + "/base", field)[2] else None]) for m in models]
        arr(key + "_XLO", [x[0] for x in rr])
        arr(key + "_XHI", [x[1] for x in rr])
        # how many methods have runs beyond either end (labels at the edge; gnuplot warns on an empty plot)
        arr(key + "_NLO", [sum(1 for e in run_methods if e.startswith(m + "/") and
                               any(r[field] < rr[k][0] for r in runs_of(e) if r.get(field) is not None))
                           for k, m in enumerate(models)])
        arr(key + "_NHI", [sum(1 for e in run_methods if e.startswith(m + "/") and
                               any(r[field] > rr[k][1] for r in runs_of(e) if r.get(field) is not None))
                           for k, m in enumerate(models)])

    # learning curves: one block per run method (index = method index - 1): epoch, then mean and sd
    # over seeds of the training loss, validation loss, and their difference
    blocks = []
    for eid in run_methods:
        rows = finished_rows(curves, eid)
        lines = ["# %s: epoch train sd val sd gap sd" % eid]
        for ep in sorted({r["epoch"] for r in rows}):
            at = [r for r in rows if r["epoch"] == ep]
            cells = [str(ep)]
            for xs in ([r["train_loss"] for r in at], [r["val_loss"] for r in at],
                       [r["val_loss"] - r["train_loss"] for r in at]):
                cells += mean_sd_cells(xs)
            lines.append(" ".join(cells))
        if len(lines) == 1:
            lines.append("1 NaN 0 NaN 0 NaN 0")
        blocks.append("\n".join(lines))
    pl.write_atomic(os.path.join(a.out, "curves.dat"), "\n\n\n".join(blocks or ["# none\n1 NaN 0 NaN 0 NaN 0"]) + "\n")

    # log y only where the losses span a decade or more (a log axis within one decade has no tic labels)
    def spans_decade(vals):
        vals = [v for v in vals if v is not None and v > 0 and math.isfinite(v)]
        return 1 if vals and max(vals) / min(vals) >= 10 else 0
    # the learning curves' axes come from the base and regularizers: a run-once experiment trained
    # longer (the centred head) is cut at their last epoch, and may leave the panel
    main_names = {tuple(e.split("/")) for e in run_methods if exps[e]["stage"] != "once"}
    arr("C_LOG", [spans_decade([r[k] for r in curves if r["model"] == m and (m, r["experiment"]) in main_names
                                for k in ("train_loss", "val_loss")]) for m in models])
    arr("C_EPOCHS", [max([r["epoch"] for r in curves if r["model"] == m and (m, r["experiment"]) in main_names] or
                         [r["epoch"] for r in curves if r["model"] == m] or [1]) for m in models])
    arr("O_LOG", [spans_decade([r["val_loss"] for r in curves if r["model"] == m and r["experiment"].startswith("opt-")])
                  for m in models])

    # optimizer study: validation loss per epoch (mean over seeds), one block per model × optimizer
    blocks, olab, omodel, ochosen = [], [], [], []
    for m in models:
        for eid in sorted((e for e, x in exps.items() if x["stage"] == "opt" and x["model"] == m), key=order):
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
    pl.write_atomic(os.path.join(a.out, "optim.dat"), "\n\n\n".join(blocks or ["# none\n1 NaN"]) + "\n")
    arr("O_LABEL", olab)
    arr("O_MODEL", omodel)
    arr("O_CHOSEN", ochosen)
    arr("O_OF", [" ".join(str(i + 1) for i, x in enumerate(omodel) if x == k + 1) or "0" for k in range(len(models))])
    gp.append("N_OPT = %d" % len(olab))

    # sweeps: one block per model × sweep (model-major): value, mean, sd (NaN for a single run: no
    # bar), runs; the sweep's axis (log where the values span two decades or more), its range and tics
    # at the values; the base model's mean and sd per model (the reference band)
    blocks = []
    for (m, w, pts) in sweep_blocks:
        cm, common = common_seed_mean(pts)
        lines = ["# %s %s (%s): value, mean, sd (NaN: one run), runs, mean over the seeds every point has (%s)" % (
            m, w, sweeps[w]["key"], " ".join(str(s) for s in common))]
        lines += ["%r %r %s %d %s" % (x, mu, repr(sd) if n >= 2 and math.isfinite(sd) else "NaN", n,
                                      repr(cm[i]) if common else "NaN") for i, (x, mu, sd, n, _) in enumerate(pts)]
        if not pts:
            lines.append("NaN NaN NaN 0 NaN")
        blocks.append("\n".join(lines))
    pl.write_atomic(os.path.join(a.out, "sweep.dat"), "\n\n\n".join(blocks or ["# none\nNaN NaN NaN 0 NaN"]) + "\n")
    snames = list(sweeps)
    arr("SW_MODEL", [models.index(m) + 1 for m, _, _ in sweep_blocks])
    arr("SW_SWEEP", [snames.index(w) + 1 for _, w, _ in sweep_blocks])
    arr("SW_N", [len(p) for _, _, p in sweep_blocks])
    sw_log, sw_lo, sw_hi, sw_tics = [], [], [], []
    for w in snames:
        xs = sorted({p[0] for (_, ww, pts) in sweep_blocks if ww == w for p in pts} |
                    {float(exps[m + "/" + p]["config"][sweeps[w]["key"]]) for m in models for p in sweeps[w]["points"]
                     if sweeps[w]["key"] in exps.get(m + "/" + p, {}).get("config", {})})
        xs = [x for x in xs if math.isfinite(x)]
        lg = 1 if xs and min(xs) > 0 and max(xs) / min(xs) >= 100 else 0
        sw_log.append(lg)
        if not xs:
            sw_lo.append(0.0), sw_hi.append(1.0), sw_tics.append("set xtics autofreq")
        elif lg:
            sw_lo.append(min(xs) / 2.5), sw_hi.append(max(xs) * 2.5)
            sw_tics.append("set xtics (%s)" % ", ".join('"%s" %r' % (value_tex(x), x) for x in xs))
        else:
            span = max(xs) - min(0.0, min(xs))
            sw_lo.append(min(0.0, min(xs))), sw_hi.append(max(xs) + 0.12 * (span or 1.0))
            sw_tics.append("set xtics (%s)" % ", ".join('"%s" %r' % (value_tex(x), x) for x in xs))
    arr("SW_NAME", [sweep_label(w) for w in snames])
    arr("SW_AXIS", [SWEEP_AXIS.get(sweeps[w]["key"], "\\texttt{%s}" % tex_escape(sweeps[w]["key"])) for w in snames])
    arr("SW_LOG", sw_log)
    arr("SW_XLO", sw_lo)
    arr("SW_XHI", sw_hi)
    arr("SW_XTICS", sw_tics)
    arr("SW_BMEAN", [fin(stat(m + "/base", "test_mse")[0]) if stat(m + "/base", "test_mse")[2] else fin(None) for m in models])
    arr("SW_BSD", [fin(stat(m + "/base", "test_mse")[1]) if stat(m + "/base", "test_mse")[2] >= 2 else 0.0 for m in models])
    gp.append("N_SWEEPS = %d" % len(snames))
    gp.append("N_SWBLOCKS = %d" % len(sweep_blocks))
    pl.write_atomic(os.path.join(a.out, "figdata.gp"), "\n".join(gp) + "\n")

    # ------------------------------------------------------------------ the qualitative strips
    # one column figure per model: strip-<model>.png (summarize.py) with its row labels to the left as
    # a LaTeX picture (strip-<model>.tex), and strips.tex with the floats the paper inputs
    strip_list = strip.get("strips")
    if strip_list is None:   # an older summary: one strip.png of several models
        strip_list = [{"model": "", "file": "strip.png", "rows": strip.get("rows", [])}] if strip.get("rows") else []
    floats, refs = [], []
    for st in strip_list:
        src = os.path.join(S, st["file"])
        if not os.path.exists(src):
            continue
        with open(src, "rb") as f:
            pl.write_atomic(os.path.join(a.out, st["file"]), f.read(), "wb")
        labels = []
        for r in st["rows"]:
            labels.append({"inputs": "input frames", "truth": "ground truth", "copy_last": "copy last frame"}.get(r["row"])
                          or (elabel(r["row"]) if r["row"] in exps else tex_escape(r["row"])))
        w_px, h_px = png_size(src)
        lab_w, img_w = 0.3, 0.7          # fractions of \columnwidth
        h = img_w * h_px / w_px
        tag = re.sub(r"[^A-Za-z]", "", st["model"]) or "all"
        lines = ["%% strip-%s.tex — generated by tools/pipeline/tables.py from strip.json: %s with its row labels" % (tag, st["file"]),
                 "\\setlength{\\unitlength}{\\columnwidth}",
                 "\\begin{picture}(1,%.5f)" % h,
                 "\\put(%.3f,0){\\includegraphics[width=%.3f\\columnwidth]{%s}}" % (lab_w, img_w, st["file"])]
        row_px = (h_px - 2) / max(1, len(labels))   # rnnreg strip: rows of frame + 2 px separator, 2 px top
        for i, lab in enumerate(labels):
            y = img_w * (h_px - (2 + row_px * i + (row_px - 2) / 2)) / w_px
            lines.append("\\put(%.3f,%.5f){\\makebox(0,0)[r]{%s}}" % (lab_w - 0.015, y, lab))
        lines.append("\\end{picture}")
        pl.write_atomic(os.path.join(a.out, "strip-%s.tex" % tag), "\n".join(lines) + "\n")
        who = mlabel(st["model"]) if st["model"] else "Every model"
        floats += ["\\begin{figure}[tbp]", "\\centering", "{\\footnotesize\\input{strip-%s.tex}}" % tag,
                   "\\caption{%s on the first test sequence: its input frames, the true future frames, and the "
                   "predictions of copying the last input frame, of the base model and of every regularizer%s "
                   "(first-seed runs).}" % (who, " and run-once experiment" if any(
                       exps.get(r["row"], {}).get("stage") == "once" for r in st["rows"]) else ""),
                   "\\label{fig:strip-%s}" % tag, "\\end{figure}", ""]
        refs.append("\\ref{fig:strip-%s}" % tag)
    pl.write_atomic(os.path.join(a.out, "strips.tex"),
                    "% strips.tex — generated by tools/pipeline/tables.py: the figures of the qualitative strips\n" +
                    "\n".join(floats) + "\n")
    if refs:
        o.val("sent.strips", "Figure%s~%s show%s the first test sequence and every method's prediction of it." % (
            "s" if len(refs) > 1 else "", " and~".join(refs), "" if len(refs) > 1 else "s"), "strip.json")
    else:
        o.val("sent.strips", "The qualitative strips need the baselines, which have not been computed yet.", "strip.json")

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


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tables.py — the summary of a scale (results/<scale>/summary/) → everything the paper prints, one
function per output file (OUTPUTS below; pipeline.mk has one rule per output):

  values.tex      \\rrdef{key}{value}: every number and result-dependent sentence of the text, each with
                  a comment naming the summary file and field it comes from (paper.tex reads them with
                  \\rv{key}; an undefined key stops LaTeX); the sentences are sentences.py's
  tab-*.tex       the tables: setup, optimizer study, main results, paired differences, what each
                  experiment sets (methods), the report next to ours (report), the report's protocol
  *.dat, figdata.gp   the figures' data (gnuplot blocks) and labels/styles (gnuplot arrays)
  strips.tex      the floats of the qualitative strips, with strip-<model>.tex (the row labels) and
                  strip-<model>.png (copied from the summary) beside it
The statistics and the formatting of numbers are paperdata.py's.
Usage: tables.py --summary results/quick/summary --out build/paper/quick [OUTPUT ...]
(no OUTPUT: all of them; an OUTPUT is a name of OUTPUTS, e.g. tab-main.tex)."""
import argparse
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402
import sentences  # noqa: E402
from paperdata import (COLS, DECIMALS, LEVEL, LITERATURE, METRIC_TEX, REPLICATIONS, REPORT_CSV, STANDARD_FUTURE,  # noqa: E402
                       REPORT_MATCH, Summary, conf_value, duration, num, p_text, strip_cells, tex_escape, tex_text,
                       value_tex)

# figure styles (tables.py → figdata.gp): style.gp's linetypes for the methods other than the base (its
# black, 7, is the base's), gnuplot point types filled and open in the same order
PALETTE = [1, 2, 3, 4, 5, 6, 8]
FILLED = [7, 5, 9, 11, 13, 15, 7]
OPEN = [6, 4, 8, 10, 12, 14, 6]
BASELINE_STYLE = {"baseline/copy_last": (8, 3, 1), "baseline/zero": (7, 3, 2)}
SWEEP_AXIS = {"dropout": "dropout rate $p$", "l2": "L2 weight $\\lambda$"}
SETUP_KEYS = ["n_train", "n_val", "n_test", "batch", "epochs", "input_frames", "seq_len", "sampling_iters",
              "predict_sequences", "split_seed", "threads"]


def tabular(head, rows):
    """A booktabs tabular: head = (column spec, header row), rows = the body's lines."""
    spec, header = head
    return "\n".join(["\\begin{tabular}{%s}" % spec, "\\toprule", header, "\\midrule"] + rows +
                     ["\\bottomrule", "\\end{tabular}"]) + "\n"


def mean_sd_cells(xs):
    """[mean, sd] of xs as repr strings for a gnuplot data row (sd 0 where undefined: one value)."""
    sd = pl.std(xs)
    return [repr(pl.mean(xs)), repr(sd if math.isfinite(sd) else 0.0)]


def fin(x):
    return float(x) if x is not None and math.isfinite(x) else float("nan")


def blocks_text(blocks, empty):
    """gnuplot data blocks separated by two blank lines (gnuplot `index`); `empty` when there are none."""
    return "\n\n\n".join(blocks or [empty]) + "\n"


# ==================================================================================================
# values.tex


class Values:
    """The \\rrdef entries of values.tex in the order they are added: (key, tex, source)."""

    def __init__(self):
        self.entries = []

    def add(self, key, tex, source):
        self.entries.append((key, tex, source))

    def sentence(self, key, made):
        """A sentence of sentences.py: made = (tex, source)."""
        self.add(key, *made)


def setup_values(s, v):
    """scale.*, env.*, the compute and data sentences, cfg.*: the setup of the scale."""
    setup, src = s.setup, "setup.json"
    v.add("scale.name", tex_escape(setup["scale"]), src + ": scale")
    v.add("scale.seeds", num(len(setup["seeds"]), 0), src + ": seeds (count)")
    v.add("scale.seedlist", ", ".join(num(x, 0) for x in setup["seeds"]), src + ": seeds")
    v.add("scale.optseeds", num(len(setup["opt_seeds"]), 0), src + ": opt_seeds (count)")
    v.add("scale.runs", num(setup["runs_finished"], 0), src + ": runs_finished")
    v.add("scale.runsplanned", num(setup["runs_planned"], 0), src + ": runs_planned")
    v.add("scale.completeness",
          ("\\textbf{Incomplete: %s of the %s planned runs are finished; the missing ones are left out.}"
           % (num(setup["runs_finished"], 0), num(setup["runs_planned"], 0)))
          if setup["runs_finished"] < setup["runs_planned"] else "", src + ": runs_finished, runs_planned")
    env = setup["environment"]
    v.add("env.cpu", tex_escape(env.get("cpu") or "unknown CPU"), src + ": environment.cpu")
    v.add("env.cores", num(env.get("cores") or 0, 0), src + ": environment.cores")
    v.add("env.memory", tex_escape(env.get("memory") or "?"), src + ": environment.memory")
    commit = (env.get("git_commit") or "unknown")[:12]
    v.add("env.commit", "\\texttt{%s}%s" % (tex_escape(commit), " (with uncommitted changes)" if env.get("git_dirty") else ""),
          src + ": environment.git_commit, git_dirty")
    backend = "CUDA" if "cuda" in " ".join(setup.get("runners", []) + [str(s.exps[e]["config"].get("backend", ""))
                                                                         for e in s.exps]).lower() else "CPU"
    v.add("env.backend", backend, "experiments.json: config.backend")
    v.add("env.totaltime", num((setup.get("wall_seconds_total") or 0.0) / 60.0, 1), src + ": wall_seconds_total (minutes)")
    for m in s.models:
        v.add("env.runtime.%s" % m, num(setup["wall_seconds_mean_per_model"].get(m) or 0, 0),
              src + ": wall_seconds_mean_per_model.%s (seconds)" % m)
    el = setup.get("elapsed_seconds")
    if el and el > 0:
        v.add("env.elapsed", duration(el), src + ": elapsed_seconds")
    else:
        v.add("env.elapsed", "--", src + ": elapsed_seconds (not recorded)")
    v.sentence("sent.timing", sentences.timing(s))
    v.sentence("data.sentence", sentences.data(s))
    # run settings from the resolved configs of the base experiments
    with_cfg = [m + "/base" for m in s.models] + sorted(s.exps)   # the base runs, else any run
    ref = next((e for e in with_cfg if s.cfg(e, "n_train")), with_cfg[0])
    for key in SETUP_KEYS:
        x = s.cfg(ref, key)
        v.add("cfg." + key, num(int(x) if x is not None else None, 0), "experiments.json: %s config.%s" % (ref, key))
    have = s.cfg(ref, "n_train") is not None
    it = (int(s.cfg(ref, "n_train")) // int(s.cfg(ref, "batch"))) * int(s.cfg(ref, "epochs")) if have else None
    v.add("cfg.iterations", num(it, 0), "experiments.json: n_train / batch * epochs")
    v.add("cfg.future", num(int(s.cfg(ref, "seq_len")) - int(s.cfg(ref, "input_frames")) if have else None, 0),
          "experiments.json: seq_len - input_frames")


def optimizer_values(s, v):
    """opt.<model>.chosen and .score: the optimizer study's choice; its sentence."""
    for m in s.models:
        ch = s.choice.get(m)
        if ch:
            v.add("opt.%s.chosen" % m, s.elabel(m + "/opt-" + ch["chosen"]), "%s/optimizer.json: chosen" % m)
            v.add("opt.%s.score" % m, num(ch["scores"][ch["chosen"]], DECIMALS["loss"]), "%s/optimizer.json: scores[chosen]" % m)
    v.sentence("sent.optimizer", sentences.optimizer(s))
    v.sentence("scale.optruns", sentences.optseeds(s))
    v.sentence("sent.optplan", sentences.optplan(s))
    v.sentence("sent.sweepplan", sentences.sweepplan(s))
    v.sentence("text.optstat", sentences.optstat(s))
    # switches of paper.tex (\ifrv): a scale with one optimizer has no optimizer study to draw (its table
    # keeps the determinism check), a scale without sweeps no sweep figure
    v.add("flag.optstudy", "1" if s.has_opt_study() else "0",
          "experiments.json: optimizer-study experiments per model")
    v.add("flag.sweeps", "1" if s.sweeps else "0", "experiments.json: sweeps")
    v.add("flag.batchnorm", "1" if any(s.exps[e]["name"] == "batchnorm" for e in s.run_methods) else "0",
          "experiments.json: a batchnorm experiment with finished runs")


def result_values(s, v):
    """res.<eid>.<metric> (and .sd over two or more runs): every method's means of tab-main."""
    for eid in s.methods:
        m = eid.split("/")[0]
        for c in COLS + ["best_val_loss"]:
            if m == "baseline" and c == "best_val_loss":
                continue
            mu, sd, n = s.stat(eid, "test_" + c if c != "best_val_loss" else c)
            dec = DECIMALS.get(c, DECIMALS["loss"])
            key = "res.%s.%s" % (eid, c)
            v.add(key, num(mu, dec) if n else "--", "runs.csv: %s %s (mean over runs)" % (eid, c))
            if n >= 2:
                v.add(key + ".sd", num(sd, dec), "runs.csv: %s %s (sd over runs)" % (eid, c))


def gap_values(s, v):
    """gap.<model>: the base models' generalization gap; its sentence."""
    for m in s.models:
        g = s.stat(m + "/base", "gap_last")
        if g[2]:
            v.add("gap.%s" % m, num(g[0], DECIMALS["loss"], sign=True), "runs.csv: %s/base gap_last" % m)
    v.sentence("sent.gap", sentences.gap(s))


def regime_values(s, v):
    """flag.regime (a control on fresh sequences was run: the paper shows its figure), text.onceexps (the
    run-once experiments that the line figures leave out, by name) and sent.regime."""
    v.add("flag.regime", "1" if any(s.fresh_control(m) for m in s.models) else "0",
          "experiments.json: an experiment with fresh_train = 1 and finished runs")
    ws = sorted({r["w"] for r in (s.regime(m) for m in s.models) if r and r["seeds"]})
    v.add("regime.window", sentences.and_list([sentences.words(w) for w in ws]) if ws else "--",
          "paperdata.gap_window: GAP_WINDOW epochs, at most half the free-running span")
    once = []
    for e in s.run_methods:
        if s.exps[e]["stage"] == "once":
            lab = s.elabel(e)
            have = [x for x in s.run_methods if s.exps[x]["stage"] == "once" and s.exps[x]["name"] == s.exps[e]["name"]]
            txt = lab if len(have) == len(s.models) > 1 else "%s %s" % (s.mlabel(e.split("/")[0]), lab)
            if txt not in once:
                once.append(txt)
    v.add("text.onceexps", sentences.and_list(once) if once else "none", "experiments.json: stage once")
    v.sentence("sent.regime", sentences.regime(s))


def leak_values(s, v):
    """leak.* and proto.*: the centred-head experiment against its causal-head control (trained alike) and
    against the base, autoregressive and under the report's protocol; their sentences."""
    refs = {"control": s.leak_control, "base": s.leak_base()}
    if s.leak:
        v.add("leak.epochs", num(int(s.cfg(s.leak, "epochs")), 0), "experiments.json: %s config.epochs" % s.leak)
    else:
        v.add("leak.epochs", "--", "no centred-head experiment")
    for key, eid in [("leak", s.leak)] + list(refs.items()):
        # per experiment: leak[.control|.base].train and .testmse (autoregressive), proto.<key>.<metric>
        who = "leak" if key == "leak" else "leak." + key
        if not eid or not s.runs_of(eid):
            why = "no finished run of %s" % (eid or ("the causal-head control" if key == "control" else "the centred head"))
            v.add(who + ".train", "--", why)
            v.add(who + ".testmse", "--", why)
        else:
            v.add(who + ".train", num(s.stat(eid, "last_train_loss")[0], DECIMALS["loss"]), "runs.csv: %s last_train_loss" % eid)
            v.add(who + ".testmse", num(s.stat(eid, "test_mse")[0], DECIMALS["mse"]), "runs.csv: %s test_mse" % eid)
        for c in COLS:
            if eid and eid in s.proto:
                v.add("proto.%s.%s" % (key, c), num(s.proto[eid]["test_" + c], DECIMALS[c]),
                      "protocol.csv: %s test_%s (teacher-forced)" % (eid, c))
            else:
                v.add("proto.%s.%s" % (key, c), "--", "protocol.csv: not computed for %s" % (
                    eid or ("the causal-head control" if key == "control" else "the " + key)))
    v.sentence("sent.leak", sentences.leak(s))
    v.sentence("sent.leakbase", sentences.leakbase(s))
    for key, eid in refs.items():
        ratios = s.leak_ratios(eid) if eid else None
        if ratios:
            v.add("leak.protoratio.%s" % key, num(ratios[0], 1), "protocol.csv: test_mse of %s over %s" % (eid, s.leak))
        else:
            v.add("leak.protoratio.%s" % key, "--", "protocol.csv: not computed for the centred head and %s" % (
                eid or "its " + ("causal-head control" if key == "control" else "base model")))
    v.sentence("sent.leakverdict", sentences.leakverdict(s))


def report_values(s, v):
    """report.*: the report's base numbers the text quotes."""
    def first(model, field):
        return float(next(r[field] for r in s.report if r["model"] == model))
    v.add("report.convlstm.mse", num(first("ConvLSTM", "mse"), 3), REPORT_CSV + ": ConvLSTM Base mse")
    v.add("report.convlstm.psnr", num(first("ConvLSTM", "psnr"), 2), REPORT_CSV + ": ConvLSTM Base psnr")
    v.add("report.predrnn.mse", num(first("PredRNN++", "mse"), 2), REPORT_CSV + ": PredRNN++ Base mse")


def replication_rows(s):
    """[(name, Summary, {claim id: value} there, {claim id: value} here)]: this summary ("this paper")
    first, then each stored replication of its scale (paperdata.Summary.replications), with the claims of
    claims.py on both sides. A replication whose .scope is some of the models only (its other models' runs
    are of an earlier recipe) is compared on the claims about those models, made on both sides from the
    summaries seen through them (Summary.only: Holm's families over those models' tests alone)."""
    if not hasattr(s, "_replication_rows"):    # values.tex and tab-replication.tex both need them
        import claims

        def made(x, models=None):
            return {k: val for k, val, _ in (claims.claims(x) if models is None else claims.claims_about(x, models))}
        here = made(s)
        rows = [("this paper", s, here, here)]
        for name, r in s.replications():
            scoped = set(r.scope) != set(s.models)
            rows.append((name, r, made(r, r.scope if scoped else None), made(s, r.scope) if scoped else here))
        s._replication_rows = rows
    return s._replication_rows


def replication_values(s, v):
    """flag.replication (stored replications of this scale exist: the paper shows their table) and
    sent.replication."""
    rows = replication_rows(s)
    v.add("flag.replication", "1" if len(rows) > 1 else "0", REPLICATIONS % s.setup.get("scale", "") +
          "/*/summary")
    v.sentence("sent.replication", sentences.replication(s, rows))
    v.sentence("sent.absreplication", sentences.absreplication(s, rows))


def values_tex(s):
    """values.tex: every value and sentence of the text, in the order of the paper's sections."""
    v = Values()
    setup_values(s, v)
    optimizer_values(s, v)
    result_values(s, v)
    v.add("text.level", num(100 * LEVEL, 0), "tables.py: LEVEL")
    v.sentence("sent.regularizers", sentences.regularizers(s))
    v.sentence("sent.regshort", sentences.regshort(s))
    v.sentence("sent.best", sentences.best(s))
    v.sentence("sent.sweep", sentences.sweep(s))
    v.sentence("sent.sweepseeds", sentences.sweepseeds(s))
    v.sentence("sent.controlseeds", sentences.controlseeds(s))
    v.sentence("sent.absregime", sentences.absregime(s))
    v.sentence("sent.baselines", sentences.baselines(s))
    v.sentence("sent.absbaselines", sentences.absbaselines(s))
    v.sentence("sent.abshorizon", sentences.abshorizon(s))
    v.sentence("sent.horizon", sentences.horizon(s))
    v.sentence("sent.scope", sentences.scope(s))
    v.sentence("sent.literature", sentences.literature(s))
    v.sentence("sent.models", sentences.models(s))
    v.sentence("sent.frames", sentences.frames(s))
    v.sentence("sent.final", sentences.final(s))
    v.sentence("sent.curves", sentences.curves(s))
    v.sentence("sent.ssim", sentences.ssim(s))
    v.sentence("sent.ssimerror", sentences.ssim_error(s))
    v.sentence("sent.effects", sentences.effects(s))
    gap_values(s, v)
    regime_values(s, v)
    leak_values(s, v)
    v.sentence("sent.reportcmp", sentences.reportcmp(s))
    v.sentence("sent.reportzero", sentences.reportzero(s))
    v.sentence("sent.paperscale", sentences.paperscale(s))
    v.sentence("sent.studyscale", sentences.studyscale(s))
    v.sentence("sent.clipping", sentences.clipping(s))
    report_values(s, v)
    replication_values(s, v)
    v.sentence("sent.strips", sentences.strips(s))
    lines = ["% values.tex — generated by tools/pipeline/tables.py from " + s.path + "; do not edit.",
             "% \\rrdef{key}{value} % source; the paper prints a value with \\rv{key}."]
    seen = set()
    for key, tex, source in v.entries:
        if key in seen:
            sys.exit("tables.py: value %s defined twice" % key)
        seen.add(key)
        lines.append("\\rrdef{%s}{%s}%% %s" % (key, tex, source))
    return {"values.tex": "\n".join(lines) + "\n"}


# ==================================================================================================
# Tables


def tab_setup(s):
    """tab-setup.tex: per model its sizes, head, parameters, chosen optimizer, learning rate, run time."""
    rows = []

    def row(name, f):
        rows.append(" & ".join([name] + [f(m) for m in s.models]) + " \\\\")

    def lst(m, key):
        x = s.cfg(m + "/base", key)
        return ", ".join(num(int(k), 0) for k in x.split(",")) if x else "--"
    row("hidden channels", lambda m: lst(m, "layers"))
    row("kernel sizes", lambda m: lst(m, "kernels"))
    row("patch size", lambda m: lst(m, "patch"))
    row("head", lambda m: tex_escape(s.cfg(m + "/base", "head") or "--"))
    row("parameters", lambda m: num(s.exps[m + "/base"].get("parameters"), 0)
        if s.exps.get(m + "/base", {}).get("parameters") else "--")
    row("optimizer (chosen)" if s.has_opt_study() else "optimizer",
        lambda m: s.elabel(m + "/opt-" + s.choice[m]["chosen"]) if m in s.choice else "--")
    row("learning rate", lambda m: tex_escape(s.cfg(m + "/base", "lr") or "--"))
    clip = {m: float(s.cfg(m + "/base", "clip_grad_norm") or 0) for m in s.models}
    if max(clip.values(), default=0) > 0:   # the row only where some model clips its gradient
        row("gradient norm clipped at", lambda m: tex_escape(s.cfg(m + "/base", "clip_grad_norm")) if clip[m] > 0 else "--")
    row("mean run time (s)", lambda m: num(s.setup["wall_seconds_mean_per_model"].get(m) or 0, 0))
    return {"tab-setup.tex": tabular(("l%s" % ("l" * len(s.models)),
                                      " & ".join([""] + [s.mlabel(m) for m in s.models]) + " \\\\"), rows)}


def tab_optim(s):
    """tab-optim.tex: the optimizer study, per model and optimizer its learning rate, mean best
    validation loss and test MSE (the chosen one starred)."""
    rows = []
    for m in s.models:
        for i, eid in enumerate([e for e in s.exps if s.exps[e]["stage"] == "opt" and s.exps[e]["model"] == m]):
            name = s.exps[eid]["name"][len("opt-"):]
            chosen = s.choice.get(m, {}).get("chosen") == name
            all_diverged = s.runs_of(eid, "diverged") and not s.runs_of(eid)
            cells = [s.mlabel(m) if i == 0 else "", s.elabel(eid) + (" $\\star$" if chosen else ""),
                     tex_escape(s.exps[eid]["config"].get("lr", "--")),
                     "diverged" if all_diverged else num(s.stat(eid, "best_val_loss")[0], DECIMALS["loss"]),
                     "--" if all_diverged else num(s.stat(eid, "test_mse")[0], DECIMALS["mse"])]
            rows.append(" & ".join(cells) + " \\\\")
        if m != s.models[-1]:
            rows.append("\\midrule")
    return {"tab-optim.tex": tabular(("@{}llrrr@{}", "Model & Optimizer & lr & val.\\ loss & MSE \\\\"), rows)}


def tab_main(s):
    """tab-main.tex: every method's runs and its mean ± sd over seeds of the test MSE, PSNR, SSIM and
    the best validation loss; the baselines last."""
    rows, prev = [], None
    for eid in s.methods:
        m = eid.split("/")[0]
        if prev is not None and m != prev:
            rows.append("\\midrule")
        n_div = len(s.runs_of(eid, "diverged"))
        cells = [("" if m == prev else (s.mlabel(m) if m != "baseline" else "baselines")), s.short_label(eid),
                 num(len(s.runs_of(eid)), 0) + (" (+%s diverged)" % num(n_div, 0) if n_div else "")
                 if m != "baseline" else "--"]
        zero = s.stat("baseline/zero", "test_mse")[0]
        for c in COLS + ["best_val_loss"]:
            mu, sd, n = s.stat(eid, "test_" + c if c != "best_val_loss" else c)
            dec = DECIMALS.get(c, DECIMALS["loss"])
            cells.append("--" if n == 0 else "%s $\\pm$ %s" % (num(mu, dec), num(sd, dec)) if n >= 2 else num(mu, dec))
            if c == "mse":
                cells.append(num(mu / zero, 2) if n and math.isfinite(zero) and zero > 0 else "--")
        rows.append(" & ".join(cells) + " \\\\")
        prev = m
    return {"tab-main.tex": tabular(("llr%s" % ("r" * (len(COLS) + 2)), "Model & Method & runs & " + METRIC_TEX["mse"] +
                                     " & $\\times$zero & " + " & ".join(METRIC_TEX[c] for c in COLS[1:]) +
                                     " & best val.\\ loss \\\\"), rows)}


def tab_paired(s):
    """tab-paired.tex: every regularizer's paired difference to its base (seed-matched) with its
    interval, per metric."""
    ncol = 4 + len(COLS)

    def diff_cells(stats, c):
        mu, lo, hi, n = stats[:4]
        dec = DECIMALS[c]
        if n == 0:
            return "--"
        return num(mu, dec, sign=True) + (" [%s, %s]" % (num(lo, dec, sign=True), num(hi, dec, sign=True)) if n >= 2 else "")

    # the base models against all-zero frames (a deterministic baseline: each run minus its value)
    vz = {c: s.vs_zero("test_" + c) for c in COLS}
    rows = []
    if vz["mse"]:
        rows.append("\\multicolumn{%d}{@{}l}{\\emph{base model $-$ all-zero frames}} \\\\" % ncol)
        for m in s.models:
            if m not in vz["mse"]:
                continue
            cells = [s.mlabel(m), "base", num(vz["mse"][m][3], 0)] + [diff_cells(vz[c][m], c) for c in COLS]
            cells.append(p_text(vz["mse"][m][4]))
            rows.append(" & ".join(cells) + " \\\\")
        rows.append("\\midrule")
        rows.append("\\multicolumn{%d}{@{}l}{\\emph{regularized model $-$ base model}} \\\\" % ncol)
    prev = None
    for eid in s.regularizers:
        m = eid.split("/")[0]
        if prev is not None and m != prev:
            rows.append("\\addlinespace[3pt]")
        cells = [s.mlabel(m) if m != prev else "", s.elabel(eid), num(s.paired(eid, "test_mse")[3], 0)]
        cells += [diff_cells(s.paired(eid, "test_" + c), c) for c in COLS]
        cells.append(p_text(s.p_holm(eid, "test_mse")))
        rows.append(" & ".join(cells) + " \\\\")
        prev = m
    if not s.regularizers:
        rows.append("\\multicolumn{%d}{c}{no experiment besides the base models at this scale} \\\\" % ncol)
    return {"tab-paired.tex": tabular(("@{}llr%sr@{}" % ("r" * len(COLS)), "Model & Method & pairs & " +
                                       " & ".join("$\\Delta$%s" % METRIC_TEX[c] for c in COLS) +
                                       " & $p_{\\mathrm{Holm}}$ \\\\"), rows)}


def tab_methods(s):
    """tab-methods.tex: what each experiment sets — one row per method name ("both" when both models set
    the same, else a row per model), then one per sweep; the keys and values are experiments.json
    delta_from_base (the resolved config minus the base's), values as a .conf writes them."""
    def setting(eid):
        d = s.exps.get(eid, {}).get("delta_from_base", {})
        if not d:
            return "the reference (Table~\\ref{tab:setup})" if s.exps.get(eid, {}).get("name") == "base" else "--"
        return ", ".join("\\texttt{%s}\\,=\\,%s" % (tex_escape(k), conf_value(x)) for k, x in sorted(d.items()))
    every = "both" if len(s.models) == 2 else "all"
    rows = []
    for n in s.method_names():
        have = [m + "/" + n for m in s.models if m + "/" + n in s.exps]
        sets = [setting(e) for e in have]
        if len(have) == len(s.models) and len(set(sets)) == 1:
            rows.append(" & ".join([s.elabel(have[0]), every, sets[0]]) + " \\\\")
        else:
            for k, e in enumerate(have):
                rows.append(" & ".join([s.elabel(e) if k == 0 else "", s.mlabel(e.split("/")[0]), sets[k]]) + " \\\\")
    if s.sweeps:
        rows.append("\\midrule")
    for w, sw in s.sweeps.items():
        vals = []
        for m in s.models:
            xs = [s.exps[m + "/" + p]["config"].get(sw["key"]) for p in sw["points"] if m + "/" + p in s.exps]
            vals.append(", ".join(conf_value(x) for x in xs if x is not None))
        vals = [("\\texttt{%s} $\\in$ \\{%s\\}" % (tex_escape(sw["key"]), x)) if x else "--" for x in vals]
        name = "%s sweep" % s.sweep_label(w)
        if len(set(vals)) == 1:
            rows.append(" & ".join([name, every, vals[0]]) + " \\\\")
        else:
            for k, m in enumerate(s.models):
                rows.append(" & ".join([name if k == 0 else "", s.mlabel(m), vals[k]]) + " \\\\")
    return {"tab-methods.tex": tabular(("@{}llp{0.62\\textwidth}@{}", "Method & Model & Setting \\\\"), rows)}


def tab_replication(s):
    """tab-replication.tex: this summary and each stored replication of its scale (on another machine, or
    with other seeds): the machine (setup.json numerics: CPU, BLAS core, bf16 instructions, precision), the
    seeds, every base model's mean test MSE, and how many of the paper's claims (claims.py) are the same as
    this summary's."""
    rows = replication_rows(s)
    if len(rows) < 2:   # no stored replication: the paper leaves the table out (flag.replication 0)
        return {"tab-replication.tex": "%% no stored replication of the %s scale (%s)\n" % (
            s.setup.get("scale", "?"), REPLICATIONS % s.setup.get("scale", "?"))}
    body = []
    for name, r, cl, here in rows:
        nu = r.setup.get("numerics") or {}
        cpu = " ".join(re.sub(r"\((R|TM)\)|\b(Processor|CPU)\b", " ", nu.get("cpu") or "?").split())
        cells = [tex_text(name), "%s (%s)" % (tex_escape(cpu), tex_escape(nu.get("blas_core") or "?")),
                 tex_escape(nu.get("cpu_flags") or "none"), tex_escape(nu.get("precision") or "?"),
                 r.seeds_words(controls="")]
        scope = getattr(r, "scope", s.models)
        for m in s.models:
            mu, sd, n = r.stat(m + "/base", "test_mse") if m + "/base" in r.exps and m in scope else (None, None, 0)
            cells.append(num(mu, DECIMALS["mse"]) if n else "--")
        same = len(here) - len(sentences.claims_differing(here, cl))
        cells.append("%s of %s%s" % (num(same, 0), num(len(here), 0), "" if set(scope) == set(s.models) else
                                     " (%s)" % ", ".join(s.mlabel(m) for m in s.models if m in scope)))
        body.append(" & ".join(cells) + " \\\\")
    head = ("lllll%sr" % ("r" * len(s.models)),
            " & ".join(["summary", "CPU (BLAS core)", "bf16 instructions", "precision", "seeds (controls)"] +
                       ["%s base" % s.mlabel(m) for m in s.models] + ["claims as here"]) + " \\\\")
    return {"tab-replication.tex": tabular(head, body)}


def tab_report(s):
    """tab-report.tex: each row of the report (experiments/report/original.csv) beside our experiment of
    the same method (REPORT_MATCH): its numbers and its change of MSE against its own base (relative:
    the report's two models use different MSE conventions), our mean and paired difference with its
    interval; the last column compares the directions."""
    rows, prev = [], None
    for r in s.report:
        name = REPORT_MATCH.get(r["variant"])
        eid = s.report_eid(r)
        if r["model"] != prev:
            if prev is not None:
                rows.append("\\midrule")
            rows.append("\\multicolumn{6}{@{}l}{\\emph{%s}} \\\\" % tex_escape(r["model"]))
        elif prev is not None:
            rows.append("\\addlinespace[2pt]")
        prev = r["model"]
        # the report's row: its numbers (at their printed precision) and its change of MSE
        cells = ["%s (report)" % tex_escape(r["variant"])] + \
                [num(float(r[k]), len(r[k].split(".")[1])) for k in ("mse", "psnr", "ssim")]
        rel, rdir = s.report_direction(r)
        cells.append("" if rel is None else num(rel, 1, sign=True) + "\\,\\%")
        rows.append(" & ".join(cells + [""]) + " \\\\")
        # our row: the same method, mean over seeds, paired difference to our base with its interval
        have = eid is not None and eid in s.exps and s.stat(eid, "test_mse")[2] > 0
        cells = ["\\quad ours: %s" % (s.elabel(eid) if eid in s.exps else "--")]
        for c in COLS:
            mu, sd, n = s.stat(eid, "test_" + c) if have else (None, None, 0)
            cells.append(num(mu, DECIMALS[c]) if n else "--")
        verdict = ""
        if have and name != "base":
            d, lo, hi, n = s.paired(eid, "test_mse")
            bm = s.stat(eid.split("/")[0] + "/base", "test_mse")[0]
            if n and bm:
                # in percent of our base model's mean, as the report's change is in percent of its own
                cells.append(num(100.0 * d / bm, 1, sign=True) + "\\,\\%" + (
                    " [%s, %s]" % (num(100.0 * lo / bm, 1, sign=True), num(100.0 * hi / bm, 1, sign=True)) if n >= 2 else ""))
                res = s.resolved(eid, "test_mse")
                odir = 1 if d > 0 else -1 if d < 0 else 0
                if not res:
                    verdict = "not resolved" if res == 0 else "no interval"
                elif rdir == 0:
                    verdict = "resolved; report: no change"
                else:
                    verdict = "agrees (resolved)" if rdir == odir else "contradicts (resolved)"
            else:
                cells.append("--")
        else:
            cells.append("")
        rows.append(" & ".join(cells + [verdict]) + " \\\\")
    # the baselines on our test set, and the published numbers of the same models (their protocols)
    bls = [e for e in s.methods if e.startswith("baseline/")]
    if bls:
        rows += ["\\midrule", "\\multicolumn{6}{@{}l}{\\emph{Baselines on our test set}} \\\\"]
        for e in bls:
            rows.append(" & ".join([s.short_label(e)] + [num(s.stat(e, "test_" + c)[0], DECIMALS[c]) for c in COLS] + ["", ""]) + " \\\\")
    rows += ["\\midrule", "\\multicolumn{6}{@{}l}{\\emph{Published, MSE per frame as ours (%sanother test set, far longer "
             "training)}} \\\\" % ("%s predicted frames, " % sentences.words(STANDARD_FUTURE) if sentences.short_horizon(s) else "")]
    for r in LITERATURE:
        rows.append(" & ".join(["%s~\\cite{%s}" % (s.mlabel(r["model"]), r["cite"]), num(r["mse"], 1), "--",
                                num(r["ssim"], DECIMALS["ssim"]) if r["ssim"] is not None else "--", "",
                                tex_escape(r["protocol"])]) + " \\\\")
    return {"tab-report.tex": tabular(("@{}lrrrll@{}", "Variant & MSE & PSNR (dB) & SSIM & $\\Delta$MSE (\\% of base) & vs.\\ report \\\\"), rows)}


def tab_protocol(s):
    """tab-protocol.tex: the centred-head ConvLSTM, its causal-head control (trained alike) and the base
    model under both protocols (autoregressive: mean over seeds; teacher-forced, the report's: first
    seed); an experiment without finished runs is left out."""
    ours = [e for e in (s.leak, s.leak_control, s.leak_base()) if e]
    rows = ["\\multicolumn{4}{@{}l}{\\emph{autoregressive (this work)}} \\\\"]
    for eid in (e for e in ours if s.runs_of(e)):
        n = len(s.runs_of(eid))
        rows.append(" & ".join(["\\quad %s (%s)" % (s.elabel(eid), "one run" if n == 1 else "mean of %s runs" % sentences.words(n))] +
                               [num(s.stat(eid, "test_" + c)[0], DECIMALS[c]) for c in COLS]) + " \\\\")
    if any(e in s.proto for e in ours):
        rows.append("\\multicolumn{4}{@{}l}{\\emph{teacher-forced (the report's protocol; first seed)}} \\\\")
    for eid in (e for e in ours if e in s.proto):
        rows.append(" & ".join(["\\quad " + s.elabel(eid)] + [num(s.proto[eid]["test_" + c], DECIMALS[c]) for c in COLS]) + " \\\\")
    title = "%s variant" % s.mlabel(s.leak.split("/")[0]) if s.leak else "Variant"
    return {"tab-protocol.tex": tabular(("@{}lrrr@{}", "%s & MSE & PSNR (dB) & SSIM \\\\" % title), rows)}


# ==================================================================================================
# Figure data: gnuplot data blocks (*.dat) and the labels, styles and ranges as arrays (figdata.gp)


def frames_dat(s):
    """frames.dat: per-frame metrics, one block per method (index = method index - 1): frame, then mean
    and sd of MSE, PSNR, SSIM over the method's finished runs."""
    blocks = []
    for eid in s.methods:
        rows = s.finished_rows(s.frames, eid)
        lines = ["# %s: frame mse sd psnr sd ssim sd" % eid]
        for t in sorted({r["frame"] for r in rows}):
            cells = [str(t)]
            for c in ["mse", "psnr", "ssim"]:
                cells += mean_sd_cells([r[c] for r in rows if r["frame"] == t and r[c] is not None])
            lines.append(" ".join(cells))
        if len(lines) == 1:
            lines.append("1 NaN 0 NaN 0 NaN 0")
        blocks.append("\n".join(lines))
    return {"frames.dat": blocks_text(blocks, "# none\n1 NaN 0 NaN 0 NaN 0")}


def positions(s):
    """A run method's position down its model's panel of the points figures: 1, 2, ..."""
    pos = {}
    for m in s.models:
        for k, e in enumerate([e for e in s.run_methods if e.startswith(m + "/")]):
            pos[e] = k + 1
    return pos


def points_dat(s, field):
    """Per-method points of a runs.csv field: block 0 = every finished run (position within its model,
    model index, method index, seed, value), block 1 = per method (position, model index, method
    index, mean, sd, min, max)."""
    pos = positions(s)
    pts, agg = ["# pos model method seed %s" % field], ["# pos model method mean sd min max"]
    for i, eid in enumerate(s.run_methods):
        mi = s.models.index(eid.split("/")[0]) + 1
        xs = [r for r in s.runs_of(eid) if r.get(field) is not None]
        for r in xs:
            pts.append("%d %d %d %d %r" % (pos[eid], mi, i + 1, r["seed"], r[field]))
        vals = [r[field] for r in xs]
        sd = pl.std(vals)
        if vals:
            agg.append("%d %d %d %r %r %r %r" % (pos[eid], mi, i + 1, pl.mean(vals), sd if math.isfinite(sd) else 0.0,
                                                 min(vals), max(vals)))
    if len(pts) == 1:
        pts.append("1 0 0 0 NaN")
    if len(agg) == 1:
        agg.append("1 0 0 NaN 0 NaN NaN")
    return "\n".join(pts) + "\n\n\n" + "\n".join(agg) + "\n"


def final_dat(s):
    """final.dat: the final test MSE of every run and method (points_dat)."""
    return {"final.dat": points_dat(s, "test_mse")}


def gap_dat(s):
    """gap.dat: the last epoch's generalization gap of every run and method (points_dat)."""
    return {"gap.dat": points_dat(s, "gap_last")}


def curves_dat(s):
    """curves.dat: learning curves, one block per run method (index = method index - 1): epoch, then
    mean and sd over seeds of the training loss, validation loss, and their difference."""
    blocks = []
    for eid in s.run_methods:
        rows = s.finished_rows(s.curves, eid)
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
    return {"curves.dat": blocks_text(blocks, "# none\n1 NaN 0 NaN 0 NaN 0")}


def regime_dat(s):
    """regime.dat: the control regime, one block per model (index = model index - 1): epoch, then the gap
    (validation minus training loss) of the base runs on the fixed set (mean, min, max over seeds), the gap
    of the fresh-sequence runs (mean over seeds), the validation loss of both (means), and the fresh runs'
    gap min and max over seeds. A model without a fresh-sequence control gets one NaN row."""
    blocks = []
    for m in s.models:
        c, b = s.fresh_control(m), m + "/base"
        lines = ["# %s: epoch base_gap base_gap_min base_gap_max fresh_gap base_val fresh_val fresh_gap_min fresh_gap_max" % m]
        if c:
            bg, fg = s.gap_series(b), s.gap_series(c)
            bv, fv = {}, {}
            for e, v in ((b, bv), (c, fv)):
                for r in s.finished_rows(s.curves, e):
                    v.setdefault(r["epoch"], []).append(r["val_loss"])
            for ep in sorted({e for g in fg.values() for e in g}):
                bx = [g[ep] for g in bg.values() if ep in g]
                fx = [g[ep] for g in fg.values() if ep in g]
                cells = [fin(x) for x in (pl.mean(bx) if bx else None, min(bx) if bx else None,
                                          max(bx) if bx else None, pl.mean(fx) if fx else None,
                                          pl.mean(bv[ep]) if ep in bv else None, pl.mean(fv[ep]) if ep in fv else None,
                                          min(fx) if fx else None, max(fx) if fx else None)]
                lines.append(" ".join([str(ep)] + [repr(x) if math.isfinite(x) else "NaN" for x in cells]))
        if len(lines) == 1:
            lines.append("1 NaN NaN NaN NaN NaN NaN NaN NaN")
        blocks.append("\n".join(lines))
    return {"regime.dat": blocks_text(blocks, "# none\n1 NaN NaN NaN NaN NaN NaN NaN NaN")}


def optim_dat(s):
    """optim.dat: the optimizer study's validation loss per epoch (mean over seeds), one block per
    model × optimizer (figdata.gp's O_* arrays in the same order)."""
    blocks = []
    for m in s.models:
        for eid in s.opt_exps(m):
            rows = [r for r in s.curves if r["model"] == m and r["experiment"] == s.exps[eid]["name"]]
            lines = ["# %s: epoch val_loss" % eid]
            for ep in sorted({r["epoch"] for r in rows}):
                lines.append("%d %r" % (ep, pl.mean([r["val_loss"] for r in rows if r["epoch"] == ep])))
            if len(lines) == 1:
                lines.append("1 NaN")
            blocks.append("\n".join(lines))
    return {"optim.dat": blocks_text(blocks, "# none\n1 NaN")}


def sweep_dat(s):
    """sweep.dat: one block per model × sweep (model-major): value, mean, sd (NaN for a single run: no
    bar), runs, and the mean over the seeds every point has."""
    blocks = []
    for (m, w, pts) in s.sweep_blocks():
        cm, common = s.common_seed_mean(pts)
        lines = ["# %s %s (%s): value, mean, sd (NaN: one run), runs, mean over the seeds every point has (%s)" % (
            m, w, s.sweeps[w]["key"], " ".join(str(x) for x in common))]
        lines += ["%r %r %s %d %s" % (x, mu, repr(sd) if n >= 2 and math.isfinite(sd) else "NaN", n,
                                      repr(cm[i]) if common else "NaN") for i, (x, mu, sd, n, _) in enumerate(pts)]
        if not pts:
            lines.append("NaN NaN NaN 0 NaN")
        blocks.append("\n".join(lines))
    return {"sweep.dat": blocks_text(blocks, "# none\nNaN NaN NaN 0 NaN")}


def robust_range(vals, extra):
    """The x range of a points panel: every value within five interquartile ranges of the quartiles (and
    the base model's mean), padded; a run far outside (a diverging seed, the centred-head run) would
    squeeze the others into a corner, and is written at the edge instead."""
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


def spans_decade(vals):
    """1 where positive values span a decade or more (a log axis within one decade has no tic labels)."""
    vals = [v for v in vals if v is not None and v > 0 and math.isfinite(v)]
    return 1 if vals and max(vals) / min(vals) >= 10 else 0


class GnuplotArrays:
    """The lines of figdata.gp: gnuplot arrays and scalars."""

    def __init__(self):
        self.lines = ["# figdata.gp — generated by tools/pipeline/tables.py; labels, styles and counts of the figure data"]

    def arr(self, name, items):
        self.lines.append("array %s[%d]" % (name, max(1, len(items))))
        for i, v in enumerate(items):
            if isinstance(v, float):
                v = repr(v) if math.isfinite(v) else "NaN"
            elif not isinstance(v, int):
                v = "'%s'" % v.replace("'", "''")
            self.lines.append("%s[%d] = %s" % (name, i + 1, v))

    def scalar(self, name, value):
        self.lines.append("%s = %s" % (name, value))


def method_styles(s):
    """(colour, dash, point type) per method name: the base black and solid; the others through the
    Okabe-Ito colours of style.gp (not black), solid with filled points, then dashed with open points,
    then dash-dotted. A method looks the same in every panel of both models."""
    names = s.method_names()
    others = [n for n in names if n != "base"]
    style = {}
    for n in names:
        if n == "base":
            style[n] = (7, 1, 7)
        else:
            j = others.index(n)
            cyc = (j // len(PALETTE)) % 3
            style[n] = (PALETTE[j % len(PALETTE)], [1, 2, 4][cyc], (FILLED if cyc == 0 else OPEN)[j % len(PALETTE)])
    return style


def figdata_methods(s, g):
    """M_* (per method), K_* (the shared key), BL_* (the baselines), MODEL_LABEL."""
    methods, names, style = s.methods, s.method_names(), method_styles(s)

    def sty(e):
        return BASELINE_STYLE[e] if e in BASELINE_STYLE else style[s.exps[e]["name"]]
    g.arr("M_LABEL", [s.full_label(e) for e in methods])
    g.arr("M_SHORT", [s.short_label(e) for e in methods])
    g.arr("M_COLOR", [sty(e)[0] for e in methods])
    g.arr("M_DASH", [sty(e)[1] for e in methods])
    g.arr("M_PT", [sty(e)[2] for e in methods])
    g.arr("M_LW", [2.5 if e in s.exps and s.exps[e]["name"] == "base" else 1.5 for e in methods])
    g.arr("M_MODEL", [s.models.index(e.split("/")[0]) + 1 if e in s.exps else 0 for e in methods])
    g.arr("M_ONCE", [1 if e in s.exps and s.exps[e]["stage"] == "once" else 0 for e in methods])
    # per model, the indices of its methods ("1 2 3"), and those of the baselines
    g.arr("M_OF", [" ".join(str(i + 1) for i, e in enumerate(methods) if e.split("/")[0] == m) or "0" for m in s.models])
    g.scalar("B_OF", "'%s'" % (" ".join(str(i + 1) for i, e in enumerate(methods) if e.startswith("baseline/")) or "0"))
    g.scalar("N_METHODS", len(methods))
    g.scalar("N_RUNMETHODS", len(s.run_methods))
    # the shared key: one entry per method name (a name run on one model only says which), then the baselines
    klab = []
    for n in names:
        have = [m for m in s.models if m + "/" + n in s.run_methods]
        klab.append(s.elabel(have[0] + "/" + n) + (" (%s)" % s.mlabel(have[0]) if len(have) == 1 and len(s.models) > 1 else ""))
    kb = [e for e in methods if e.startswith("baseline/")]
    g.arr("K_LABEL", klab + [s.short_label(e) for e in kb])
    g.arr("K_COLOR", [style[n][0] for n in names] + [BASELINE_STYLE[e][0] for e in kb])
    g.arr("K_DASH", [style[n][1] for n in names] + [BASELINE_STYLE[e][1] for e in kb])
    g.arr("K_PT", [style[n][2] for n in names] + [BASELINE_STYLE[e][2] for e in kb])
    g.arr("K_LW", [2.5 if n == "base" else 1.5 for n in names] + [1.5 for e in kb])
    # a name whose experiments are all run once (the centred head): left out of the line figures and their key
    g.arr("K_ONCE", [1 if all(s.exps[m + "/" + n]["stage"] == "once" for m in s.models if m + "/" + n in s.run_methods)
                     else 0 for n in names] + [0 for e in kb])
    # the baselines' test MSE (the final figure marks those inside a panel's range)
    g.arr("BL_LABEL", [s.short_label(e) for e in kb])
    g.arr("BL_MSE", [fin(s.stat(e, "test_mse")[0]) for e in kb])
    g.arr("BL_DASH", [{"baseline/copy_last": 3, "baseline/zero": 4}.get(e, 5) for e in kb])
    g.scalar("N_BL", len(kb))
    g.scalar("N_KEYS", len(names) + len(kb))
    g.scalar("N_NAMEKEYS", len(names))
    g.arr("MODEL_LABEL", [s.mlabel(m) for m in s.models])
    g.scalar("N_MODELS", len(s.models))


def base_band(s, field):
    """Per model the base model's (mean, sd) of a runs.csv field: NaN mean without runs, sd 0 below two."""
    means = [fin(s.stat(m + "/base", field)[0]) if s.stat(m + "/base", field)[2] else fin(None) for m in s.models]
    sds = [fin(s.stat(m + "/base", field)[1]) if s.stat(m + "/base", field)[2] >= 2 else 0.0 for m in s.models]
    return means, sds


def figdata_points(s, g):
    """N_POS and, for the final test MSE (FIN_*) and the gap (GAP_*), the base band, the panel's x range
    and how many methods have runs beyond either end of it (labels at the edge)."""
    g.arr("N_POS", [len([e for e in s.run_methods if e.startswith(m + "/")]) for m in s.models])
    for key, field in (("FIN", "test_mse"), ("GAP", "gap_last")):
        means, sds = base_band(s, field)
        g.arr(key + "_BMEAN", means)
        g.arr(key + "_BSD", sds)
        rr = [robust_range([r[field] for e in s.run_methods if e.startswith(m + "/") for r in s.runs_of(e)],
                           [s.stat(m + "/base", field)[0] if s.stat(m + "/base", field)[2] else None]) for m in s.models]
        g.arr(key + "_XLO", [x[0] for x in rr])
        g.arr(key + "_XHI", [x[1] for x in rr])

        def beyond(k, m, outside):
            return sum(1 for e in s.run_methods if e.startswith(m + "/") and
                       any(outside(r[field], rr[k]) for r in s.runs_of(e) if r.get(field) is not None))
        g.arr(key + "_NLO", [beyond(k, m, lambda x, r: x < r[0]) for k, m in enumerate(s.models)])
        g.arr(key + "_NHI", [beyond(k, m, lambda x, r: x > r[1]) for k, m in enumerate(s.models)])


def figdata_curves(s, g):
    """C_LOG, C_EPOCHS (the learning curves' axes, from the base and regularizers: a run-once experiment
    trained longer, the centred head, is cut at their last epoch) and O_LOG (the optimizer study's)."""
    main_names = {tuple(e.split("/")) for e in s.run_methods if s.exps[e]["stage"] != "once"}
    curves = s.curves
    g.arr("C_LOG", [spans_decade([r[k] for r in curves if r["model"] == m and (m, r["experiment"]) in main_names
                                  for k in ("train_loss", "val_loss")]) for m in s.models])
    g.arr("C_EPOCHS", [max([r["epoch"] for r in curves if r["model"] == m and (m, r["experiment"]) in main_names] or
                           [r["epoch"] for r in curves if r["model"] == m] or [1]) for m in s.models])
    # the all-zero frames' test MSE per frame in loss units (MSE per pixel): the learning curves' reference
    zero = s.stat("baseline/zero", "test_mse")[0]
    gen = (s.setup.get("data") or {}).get("generator") or {}
    g.scalar("ZERO_LOSS", repr(zero / int(gen.get("size") or 64) ** 2) if math.isfinite(zero) else "NaN")
    g.arr("O_LOG", [spans_decade([r["val_loss"] for r in curves if r["model"] == m and r["experiment"].startswith("opt-")])
                    for m in s.models])


def figdata_optim(s, g):
    """O_LABEL, O_MODEL, O_CHOSEN, O_OF, N_OPT: the blocks of optim.dat."""
    olab, omodel, ochosen, odata = [], [], [], []
    for m in s.models:
        for eid in s.opt_exps(m):
            olab.append(s.elabel(eid))
            omodel.append(s.models.index(m) + 1)
            odata.append(any(r["model"] == m and r["experiment"] == s.exps[eid]["name"] for r in s.curves))
            ochosen.append(1 if s.choice.get(m, {}).get("chosen") == s.exps[eid]["name"][len("opt-"):] else 0)
    g.arr("O_LABEL", olab)
    g.arr("O_MODEL", omodel)
    g.arr("O_CHOSEN", ochosen)
    # a model none of whose optimizer runs has finished yet (a study part-way through): an empty panel
    g.arr("O_OF", [" ".join(str(i + 1) for i, x in enumerate(omodel) if x == k + 1)
                   if any(d for x, d in zip(omodel, odata) if x == k + 1) else "0" for k in range(len(s.models))])
    g.arr("O_PICK", [s.elabel(m + "/opt-" + s.choice[m]["chosen"]) if m in s.choice else "" for m in s.models])
    g.scalar("N_OPT", len(olab))


def figdata_sweep(s, g):
    """SW_*: the blocks of sweep.dat; per sweep its name, axis (log where the values span two decades or
    more), range and tics at the values; the base model's mean and sd per model (the reference band)."""
    blocks = s.sweep_blocks()
    snames = list(s.sweeps)
    g.arr("SW_MODEL", [s.models.index(m) + 1 for m, _, _ in blocks])
    g.arr("SW_SWEEP", [snames.index(w) + 1 for _, w, _ in blocks])
    g.arr("SW_N", [len(p) for _, _, p in blocks])
    sw_log, sw_lo, sw_hi, sw_tics = [], [], [], []
    for w in snames:
        key = s.sweeps[w]["key"]
        xs = sorted({p[0] for (_, ww, pts) in blocks if ww == w for p in pts} |
                    {float(s.exps[m + "/" + p]["config"][key]) for m in s.models for p in s.sweeps[w]["points"]
                     if key in s.exps.get(m + "/" + p, {}).get("config", {})})
        xs = [x for x in xs if math.isfinite(x)]
        lg = 1 if xs and min(xs) > 0 and max(xs) / min(xs) >= 100 else 0
        sw_log.append(lg)
        tics = "set xtics (%s)" % ", ".join('"%s" %r' % (value_tex(x), x) for x in xs)
        if not xs:
            sw_lo.append(0.0), sw_hi.append(1.0), sw_tics.append("set xtics autofreq")
        elif lg:
            sw_lo.append(min(xs) / 2.5), sw_hi.append(max(xs) * 2.5), sw_tics.append(tics)
        else:
            span = max(xs) - min(0.0, min(xs))
            sw_lo.append(min(0.0, min(xs))), sw_hi.append(max(xs) + 0.12 * (span or 1.0)), sw_tics.append(tics)
    g.arr("SW_NAME", [s.sweep_label(w) for w in snames])
    g.arr("SW_AXIS", [SWEEP_AXIS.get(s.sweeps[w]["key"], "\\texttt{%s}" % tex_escape(s.sweeps[w]["key"])) for w in snames])
    g.arr("SW_LOG", sw_log)
    g.arr("SW_XLO", sw_lo)
    g.arr("SW_XHI", sw_hi)
    g.arr("SW_XTICS", sw_tics)
    means, sds = base_band(s, "test_mse")
    g.arr("SW_BMEAN", means)
    g.arr("SW_BSD", sds)
    g.scalar("N_SWEEPS", len(snames))
    g.scalar("N_SWBLOCKS", len(blocks))


def figdata_regime(s, g):
    """R_HAS (the model has a fresh-sequence control), R_FREE (its first free-running epoch, 0 if unknown),
    R_WIN (the epochs each end of the gap's growth averages, paperdata.gap_window; 0 if unknown) and
    R_SEEDS (the control's seeds as the key says them: "seed 1", "mean over seeds 1, 2, 3")."""
    has, free, win, seeds = [], [], [], []
    for m in s.models:
        c = s.fresh_control(m)
        has.append(1 if c else 0)
        free.append(s.free_running_epoch(m + "/base") or 0)
        r = s.regime(m)
        win.append(r["w"] if r and r["seeds"] else 0)
        got = [str(r["seed"]) for r in s.runs_of(c)] if c else []
        seeds.append(("seed " if len(got) == 1 else "mean over seeds ") + ", ".join(got) if got else "")
    g.arr("R_HAS", has)
    g.arr("R_FREE", free)
    g.arr("R_WIN", win)
    g.arr("R_SEEDS", seeds)


def figdata_gp(s):
    """figdata.gp: the labels, styles, counts and axes every figure loads."""
    g = GnuplotArrays()
    # the predicted frames per sequence (the frames figure's x axis: a tic on each of a short horizon's)
    g.scalar("N_FUTURE", s.future() or 0)
    figdata_methods(s, g)
    figdata_points(s, g)
    figdata_curves(s, g)
    figdata_optim(s, g)
    figdata_sweep(s, g)
    figdata_regime(s, g)
    return {"figdata.gp": "\n".join(g.lines) + "\n"}


# ==================================================================================================
# The qualitative strips


def png_size(path):
    """(width, height) of a PNG from its IHDR chunk."""
    import struct
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24])


def strip_picture(s, st, tag):
    """strip-<tag>.tex: a model's strip (summarize.py's PNG) with its row labels to the left, as a LaTeX
    picture one column wide."""
    src = os.path.join(s.path, st["file"])
    labels = [{"inputs": "input frames", "truth": "ground truth", "copy_last": "copy last frame"}.get(r["row"])
              or (s.elabel(r["row"]) if r["row"] in s.exps else tex_escape(r["row"])) for r in st["rows"]]
    # a row drawn brighter (summarize.py: contrast stretch k) has "xk" to the right of the image
    factors = ["$\\times$%s" % num(r["stretch"], 1) if r.get("stretch", 1) > 1 else "" for r in st["rows"]]
    w_px, h_px = png_size(src)
    lab_w, img_w = 0.3, (0.63 if any(factors) else 0.7)          # fractions of \columnwidth
    head = 0.045                     # the row of frame numbers above the image, in \\columnwidth
    img_h = img_w * h_px / w_px
    lines = ["%% strip-%s.tex — generated by tools/pipeline/tables.py from strip.json: %s with its row labels" % (tag, st["file"]),
             "\\setlength{\\unitlength}{\\columnwidth}",
             "\\begin{picture}(1,%.5f)" % (img_h + head),
             "\\put(%.3f,0){\\includegraphics[width=%.3f\\columnwidth]{%s}}" % (lab_w, img_w, st["file"])]
    row_px = (h_px - 2) / max(1, len(labels))   # rnnreg strip: rows of frame + 2 px separator, 2 px top
    n_cols = int(round((w_px - 2) / row_px))
    lines.append("\\put(%.3f,%.5f){\\makebox(0,0)[r]{frame}}" % (lab_w - 0.015, img_h + head / 2))
    for k in range(n_cols):
        x = lab_w + img_w * (2 + row_px * k + (row_px - 2) / 2) / w_px
        lines.append("\\put(%.4f,%.5f){\\makebox(0,0){%d}}" % (x, img_h + head / 2, k + 1))
    for i, lab in enumerate(labels):
        y = img_w * (h_px - (2 + row_px * i + (row_px - 2) / 2)) / w_px
        lines.append("\\put(%.3f,%.5f){\\makebox(0,0)[r]{%s}}" % (lab_w - 0.015, y, lab))
        if factors[i]:
            lines.append("\\put(%.3f,%.5f){\\makebox(0,0)[l]{%s}}" % (lab_w + img_w + 0.01, y, factors[i]))
    lines.append("\\end{picture}")
    return "\n".join(lines) + "\n"


def strips_tex(s):
    """strips.tex: one column figure per model — its strip-<model>.png (copied from the summary) with
    the row labels of strip-<model>.tex — as the floats the paper inputs."""
    files, floats = {}, []
    for st, tag in s.strips():
        with open(os.path.join(s.path, st["file"]), "rb") as f:
            files[st["file"]] = f.read()
        files["strip-%s.tex" % tag] = strip_picture(s, st, tag)
        who = s.mlabel(st["model"]) if st["model"] else "Every model"
        # a shorter horizon than the inputs: the predictions fill the last cells of their rows (rnnreg strip)
        cols, fut = strip_cells(png_size(os.path.join(s.path, st["file"]))[0]), s.future()
        where = ("Column $k$: the $k$-th input frame in the first row, the $k$-th predicted frame in the others."
                 if not fut or fut >= cols else
                 "Column $k$: the $k$-th input frame in the first row; in the others, the %s predicted frames fill the "
                 "last %s columns (predicted frame $j$ in column $%s + j$), the columns before them empty (grey)." % (
                     sentences.words(fut), sentences.words(fut), cols - fut))
        floats += ["\\begin{figure}[tbp]", "\\centering", "{\\footnotesize\\input{strip-%s.tex}}" % tag,
                   "\\caption{%s on the first test sequence: its input frames, the true future frames, and the "
                   "predictions of copying the last input frame, of the base model and of every regularizer%s "
                   "(first-seed runs). %s%s}" % (who, " and run-once experiment" if any(
                       s.exps.get(r["row"], {}).get("stage") == "once" for r in st["rows"]) else "", where,
                       " $\\times k$ right of a row: its grey levels drawn $k$ times brighter, clipped at white." if any(
                           r.get("stretch", 1) > 1 for r in st["rows"]) else ""),
                   "\\label{fig:strip-%s}" % tag, "\\end{figure}", ""]
    files["strips.tex"] = ("% strips.tex — generated by tools/pipeline/tables.py: the figures of the qualitative strips\n" +
                           "\n".join(floats) + "\n")
    return files


# ==================================================================================================

# every output: its name (the file Make asks for) → the function that makes it (and the files beside it)
OUTPUTS = {
    "tab-setup.tex": tab_setup, "tab-optim.tex": tab_optim, "tab-main.tex": tab_main, "tab-paired.tex": tab_paired,
    "tab-methods.tex": tab_methods, "tab-report.tex": tab_report, "tab-protocol.tex": tab_protocol,
    "tab-replication.tex": tab_replication,
    "frames.dat": frames_dat, "final.dat": final_dat, "gap.dat": gap_dat, "curves.dat": curves_dat,
    "optim.dat": optim_dat, "sweep.dat": sweep_dat, "regime.dat": regime_dat, "figdata.gp": figdata_gp,
    "strips.tex": strips_tex, "values.tex": values_tex,
}


def main():
    ap = argparse.ArgumentParser(description="the summary of a scale → the paper's values, tables and figure data")
    ap.add_argument("--summary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--twin", default="", help="the summary of the scale that runs this recipe at another horizon "
                    "(scale.mk's TWIN; its sentences: sentences.horizon); ignored where it has no runs.csv")
    ap.add_argument("outputs", nargs="*", metavar="OUTPUT", help="the outputs to make (default: all): " + " ".join(OUTPUTS))
    a = ap.parse_args()
    unknown = [x for x in a.outputs if x not in OUTPUTS]
    if unknown:
        sys.exit("tables.py: %s: no such output (one of: %s)" % (" ".join(unknown), " ".join(OUTPUTS)))
    s = Summary(a.summary)
    if a.twin and os.path.exists(os.path.join(a.twin, "runs.csv")):
        s.twin = Summary(a.twin)
    os.makedirs(a.out, exist_ok=True)
    names = a.outputs or list(OUTPUTS)
    for name in names:
        for fname, content in OUTPUTS[name](s).items():
            pl.write_atomic(os.path.join(a.out, fname), content, "wb" if isinstance(content, bytes) else "w")
    print("[pipeline] tables: %s → %s" % ("all outputs" if not a.outputs else " ".join(names), a.out))


if __name__ == "__main__":
    main()

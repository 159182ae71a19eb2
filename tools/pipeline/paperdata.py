"""paperdata.py — the summary of a scale (results/<scale>/summary/) as the paper reads it: the loaded
files, the methods in the paper's order with their labels, the statistics per experiment (mean and
sample standard deviation over seeds, paired differences to <model>/base with a Student-t interval),
and the formatting every printed number and word goes through. tables.py (the outputs) and
sentences.py (the result sentences) build on it.

Statistics: paired differences to <model>/base over the seeds both have (same seed = same data order
and initial weights), two-sided LEVEL interval (pipelib.paired_interval). A difference counts as resolved
only when its two-sided paired t-test survives Holm's step-down correction over its family (every
regularizer of every model, one family per metric; the base models against all-zero frames, one family
per metric): Holm-adjusted p at most 1 - LEVEL. The intervals the tables print are the per-comparison
ones. Which of several candidates is lowest (the best method, a sweep's best point, the chosen optimizer:
Summary.lowest_mse, sweep_lowest, optimizer_lowest) counts as resolved only where it is resolved from
every other candidate; the two base models are compared with Welch's interval (different networks, not
paired). Diverged runs are left out of means and counted in the tables."""
import collections
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
# the metrics of the result tables (columns)
COLS = ["mse", "psnr", "ssim"]
LEVEL = 0.95
REPORT_CSV = "experiments/report/original.csv"
# the report's variants (original.csv) and our experiment of the same method. The report's "Recurrent
# Dropout" cites Semeniuta et al.; its Keras ConvLSTM's recurrent_dropout is the variational mask,
# which is our var_dropout row in the other tables.
REPORT_MATCH = {"Base": "base", "Layer Norm": "layernorm", "Dropout": "dropout", "Recurrent Dropout": "rec_dropout",
                "Kernel Regularizer (L2)": "l2"}
BASELINE_LABEL = {"baseline/copy_last": "copy last input frame", "baseline/zero": "all-zero frames"}
# Stored regenerations of a scale's study on other machines (a fresh clone, `rm -rf results/<scale>`,
# `make reproduce`, its summary kept under <name>/summary): the paper compares their claims with its own.
REPLICATIONS = "experiments/scales/%s/replications"
# The horizon of the published numbers (LITERATURE) and of the report: ten predicted frames. A scale that
# predicts fewer (the short scale) says that they are not comparable with its numbers.
STANDARD_FUTURE = 10
# setup.json's seed lists (summarize.py): which runs a summary holds
SEED_KEYS = ("seeds", "opt_seeds", "sweep_seeds", "control_seeds")
# The study's criterion that a base model has learnt to predict (issue 14): mean test MSE per frame at most
# this fraction of the all-zero baseline's, below it at every predicted frame, and mean SSIM above it.
LEARNT_RATIO = 0.75
# a run whose last validation loss is more than this times its best, and whose training loss has not
# fallen since that best epoch either, has become unstable (it stopped learning and got worse: a PredRNN++
# seed at Adam's 2e-3); the control regime's comparison of gaps leaves such a pair out and says so
# (sentences.regime): its gap describes a model that no longer learns. A validation loss that rises while
# the training loss falls is overfitting, the thing the comparison measures (the short scale's PredRNN++:
# 1.10-1.13 x its best with the training loss halved), and stays in.
UNSTABLE_RATIO = 1.10
# The gap (validation minus training loss) of one epoch is noisy: 32 validation sequences and one epoch's
# running training loss. The gap at the start and at the end of free running are therefore means over
# GAP_WINDOW epochs (fewer where the free-running span is short: at most half of it each, at least one):
# the first GAP_WINDOW free-running epochs and the last GAP_WINDOW. Chosen in session 11, after the Zen 5
# replication had flipped both control-regime verdicts that one-epoch ends had given: on the committed and
# the replicated summaries alike, five-epoch means put the growth's difference below zero in all ten seed
# pairs per model, where one-epoch ends had a seed the other way on the Zen 5
# (experiments/scales/study/PROBES.md, session 11), and tested then on a third CPU.
GAP_WINDOW = 5
# scikit-image's SSIM constant C1 = (K1 L)^2, K1 = 0.01, L = 255 (uint8 frames; docs/metrics.md): in a
# flat window where the truth is 0 and the prediction a uniform grey g, SSIM = C1 / (C1 + g^2)
# (Wang et al. 2004, Eq. 13, with both variances and the covariance 0).
SSIM_C1 = (0.01 * 255.0) ** 2
# Published Moving MNIST results (10 input frames -> 10 predicted, 64x64, two digits; MSE per frame = the
# sum over the pixels of the squared error of [0, 1] frames, averaged over the predicted frames: the
# PredRNN convention used here), as the cited papers print them (issue 14 lists them); cite = the
# \\bibitem key of paper/references.tex, source = who reports it (the text), protocol = the table's note.
#   wang2018: PredRNN++ (ICML 2018): ConvLSTM 103.3, PredRNN++ 46.5 (SSIM 0.898), trained far longer
#             than any scale here, on a GPU.
#   tan2023:  OpenSTL (NeurIPS 2023 Datasets and Benchmarks), Moving MNIST after 200 epochs: ConvLSTM
#             29.8, PredRNN++ 22.1.
LITERATURE = [
    {"model": "convlstm", "mse": 103.3, "ssim": None, "cite": "wang2018", "source": "the PredRNN++ paper",
     "protocol": "in the PredRNN++ paper"},
    {"model": "predrnn_pp", "mse": 46.5, "ssim": 0.898, "cite": "wang2018", "source": "the PredRNN++ paper",
     "protocol": "its paper"},
    {"model": "convlstm", "mse": 29.8, "ssim": None, "cite": "tan2023", "source": "the OpenSTL benchmark",
     "protocol": "OpenSTL, 200 epochs"},
    {"model": "predrnn_pp", "mse": 22.1, "ssim": None, "cite": "tan2023", "source": "the OpenSTL benchmark",
     "protocol": "OpenSTL, 200 epochs"},
]


# --------------------------------------------------------------------------------------------------
# Formatting: every printed number goes through num()


def num(x, decimals, sign=False):
    """x with `decimals` decimals ("--" when missing), signed ones in math mode (a true minus)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "--"
    s = ("%+.*f" if sign else "%.*f") % (decimals, x)
    if s.lstrip("+-").strip("0.") == "" and s.startswith("-"):
        s = s[1:]  # no "-0.0"
    return "$%s$" % s if s.startswith(("-", "+")) else s


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


def plural_s(n):
    """The verb ending of a count: "lowers" for one, "lower" for several."""
    return "s" if n == 1 else ""


def t_test_p(diffs):
    """Two-sided p-value of the one-sample Student-t test of mean(diffs) = 0 (the test whose inversion is
    pipelib.paired_interval); None below two values; 0 or 1 when the differences do not vary."""
    n = len(diffs)
    if n < 2:
        return None
    m, sd = pl.mean(diffs), pl.std(diffs)
    if sd == 0:
        return 1.0 if m == 0 else 0.0
    t = abs(m) / (sd / math.sqrt(n))
    return 2.0 * (1.0 - pl.t_cdf(t, n - 1))


def holm(pvalues):
    """Holm's step-down adjustment (Holm 1979, Scand. J. Statist. 6:65-70) of a family {key: p}: sorted
    ascending, the i-th smallest (i = 1..m) becomes max over j <= i of min(1, (m - j + 1) p_(j)). An
    adjusted p at most 1 - LEVEL rejects at family-wise error 1 - LEVEL, under any dependence between the
    tests. Ties keep their keys' order."""
    keys = sorted(pvalues, key=lambda k: pvalues[k])
    m, run, out = len(keys), 0.0, {}
    for i, k in enumerate(keys):
        run = max(run, min(1.0, (m - i) * pvalues[k]))
        out[k] = run
    return out


# --------------------------------------------------------------------------------------------------
# Which of several candidates is lowest, and whether the seeds resolve it. A claim that one candidate
# is the lowest (the best method, a sweep's best point, the chosen optimizer) is the intersection of
# "it is below each other one": it holds only where every one of those comparisons is resolved.


class Comparison(collections.namedtuple("Comparison", "d lo hi n p resolved")):
    """Another candidate against the lowest: d = mean of the seed-matched differences other - lowest,
    [lo, hi] its two-sided LEVEL interval, n the pairs, p the Holm-adjusted p-value of its two-sided
    paired t-test (None below two pairs), resolved = p <= 1 - LEVEL and d > 0."""


class Lowest(collections.namedtuple("Lowest", "top comps status")):
    """The candidate with the lowest mean (top), {other candidate: Comparison} in rank order (lowest mean
    first), and status: "resolved" (every comparison resolved), "unresolved", or "single-run" (no
    comparison has two seed pairs: no interval at all)."""

    def next(self):
        """The runner-up (None without other candidates)."""
        return next(iter(self.comps), None)

    def unresolved(self):
        return [o for o, c in self.comps.items() if not c.resolved]


def lowest_status(comps):
    """The status of a Lowest from its comparisons (see Lowest)."""
    if comps and all(c.n < 2 and not c.resolved for c in comps.values()):
        return "single-run"
    return "resolved" if all(c.resolved for c in comps.values()) else "unresolved"


def separation(top, others, level=LEVEL):
    """{other: Comparison} of the candidate with the lowest mean, top = {seed: value}, against each of
    others = {name: {seed: value}}: the differences other - top over the seeds both have, their paired
    interval and t-test, Holm-adjusted over the others (one family)."""
    diffs = {o: [v[k] - top[k] for k in sorted(set(v) & set(top))] for o, v in others.items()}
    adj = holm({o: p for o, p in ((o, t_test_p(d)) for o, d in diffs.items()) if p is not None})
    out = {}
    for o, d in diffs.items():
        mu, lo, hi, n = pl.paired_interval(d, level)
        p = adj.get(o)
        out[o] = Comparison(mu, lo, hi, n, p, p is not None and p <= 1.0 - level and mu > 0)
    return out


def welch_interval(xs, ys, level=LEVEL):
    """mean(ys) - mean(xs) with Welch's two-sided interval and test (Welch 1947, Biometrika 34;
    Welch-Satterthwaite degrees of freedom): (d, lo, hi, nu, p); lo, hi, nu and p are nan with fewer
    than two values on a side."""
    d = pl.mean(ys) - pl.mean(xs)
    nan = float("nan")
    if len(xs) < 2 or len(ys) < 2:
        return d, nan, nan, nan, nan
    va, vb = pl.std(xs) ** 2 / len(xs), pl.std(ys) ** 2 / len(ys)
    if va + vb == 0:
        return d, d, d, nan, 1.0 if d == 0 else 0.0
    nu = (va + vb) ** 2 / sum(v * v / (n - 1) for v, n in ((va, len(xs)), (vb, len(ys))) if v > 0)
    se = math.sqrt(va + vb)
    half = pl.t_ppf(0.5 + level / 2.0, nu) * se
    return d, d - half, d + half, nu, 2.0 * (1.0 - pl.t_cdf(abs(d) / se, nu))


def optimizer_lowest(choice, level=LEVEL):
    """Whether the optimizer study's recorded choice (one model's entry of experiments.json's
    optimizer_choice, choose_optimizer.py's optimizer.json: the lowest mean best validation loss) is
    resolved by its seeds: a Lowest of the chosen optimizer against the others, paired by seed over the
    runs that did not diverge, Holm over the others; an optimizer that diverged on every seed counts as
    resolved above (it never trained). "single-run" with one seed (or no per-run record)."""
    runs = choice.get("runs") or {}
    vals = {o: {r["seed"]: r["best_val_loss"] for r in rs if r.get("best_val_loss") is not None and
                math.isfinite(r["best_val_loss"])} for o, rs in runs.items()}
    top = choice["chosen"]
    scores = choice.get("scores") or {}
    others = sorted((o for o in runs if o != top), key=lambda o: (scores.get(o) is None, scores.get(o) or 0.0))
    live = {o: vals[o] for o in others if vals[o]}
    comps = separation(vals.get(top, {}), live, level)
    for o in others:
        if o not in live:
            comps[o] = Comparison(math.inf, math.nan, math.nan, 0, None, True)
    comps = {o: comps[o] for o in others}
    status = "single-run" if len(choice.get("seeds") or []) < 2 or not runs else lowest_status(comps)
    return Lowest(top, comps, status)


def p_text(p):
    """A p-value as the tables print it: three decimals, "<0.001" below."""
    if p is None:
        return "--"
    return "$<$0.001" if p < 0.001 else "%.3f" % p


def p_math(p):
    """A p-value as a sentence states it, in math mode: "$p < 0.001$" below 0.001, else "$p = 0.031$"."""
    if p is None:
        return "no $p$-value"
    return "$p < 0.001$" if p < 0.001 else "$p = %.3f$" % p


def png_grey(path):
    """(width, height, rows) of an 8-bit greyscale, non-interlaced PNG (what `rnnreg strip` writes with
    libpng): the IDAT stream inflated and each scanline's filter (None, Sub, Up, Average, Paeth; PNG
    specification, 2nd ed., section 9) undone. Anything else is an error naming the file."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG file" % path)
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour != 0 or interlace:
                raise ValueError("%s: not an 8-bit greyscale non-interlaced PNG" % path)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if w is None:
        raise ValueError("%s: no IHDR chunk" % path)
    raw, rows, prev = zlib.decompress(idat), [], bytearray(w)
    for y in range(h):
        ft, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a, b = line[x - 1] if x else 0, prev[x]
            c = prev[x - 1] if x else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif ft != 0:
                raise ValueError("%s: unknown PNG filter %d" % (path, ft))
        rows.append(line)
        prev = line
    return w, h, rows


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


# --------------------------------------------------------------------------------------------------
# Loading


def load_csv(path):
    """A summary CSV as dicts: integers and floats parsed, empty cells None."""
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


def strip_cells(w):
    """The frame cells across a strip PNG w pixels wide (rnnreg strip: 64-px frames behind a 2-px separator)."""
    return (w - 2) // 66


def strip_frame(img, w, h, i, t):
    """The grey levels (a flat list) of the frame in row i, column t of a strip PNG (rnnreg strip: 64-px
    frames behind a 2-px separator), or None where the image has no such cell."""
    x0, y0 = 2 + 66 * t, 2 + 66 * i
    if y0 + 64 > h or x0 + 64 > w:
        return None
    return [v for y in range(y0, y0 + 64) for v in img[y][x0:x0 + 64]]


class Summary:
    """The summary files of a scale and what the paper derives from them. An experiment id (eid) is
    <model>/<name>; the baselines are baseline/copy_last and baseline/zero."""

    def __init__(self, path):
        self.path = path
        self.runs = load_csv(os.path.join(path, "runs.csv"))
        self.frames = load_csv(os.path.join(path, "frames.csv"))
        self.curves = load_csv(os.path.join(path, "curves.csv"))
        ex = pl.read_json(os.path.join(path, "experiments.json"))
        self.exps, self.choice, self.sweeps = ex["experiments"], ex["optimizer_choice"], ex.get("sweeps", {})
        self.setup = pl.read_json(os.path.join(path, "setup.json"))
        self.strip = pl.read_json(os.path.join(path, "strip.json"))
        pp = os.path.join(path, "protocol.csv")
        self.proto = {"%s/%s" % (r["model"], r["experiment"]): r for r in load_csv(pp)
                      if r["status"] == "ok"} if os.path.exists(pp) else {}
        self.report = load_report()
        self.models = []
        for eid in sorted(self.exps, key=self.order):
            if self.exps[eid]["model"] not in self.models:
                self.models.append(self.exps[eid]["model"])
        self.methods = self._methods()
        self.run_methods = [e for e in self.methods if not e.startswith("baseline/")]
        self.regularizers = [e for e in self.methods if self.is_reg(e)]
        # the centred-head experiment (the report's leak), if one was run, and its causal-head control
        self.leak = next((e for e in self.methods if self.cfg(e, "head") == "conv3d_centered"), None)
        self.leak_control = self._leak_control()
        # the summary of the scale that runs this recipe at another horizon (its TWIN in scale.mk: short
        # and study), or None; tables.py --twin sets it
        self.twin = None

    def frames_in_out(self):
        """(input frames, predicted frames) per sequence from the base runs' config, else from any run's
        (seq_len - input_frames); (None, None) where no config has them."""
        for eid in [m + "/base" for m in self.models] + sorted(self.exps):
            n, i = self.cfg(eid, "seq_len"), self.cfg(eid, "input_frames")
            if n is not None and i is not None:
                return int(i), int(n) - int(i)
        return None, None

    def future(self):
        """Predicted frames per sequence (frames_in_out), None where no config has them."""
        return self.frames_in_out()[1]

    def replications(self):
        """[(name, Summary)] of the stored regenerations of this summary's scale on other machines
        (REPLICATIONS/<name>/summary with a runs.csv, by name), without this summary itself. Each one's
        .scope is the models whose runs there follow this study's recipe: those listed in
        REPLICATIONS/<name>/models (one model id a line, # comments), where a later change of recipe
        left the others behind; every model of it where that file is absent."""
        root = REPLICATIONS % self.setup.get("scale", "")
        out = []
        for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            d = os.path.join(root, name, "summary")
            if os.path.exists(os.path.join(d, "runs.csv")) and os.path.realpath(d) != os.path.realpath(self.path):
                r = Summary(d)
                r.scope = list(r.models)
                listed = os.path.join(root, name, "models")
                if os.path.exists(listed):
                    with open(listed) as f:
                        ids = [x.split("#")[0].strip() for x in f]
                    r.scope = [m for m in ids if m]
                    for m in r.scope:
                        if m not in r.models or m not in self.models:
                            sys.exit("%s: unknown model '%s' (that summary has %s, this one %s)" % (
                                listed, m, ", ".join(r.models), ", ".join(self.models)))
                    if not r.scope:
                        sys.exit("%s: no model listed (remove the file to compare every model)" % listed)
                out.append((name, r))
        return out

    def same_seeds(self, other):
        """Whether other (a Summary) ran the seeds this one ran (every seed list of setup.json equal)."""
        return all(self.setup.get(k) == other.setup.get(k) for k in SEED_KEYS)

    def same_numerics(self, other):
        """Whether other's runs used this summary's numerics (setup.json "numerics": CPU model and bf16 flags,
        BLAS, precision, conv engine, threads, math): with the same seeds too, the same runs bit for bit."""
        a, b = self.setup.get("numerics"), other.setup.get("numerics")
        return a is not None and a == b

    def seeds_words(self, controls="the control regime's "):
        """The seeds of the study's matrix, e.g. "6--8" or "1, 2, 4", and where the control regime's differ,
        " (the control regime's 6--10)" (controls: the words before those)."""
        def span(xs):
            xs = sorted(xs or [])
            if len(xs) >= 3 and xs == list(range(xs[0], xs[-1] + 1)):
                return "%d--%d" % (xs[0], xs[-1])
            return ", ".join(str(x) for x in xs) or "?"
        seeds, ctl = self.setup.get("seeds"), self.setup.get("control_seeds")
        return span(seeds) + (" (%s%s)" % (controls, span(ctl)) if ctl and ctl != seeds else "")

    def only(self, models):
        """This summary seen through the given models alone: their methods, regularizers and (if its model
        is among them) the centred head, so that every family of Holm's correction is over those models'
        tests only (for a replication that follows this study's recipe for some models: its claims and
        this summary's are then both made on the same families). The cached families are not carried."""
        v = Summary.__new__(Summary)
        v.__dict__.update({k: x for k, x in self.__dict__.items() if not k.startswith("_")})
        keep = lambda e: e.startswith("baseline/") or e.split("/")[0] in models  # noqa: E731
        v.models = [m for m in self.models if m in models]
        v.methods = [e for e in self.methods if keep(e)]
        v.run_methods = [e for e in self.run_methods if keep(e)]
        v.regularizers = [e for e in self.regularizers if keep(e)]
        v.leak = self.leak if self.leak and keep(self.leak) else None
        v.leak_control = self.leak_control if v.leak else None
        return v

    # ---------------------------------------------------------------- experiments and their labels

    def order(self, eid):
        """The position of eid in experiments.mk (summarize.py's "order"; by name in older summaries)."""
        return self.exps[eid].get("order", sorted(self.exps).index(eid))

    def _methods(self):
        """Per model its base, the regularizers (stage main) and the run-once experiments in the order of
        experiments.mk, those with finished runs; then the baselines."""
        methods = []
        for m in self.models:
            mine = [eid for eid, e in self.exps.items() if e["model"] == m and e["stage"] in ("main", "once")]
            mine.sort(key=lambda eid: (self.exps[eid]["name"] != "base", self.exps[eid]["stage"] == "once", self.order(eid)))
            methods += [eid for eid in mine if self.runs_of(eid)]
        return methods + ["baseline/" + b for b in ["copy_last", "zero"] if self.runs_of("baseline/" + b)]

    def method_names(self):
        """The names of the methods (base, dropout, ...), each once, in the methods' order: a method's
        style in the figures and its row in the settings table follow its name."""
        names = []
        for e in self.methods:
            if e in self.exps and self.exps[e]["name"] not in names:
                names.append(self.exps[e]["name"])
        return names

    def opt_exps(self, m):
        """The optimizer study's experiments of model m in the order of experiments.mk."""
        return sorted((e for e, x in self.exps.items() if x["stage"] == "opt" and x["model"] == m), key=self.order)

    def has_opt_study(self):
        """Whether some model ran more than one optimizer (flag.optstudy); else each has one, none chosen."""
        return any(len(self.opt_exps(m)) > 1 for m in self.models)

    def is_reg(self, eid):
        """A regularizer: a seeded experiment other than the base and the controls (compared with the base
        by seed, in the Holm family of the regularizers)."""
        return eid in self.exps and self.exps[eid]["stage"] == "main" and self.exps[eid]["name"] != "base" and \
            not self.is_control(eid)

    def is_control(self, eid):
        """A control (experiments/controls/): the base trained on fresh sequences every epoch (fresh_train = 1)."""
        return self.cfg(eid, "fresh_train") == "1"

    def mse_ranked(self, m):
        """Model m's base and regularizers that have a test MSE, lowest mean first (ties in method order):
        the "best method" of the text (sentences.best) and of the claims (claims.py)."""
        cands = [e for e in self.methods if e.split("/")[0] == m and (e == m + "/base" or self.is_reg(e))]
        return sorted((e for e in cands if self.stat(e, "test_mse")[2]), key=lambda e: self.stat(e, "test_mse")[0])

    @staticmethod
    def mlabel(m):
        return pl.MODEL_LABELS.get(m, tex_escape(m))

    def elabel(self, eid):
        return tex_escape(self.exps[eid]["label"]) if eid in self.exps else tex_escape(eid)

    def full_label(self, eid):
        if eid in BASELINE_LABEL:
            return BASELINE_LABEL[eid]
        return "%s %s" % (self.mlabel(self.exps[eid]["model"]), self.elabel(eid))

    def short_label(self, eid):
        return BASELINE_LABEL.get(eid) or self.elabel(eid)

    def cfg(self, eid, key):
        """A key of eid's resolved config (its first run's), None when absent."""
        return self.exps.get(eid, {}).get("config", {}).get(key)

    def sweep_label(self, w):
        for m in self.models:
            for p in self.sweeps[w]["points"]:
                if m + "/" + p in self.exps:
                    return self.elabel(m + "/" + p)
        return tex_escape(w)

    # ---------------------------------------------------------------- runs and statistics

    def runs_of(self, eid, status="ok"):
        m, n = eid.split("/")
        return [r for r in self.runs if r["model"] == m and r["experiment"] == n and (status is None or r["status"] == status)]

    def finished_rows(self, table, eid):
        """The rows of a per-run table (frames, curves) that belong to eid's finished (ok) runs."""
        m, n = eid.split("/")
        ok_seeds = {r["seed"] for r in self.runs_of(eid)}
        return [r for r in table if r["model"] == m and r["experiment"] == n and r["seed"] in ok_seeds]

    def stat(self, eid, field):
        """(mean, sd, n) of a runs.csv field over eid's finished runs."""
        xs = [r[field] for r in self.runs_of(eid) if r.get(field) is not None]
        return pl.mean(xs), pl.std(xs), len(xs)

    def paired(self, eid, field):
        """(mean, lo, hi, n) of the seed-matched differences eid - <model>/base of a runs.csv field."""
        base = {r["seed"]: r for r in self.runs_of(eid.split("/")[0] + "/base") if r.get(field) is not None}
        mine = {r["seed"]: r for r in self.runs_of(eid) if r.get(field) is not None}
        return pl.paired_interval([mine[s][field] - base[s][field] for s in sorted(set(base) & set(mine))], LEVEL)

    def verdict(self, eid):
        """How regularizer eid changes the test MSE: "better" (lower, Holm-adjusted p at most 1 - LEVEL),
        "worse" (higher, likewise), "unclear" (not resolved); None with fewer than two seed pairs."""
        r = self.resolved(eid, "test_mse")
        return None if r is None else {-1: "better", 1: "worse", 0: "unclear"}[r]

    def p_holm(self, eid, field="test_mse"):
        """Holm-adjusted p-value of regularizer eid's paired difference of a field: the family is every
        regularizer of every model with at least two seed pairs (one family per field); None below two."""
        fam = self._holm_family(field)
        return fam.get(eid)

    def _holm_family(self, field):
        cache = self.__dict__.setdefault("_holm_cache", {})
        if field not in cache:
            ps = {}
            for e in self.regularizers:
                p = t_test_p(self.paired_diffs(e, field))
                if p is not None:
                    ps[e] = p
            cache[field] = holm(ps)
        return cache[field]

    def paired_diffs(self, eid, field, ref=None):
        """The seed-matched differences eid - ref (default <model>/base) of a runs.csv field; with ref a
        baseline (one deterministic value, no seed), every run of eid minus that value."""
        ref = ref or eid.split("/")[0] + "/base"
        mine = {r["seed"]: r[field] for r in self.runs_of(eid) if r.get(field) is not None}
        if ref.startswith("baseline/"):
            b = self.stat(ref, field)[0]
            return [mine[s] - b for s in sorted(mine)] if math.isfinite(b) else []
        base = {r["seed"]: r[field] for r in self.runs_of(ref) if r.get(field) is not None}
        return [mine[s] - base[s] for s in sorted(set(base) & set(mine))]

    def resolved(self, eid, field="test_mse"):
        """-1 / +1 where regularizer eid's paired difference of the field is below / above zero after
        Holm's correction over the family (p_holm <= 1 - LEVEL), 0 where it is not resolved, None with fewer
        than two seed pairs."""
        p = self.p_holm(eid, field)
        if p is None:
            return None
        if p > 1.0 - LEVEL:
            return 0
        return -1 if pl.mean(self.paired_diffs(eid, field)) < 0 else 1

    def vs_zero(self, field="test_mse"):
        """Per base model: (mean, lo, hi, n, Holm-adjusted p) of its runs minus the all-zero baseline of a
        field (vs_baseline)."""
        return self.vs_baseline(field, "baseline/zero")

    def vs_baseline(self, field="test_mse", ref="baseline/zero", scale=1.0):
        """Per base model: (mean, lo, hi, n, Holm-adjusted p) of its runs minus scale times a baseline ref of
        a field (the baseline is deterministic: the interval is the runs' one-sample t interval, shifted);
        Holm over the base models (one family per field, baseline and scale)."""
        b = self.stat(ref, field)[0]
        out, ps = {}, {}
        for m in self.models:
            d = [x + (1.0 - scale) * b for x in self.paired_diffs(m + "/base", field, ref)]
            if d and math.isfinite(b):
                out[m] = pl.paired_interval(d, LEVEL)
                p = t_test_p(d)
                if p is not None:
                    ps[m] = p
        adj = holm(ps)
        return {m: v + (adj.get(m),) for m, v in out.items()}

    def vs_learnt(self):
        """Per base model: (mean, lo, hi, n, Holm-adjusted p) of its runs' test MSE minus LEARNT_RATIO times
        the all-zero baseline's (one-sample t interval, as vs_baseline; Holm over the base models): whether
        the seeds put the model below or above the MSE line of the study's criterion, or leave it open."""
        return self.vs_baseline("test_mse", "baseline/zero", LEARNT_RATIO)

    def frames_vs_zero(self, col="mse"):
        """Per base model and predicted frame: (mean, lo, hi, n, Holm-adjusted p) of its finished runs'
        frames.csv column minus the all-zero baseline's at that frame (one-sample t interval, as
        vs_baseline); Holm over every frame of every base model (one family)."""
        fz = self.frame_means("baseline/zero", col)
        out, ps = {}, {}
        for m in self.models:
            per = {}
            for r in self.finished_rows(self.frames, m + "/base"):
                if r.get(col) is not None and r["frame"] in fz:
                    per.setdefault(r["frame"], []).append(r[col] - fz[r["frame"]])
            for t, d in sorted(per.items()):
                out[(m, t)] = pl.paired_interval(d, LEVEL)
                p = t_test_p(d)
                if p is not None:
                    ps[(m, t)] = p
        adj = holm(ps)
        res = {}
        for (m, t), v in out.items():
            res.setdefault(m, {})[t] = v + (adj.get((m, t)),)
        return res

    def lowest_mse(self, m):
        """The method of model m (base or regularizer) with the lowest mean test MSE and whether the seeds
        resolve it from every other method of m (a Lowest; None without runs). Against the base model the
        comparison is the regularizer's own paired test (Holm over every regularizer: the verdict of the
        tables and of sentences.regularizers, which the best method's sentence must not contradict);
        against each other regularizer, a paired t-test, Holm over those comparisons."""
        ranked = self.mse_ranked(m)
        if not ranked:
            return None
        top, base = ranked[0], m + "/base"
        comps = {}
        if top == base:
            for e in ranked[1:]:
                d, lo, hi, n = self.paired(e, "test_mse")
                comps[e] = Comparison(d, lo, hi, n, self.p_holm(e), self.resolved(e) == 1)
        else:
            def vals(e):
                return {r["seed"]: r["test_mse"] for r in self.runs_of(e) if r.get("test_mse") is not None}
            comps = separation(vals(top), {e: vals(e) for e in ranked[1:] if e != base})
            if base in ranked:
                d, lo, hi, n = self.paired(top, "test_mse")
                comps[base] = Comparison(-d, -hi, -lo, n, self.p_holm(top), self.resolved(top) == -1)
        comps = {e: comps[e] for e in ranked[1:]}
        return Lowest(top, comps, lowest_status(comps))

    def sweep_lowest(self, pts):
        """The point of a sweep (sweep_blocks' points) with the lowest test MSE over the seeds that every
        point has, as a Lowest of the points' eids, with those seeds: (Lowest, seeds); None without a seed
        that every point has. "single-run" where they share one seed only."""
        per = {p[4]: {r["seed"]: r["test_mse"] for r in self.runs_of(p[4]) if r.get("test_mse") is not None} for p in pts}
        common = sorted(set.intersection(*[set(d) for d in per.values()])) if per else []
        if not common:
            return None
        cm = {e: pl.mean([d[k] for k in common]) for e, d in per.items()}
        ranked = sorted(per, key=lambda e: (cm[e], [p[4] for p in pts].index(e)))
        top = ranked[0]
        comps = separation({k: per[top][k] for k in common}, {e: {k: per[e][k] for k in common} for e in ranked[1:]})
        return Lowest(top, {e: comps[e] for e in ranked[1:]}, lowest_status(comps)), common

    def optimizer_lowest(self, m):
        """Whether model m's recorded optimizer choice is resolved by the study's seeds (optimizer_lowest);
        None where the study has not finished."""
        return optimizer_lowest(self.choice[m]) if self.choice.get(m) else None

    def models_welch(self):
        """The two base models compared on their test MSE: (lower model, other model, Welch's (d, lo, hi, nu,
        p) of other - lower; welch_interval): the models are different networks, so their runs are not
        paired by seed. None unless exactly two models have base runs."""
        xs = {m: [r["test_mse"] for r in self.runs_of(m + "/base") if r.get("test_mse") is not None] for m in self.models}
        xs = {m: v for m, v in xs.items() if v}
        if len(xs) != 2:
            return None
        lo_m, hi_m = sorted(xs, key=lambda m: (pl.mean(xs[m]), self.models.index(m)))
        return lo_m, hi_m, welch_interval(xs[lo_m], xs[hi_m])

    def learnt(self, m):
        """Whether base model m meets the study's criterion (LEARNT_RATIO): (ratio of mean test MSE to the
        all-zero baseline's, frames at or above the all-zero baseline's MSE (their numbers), SSIM above
        all-zero's, all three met). None without runs or baseline."""
        mu, zero = self.stat(m + "/base", "test_mse")[0], self.stat("baseline/zero", "test_mse")[0]
        if not (math.isfinite(mu) and math.isfinite(zero) and zero > 0):
            return None
        fb, fz = self.frame_means(m + "/base", "mse"), self.frame_means("baseline/zero", "mse")
        above = [t for t in sorted(fb) if t in fz and fb[t] >= fz[t]]
        ssim_ok = self.stat(m + "/base", "test_ssim")[0] > self.stat("baseline/zero", "test_ssim")[0]
        ratio = mu / zero
        return ratio, above, ssim_ok, ratio <= LEARNT_RATIO and not above and ssim_ok

    def frame_means(self, eid, col):
        """{predicted frame: mean over eid's finished runs} of a frames.csv column."""
        rows = self.finished_rows(self.frames, eid) if not eid.startswith("baseline/") else \
            [r for r in self.frames if r["model"] == "baseline" and r["experiment"] == eid.split("/")[1]]
        out = {}
        for t in sorted({r["frame"] for r in rows}):
            xs = [r[col] for r in rows if r["frame"] == t and r[col] is not None]
            if xs:
                out[t] = pl.mean(xs)
        return out

    def strip_background(self):
        """Per row of the strips that is a model's prediction: (eid, median grey level of its predicted
        frames' pixels, mean over the frames) — the background's level, which covers most of a frame —
        from the strip PNGs (first test sequence, first seed), divided by the row's contrast stretch
        (strip.json: stretch) where it has one."""
        out = []
        for st, _ in self.strips():
            w, h, img = png_grey(os.path.join(self.path, st["file"]))
            # the predicted frames are the row's last `future` cells (a strip is as wide as the inputs;
            # a shorter horizon leaves the first cells of a prediction row empty, grey)
            cols = strip_cells(w)
            first = max(0, cols - (self.future() or cols))
            for i, r in enumerate(st["rows"]):
                if r["row"] not in self.exps:
                    continue
                meds = []
                for t in range(first, cols):
                    px = strip_frame(img, w, h, i, t)
                    if px is None:
                        break
                    px.sort()
                    meds.append(px[len(px) // 2] / r.get("stretch", 1.0))   # as predicted, before the stretch
                if meds:
                    out.append((r["row"], pl.mean(meds)))
        return out

    def strip_mass(self):
        """Per row of the strips that is a model's prediction: (eid, its last predicted frame's pixel mass
        (sum of grey levels) over the true last frame's), from the strip PNGs as strip_background reads
        them — whether the digits are still there at the end of the horizon or have faded (issue 14's
        criterion: at least half). None for a strip without a truth row or with a black true frame."""
        out = []
        for st, _ in self.strips():
            w, h, img = png_grey(os.path.join(self.path, st["file"]))
            names = [r["row"] for r in st["rows"]]
            if "truth" not in names:
                continue
            t = min(9, strip_cells(w) - 1)     # the last predicted frame's column
            true = sum(strip_frame(img, w, h, names.index("truth"), t))
            if true <= 0:
                continue
            # a stretched row (summarize.py: its grey levels times k, clipped) divided by k: the mass as
            # predicted, up to the few pixels the stretch clipped
            out += [(r["row"], sum(strip_frame(img, w, h, i, t)) / r.get("stretch", 1.0) / true)
                    for i, r in enumerate(st["rows"]) if r["row"] in self.exps]
        return out

    # ---------------------------------------------------------------- sweeps

    def sweep_blocks(self):
        """Per model and sweep (model-major): (model, sweep, [(x, mean, sd, n, eid)] sorted by x) — every
        point's value of the swept key (its resolved config) and its test MSE over finished runs."""
        blocks = []
        for m in self.models:
            for w, sw in self.sweeps.items():
                pts = []
                for p in sw["points"]:
                    eid = m + "/" + p
                    x = self.cfg(eid, sw["key"])
                    mu, sd, n = self.stat(eid, "test_mse") if eid in self.exps else (None, None, 0)
                    if x is not None and n:
                        pts.append((float(x), mu, sd, n, eid))
                blocks.append((m, w, sorted(pts)))
        return blocks

    def common_seed_mean(self, pts):
        """Per point, the mean test MSE over the seeds that every point of the sweep has (a point with
        more seeds is compared on those only), and those seeds."""
        per = [{r["seed"]: r["test_mse"] for r in self.runs_of(p[4]) if r.get("test_mse") is not None} for p in pts]
        common = sorted(set.intersection(*[set(d) for d in per])) if per else []
        return [pl.mean([d[s] for s in common]) for d in per], common

    # ---------------------------------------------------------------- the report next to ours

    def report_model(self, label):
        """Our model id of the report's model label (ConvLSTM → convlstm)."""
        return {v: k for k, v in pl.MODEL_LABELS.items()}.get(label)

    def report_base_mse(self):
        """The report's base MSE per model label."""
        return {r["model"]: float(r["mse"]) for r in self.report if REPORT_MATCH.get(r["variant"]) == "base"}

    def report_direction(self, r):
        """The report's change of MSE of row r against its own base: (relative change in %, direction
        -1/0/+1), or (None, None) for the base rows and a model without a base row."""
        rb = self.report_base_mse().get(r["model"])
        if REPORT_MATCH.get(r["variant"]) == "base" or rb is None:
            return None, None
        rel = 100.0 * (float(r["mse"]) - rb) / rb
        return rel, (0 if float(r["mse"]) == rb else (1 if rel > 0 else -1))

    def report_eid(self, r):
        m, name = self.report_model(r["model"]), REPORT_MATCH.get(r["variant"])
        return "%s/%s" % (m, name) if m and name else None

    def report_agreement(self):
        """Per report row with a matching regularizer of ours that has paired runs: (report model label,
        variant, our eid, report direction, our direction, resolved = our interval excludes zero)."""
        agree = []
        for r in self.report:
            eid = self.report_eid(r)
            name = REPORT_MATCH.get(r["variant"])
            have = eid is not None and eid in self.exps and self.exps[eid]["model"] in self.models and \
                self.stat(eid, "test_mse")[2] > 0
            if not have or name == "base":
                continue
            d, lo, hi, n = self.paired(eid, "test_mse")
            if n:
                odir = 1 if d > 0 else -1 if d < 0 else 0
                agree.append((r["model"], r["variant"], eid, self.report_direction(r)[1], odir,
                              bool(self.resolved(eid, "test_mse"))))
        return agree

    # ---------------------------------------------------------------- the qualitative strips

    def strips(self):
        """The strips of strip.json whose PNG exists in the summary, each with its file tag."""
        strip_list = self.strip.get("strips")
        if strip_list is None:   # an older summary: one strip.png of several models
            strip_list = [{"model": "", "file": "strip.png", "rows": self.strip.get("rows", [])}] if self.strip.get("rows") else []
        return [(st, re.sub(r"[^A-Za-z]", "", st["model"]) or "all") for st in strip_list
                if os.path.exists(os.path.join(self.path, st["file"]))]

    # ---------------------------------------------------------------- the report's protocol (leak)

    def _leak_control(self):
        """The causal-head control of the centred-head experiment (experiments/convlstm/leak_causal.conf):
        the experiment of the same model, with finished runs, whose resolved config differs from the
        leak's in `head` alone — same training (teacher forcing, schedule, epochs) and the same weights
        tested — so that the two differ in the head only. None where the build has no such experiment."""
        if not self.leak:
            return None
        mine = self.exps[self.leak].get("config", {})
        for e in self.run_methods:
            other = self.exps[e].get("config", {})
            if e != self.leak and e.split("/")[0] == self.leak.split("/")[0] and \
                    {k for k in set(mine) | set(other) if mine.get(k) != other.get(k)} == {"head"}:
                return e
        return None

    # ---------------------------------------------------------------- the control regime (fresh sequences)

    def fresh_control(self, m):
        """Model m's control regime (experiments/controls/fresh.conf): its experiment with finished runs
        whose resolved config trains on fresh sequences every epoch (fresh_train = 1); None without one."""
        return next((e for e in self.run_methods if e.split("/")[0] == m and self.is_control(e)), None)

    def free_running_epoch(self, eid):
        """The first epoch in which every step of eid feeds the model its own predictions (scheduled sampling
        over: its iterations all at or after sampling_iters), so that its training loss is the same quantity
        as the validation loss; 1 without scheduled sampling; None when the config lacks the keys."""
        try:
            mode = self.cfg(eid, "sampling")
            if mode is None:
                return None
            if mode != "scheduled":
                return 1
            spe = int(self.cfg(eid, "n_train")) // int(self.cfg(eid, "batch"))
            return -(-int(self.cfg(eid, "sampling_iters")) // spe) + 1
        except (TypeError, ValueError, ZeroDivisionError):
            return None

    def gap_window(self, eid):
        """(e0, last, w) of eid's gap series: e0 the first free-running epoch, last the last epoch of its
        runs, w the number of epochs averaged at each end (GAP_WINDOW, at most half of the span e0..last, at
        least 1); None when e0 is unknown, no run has an epoch past e0, or the runs end at different epochs."""
        e0 = self.free_running_epoch(eid)
        ends = {max(g) for g in self.gap_series(eid).values()}
        if e0 is None or len(ends) != 1 or min(ends) <= e0:
            return None
        last = ends.pop()
        return e0, last, max(1, min(GAP_WINDOW, (last - e0 + 1) // 2))

    @staticmethod
    def gap_ends(g, e0, last, w):
        """(start, end) of one run's gap series g ({epoch: gap}): the means over epochs e0 .. e0+w-1 and
        last-w+1 .. last; None where an epoch of either window is missing."""
        a, b = range(e0, e0 + w), range(last - w + 1, last + 1)
        if any(e not in g for e in list(a) + list(b)):
            return None
        return pl.mean([g[e] for e in a]), pl.mean([g[e] for e in b])

    def regime(self, m):
        """The control regime of model m: its fresh-sequence runs against the base runs of the same seeds,
        from the start of free running to the end (each end a mean over w epochs: gap_window, gap_ends).
        None without a control. Otherwise a dict:
        left — [(seed, "fresh" | "base", last/best validation loss, best epoch)] of the seed pairs left out
        because a run became unstable (last validation loss > UNSTABLE_RATIO x its best, and its training loss
        not below that of its best epoch); seeds — the
        others; and where seeds is not empty: e0, last, w, f0, fN, b0, bN (mean gaps of fresh and base runs
        over the first w free-running epochs and over the last w), growth (per seed: the fresh run's growth of
        the gap, end minus start, minus the base run's),
        g = paired_interval(growth), ft, bt, t (mean test MSE of both, paired interval of the difference),
        base_mse (every base seed's test MSE), p (the paired t-test of the growth; None below two seeds),
        p_holm (Holm-adjusted over the models with a control, one family), and verdict: "overfit" (the gap
        grows less on fresh sequences in every seed, ends below every base run's end gap, and with two or
        more seeds the growth's test survives Holm's correction at LEVEL), "unresolved" (the first two but
        not the test) or "not-overfit"."""
        if not hasattr(self, "_regimes"):     # every model's at once: Holm's family is all of them
            rs = {x: self._regime(x) for x in self.models}
            adj = holm({x: r["p"] for x, r in rs.items() if r and r["seeds"] and r["p"] is not None})
            for x, r in rs.items():
                if r and r["seeds"]:
                    r["p_holm"] = adj.get(x)
                    resolved = len(r["seeds"]) == 1 or (r["p_holm"] is not None and r["p_holm"] <= 1 - LEVEL
                                                        and r["g"][0] < 0)
                    r["verdict"] = "overfit" if r["less"] and resolved else "unresolved" if r["less"] else "not-overfit"
            self._regimes = rs
        return self._regimes.get(m)

    def _regime(self, m):
        """regime(m) without the Holm correction and the verdict: "less" says whether the gap grows less on
        fresh sequences in every seed and ends below every base run's end gap."""
        c, b = self.fresh_control(m), m + "/base"
        win = self.gap_window(b) if c else None
        if not c or win is None or self.gap_window(c) != win:
            return None
        e0, last, w = win
        fg, bg = self.gap_series(c), self.gap_series(b)
        fe = {sd: self.gap_ends(g, e0, last, w) for sd, g in fg.items()}
        be = {sd: self.gap_ends(g, e0, last, w) for sd, g in bg.items()}
        paired = sorted(sd for sd in fe if fe[sd] and be.get(sd))
        row = {(r["experiment"], r["seed"]): r for r in self.runs_of(c) + self.runs_of(b)}
        out = {"left": [], "seeds": []}
        def train_at(r, epoch):
            """r's training loss in `epoch` (curves.csv), None where it has no such row."""
            return next((x["train_loss"] for x in self.curves if x["model"] == r["model"] and
                         x["experiment"] == r["experiment"] and x["seed"] == r["seed"] and x["epoch"] == epoch), None)

        def unstable(r):
            # the validation loss far above its best while the training loss did not fall since that epoch
            # either: a model that got worse, not one that fits its training set better (overfitting)
            if not (r is not None and r["best_val_loss"] and r["last_val_loss"] > UNSTABLE_RATIO * r["best_val_loss"]):
                return False
            tb = train_at(r, r["best_epoch"])
            return tb is None or r["last_train_loss"] is None or r["last_train_loss"] >= tb
        for sd in paired:
            runs = ((who, row.get((e.split("/")[1], sd))) for e, who in ((c, "fresh"), (b, "base")))
            bad = [(who, r) for who, r in runs if unstable(r)]
            if bad:
                who, r = bad[0]
                out["left"].append((sd, who, r["last_val_loss"] / r["best_val_loss"], r["best_epoch"]))
            else:
                out["seeds"].append(sd)
        seeds = out["seeds"]
        if not seeds:
            return out
        tm = {r["seed"]: r["test_mse"] for r in self.runs_of(c)}
        bm = {r["seed"]: r["test_mse"] for r in self.runs_of(b)}
        growth = [(fe[sd][1] - fe[sd][0]) - (be[sd][1] - be[sd][0]) for sd in seeds]
        out.update(e0=e0, last=last, w=w, growth=growth, g=pl.paired_interval(growth, LEVEL),
                   f0=pl.mean([fe[sd][0] for sd in seeds]), fN=pl.mean([fe[sd][1] for sd in seeds]),
                   b0=pl.mean([be[sd][0] for sd in seeds]), bN=pl.mean([be[sd][1] for sd in seeds]),
                   ft=pl.mean([tm[sd] for sd in seeds]), bt=pl.mean([bm[sd] for sd in seeds]),
                   t=pl.paired_interval([tm[sd] - bm[sd] for sd in seeds], LEVEL), base_mse=list(bm.values()))
        out["less"] = all(d < 0 for d in growth) and out["fN"] < min(x[1] for x in be.values() if x)
        out["p"] = t_test_p(growth)
        return out

    def gap_series(self, eid):
        """{seed: {epoch: validation minus training loss}} of eid's finished runs (curves.csv)."""
        out = {}
        for r in self.finished_rows(self.curves, eid):
            if r["train_loss"] is not None and r["val_loss"] is not None:
                out.setdefault(r["seed"], {})[r["epoch"]] = r["val_loss"] - r["train_loss"]
        return out

    def leak_base(self):
        """<model>/base of the centred-head experiment's model (None without a centred-head experiment)."""
        return self.leak.split("/")[0] + "/base" if self.leak else None

    def leak_ratios(self, ref=None):
        """(teacher-forced ref/leak test MSE, autoregressive leak/ref test MSE) of the centred-head
        experiment against ref (default: its causal-head control): a first ratio > 1 means the report's
        protocol favours the leak, a second > 1 that the leak predicts worse on its own. The autoregressive
        MSE is the mean over the finished runs (the control's is one run, like the leak's). None where
        ref is missing or the report's protocol was not computed for both."""
        ref = ref or self.leak_control
        if not self.leak or not ref:
            return None
        lm, rm = self.stat(self.leak, "test_mse")[0], self.stat(ref, "test_mse")[0]
        if self.leak in self.proto and ref in self.proto and self.proto[self.leak]["test_mse"] > 0 and lm and rm:
            return self.proto[ref]["test_mse"] / self.proto[self.leak]["test_mse"], lm / rm
        return None

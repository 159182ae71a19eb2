"""paperdata.py — the summary of a scale (results/<scale>/summary/) as the paper reads it: the loaded
files, the methods in the paper's order with their labels, the statistics per experiment (mean and
sample standard deviation over seeds, paired differences to <model>/base with a Student-t interval),
and the formatting every printed number and word goes through. tables.py (the outputs) and
sentences.py (the result sentences) build on it.

Statistics: paired differences to <model>/base over the seeds both have (same seed = same data order
and initial weights), two-sided LEVEL interval (pipelib.paired_interval). Diverged runs are left out of
means and counted in the tables."""
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
        # the centred-head experiment (the report's leak), if one was run
        self.leak = next((e for e in self.methods if self.cfg(e, "head") == "conv3d_centered"), None)

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

    def is_reg(self, eid):
        """A regularizer: a seeded experiment other than the base (compared with the base by seed)."""
        return eid in self.exps and self.exps[eid]["stage"] == "main" and self.exps[eid]["name"] != "base"

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
        """How regularizer eid changes the test MSE: "better" (interval below zero: lower), "worse"
        (above), "unclear" (contains zero); None with fewer than two seed pairs."""
        mu, lo, hi, n = self.paired(eid, "test_mse")
        if n < 2:
            return None
        return "better" if hi < 0 else "worse" if lo > 0 else "unclear"

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
            have = eid is not None and eid in self.exps and self.stat(eid, "test_mse")[2] > 0
            if not have or name == "base":
                continue
            d, lo, hi, n = self.paired(eid, "test_mse")
            if n:
                odir = 1 if d > 0 else -1 if d < 0 else 0
                agree.append((r["model"], r["variant"], eid, self.report_direction(r)[1], odir, n >= 2 and (hi < 0 or lo > 0)))
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

    def leak_ratios(self):
        """(teacher-forced base/leak test MSE, autoregressive leak/base test MSE) of the centred-head
        experiment against <model>/base: a first ratio > 1 means the report's protocol favours the leak,
        a second > 1 that the leak predicts worse on its own. None where the protocol was not computed."""
        if not self.leak:
            return None
        base = self.leak.split("/")[0] + "/base"
        lm, bm = self.stat(self.leak, "test_mse")[0], self.stat(base, "test_mse")[0]
        if self.leak in self.proto and base in self.proto and self.proto[self.leak]["test_mse"] > 0 and lm and bm:
            return self.proto[base]["test_mse"] / self.proto[self.leak]["test_mse"], lm / bm
        return None

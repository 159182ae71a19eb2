"""pipelib.py — helpers shared by the pipeline scripts (tools/pipeline/*.py): atomic writes, reading a
run directory (resolved config, log.jsonl, metrics.json, done.json), an experiment's config file and
its labels (the `# label:` / `# about:` lines), and the statistics of the paper
(mean, sample standard deviation, Student-t interval of a paired difference).

Only the Python standard library and numpy; the system /usr/bin/python3 runs these scripts."""
import json
import math
import os
import re

METRICS = ["mse", "mse_pixel", "mae", "psnr", "ssim", "ssim_gauss"]
MODEL_LABELS = {"convlstm": "ConvLSTM", "predrnn_pp": "PredRNN++", "baseline": "baseline"}


# --------------------------------------------------------------------------------------------------
# Files


class CheckLog:
    """The lines a check script prints ("ok T: …", "FAIL T: …", "skip T: …: why"), as the C and shell tests
    print theirs, and whether any check failed (the script's exit status)."""

    def __init__(self, name):
        self.name, self.failed = name, False

    def ok(self, msg):
        print("ok %s: %s" % (self.name, msg))

    def fail(self, msg):
        self.failed = True
        print("FAIL %s: %s" % (self.name, msg))

    def skip(self, msg, why):
        print("skip %s: %s: %s" % (self.name, msg, why))


def write_atomic(path, text, mode="w"):
    """Writes text (or bytes with mode "wb") to path via a temp file + rename: never half-written. The
    temp is a new file (mkstemp: O_CREAT|O_EXCL, an unpredictable name, so a planted symlink is never
    followed) in path's directory, removed when the write fails; it gets the mode a new file would."""
    import tempfile
    d = os.path.dirname(path) or "."
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp.", dir=d)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, mode) as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_if_changed(path, text):
    """Like write_atomic, but leaves the file (and its time) alone when the content is the same, so
    that Make does not redo what depends on it. Returns True when written."""
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    write_atomic(path, text)
    return True


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_jsonl(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def read_config(path):
    """A resolved rnnreg config (DIR/config: `key = value` lines, # comments) as a dict of strings."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "=" in line:
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def experiment_conf(model, name, root="experiments"):
    """The config file of experiment <model>/<name> (experiments/experiments.mk exp_conf, the same rule):
    the model's own experiments/<model>/<name>.conf where it has one, else the file every model shares —
    experiments/controls/<name>.conf where there is one (a control: fresh training sequences),
    experiments/base.conf, experiments/optimizers/<o>.conf for opt-<o>, experiments/regularizers/<name>.conf."""
    own = os.path.join(root, model, name + ".conf")
    if os.path.exists(own):
        return own
    control = os.path.join(root, "controls", name + ".conf")
    if os.path.exists(control):
        return control
    if name == "base":
        return os.path.join(root, "base.conf")
    if name.startswith("opt-"):
        return os.path.join(root, "optimizers", name[len("opt-"):] + ".conf")
    return os.path.join(root, "regularizers", name + ".conf")


def conf_tags(path):
    """The `# label: ...` and `# about: ...` lines of an experiment config, as a dict."""
    tags = {}
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r"\s*#\s*(label|about):\s*(.*?)\s*$", line)
                if m and m.group(1) not in tags:
                    tags[m.group(1)] = m.group(2)
    except OSError:
        pass
    return tags


def run_outcome(run_dir):
    """(status, done) of a run directory: status 'ok', 'diverged' or 'missing' (no done.json)."""
    p = os.path.join(run_dir, "done.json")
    if not os.path.exists(p):
        return "missing", None
    done = read_json(p)
    return done.get("status", "ok"), done


def count_parameters(safetensors_path):
    """Number of model parameters in a checkpoint: elements of every tensor except the batch-norm
    running statistics (buffers). Reads only the safetensors header (8-byte length + JSON)."""
    import struct
    with open(safetensors_path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    total = 0
    for name, t in header.items():
        if name == "__metadata__" or "running_" in name:
            continue
        k = 1
        for d in t["shape"]:
            k *= d
        total += k
    return total


def best_val_loss(log_rows):
    vals = [r["val_loss"] for r in log_rows if "val_loss" in r]
    return min(vals) if vals else float("nan")


# --------------------------------------------------------------------------------------------------
# Statistics


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def std(xs):
    """Sample standard deviation (n - 1 in the denominator); nan for fewer than two values."""
    n = len(xs)
    if n < 2:
        return float("nan")
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))


def _betacf(a, b, x):
    """Continued fraction of the regularized incomplete beta function (modified Lentz's method;
    Press et al., Numerical Recipes, 3rd ed., section 6.4)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a, b, x):
    """Regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """Student-t cumulative distribution: P(T <= t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_ppf(p, df):
    """Quantile of the Student-t distribution (bisection on t_cdf), 0 < p < 1."""
    if not 0.0 < p < 1.0:
        raise ValueError("t_ppf: p must be in (0, 1)")
    lo, hi = -1.0, 1.0
    while t_cdf(lo, df) > p:
        lo *= 2.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def paired_interval(diffs, level=0.95):
    """Mean of seed-matched differences with its two-sided Student-t interval:
    mean ± t_{(1+level)/2, n-1} · sd / sqrt(n). Returns (mean, lo, hi, n); lo = hi = nan when n < 2."""
    n = len(diffs)
    m = mean(diffs)
    if n < 2:
        return m, float("nan"), float("nan"), n
    half = t_ppf(0.5 + level / 2.0, n - 1) * std(diffs) / math.sqrt(n)
    return m, m - half, m + half, n

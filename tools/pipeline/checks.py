#!/usr/bin/env python3
"""checks.py — the artifact checks of the pipeline (`make check-artifacts`, tools/pipeline/check_artifacts.sh).
Each prints test-style lines "ok check-artifacts: ...", "FAIL check-artifacts: ...", "skip ...: why"
and exits 1 when a check failed.

  checks.py configs                      experiment/scale configs: every listed experiment has its .conf
                                         (pipelib.experiment_conf) with a `# label:`; scale files set
                                         only size keys (a model's scale file also lr and clip_grad_norm,
                                         when that model has one optimizer and no experiment sets either
                                         key of its own); experiment
                                         files set no size key (a scale would silently override it)
  checks.py tex PAPER_BUILD              no digit in the results parts of paper/*.tex (allow-list
                                         digit-allowlist.txt); every \\rv{key} used is defined in
                                         PAPER_BUILD/values.tex, each definition naming its source
  checks.py pdf PAPER_BUILD              the PDF's text (pdftotext) holds every number of the tables the
                                         paper inputs and of the values it uses; the widths LaTeX reports
                                         equal those of figures/style.gp
  checks.py runs RESULTS                 determinism (the base run of a seed and the optimizer-study run
                                         of the chosen optimizer and the same seed have the same resolved
                                         config: their outputs must be identical, byte for byte) and one
                                         test set (every run's truth.npy = the baselines' test frames);
                                         a carried run (committed without its large files: pipeline.mk
                                         CARRY_SCALES) is compared by its small files, and a skip line
                                         says which large files were not there to compare
  checks.py files [--prune] DIR...       every generated file in DIR (tables, values, figure data, figures,
                                         the paper, the summary's CSV/JSON/PNG) is whole: not empty, a PDF
                                         starts with %PDF- and ends with %%EOF, a PNG ends with its IEND
                                         chunk, JSON parses, text ends with its last newline, a figure's .tex
                                         ends as gnuplot ends it and has its drawing. --prune: remove the
                                         damaged ones (and strips.tex for a strip, or the summary's
                                         runs.csv for a summary file) so Make makes them again, one
                                         line each, and exit 0
Environment for `configs`: ALL_RUNS, MODELS; for `runs`: OPT_SEEDS, MODELS; for `tex` and `pdf`:
PAPER_SRC (the folder of paper.tex, default paper; the tests point it at altered copies)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402

T = "check-artifacts"
LOG = pl.CheckLog(T)
ok, fail, skip = LOG.ok, LOG.fail, LOG.skip

# keys a scale file may set (sizes, data counts, the horizon, schedule length, threads/backend): everything
# else is the method, which belongs to the experiments
SCALE_KEYS = {"layers", "kernels", "patch", "n_train", "n_val", "n_test", "seq_len", "batch", "epochs", "sampling_iters",
              "threads", "precision", "predict_sequences", "checkpoint_every", "backend", "tf32", "lr_step_epochs"}
# and, in a scale's model file (experiments/scales/<scale>/<model>.conf) only, the training keys that the scale's
# step budget decides for that model: the learning rate and the gradient clipping (see check_configs)
SCALE_LR_KEYS = {"lr", "clip_grad_norm"}


def conf_keys(path):
    """Keys set in one config file (not its includes)."""
    keys = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            k = line.split("=", 1)[0].strip()
            if k != "include":
                keys.append(k)
    return keys


# --------------------------------------------------------------------------------------------------


def check_configs():
    runs = os.environ.get("ALL_RUNS", "").split()
    exps = sorted({"/".join(r.split("/")[:2]) for r in runs})
    conf = {e: pl.experiment_conf(*e.split("/")) for e in exps}
    missing = [e for e in exps if not os.path.exists(conf[e])]
    (fail if missing else ok)("every listed experiment has its config file (%d)%s" % (
        len(exps), ": missing " + " ".join("%s (%s)" % (e, conf[e]) for e in missing) if missing else ""))
    unlabeled = [e for e in exps if e not in missing and "label" not in pl.conf_tags(conf[e])]
    (fail if unlabeled else ok)("every experiment config has a '# label:' line%s" % (
        ": not " + " ".join(unlabeled) if unlabeled else ""))
    bad, models = [], os.environ.get("MODELS", "").split()
    for root, _, files in sorted(os.walk("experiments/scales")):
        for f in sorted(files):
            if f.endswith(".conf"):
                bad += ["%s/%s: %s" % (root, f, k) for k in conf_keys(os.path.join(root, f))
                        if k not in SCALE_KEYS and not (k in SCALE_LR_KEYS and os.path.dirname(root) == "experiments/scales"
                                                        and f[:-len(".conf")] in models)]
    (fail if bad else ok)("scale files set only size keys%s" % (": " + ", ".join(bad) if bad else ""))
    # a model's scale file may also set the learning rate and the gradient clipping (SCALE_LR_KEYS: the step
    # budget decides them), which then replace the optimizer's and every experiment's: so in this scale's
    # runs that model has one optimizer where the scale sets lr, and no experiment that sets one of those
    # keys of its own (AdamW's lr), else the scale would silently override a method
    scale = os.environ.get("SCALE", "")
    bad = []
    for m in models:
        p = "experiments/scales/%s/%s.conf" % (scale, m)
        keys = set(conf_keys(p)) & SCALE_LR_KEYS if scale and os.path.exists(p) else set()
        if not keys:
            continue
        opts = sorted(e for e in exps if e.startswith(m + "/opt-"))
        if "lr" in keys and len(opts) > 1:
            bad.append("%s sets lr but %s has %d optimizers (%s)" % (p, m, len(opts), " ".join(opts)))
        bad += ["%s sets %s and %s's experiment %s sets %s" % (p, " ".join(sorted(keys)), m, e,
                                                             " ".join(sorted(set(conf_keys(conf[e])) & keys)))
                for e in exps if e.startswith(m + "/") and e not in opts and e not in missing
                and set(conf_keys(conf[e])) & keys]
    (fail if bad else ok)("a learning rate or clipping set by a scale file overrides no optimizer choice or experiment's own%s" % (
        ": " + "; ".join(bad) if bad else ""))
    bad = []
    files = sorted({conf[e] for e in exps if e not in missing})
    for f in files:
        bad += ["%s: %s" % (f, k) for k in conf_keys(f) if k in SCALE_KEYS]
    (fail if bad else ok)("experiment files set no size key (%d files)%s" % (len(files), ": " + ", ".join(bad) if bad else ""))
    for m in os.environ.get("MODELS", "").split():
        for scale in sorted(os.listdir("experiments/scales")):
            p = "experiments/scales/%s/%s.conf" % (scale, m)
            if not os.path.exists(p):
                fail("%s is missing" % p)


# --------------------------------------------------------------------------------------------------

STRIP_ARGS = re.compile(r"\\(rv|ref|label|cite|input|figinput|includegraphics|eqref|begin|end)(\[[^\]]*\])?\{[^}]*\}")


def results_regions(path):
    """(line number, text) of the lines between %% results:begin and %% results:end, comments removed."""
    out, inside = [], False
    for i, line in enumerate(open(path), 1):
        s = line.strip()
        if s.startswith("%% results:begin"):
            if inside:
                fail("%s:%d: results:begin inside a results part" % (path, i))
            inside = True
            continue
        if s.startswith("%% results:end"):
            if not inside:
                fail("%s:%d: results:end without results:begin" % (path, i))
            inside = False
            continue
        if inside:
            out.append((i, re.sub(r"(?<!\\)%.*", "", line.rstrip("\n"))))
    if inside:
        fail("%s: a results part is not closed (%%%% results:end)" % path)
    return out


def read_values(path):
    vals = {}
    for i, line in enumerate(open(path), 1):
        m = re.match(r"\\rrdef\{([^}]*)\}\{(.*)\}%(.*)$", line.rstrip("\n"))
        if m:
            vals[m.group(1)] = (m.group(2), m.group(3).strip(), i)
    return vals


def check_tex(paper_build):
    allow = [re.compile(ln.rstrip("\n")) for ln in open(os.path.join(os.path.dirname(__file__), "digit-allowlist.txt"))
             if ln.strip() and not ln.startswith("#")]
    src_dir = os.environ.get("PAPER_SRC", "paper")
    sources = sorted(os.path.join(src_dir, f) for f in os.listdir(src_dir) if f.endswith(".tex"))
    n_lines, bad = 0, []
    for src in sources:
        for i, text in results_regions(src):
            n_lines += 1
            t = STRIP_ARGS.sub("", text)
            for a in allow:
                t = a.sub("", t)
            if re.search(r"\d", t):
                bad.append("%s:%d: %s" % (src, i, text.strip()))
    if n_lines == 0:
        fail("no results part (%% results:begin ... %% results:end) in paper/*.tex")
    (fail if bad else ok)("no digit literal in the results parts of paper/*.tex (%d lines)%s" % (
        n_lines, "".join("\n    " + b for b in bad)))
    vpath = os.path.join(paper_build, "values.tex")
    if not os.path.exists(vpath):
        fail("%s does not exist (make tables)" % vpath)
        return
    vals = read_values(vpath)
    used = set()
    for src in sources:
        used |= set(re.findall(r"\\rv\{([^}]*)\}", re.sub(r"(?<!\\)%.*", "", open(src).read())))
    undefined = sorted(used - set(vals))
    (fail if undefined else ok)("every \\rv key used in paper/*.tex (%d) is defined in values.tex%s" % (
        len(used), ": undefined " + ", ".join(undefined) if undefined else ""))
    nosrc = [k for k, (_, src, _) in vals.items() if not src]
    (fail if nosrc else ok)("every value of values.tex names the results file it comes from (%d values)%s" % (
        len(vals), ": not " + ", ".join(nosrc) if nosrc else ""))


# --------------------------------------------------------------------------------------------------

NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.]*\d)")


BRACED = r"\{(?:[^{}]|\{[^{}]*\})*\}"     # a {group}, with one level of groups inside (p{0.6\textwidth})


def numbers_in_tex(text):
    text = re.sub(r"\\begin\{tabular\}" + BRACED, "", text)
    text = re.sub(r"\\multicolumn\{\d+\}" + BRACED, "", text)
    text = re.sub(r"\\(addlinespace|vspace|hspace)\[[^\]]*\]", "", text)
    text = re.sub(r"\\(url|href)\{[^}]*\}", "", text)
    text = re.sub(r"-{2,3}", " ", text)     # TeX's en and em dashes (a range, 6--8): no minus sign in the PDF
    return [m.group(0) for m in NUMBER.finditer(text.replace("$", " "))]


def check_pdf(paper_build):
    pdf = os.path.join(paper_build, "paper.pdf")
    if not os.path.exists(pdf):
        fail("%s does not exist (make paper)" % pdf)
        return
    try:
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], check=True, capture_output=True,
                              text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        skip("numbers of the PDF", "pdftotext failed (%s)" % e)
        return
    text = text.replace("\u2212", "-").replace("\u00ad", "").replace("\ufb01", "fi")
    paper = re.sub(r"(?<!\\)%.*", "", open(os.path.join(os.environ.get("PAPER_SRC", "paper"), "paper.tex")).read())
    inputs = re.findall(r"\\input\{(tab-[^}]*)\}", paper)
    vals = read_values(os.path.join(paper_build, "values.tex"))
    used = set(re.findall(r"\\rv\{([^}]*)\}", paper))
    expected = []
    for t in inputs:
        expected += [(t, n) for n in numbers_in_tex(open(os.path.join(paper_build, t)).read())]
    for k in sorted(used):
        if k in vals:
            expected += [("\\rv{%s}" % k, n) for n in numbers_in_tex(vals[k][0])]
    missing = []
    for src, n in expected:
        if not re.search(r"(?<![\d.])" + re.escape(n) + r"(?![\d])", text):
            missing.append("%s from %s" % (n, src))
    (fail if missing else ok)("the PDF's text holds the %d numbers of its %d tables and %d values%s" % (
        len(expected), len(inputs), len(used), ": missing " + "; ".join(missing[:12]) if missing else ""))
    # widths: figures/style.gp against what LaTeX reports
    style = open("figures/style.gp").read()
    want = {k: float(re.search(r"^%s\s*=\s*([\d.]+)" % k, style, re.M).group(1)) * 72.27 for k in ("COLW", "TEXTW")}
    log = open(os.path.join(paper_build, "paper.log"), errors="replace").read()
    m = re.search(r"rnnreg-widths: columnwidth=([\d.]+)pt textwidth=([\d.]+)pt", log)
    if not m:
        fail("paper.log has no rnnreg-widths line")
    else:
        got = {"COLW": float(m.group(1)), "TEXTW": float(m.group(2))}
        off = [k for k in got if abs(got[k] - want[k]) > 0.5]
        (fail if off else ok)("figures are drawn at the paper's widths (column %.2fpt, text %.2fpt; style.gp %.2fpt, %.2fpt)" % (
            got["COLW"], got["TEXTW"], want["COLW"], want["TEXTW"]))
    over = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)
    big = [float(x) for x in over if float(x) > 5]
    (fail if big else ok)("no box more than 5pt too wide in the paper (%d overfull boxes, widest %.1fpt)" % (
        len(over), max([float(x) for x in over] or [0])))


# --------------------------------------------------------------------------------------------------


def untimed_log(path):
    rows = pl.read_jsonl(path)
    for r in rows:
        r.pop("seconds", None)
        r.pop("seq_per_s", None)
    return rows


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


LARGE_FILES = ["predictions.npy", "best.safetensors", "last.safetensors"]


def check_runs(results):
    import numpy as np
    pairs = 0
    for m in os.environ.get("MODELS", "").split():
        p = os.path.join(results, m, "optimizer.json")
        if not os.path.exists(p):
            continue
        chosen = pl.read_json(p)["chosen"]
        for s in os.environ.get("OPT_SEEDS", "").split():
            a, b = os.path.join(results, m, "base", s), os.path.join(results, m, "opt-" + chosen, s)
            if pl.run_outcome(a)[0] != "ok" or pl.run_outcome(b)[0] != "ok":
                continue
            if pl.read_config(os.path.join(a, "config")) != pl.read_config(os.path.join(b, "config")):
                fail("%s and %s: resolved configs differ (the chosen optimizer is not what the base run used?)" % (a, b))
                continue
            pairs += 1
            absent = [f for f in LARGE_FILES if not (os.path.exists(os.path.join(a, f)) and os.path.exists(os.path.join(b, f)))]
            same = all(same_bytes(os.path.join(a, f), os.path.join(b, f))
                       for f in ["config", "metrics.json"] + [f for f in LARGE_FILES if f not in absent])
            same = same and untimed_log(os.path.join(a, "log.jsonl")) == untimed_log(os.path.join(b, "log.jsonl"))
            (ok if same else fail)("two runs of one config give identical outputs: %s = %s%s" % (
                a, b, " (config, metrics.json, log.jsonl; %d large files)" % (len(LARGE_FILES) - len(absent)) if absent else ""))
            if absent:
                skip("bit-identity of %s and %s in %s" % (a, b, ", ".join(absent)),
                     "not there in both (a carried run is committed without its large files)")
    if pairs == 0:
        skip("determinism of repeated runs", "no finished pair of base and chosen-optimizer runs in %s" % results)
    truth = os.path.join(results, "baselines", "truth_strip.npy")
    if not os.path.exists(truth):
        skip("one test set", "no %s" % truth)
        return
    ref = np.load(truth)
    n, bad, carried = 0, [], []
    for root, _, files in os.walk(results):
        if "done.json" not in files or os.path.basename(root) == "baselines":
            continue
        if "truth.npy" in files:
            n += 1
            t = np.load(os.path.join(root, "truth.npy"))
            k = min(t.shape[1], ref.shape[1])
            if not np.array_equal(t[:, :k], ref[:, :k]):
                bad.append(root)
        elif pl.run_outcome(root)[0] == "ok":
            carried.append(root)
    if carried:
        skip("one test set for %d finished runs without truth.npy (%s%s)" % (
            len(carried), " ".join(sorted(carried)[:3]), " ..." if len(carried) > 3 else ""),
             "carried runs are committed without their large files")
    if n or not carried:
        (fail if bad or n == 0 else ok)("every run with its truth.npy (%d) was tested on the same sequences as the baselines%s" % (
            n, ": not " + " ".join(bad) if bad else ""))


# --------------------------------------------------------------------------------------------------


PNG_SIG = b"\x89PNG\r\n\x1a\n"
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def damage(path):
    """Why a generated file is not whole (a kill in the middle of writing it), or None."""
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1]
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return "empty"
    if ext == ".pdf":
        if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
            return "not a whole PDF (no %PDF- header or no %%EOF at the end)"
    elif ext == ".png":
        if not data.startswith(PNG_SIG) or not data.endswith(PNG_IEND):
            return "not a whole PNG (no signature or no IEND chunk at the end)"
    elif ext == ".json":
        try:
            import json
            json.loads(data.decode())
        except ValueError as e:
            return "not valid JSON (%s)" % str(e).split("\n")[0]
    elif not data.endswith(b"\n"):
        return "cut short (no newline at the end)"
    elif name.startswith("fig-") and ext == ".tex":
        if not data.rstrip().endswith(b"\\endgroup") or b"\\end{picture}" not in data:
            return "cut short (gnuplot's cairolatex text does not end with \\end{picture} ... \\endgroup)"
        if not os.path.exists(os.path.join(os.path.dirname(path), name[:-4] + ".pdf")):
            return "its drawing %s.pdf is missing" % name[:-4]
    return None


def check_files(dirs, prune):
    exts = {".pdf", ".png", ".json", ".csv", ".tex", ".dat", ".gp"}
    n, bad = 0, []
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if name.startswith(".") or os.path.splitext(name)[1] not in exts or not os.path.isfile(path):
                continue
            n += 1
            why = damage(path)
            if why:
                bad.append((path, why))
    if prune:
        for path, why in bad:
            os.remove(path)
            # what Make must redo besides the file (a table or figure datum is a target of its own): the
            # file whose rule writes it — strips.tex for a strip's picture or labels (tables.py), the
            # summary's runs.csv (the file with the recipe) for any other summary file
            d, name = os.path.dirname(path), os.path.basename(path)
            for owner in ("strips.tex", "runs.csv") if name.startswith("strip-") else ("runs.csv",):
                sp = os.path.join(d, owner)
                if not name.startswith(("fig-", "paper.")) and os.path.exists(sp):
                    os.remove(sp)
            print("[pipeline] %s: %s; removed, to be made again" % (path, why))
        return
    if bad:
        fail("generated files whole: %d of %d damaged:%s" % (len(bad), n, "".join("\n    %s: %s" % b for b in bad)))
    else:
        ok("generated files whole: %d files in %s (none empty or cut short)" % (n, " ".join(dirs)))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "configs":
        check_configs()
    elif cmd == "tex":
        check_tex(sys.argv[2])
    elif cmd == "pdf":
        check_pdf(sys.argv[2])
    elif cmd == "runs":
        check_runs(sys.argv[2])
    elif cmd == "files":
        prune = "--prune" in sys.argv[2:]
        check_files([x for x in sys.argv[2:] if x != "--prune"], prune)
    else:
        sys.exit(__doc__)
    sys.exit(1 if LOG.failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""summarize.py — every finished run of a scale → the small files the paper is made from
(results/<scale>/summary/, committed for the quick scale so that `make paper` needs no training):

  runs.csv          one row per run (and per baseline): status, epochs, best epoch, best validation
                    loss, last train/validation loss, test metric means (metrics.json "mean"), seconds
  frames.csv        test metrics per future frame, per run and baseline
  curves.csv        per epoch: train/validation loss, validation MSE/PSNR/SSIM, lr, seconds
  experiments.json  per experiment: model, stage, label/about (from its .conf), planned seeds, the
                    resolved config of its first run, the keys that differ from <model>/base, and the
                    optimizer study's choice per model
  setup.json        scale, seeds, data provenance (the data's .json), environment (git commit, CPU,
                    cores, memory, `rnnreg info`), run times (the sum of the runs' wall times, their
                    mean per model, and the elapsed time from the first run's start to the last run's
                    end: end = done.json's ended_at (else, runs stamped before run.sh recorded it, the
                    file's time), start = end - its wall time), missing runs,
                    run_precisions (only when a run asked precision bf16 or auto: the distinct
                    "precision" records of the runs' metrics.json),
                    and "numerics": what bit-identical runs depend on (NUMERICS_KEYS: CPU model and bf16
                    flags, BLAS library and core, precision, conv engine, threads, backend), one value per
                    key when every run agrees, else the sorted distinct values, with "numerics_by_run"
                    then naming each run's; a value nobody recorded is null (runs made before
                    run.sh recorded it). `make check-artifacts` compares runs bit for bit only where the
                    fresh and the committed numerics agree (compare_summaries.py)
  protocol.csv      the report's protocol (teacher-forced evaluation, report_protocol.py) of the
                    PROTOCOL experiments' first-seed runs: test metric means
  strip-<model>.png the qualitative strips, one per model of the STRIP experiments, rows of the
                    predicted length: input frames, true future frames, copy-last, then that model's
                    STRIP experiments in list order (first seed, first test sequence), drawn by
                    `rnnreg strip`; strip.json names the strips and their rows
Floats are written with repr (shortest exact round trip), so equal runs give equal files.
A carried run (committed without its large files: pipeline.mk CARRY_SCALES) gives the same summary from
its small stand-ins (carry_files.py): the parameter count from parameters.json, its strip row from
predictions_strip.npy; the copy-last row is drawn from the baselines' truth_strip.npy. For every finished
run read here, carry_files.py makes the stand-ins it lacks where the large files are there.
Usage: see pipeline.mk (rule of $(SUMMARY)/runs.csv)."""
import argparse
import csv
import io
import json
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import carry_files  # noqa: E402
import pipelib as pl  # noqa: E402

RUN_FIELDS = ["model", "experiment", "seed", "stage", "status", "epochs", "best_epoch", "best_val_loss",
              "last_train_loss", "last_val_loss", "gap_last", "train_seconds", "wall_seconds", "seq_per_s"] + \
             ["test_" + m for m in pl.METRICS]
PROTOCOL_FIELDS = ["model", "experiment", "seed", "status", "head", "sequences", "first_frame_max_diff"] + \
                  ["test_" + m for m in pl.METRICS]
FRAME_FIELDS = ["model", "experiment", "seed", "frame"] + pl.METRICS
CURVE_FIELDS = ["model", "experiment", "seed", "epoch", "train_loss", "val_loss", "val_mse", "val_psnr",
                "val_ssim", "lr", "seconds"]


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def csv_text(fields, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: fmt(r.get(k)) for k in fields})
    return buf.getvalue()


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def environment(rnnreg):
    cpu, mem = "", ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = "%.0f GiB" % (int(line.split()[1]) / 1024 / 1024)
                break
    except OSError:
        pass
    commit = sh(["git", "rev-parse", "HEAD"])
    dirty = bool(sh(["git", "status", "--porcelain", "--untracked-files=no"]))
    return {"git_commit": commit, "git_dirty": dirty, "cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "rnnreg_info": sh([rnnreg, "info"])}


# what a run's bits depend on besides its config and seed (the same on two machines => bit-identical runs)
NUMERICS_KEYS = ["cpu", "cpu_flags", "blas", "blas_core", "precision", "conv_engine", "threads", "backend", "math"]


def info_field(info, name):
    """A line "name: value" of `rnnreg info`, the value up to a " (" note; None when absent."""
    for line in (info or "").splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].split(" (", 1)[0].strip()
    return None


def run_numerics(d, done):
    """What run directory d's numbers depend on, from what the run recorded: done.json (cpu, cpu_flags,
    rnnreg_info: written by run.sh), metrics.json (precision, absent = fp32; conv_engine, absent =
    im2col), the trainer's "N threads" line in train.log, the resolved config (backend). None where the
    run did not record it."""
    info = done.get("rnnreg_info")
    met = {}
    if os.path.exists(os.path.join(d, "metrics.json")):
        met = pl.read_json(os.path.join(d, "metrics.json"))
    threads = None
    if os.path.exists(os.path.join(d, "train.log")):
        for line in open(os.path.join(d, "train.log"), errors="replace"):
            m = re.search(r", (\d+) threads$", line.rstrip("\n"))
            if m:
                threads = int(m.group(1))
    cfg = pl.read_config(os.path.join(d, "config")) if os.path.exists(os.path.join(d, "config")) else {}
    # metrics.json's "precision" member {asked, used, conv_engine, cpu_bf16_isa} exists only where a run
    # asked for more than fp32; otherwise the engine is `rnnreg info`'s "conv engine: NAME (...)" line, and
    # runs from before either was recorded ran im2col in fp32.
    prec = met.get("precision") if isinstance(met.get("precision"), dict) else None
    engine = info_field(info, "conv engine")
    engine = prec["conv_engine"] if prec else (engine.split()[0] if engine else "im2col")
    return {"cpu": done.get("cpu") or None, "cpu_flags": done.get("cpu_flags"),
            "blas": info_field(info, "blas"), "blas_core": info_field(info, "blas core"),
            "precision": (prec["used"] if prec else "fp32") if met else None,
            "conv_engine": engine if met else None,
            "threads": threads, "backend": cfg.get("backend"),
            # `rnnreg info`'s "math:" line (docs/portable.md); a run from before it existed had glibc's
            "math": (info_field(info, "math") or "glibc libm") if info else None}


def numerics_summary(per_run):
    """setup.json's "numerics" (one value per key when all runs agree, else the sorted distinct values)
    and "numerics_by_run" (every run's, only when some key differs between runs)."""
    out, mixed = {}, False
    for k in NUMERICS_KEYS:
        vals = sorted({json.dumps(v[k]) for v in per_run.values()})
        if len(vals) == 1:
            out[k] = json.loads(vals[0])
        else:
            out[k] = [json.loads(v) for v in vals]
            mixed = True
    return out, (per_run if mixed else None)


# A prediction row of a strip whose brightest pixels are dim (a blurred digit spreads its ink) is drawn
# brighter so that it stays visible in print: its grey levels times k, clipped at white, k = 1 / its 99.9th
# percentile (so that at most 0.1 % of its pixels clip), rounded down to a tenth, at most STRIP_STRETCH_MAX;
# none below 1.2. strip.json records k per row; the paper prints it beside the row, and paperdata.py
# divides the PNG's grey levels by it before it measures a row's background or pixel mass.
STRIP_STRETCH_MAX = 4.0


def strip_stretch(frames):
    """(k, frames * k clipped to [0, 1] as float32) for one strip row's predicted frames in [0, 1]."""
    import numpy as np
    x = np.asarray(frames, dtype=np.float64)
    hi = float(np.percentile(x, 99.9))
    k = min(STRIP_STRETCH_MAX, math.floor(10.0 / hi) / 10.0) if hi > 0 else 1.0
    if k < 1.2:
        return 1.0, frames
    return k, np.clip(x * k, 0.0, 1.0).astype(np.float32)


def busy_seconds(spans):
    """The length of the union of the (start, end) intervals: the time in which at least one was open."""
    total, cur = 0.0, None
    for b, e in sorted(spans):
        if cur is not None and b <= cur[1]:
            cur[1] = max(cur[1], e)
            continue
        if cur is not None:
            total += cur[1] - cur[0]
        cur = [b, e]
    return total + (cur[1] - cur[0] if cur is not None else 0.0)


def main():
    ap = argparse.ArgumentParser()
    for k in ["results", "scale", "rnnreg", "data-json", "runs", "opt-exps", "seeded-exps", "once-exps",
              "strip", "seeds", "opt-seeds", "protocol", "out"]:
        ap.add_argument("--" + k, required=True)
    # the sweeps (pipeline.mk SWEEP_SPEC): "<sweep>:<key>:<point>,<point>,..." per sweep; their points that
    # are not seeded experiments (stage "sweep") run with --sweep-seeds
    for k in ["sweep-exps", "sweep-seeds", "sweeps"]:
        ap.add_argument("--" + k, default="")
    # the control regime's experiments and the base runs they are paired with (pipeline.mk CONTROL_PAIRED),
    # which run with --control-seeds (SEEDS, then CONTROL_SEEDS' others) instead of --seeds
    for k in ["control-exps", "control-seeds"]:
        ap.add_argument("--" + k, default="")
    a = ap.parse_args()
    seeds, opt_seeds = a.seeds.split(), a.opt_seeds.split()
    opt_exps, seeded, once = a.opt_exps.split(), a.seeded_exps.split(), a.once_exps.split()
    stage_of = {e: "opt" for e in opt_exps}
    stage_of.update({e: "main" for e in seeded})
    stage_of.update({e: "once" for e in once})
    sweep_exps, sweep_seeds = a.sweep_exps.split(), a.sweep_seeds.split()
    stage_of.update({e: "sweep" for e in sweep_exps})
    control_exps, control_seeds = a.control_exps.split(), a.control_seeds.split() or seeds
    sweeps = {}
    for spec in a.sweeps.split():
        name, key, points = spec.split(":", 2)
        sweeps[name] = {"key": key, "points": points.split(",")}

    runs, frames, curves, missing = [], [], [], []
    configs, params = {}, {}
    hosts, runners = set(), set()
    precisions = set()   # the "precision" members of metrics.json (only runs that asked bf16 / auto have one)
    numerics = {}    # run id -> run_numerics
    spans = []   # (start, end) of every finished run, seconds since the epoch
    strip_exps = set(a.strip.split())
    for rid in a.runs.split():
        model, exp, seed = rid.split("/")
        d = os.path.join(a.results, rid)
        status, done = pl.run_outcome(d)
        if status == "missing":
            missing.append(rid)
            continue
        carry_files.small_copies(d, model + "/" + exp in strip_exps and seed == seeds[0])
        status, done = pl.run_outcome(d)     # done.json may have got its ended_at
        hosts.add(done.get("cpu", ""))
        if status == "ok":     # a diverged run has no numbers to compare, only its status
            numerics[rid] = run_numerics(d, done)
        if done.get("wall_seconds") is not None:
            end = float(done["ended_at"]) if done.get("ended_at") is not None else os.path.getmtime(os.path.join(d, "done.json"))
            spans.append((end - float(done["wall_seconds"]), end))
        runners.add(done.get("runner", ""))
        row = {"model": model, "experiment": exp, "seed": int(seed), "stage": stage_of.get(model + "/" + exp, ""),
               "status": status, "wall_seconds": done.get("wall_seconds")}
        if os.path.exists(os.path.join(d, "config")):
            configs.setdefault(model + "/" + exp, pl.read_config(os.path.join(d, "config")))
        n_params = carry_files.parameters(d)
        if n_params is not None:
            params.setdefault(model + "/" + exp, n_params)
        log = pl.read_jsonl(os.path.join(d, "log.jsonl")) if os.path.exists(os.path.join(d, "log.jsonl")) else []
        for r in log:
            curves.append({"model": model, "experiment": exp, "seed": int(seed), "epoch": r["epoch"],
                           "train_loss": r["train_loss"], "val_loss": r["val_loss"], "val_mse": r.get("val_mse"),
                           "val_psnr": r.get("val_psnr"), "val_ssim": r.get("val_ssim"), "lr": r.get("lr"),
                           "seconds": r.get("seconds")})
        if log:
            best = min(log, key=lambda r: r["val_loss"])
            row.update(epochs=len(log), best_epoch=best["epoch"], best_val_loss=best["val_loss"],
                       last_train_loss=log[-1]["train_loss"], last_val_loss=log[-1]["val_loss"],
                       gap_last=log[-1]["val_loss"] - log[-1]["train_loss"],
                       train_seconds=sum(r.get("seconds", 0.0) for r in log),
                       seq_per_s=pl.mean([r["seq_per_s"] for r in log if r.get("seq_per_s") is not None]))
        if status == "ok":
            m = pl.read_json(os.path.join(d, "metrics.json"))
            if m.get("precision"):
                precisions.add(json.dumps(m["precision"], sort_keys=True))
            row.update({"test_" + k: m["mean"].get(k) for k in pl.METRICS})
            for t in range(m["frames"]):
                frames.append(dict({"model": model, "experiment": exp, "seed": int(seed), "frame": t + 1},
                                   **{k: (m[k][t] if m.get(k) is not None else None) for k in pl.METRICS}))
        runs.append(row)
    if not runs:
        sys.exit("summarize: no finished run under %s: train first (make runs SCALE=%s)" % (a.results, a.scale))

    # baselines
    bdir = os.path.join(a.results, "baselines")
    baselines = {}
    if os.path.exists(os.path.join(bdir, "done.json")):
        for b in ["zero", "copy_last"]:
            m = pl.read_json(os.path.join(bdir, b + ".json"))
            baselines[b] = m
            runs.append(dict({"model": "baseline", "experiment": b, "seed": 0, "stage": "baseline", "status": "ok"},
                             **{"test_" + k: m["mean"].get(k) for k in pl.METRICS}))
            for t in range(m["frames"]):
                frames.append(dict({"model": "baseline", "experiment": b, "seed": 0, "frame": t + 1},
                                   **{k: (m[k][t] if m.get(k) is not None else None) for k in pl.METRICS}))

    # experiments: labels, resolved configs, differences from the model's base
    exps = {}
    for order, e in enumerate(opt_exps + seeded + sweep_exps + once):
        model, name = e.split("/")
        tags = pl.conf_tags(pl.experiment_conf(model, name))
        cfg = {k: v for k, v in configs.get(e, {}).items() if k != "seed"}
        base = {k: v for k, v in configs.get(model + "/base", {}).items() if k != "seed"}
        delta = {k: v for k, v in cfg.items() if base and base.get(k) != v}
        exps[e] = {"model": model, "name": name, "stage": stage_of[e], "label": tags.get("label", name),
                   "about": tags.get("about", ""), "seeds": [int(s) for s in (opt_seeds if e in opt_exps else seeds[:1] if e in once else
                                                                              sweep_seeds if e in sweep_exps else
                                                                              control_seeds if e in control_exps else seeds)],
                   "config": cfg, "delta_from_base": delta, "parameters": params.get(e), "order": order}
    choices = {}
    for model in sorted({e.split("/")[0] for e in opt_exps}):
        p = os.path.join(a.results, model, "optimizer.json")
        if os.path.exists(p):
            choices[model] = pl.read_json(p)
    baseline_info = pl.read_json(os.path.join(bdir, "done.json")) if baselines else None

    data_prov = pl.read_json(a.data_json) if os.path.exists(a.data_json) else {}
    ok_walls = [r["wall_seconds"] for r in runs if r.get("wall_seconds") is not None]
    per_model = {}
    for r in runs:
        if r.get("wall_seconds") is not None:
            per_model.setdefault(r["model"], []).append(r["wall_seconds"])
    setup = {"scale": a.scale, "seeds": [int(s) for s in seeds], "opt_seeds": [int(s) for s in opt_seeds],
             "sweep_seeds": [int(s) for s in sweep_seeds],
             **({"control_seeds": [int(s) for s in control_seeds]} if control_exps else {}),
             "runs_planned": len(a.runs.split()), "runs_finished": len(a.runs.split()) - len(missing),
             "missing_runs": missing, "diverged_runs": ["%s/%s/%s" % (r["model"], r["experiment"], r["seed"])
                                                        for r in runs if r["status"] == "diverged"],
             "data": data_prov, "baselines": baseline_info, "environment": environment(a.rnnreg),
             "run_cpus": sorted(hosts), "runners": sorted(runners),
             "numerics": numerics_summary(numerics)[0],
             "wall_seconds_total": sum(ok_walls),
             "wall_seconds_mean_per_model": {m: pl.mean(v) for m, v in sorted(per_model.items())},
             "wall_seconds_total_per_model": {m: sum(v) for m, v in sorted(per_model.items())},
             "runs_per_model": {m: len(v) for m, v in sorted(per_model.items())},
             # first start to last end (includes any pause between sessions of `make runs`)
             "elapsed_seconds": (max(e for _, e in spans) - min(b for b, _ in spans)) if spans else None,
             # the time in which at least one run was in progress: the union of the runs' intervals, which
             # leaves out the pauses of a study trained in several sittings
             "busy_seconds": busy_seconds(spans) if spans else None}
    if numerics_summary(numerics)[1]:
        setup["numerics_by_run"] = numerics_summary(numerics)[1]

    if precisions:   # fp32 runs record none: their setup.json keeps its bytes
        setup["run_precisions"] = [json.loads(p) for p in sorted(precisions)]

    os.makedirs(a.out, exist_ok=True)
    # the strips, one per model of the strip experiments, every row as wide as the prediction: the input
    # frames, the true future frames, copy-last (the last input frame, as baselines.sh predicts it, in
    # [0, 1]), then that model's strip experiments' first-seed predictions (in list order; a carried
    # run's predictions_strip.npy); sequence 0 of the test split
    strips = []
    if baselines:
        import tempfile
        import numpy as np
        strip_models = []
        for e in a.strip.split():
            if e.split("/")[0] not in strip_models:
                strip_models.append(e.split("/")[0])
        truth = np.load(os.path.join(bdir, "truth_strip.npy"))
        n_pred = baselines["copy_last"]["frames"]
        n_in = truth.shape[0] - n_pred
        tmp = tempfile.mkdtemp(prefix="strip.", dir=a.out)
        try:
            np.save(os.path.join(tmp, "inputs.npy"), truth[:n_in, :1])
            np.save(os.path.join(tmp, "future.npy"), truth[n_in:, :1])
            np.save(os.path.join(tmp, "copy_last.npy"),
                    np.repeat(truth[n_in - 1:n_in, :1], n_pred, axis=0).astype(np.float32) / 255.0)
            for model in strip_models:
                rows = [{"row": "inputs"}, {"row": "truth"}, {"row": "copy_last"}]
                ins = [os.path.join(tmp, "inputs.npy"), os.path.join(tmp, "future.npy"),
                       os.path.join(tmp, "copy_last.npy")]
                for e in a.strip.split():
                    p = carry_files.strip_predictions(os.path.join(a.results, e, seeds[0]))
                    if e.split("/")[0] == model and p is not None:
                        row = {"row": e, "label": exps.get(e, {}).get("label", e), "seed": int(seeds[0])}
                        k, bright = strip_stretch(np.load(p)[:, :1])
                        if k > 1:   # drawn brighter, by the factor printed beside its row
                            row["stretch"] = k
                            p = os.path.join(tmp, "stretched-%d.npy" % len(ins))
                            np.save(p, bright)
                        rows.append(row)
                        ins.append(p)
                png = os.path.join(a.out, "strip-%s.png" % model)
                raw = os.path.join(tmp, os.path.basename(png))      # drawn in the temp folder, then
                cmd = [a.rnnreg, "strip", "--seq", "0", "--out", raw]
                for p in ins:
                    cmd += ["--in", p]
                subprocess.run(cmd, check=True, capture_output=True)
                with open(raw, "rb") as f:                           # libpng's deflated PNG, renamed
                    pl.write_atomic(png, f.read(), "wb")             # into place whole
                strips.append({"model": model, "file": os.path.basename(png), "rows": rows})
        finally:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    for f in os.listdir(a.out):   # strips of models no longer listed, and the old single strip.png
        if f.startswith("strip") and f.endswith(".png") and f not in [x["file"] for x in strips]:
            os.remove(os.path.join(a.out, f))
    pl.write_atomic(os.path.join(a.out, "strip.json"), json.dumps({"strips": strips, "sequence": 0}, indent=1) + "\n")

    protocol = []
    for e in a.protocol.split():
        p = os.path.join(a.results, "protocol", e, seeds[0] + ".json")
        if os.path.exists(p):
            j = pl.read_json(p)
            row = {"model": e.split("/")[0], "experiment": e.split("/")[1], "seed": int(seeds[0]),
                   "status": j["status"], "head": j.get("head"), "sequences": j.get("sequences"),
                   "first_frame_max_diff": j.get("first_frame_max_diff_vs_rnnreg")}
            if j["status"] == "ok":
                row.update({"test_" + k: j["metrics"]["mean"].get(k) for k in pl.METRICS})
            protocol.append(row)
    pl.write_atomic(os.path.join(a.out, "protocol.csv"), csv_text(PROTOCOL_FIELDS, protocol))
    pl.write_atomic(os.path.join(a.out, "frames.csv"), csv_text(FRAME_FIELDS, frames))
    pl.write_atomic(os.path.join(a.out, "curves.csv"), csv_text(CURVE_FIELDS, curves))
    pl.write_atomic(os.path.join(a.out, "experiments.json"),
                    json.dumps({"experiments": exps, "optimizer_choice": choices, "sweeps": sweeps}, indent=1, sort_keys=True) + "\n")
    pl.write_atomic(os.path.join(a.out, "setup.json"), json.dumps(setup, indent=1, sort_keys=True) + "\n")
    pl.write_atomic(os.path.join(a.out, "runs.csv"), csv_text(RUN_FIELDS, runs))  # last: Make's target
    print("[pipeline] summary: %d runs (%d missing) → %s" % (len(runs), len(missing), a.out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""choose_optimizer.py — stage 1 → stage 2 of the pipeline: picks, for one model, the optimizer of the
optimizer study with the lowest validation loss and writes the config that every stage-2 run of the
model includes.

Criterion: for each optimizer, the mean over the seeds OPT_SEEDS of the run's best (lowest) epoch
validation loss — the loss of the weights the run keeps (best.safetensors) — from
results/<scale>/<model>/opt-<optimizer>/<seed>/log.jsonl. A diverged run (done.json status "diverged")
counts as +infinity; ties go to the optimizer listed first. Never the test split.

Writes (only when the content changes; the same content is only touched, so that Make, which called
this because a stage-1 run is newer, sees the choice made and stops asking — stage 2's runs are then
called, and tools/pipeline/run.sh keeps each one whose inputs' contents are unchanged: carried):
  --out results/<scale>/<model>/optimizer.conf   `include = <the file of <model>/opt-<best>>` (pipelib
        experiment_conf: experiments/optimizers/<best>.conf),
        with the sha256 of the chosen files' text in a comment (editing them changes this file)
  results/<scale>/<model>/optimizer.json         the scores and the choice, for the paper
Usage: choose_optimizer.py --results results/quick --model convlstm --optimizers 'adam sgd' --seeds '1' --out FILE"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--optimizers", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    scores = {}
    runs = {}
    for opt in a.optimizers.split():
        vals = []
        for seed in a.seeds.split():
            d = os.path.join(a.results, a.model, "opt-" + opt, seed)
            status, _ = pipelib.run_outcome(d)
            if status == "missing":
                sys.exit("choose_optimizer: %s: the run is not finished (no done.json)" % d)
            v = math.inf
            if status == "ok":
                v = pipelib.best_val_loss(pipelib.read_jsonl(os.path.join(d, "log.jsonl")))
                if not math.isfinite(v):
                    v = math.inf
            vals.append(v)
            runs.setdefault(opt, []).append({"seed": int(seed), "status": status, "best_val_loss": v})
        scores[opt] = pipelib.mean(vals)
    best = min(scores, key=lambda o: (scores[o], list(scores).index(o)))
    if not math.isfinite(scores[best]):
        sys.exit("choose_optimizer: %s: every optimizer diverged; nothing to choose" % a.model)

    chosen = pipelib.experiment_conf(a.model, "opt-" + best)
    files = subprocess.run(["bash", os.path.join(os.path.dirname(__file__), "conf_deps.sh"), chosen],
                           check=True, capture_output=True, text=True).stdout.split()
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            h.update(f.encode() + b"\n" + fh.read())
    out_dir = os.path.dirname(a.out)
    text = ("# %s — written by tools/pipeline/choose_optimizer.py; do not edit.\n"
            "# The optimizer study's choice for %s: the lowest mean best validation loss over seeds %s.\n"
            "# %s\n# chosen files (%s): sha256 %s\ninclude = %s\n") % (
        a.out, a.model, a.seeds, "  ".join("%s %.6g" % (o, s) for o, s in scores.items()),
        " ".join(files), h.hexdigest(), os.path.relpath(chosen, out_dir or "."))
    changed = pipelib.write_if_changed(a.out, text)
    if not changed:
        os.utime(a.out)
    info = {"model": a.model, "chosen": best, "criterion": "mean over seeds of the lowest epoch validation loss",
            "seeds": [int(s) for s in a.seeds.split()],
            "scores": {o: (s if math.isfinite(s) else None) for o, s in scores.items()},
            "runs": {o: [dict(r, best_val_loss=r["best_val_loss"] if math.isfinite(r["best_val_loss"]) else None)
                         for r in rs] for o, rs in runs.items()}}
    pipelib.write_if_changed(os.path.join(out_dir, "optimizer.json"), json.dumps(info, indent=1) + "\n")
    print("[pipeline] %s: optimizer %s (mean best validation loss %.6g)%s"
          % (a.model, best, scores[best], "" if changed else "; unchanged"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""report_protocol.py — the report's evaluation protocol applied to a finished run: every input is the
true frame (teacher forcing: Keras' model.predict on whole sequences, as the report's example does),
and the outputs for the future frames are scored exactly as our autoregressive evaluation is. With the
centred Conv3D head the output for frame t+1 then sees frame t+1 itself (keras-io issue 1003); with a
causal head it is one-step-ahead prediction from true frames.

Both come from the trainer, with the weights the run tested (test_weights), in evaluation mode:
  rnnreg eval --teacher-forced     the test split's per-frame metrics under this protocol
  rnnreg predict --teacher-forced  its predicted future frames of the first sequences, for the check:
                                   for a causal head the first future frame has only true frames as
                                   inputs in both protocols, so it must equal the run's own
                                   (autoregressive) prediction of it, predictions.npy; the largest
                                   difference is recorded, and over 1e-5 is an error.

Usage: report_protocol.py --run RUN_DIR --truth TEST_TRUTH.npy --rnnreg build/rnnreg --out OUT.json
TEST_TRUTH.npy: (T, N, 64, 64) uint8, the test split (results/<scale>/baselines/truth.npy): the
teacher-forced metrics must cover its N sequences.
Writes OUT.json: {"status": "ok", "protocol": ..., "head": ..., "sequences": N, "weights": ...,
"first_frame_max_diff_vs_rnnreg": ..., "metrics": <rnnreg eval metrics>, "inputs_sha256": <the run's
inputs.sha256>, "truth_sha256": <the baselines' done.json truth_sha256>}.

Carried: an OUT.json made from the same run (its inputs.sha256, tools/pipeline/run.sh) and the same test
frames (the truth_sha256 of the baselines' done.json beside TEST_TRUTH.npy) is kept (touched, one line),
without reading the weights or TEST_TRUTH.npy: a fresh clone of a carried scale (pipeline.mk
CARRY_SCALES) has neither, only the committed OUT.json. Every run is deterministic, so computing it
again would give the same numbers."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402

# the largest difference allowed between the teacher-forced and the autoregressive first future frame
# of a causal head: both are the same C forward pass over the same true frames (float32 in [0, 1])
FIRST_FRAME_TOL = 1e-5


def rnnreg(args, run):
    """Runs `rnnreg ARGS` for the run directory RUN; on failure exits with one line naming the command
    and the trainer's message."""
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        # the trainer's error is its first line starting "rnnreg" (a usage text may follow)
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("rnnreg")] or ["exit status %d" % r.returncode]
        sys.exit("report_protocol: %s: rnnreg %s failed: %s" % (run, " ".join(args[1:3]), lines[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--rnnreg", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    info = {"run": a.run, "protocol": "teacher-forced: true frames in at every step"}

    def text(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return ""
    inputs_sha = text(os.path.join(a.run, "inputs.sha256"))
    base_done = os.path.join(os.path.dirname(a.truth), "done.json")
    truth_sha = pl.read_json(base_done).get("truth_sha256", "") if os.path.exists(base_done) else ""
    if inputs_sha and truth_sha and os.path.exists(a.out):
        old = pl.read_json(a.out)
        if old.get("inputs_sha256") == inputs_sha and old.get("truth_sha256") == truth_sha:
            os.utime(a.out)
            print("report_protocol: %s: made from %s with the same inputs and test frames (carried); kept" % (a.out, a.run))
            return

    cfg = pl.read_config(os.path.join(a.run, "config"))
    # the weights the run tested (test_weights: best = lowest validation loss, last = last epoch)
    weights = "best" if cfg.get("test_weights", "best") == "best" else "last"
    ckpt = os.path.join(a.run, weights + ".safetensors")
    info["weights"] = weights + ".safetensors"
    n_test = np.load(a.truth, mmap_mode="r").shape[1]

    own = np.load(os.path.join(a.run, "predictions.npy"))    # the run's autoregressive predictions
    with tempfile.TemporaryDirectory() as d:
        tf_pred, tf_metrics = os.path.join(d, "pred.npy"), os.path.join(d, "metrics.json")
        rnnreg([a.rnnreg, "predict", "--teacher-forced", "--checkpoint", ckpt, "--out", tf_pred,
                "--sequences", str(own.shape[1]), "--split", "test"], a.run)
        rnnreg([a.rnnreg, "eval", "--teacher-forced", "--checkpoint", ckpt, "--split", "test", "--out", tf_metrics], a.run)
        pred = np.load(tf_pred)
        metrics = pl.read_json(tf_metrics)
    if pred.shape != own.shape:
        sys.exit("report_protocol: %s: the teacher-forced predictions have shape %s, the run's own %s"
                 % (a.run, pred.shape, own.shape))
    if metrics.get("sequences") != n_test:
        sys.exit("report_protocol: %s: the teacher-forced metrics cover %s sequences, the test split %s has %d"
                 % (a.run, metrics.get("sequences"), a.truth, n_test))
    first_diff = float(np.abs(pred[0].astype(np.float64) - own[0]).max())
    info["first_frame_max_diff_vs_rnnreg"] = first_diff
    if cfg["head"] != "conv3d_centered" and not first_diff <= FIRST_FRAME_TOL:
        sys.exit("report_protocol: %s: the teacher-forced first future frame differs from the run's own prediction "
                 "by %g (> %g), though a causal head sees only true frames in both" % (a.run, first_diff, FIRST_FRAME_TOL))
    info.update(status="ok", head=cfg["head"], sequences=int(n_test), metrics=metrics,
                inputs_sha256=inputs_sha, truth_sha256=truth_sha)
    pl.write_atomic(a.out, json.dumps(info, indent=1) + "\n")
    print("[pipeline] report protocol: %s: teacher-forced MSE per frame %.1f (head %s)"
          % (a.run, info["metrics"]["mean"]["mse"], cfg["head"]))


if __name__ == "__main__":
    main()

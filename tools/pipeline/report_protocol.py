#!/usr/bin/env python3
"""report_protocol.py — the report's evaluation protocol applied to a finished ConvLSTM run: every input
is the true frame (teacher forcing: Keras' model.predict on whole sequences, as the report's example
does), and the outputs for the future frames are scored by `rnnreg metrics` exactly as our
autoregressive evaluation is. With the centred Conv3D head the output for frame t+1 then sees frame
t+1 itself (keras-io issue 1003); with a causal head it is one-step-ahead prediction from true frames.

rnnreg evaluates only autoregressively, so this uses the PyTorch twin of its ConvLSTM
(tests/reference/convlstm_ref.py, compared tensor by tensor with the C model by tests/test_convlstm.c)
loaded with the weights the run tested (test_weights), in evaluation mode (batch norm on running statistics). Check:
for a causal head the first predicted frame must equal rnnreg's own prediction of it (all its inputs are
true frames in both protocols); the largest difference is recorded, and over 1e-3 is an error.

Usage: report_protocol.py --run RUN_DIR --truth TEST_TRUTH.npy --rnnreg build/rnnreg --out OUT.json
TEST_TRUTH.npy: (T, N, 64, 64) uint8, the test split (results/<scale>/baselines/truth.npy).
Writes OUT.json: {"status": "ok", "protocol": "teacher-forced", "metrics": <rnnreg metrics>, ...}, or
{"status": "unavailable", "why": ...} when PyTorch is missing (the paper then says so)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))
import pipelib as pl  # noqa: E402


def reshape_patch(x, p):
    """(T, N, H, W) → (T, N, p*p, H/p, W/p), channel = row_in_patch * p + col_in_patch (PredRNN's
    reshape_patch for one image channel)."""
    T, N, H, W = x.shape
    return x.reshape(T, N, H // p, p, W // p, p).transpose(0, 1, 3, 5, 2, 4).reshape(T, N, p * p, H // p, W // p)


def reshape_patch_back(y, p):
    T, N, C, h, w = y.shape
    return y.reshape(T, N, p, p, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(T, N, h * p, w * p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--rnnreg", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    info = {"run": a.run, "protocol": "teacher-forced: true frames in at every step"}
    try:
        import torch
        from convlstm_ref import ConvLSTMRef
        from stio import read_safetensors
    except ImportError as e:
        info.update(status="unavailable", why="PyTorch or the reference model is missing (%s)" % e)
        pl.write_atomic(a.out, json.dumps(info, indent=1) + "\n")
        print("[pipeline] report protocol: %s" % info["why"])
        return

    cfg = pl.read_config(os.path.join(a.run, "config"))
    if cfg["model"] != "convlstm":
        sys.exit("report_protocol: %s: model %s (only convlstm has the report's head)" % (a.run, cfg["model"]))
    layers = [int(v) for v in cfg["layers"].split(",")]
    kernels = [int(v) for v in cfg["kernels"].split(",")]
    kernels = kernels * len(layers) if len(kernels) == 1 else kernels
    p = int(cfg["patch"])
    model = ConvLSTMRef(layers, kernels, cell_act=cfg["cell_act"], gate_act=cfg["gate_act"],
                        batchnorm=cfg["batchnorm"] == "1", bn_momentum=float(cfg["bn_momentum"]),
                        bn_eps=float(cfg["bn_eps"]), head=cfg["head"], head_kernel=int(cfg["head_kernel"]),
                        head_act=cfg["head_act"], patch=p)
    # the weights the run tested (test_weights: best = lowest validation loss, last = last epoch; the
    # resume checkpoint last.safetensors also holds optimizer state, which the model does not take)
    weights = "best" if cfg.get("test_weights", "best") == "best" else "last"
    state = read_safetensors(os.path.join(a.run, weights + ".safetensors"))
    names = set(model.state_dict())
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items() if k in names},
                          strict=True)
    info["weights"] = weights + ".safetensors"
    model.eval()

    truth = np.load(a.truth)                       # (T, N, 64, 64) uint8
    n_in, T = int(cfg["input_frames"]), int(cfg["seq_len"])
    frames = reshape_patch(truth[:T].astype(np.float32) / 255.0, p)[:, :, :, :, :]
    outs = []
    torch.set_num_threads(max(1, int(cfg.get("threads", "1")) or 1))
    with torch.no_grad():
        for b in range(0, frames.shape[1], 16):
            xs = torch.from_numpy(np.ascontiguousarray(frames[:T - 1, b:b + 16]))
            outs.append(model.forward_inputs(xs).numpy())     # (T-1, B, C, h, w): output s predicts frame s+1
    y = np.concatenate(outs, axis=1)[n_in - 1:T - 1]         # the future frames n_in .. T-1
    pred = np.clip(reshape_patch_back(y, p), 0.0, 1.0).astype(np.float32)

    own = np.load(os.path.join(a.run, "predictions.npy"))    # rnnreg's autoregressive predictions
    k = own.shape[1]
    first_diff = float(np.abs(pred[0, :k] - own[0]).max())
    info["first_frame_max_diff_vs_rnnreg"] = first_diff
    if cfg["head"] != "conv3d_centered" and not first_diff <= 1e-3:
        sys.exit("report_protocol: %s: the PyTorch twin's first predicted frame differs from rnnreg's by %g "
                 "(> 1e-3): the twin does not load this checkpoint faithfully" % (a.run, first_diff))
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "pred.npy"), pred)
        np.save(os.path.join(d, "future.npy"), truth[n_in:T])
        m = subprocess.run([a.rnnreg, "metrics", "--truth", os.path.join(d, "future.npy"), "--pred",
                            os.path.join(d, "pred.npy")], check=True, capture_output=True, text=True).stdout
    info.update(status="ok", head=cfg["head"], sequences=int(truth.shape[1]), metrics=json.loads(m))
    pl.write_atomic(a.out, json.dumps(info, indent=1) + "\n")
    print("[pipeline] report protocol: %s: teacher-forced MSE per frame %.1f (head %s)"
          % (a.run, info["metrics"]["mean"]["mse"], cfg["head"]))


if __name__ == "__main__":
    main()

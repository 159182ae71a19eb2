#!/usr/bin/env python3
"""make_predrnn_pp_fixture.py — PyTorch fixtures for tests/test_predrnn_pp.c: every tensor of one
training step of PredRNN++ (tests/reference/predrnn_pp_ref.py), then 3 Adam steps, then an evaluation
rollout.

Run from anywhere: /usr/bin/python3 tests/reference/make_predrnn_pp_fixture.py
Writes tests/fixtures/predrnn_pp_{ln,noln,noghu,sigmoid,relu}.safetensors (name fixtures to make only
those: `make_predrnn_pp_fixture.py sigmoid relu`):
  __metadata__   config (hidden, kernels, layer_norm, ghu, patch, image_size, img_channels, and
                 head_act where it is not the default identity), batch,
                 seq_len, n_in, Adam hyper-parameters, param_order (the state_dict order of the
                 parameters, comma-separated), and dev32.<group>: the max |float32 − float64|
                 deviation of PyTorch's own float32 run, per group of tensors (the test's tolerances
                 are set from these numbers)
  frames         (T, B, C, H, W) float32 inputs in [0, 1]
  use_truth      (B, T) 0/1 as float: feed frame t (1) or the model's own prediction of it (0)
  init.<name>    every parameter before the first step (float32; state_dict names and layouts)
  out            (T-1, B, C, H, W) outputs of the first training step
  loss           (1) its loss: MSE, mean over all predicted elements
  grad.<name>    every parameter gradient of that step
  losses         (3) losses of the three Adam steps (the first equals `loss`)
  adam3.<name>   parameters after 3 steps of torch.optim.Adam(lr=1e-3, defaults), each a
                 forward/backward on the same batch and use_truth
  eval.out       outputs with the adam3 weights when frames 0..n_in-1 are ground truth and later
  eval.loss      inputs are the model's own predictions (no gradient), and its MSE
The weights and inputs are float32; every stored result is computed in float64 from them (then rounded
to float32), so the only error the C test sees is its own. PyTorch's float32 run is also done and its
deviation from float64 recorded: a correct float32 implementation should deviate by a similar amount.
Weights are NOT the official ±0.001 init (which makes every signal tiny): PyTorch's default Conv2d init
(nonzero biases) and LN gains in [0.5, 1.5], offsets in [-0.2, 0.2], so every path carries O(1) signal.
Fixtures: ln    = 3 layers 4,3,3 (unequal widths: layer 0 gets 3-channel memory, layer 1 4-channel),
                  k 3, GHU, LN, 16×16 frames at patch 2 (8×8×4);
          noln  = 2 layers 4,3, kernels 3,1, GHU, no LN, 12×12 at patch 2;
          noghu = 2 layers 3,4 (widening), k 3, LN, no GHU, 12×12 at patch 2;
          sigmoid, relu = 2 layers 4,3, k 3, GHU, LN, 12×12 at patch 2, head_act sigmoid / relu (rnnreg's
                  study option; the official head is linear); relu's head biases are lowered by 0.3 so
                  that about half of its outputs are exactly 0 (the clipped path carries no gradient).
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from predrnn_pp_ref import PredRNNppRef  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
ADAM_LR = 1e-3

CONFIGS = {
    "ln": dict(cfg=dict(hidden=[4, 3, 3], kernels=[3, 3, 3], layer_norm=True, ghu=True, patch=2,
                        image_size=16, img_channels=1),
               batch=2, seq_len=6, n_in=3, use_truth=[[1, 1, 0, 1, 0, 0], [1, 0, 1, 1, 0, 1]]),
    "noln": dict(cfg=dict(hidden=[4, 3], kernels=[3, 1], layer_norm=False, ghu=True, patch=2,
                          image_size=12, img_channels=1),
                 batch=2, seq_len=6, n_in=2, use_truth=[[1, 0, 0, 1, 1, 0], [1, 1, 1, 0, 0, 0]]),
    "noghu": dict(cfg=dict(hidden=[3, 4], kernels=[3, 3], layer_norm=True, ghu=False, patch=2,
                           image_size=12, img_channels=1),
                  batch=2, seq_len=5, n_in=2, use_truth=[[1, 0, 1, 0, 1], [1, 1, 0, 0, 1]]),
    "sigmoid": dict(cfg=dict(hidden=[4, 3], kernels=[3, 3], layer_norm=True, ghu=True, patch=2,
                             image_size=12, img_channels=1, head_act="sigmoid"),
                    batch=2, seq_len=5, n_in=2, use_truth=[[1, 0, 0, 1, 0], [1, 1, 0, 1, 1]]),
    "relu": dict(cfg=dict(hidden=[4, 3], kernels=[3, 3], layer_norm=True, ghu=True, patch=2,
                          image_size=12, img_channels=1, head_act="relu"),
                 batch=2, seq_len=5, n_in=2, use_truth=[[1, 0, 0, 1, 0], [1, 1, 0, 1, 1]],
                 head_bias_shift=-0.3),
}


def write_safetensors(path, tensors, metadata):
    """huggingface/safetensors format (src/safetensors.h): 8-byte LE header length, compact JSON with
    __metadata__ first and tensors sorted by name, padded with spaces to a multiple of 8, raw data."""
    names = sorted(tensors)
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in names:
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(tmp, path)


def run(spec, init_state, frames, use_truth, dtype):
    """The fixture recipe in one dtype; returns a dict of float64 numpy arrays (names as in the file)."""
    model = PredRNNppRef(**spec["cfg"]).to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in init_state.items()}, strict=True)
    frames = frames.to(dtype)
    res, losses = {}, []
    opt = torch.optim.Adam(model.parameters(), lr=ADAM_LR)
    for step in range(3):
        opt.zero_grad()
        out = model(frames, use_truth)
        loss = torch.nn.functional.mse_loss(out, frames[1:])
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            res["out"] = out.detach()
            res["loss"] = torch.tensor([loss.item()])
            for name, p in model.named_parameters():
                res["grad." + name] = p.grad.detach().clone()
        opt.step()
    res["losses"] = torch.tensor(losses)
    for name, p in model.named_parameters():
        res["adam3." + name] = p.detach().clone()
    T = frames.shape[0]
    ev_truth = torch.zeros_like(use_truth)
    ev_truth[:, :spec["n_in"]] = True
    with torch.no_grad():
        ev = model(frames, ev_truth)
    res["eval.out"] = ev
    res["eval.loss"] = torch.tensor([torch.nn.functional.mse_loss(ev, frames[1:]).item()])
    assert ev.shape[0] == T - 1
    return {k: v.detach().cpu().numpy().astype(np.float64) for k, v in res.items()}


def make(tag, spec):
    cfg = spec["cfg"]
    torch.manual_seed(4242 + sum(map(ord, tag)))
    model = PredRNNppRef(**cfg)          # PyTorch default Conv2d init: weights and biases nonzero
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln_" in name and name.endswith(".weight"):
                p.uniform_(0.5, 1.5)
            elif ".ln_" in name and name.endswith(".bias"):
                p.uniform_(-0.2, 0.2)
        # relu: lower the head's biases so that about half of the outputs are clipped to 0
        model.head.bias.add_(spec.get("head_bias_shift", 0.0))
    init_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    T, B = spec["seq_len"], spec["batch"]
    C, S = model.channels, model.size
    frames = torch.rand(T, B, C, S, S)
    use_truth = torch.tensor(spec["use_truth"], dtype=torch.bool)
    assert use_truth.shape == (B, T)

    r64 = run(spec, init_state, frames, use_truth, torch.float64)
    r32 = run(spec, init_state, frames, use_truth, torch.float32)
    groups = {}
    for k in r64:
        g = k.split(".")[0] if "." in k else k
        d = float(np.max(np.abs(r32[k] - r64[k])))
        mx = float(np.max(np.abs(r64[k])))
        old = groups.get(g, (0.0, 0.0))
        groups[g] = (max(old[0], d), max(old[1], mx))
    print(f"predrnn_pp_{tag}: PyTorch float32 vs float64 (max abs diff / max |value|) per group:")
    for g, (d, mx) in groups.items():
        print(f"  {g:8s} {d:.3g} / {mx:.3g}")
    # per gradient tensor: deviation relative to the tensor's largest magnitude
    worst = max(float(np.max(np.abs(r32[k] - r64[k])) / max(np.max(np.abs(r64[k])), 1e-30))
                for k in r64 if k.startswith("grad."))
    print(f"  worst grad tensor: max|f32 - f64| / max|f64| = {worst:.3g}")

    tensors = {"frames": frames.numpy(), "use_truth": use_truth.float().numpy()}
    for k, v in init_state.items():
        tensors["init." + k] = v.numpy()
    for k, v in r64.items():
        tensors[k] = v.astype(np.float32)
    meta = {k: (",".join(map(str, v)) if isinstance(v, list) else
                str(int(v)) if isinstance(v, bool) else str(v)) for k, v in cfg.items()}
    meta.update(model="predrnn_pp", batch=str(B), seq_len=str(T), n_in=str(spec["n_in"]),
                adam=f"lr={ADAM_LR} betas=(0.9,0.999) eps=1e-8 weight_decay=0",
                generator="tests/reference/make_predrnn_pp_fixture.py",
                param_order=",".join(name for name, _ in model.named_parameters()))
    for g, (d, mx) in groups.items():
        meta["dev32." + g] = f"{d:.3g}"
    meta["dev32.grad_rel_worst"] = f"{worst:.3g}"
    path = os.path.join(OUT, f"predrnn_pp_{tag}.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"  wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    tags = sys.argv[1:] or list(CONFIGS)
    for tag in tags:
        make(tag, CONFIGS[tag])


if __name__ == "__main__":
    main()

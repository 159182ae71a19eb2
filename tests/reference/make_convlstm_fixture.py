#!/usr/bin/env python3
"""make_convlstm_fixture.py — PyTorch fixtures for tests/test_convlstm.c (llm.c style: every tensor of
one training step, then 3 Adam steps, then an eval-mode rollout), from tests/reference/convlstm_ref.py.

Run from anywhere: /usr/bin/python3 tests/reference/make_convlstm_fixture.py
Writes tests/fixtures/convlstm_{a,b,c}.safetensors (float32, CPU, deterministic algorithms):
  __metadata__        the model config (same keys as rnnreg's config) + batch, seq_len, n_in, Adam
  frames              (T, B, C, H, W) inputs in [0, 1]
  use_truth           (B, T) 0/1 as float: feed frame t (1) or the model's prediction of it (0)
  init.<name>         every parameter and buffer before the step (state_dict names and layouts)
  out                 (T-1, B, C, H, W) outputs of the first training step
  loss                (1) its loss, MSE mean over all predicted elements
  grad.<name>         every parameter gradient of that step
  step1.<buffer>      BN running statistics after that step
  losses              (3) losses of the three Adam steps (the first equals `loss`)
  adam3.<name>        parameters after 3 steps of torch.optim.Adam(lr=1e-3, defaults), each step a
                      forward/backward on the same batch and use_truth
  step3.<buffer>      running statistics after those 3 steps
  eval.out, eval.loss eval-mode rollout from the adam3 weights/step3 statistics: frames 0..n_in-1 are
                      ground truth, later inputs are the model's own predictions (Keras example rollout:
                      rerun the prefix, keep the last output)
Fixtures: a = relu cells, BN, causal Conv3d head, scheduled sampling (use_truth 0 at some t >= 1);
          b = tanh cells, hard_sigmoid gates, no BN, Conv2d head, scheduled sampling, patch 1;
          c = the Keras example in miniature: kernels 5/3/1, relu, BN, centered Conv3d head, teacher forcing.
The script also reruns everything in float64 and prints the float32-vs-float64 deviation of each group
of tensors; tests/test_convlstm.c sets its tolerances from those numbers.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convlstm_ref import ConvLSTMRef  # noqa: E402
from stio import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")

CONFIGS = {
    "a": dict(cfg=dict(layers=[8, 8], kernels=[3, 1], cell_act="relu", gate_act="sigmoid",
                       batchnorm=True, bn_momentum=0.01, bn_eps=1e-3, head="conv3d_causal",
                       head_kernel=3, head_act="sigmoid", patch=2, image_size=16, img_channels=1),
              batch=2, seq_len=6, n_in=3, weight_scale=2.0,
              use_truth=[[1, 1, 0, 1, 0, 0], [1, 0, 1, 1, 0, 1]]),
    "b": dict(cfg=dict(layers=[4, 6, 5], kernels=[3, 1, 3], cell_act="tanh",
                       gate_act="hard_sigmoid", batchnorm=False, bn_momentum=0.01, bn_eps=1e-3,
                       head="conv2d", head_kernel=3, head_act="sigmoid", patch=1, image_size=8,
                       img_channels=1),
              batch=3, seq_len=5, n_in=2, weight_scale=3.0,
              use_truth=[[1, 0, 0, 1, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 1]]),
    "c": dict(cfg=dict(layers=[4, 4, 4], kernels=[5, 3, 1], cell_act="relu",
                       gate_act="sigmoid", batchnorm=True, bn_momentum=0.01, bn_eps=1e-3,
                       head="conv3d_centered", head_kernel=3, head_act="sigmoid", patch=2,
                       image_size=12, img_channels=1),
              batch=2, seq_len=6, n_in=3, weight_scale=1.5,
              use_truth=[[1] * 6, [1] * 6]),
}


def run(spec, init_state, frames, use_truth, dtype):
    """The whole fixture recipe in one dtype; returns a dict of numpy arrays (names as in the file)."""
    torch.manual_seed(0)
    model = ConvLSTMRef(**spec["cfg"]).to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in init_state.items()}, strict=True)
    frames = frames.to(dtype)
    res = {}
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for step in range(3):
        model.train()
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
            for name, b in model.named_buffers():
                res["step1." + name] = b.clone()
        opt.step()
    res["losses"] = torch.tensor(losses)
    for name, p in model.named_parameters():
        res["adam3." + name] = p.detach().clone()
    for name, b in model.named_buffers():
        res["step3." + name] = b.clone()
    model.eval()
    ev = model.rollout(frames, spec["n_in"])
    res["eval.out"] = ev
    res["eval.loss"] = torch.tensor([torch.nn.functional.mse_loss(ev, frames[1:]).item()])
    return {k: v.detach().cpu().numpy().astype(np.float64) for k, v in res.items()}


def make(tag, spec):
    cfg = spec["cfg"]
    torch.manual_seed(1234 + ord(tag))
    model = ConvLSTMRef(**cfg)
    model.init_keras()
    # kernels weight_scale x the Keras init, so the network is far from linear and the gradient through
    # fed-back predictions is a sizeable part of the total; non-trivial BN parameters
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.mul_(spec["weight_scale"])
        for bn in model.bns:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    init_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    T, B = spec["seq_len"], spec["batch"]
    C, S = model.channels, model.size
    frames = torch.rand(T, B, C, S, S)
    use_truth = torch.tensor(spec["use_truth"], dtype=torch.bool)
    assert use_truth.shape == (B, T)

    # consistency of the reference itself: with teacher forcing the step-by-step run (per-step head)
    # equals the whole-sequence run (Conv3d with time padding)
    if cfg["head"] != "conv3d_centered":
        with torch.no_grad():
            m = ConvLSTMRef(**cfg)
            m.load_state_dict(init_state)
            a = m(frames, torch.ones(B, T, dtype=torch.bool))
            m.load_state_dict(init_state)
            b = m.forward_inputs(frames[:T - 1])
            assert torch.allclose(a, b, atol=1e-6), "stepwise and sequence heads differ"

    # scheduled sampling: the gradient through fed-back predictions must change the fixture's
    # gradients visibly, or the C test could not tell whether it flows
    if not bool(use_truth[:, 1:].all()):
        grads = []
        for detach in (False, True):
            m = ConvLSTMRef(**cfg)
            m.load_state_dict(init_state)
            m.detach_feedback = detach
            torch.nn.functional.mse_loss(m(frames, use_truth), frames[1:]).backward()
            grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
        rel = ((grads[0] - grads[1]).norm() / grads[0].norm()).item()
        print(f"convlstm_{tag}: gradient through fed-back predictions changes the gradient by {rel:.3g} (relative)")
        assert rel > 1e-2

    r32 = run(spec, init_state, frames, use_truth, torch.float32)
    r64 = run(spec, init_state, frames, use_truth, torch.float64)
    print(f"convlstm_{tag}: float32 vs float64 (max abs diff / max |value|) per group:")
    groups = {}
    for k in r32:
        g = k.split(".")[0] if "." in k else k
        d = np.max(np.abs(r32[k] - r64[k]))
        groups.setdefault(g, [0.0, 0.0])
        groups[g][0] = max(groups[g][0], d)
        groups[g][1] = max(groups[g][1], np.max(np.abs(r64[k])))
    for g, (d, mx) in groups.items():
        print(f"  {g:8s} {d:.3g} / {mx:.3g}")

    tensors = {"frames": frames.numpy(), "use_truth": use_truth.float().numpy()}
    for k, v in init_state.items():
        tensors["init." + k] = v.numpy()
    for k, v in r32.items():
        tensors[k] = v.astype(np.float32)
    meta = {k: (",".join(map(str, v)) if isinstance(v, list) else
                str(int(v)) if isinstance(v, bool) else str(v)) for k, v in cfg.items()}
    meta.update(model="convlstm", batch=str(B), seq_len=str(T), n_in=str(spec["n_in"]),
                adam="lr=1e-3 betas=(0.9,0.999) eps=1e-8 weight_decay=0",
                generator="tests/reference/make_convlstm_fixture.py")
    path = os.path.join(OUT, f"convlstm_{tag}.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"  wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for tag, spec in CONFIGS.items():
        make(tag, spec)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""make_ops_fixture.py — PyTorch reference values for tests/test_ops.c, written to
tests/fixtures/ops_torch.safetensors (float32; run with /usr/bin/python3, which has torch 1.13):

  conv_k{1,3,5}_{x,w,b,r,y,dx,dw,db}
      F.conv2d(x, w, b, padding=k//2) with x (2, 3, 5, 7), w (4, 3, k, k); gradients of
      L = sum(r * y) (r a fixed random tensor) by autograd.
  bn_{x,gamma,beta,rm0,rv0,r,y,save_mean,save_invstd,rm1,rv1,dx,dgamma,dbeta,x_eval,y_eval}
      torch.native_batch_norm in training mode (momentum 0.1, eps 1e-3) on x (3, 4, 5, 6) with a
      non-zero mean, running stats rm0/rv0 -> rm1/rv1, gradients of sum(r * y); then F.batch_norm in
      eval mode on x_eval with the updated running stats.
  lstm_{sig_tanh,hsig_relu}_{pre,c_prev,r_h,r_c,gates,c,h,dpre,dc_prev}
      the ConvLSTM cell pointwise part written out in torch (gate order i, f, g, o; Keras ConvLSTM2D
      without peepholes); sig_tanh uses sigmoid gates and tanh, hsig_relu the tf.keras 2
      hard_sigmoid = clip(0.2 x + 0.5, 0, 1) and relu. Gradients of sum(r_h * h) + sum(r_c * c).
  opt_p0, opt_g{1,2,3}, opt_{adam,adamw,sgd,sgd_nesterov,rmsprop}_p{1,2,3}
      three torch.optim steps (foreach=False, the 1.13 default single-tensor path) on one parameter
      of 259 elements (not a multiple of the SIMD width, so both the vector and tail paths run).
      Hyperparameters are float32-rounded values so the C side (float hyperparameters) sees the
      same numbers; they are in the file's metadata and repeated in tests/test_ops.c.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stio import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "ops_torch.safetensors")


def f32(v):
    """A Python float holding the float32 rounding of v."""
    return float(np.float32(v))


# Optimizer hyperparameters (float32-representable); test_ops.c uses the same literals as floats.
OPT = {
    "adam": dict(cls=torch.optim.Adam, lr=f32(1e-3), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8), weight_decay=f32(1e-2)),
    "adamw": dict(cls=torch.optim.AdamW, lr=f32(1e-3), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8), weight_decay=f32(1e-1)),
    "sgd": dict(cls=torch.optim.SGD, lr=f32(1e-2), momentum=f32(0.9), weight_decay=f32(1e-3), nesterov=False),
    "sgd_nesterov": dict(cls=torch.optim.SGD, lr=f32(1e-2), momentum=f32(0.9), weight_decay=f32(1e-3), nesterov=True),
    "rmsprop": dict(cls=torch.optim.RMSprop, lr=f32(1e-3), alpha=f32(0.99), eps=f32(1e-8), weight_decay=f32(1e-3)),
}


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float32), requires_grad=grad)


def conv_cases(rng, out):
    for k in (1, 3, 5):
        x = t(rng.standard_normal((2, 3, 5, 7)), True)
        w = t(rng.standard_normal((4, 3, k, k)) / np.sqrt(3 * k * k), True)
        b = t(rng.standard_normal(4), True)
        r = t(rng.standard_normal((2, 4, 5, 7)))
        y = F.conv2d(x, w, b, padding=k // 2)
        (y * r).sum().backward()
        p = f"conv_k{k}_"
        out.update({p + "x": x, p + "w": w, p + "b": b, p + "r": r, p + "y": y,
                    p + "dx": x.grad, p + "dw": w.grad, p + "db": b.grad})


def bn_case(rng, out):
    x = t(rng.standard_normal((3, 4, 5, 6)) * 2.0 + 3.0, True)
    gamma = t(rng.uniform(0.5, 1.5, 4), True)
    beta = t(rng.standard_normal(4), True)
    rm0, rv0 = t(rng.standard_normal(4)), t(rng.uniform(0.5, 2.0, 4))
    rm, rv = rm0.clone(), rv0.clone()
    r = t(rng.standard_normal((3, 4, 5, 6)))
    y, save_mean, save_invstd = torch.native_batch_norm(x, gamma, beta, rm, rv, True, 0.1, 1e-3)
    (y * r).sum().backward()
    x_eval = t(rng.standard_normal((2, 4, 5, 6)) * 2.0 + 3.0)
    y_eval = F.batch_norm(x_eval, rm, rv, gamma.detach(), beta.detach(), training=False, eps=1e-3)
    out.update({"bn_x": x, "bn_gamma": gamma, "bn_beta": beta, "bn_rm0": rm0, "bn_rv0": rv0, "bn_r": r,
                "bn_y": y, "bn_save_mean": save_mean, "bn_save_invstd": save_invstd, "bn_rm1": rm, "bn_rv1": rv,
                "bn_dx": x.grad, "bn_dgamma": gamma.grad, "bn_dbeta": beta.grad, "bn_x_eval": x_eval,
                "bn_y_eval": y_eval})


def act(name, x):
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "relu":
        return torch.relu(x)
    if name == "hard_sigmoid":  # tf.keras 2 backend.hard_sigmoid (not torch's x/6 + 1/2)
        return torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)
    raise ValueError(name)


def lstm_cases(rng, out):
    n = 3
    for tag, gate, cell in (("sig_tanh", "sigmoid", "tanh"), ("hsig_relu", "hard_sigmoid", "relu")):
        pre = t(rng.uniform(-4.0, 4.0, (2, 4 * n, 4, 5)), True)
        c_prev = t(rng.standard_normal((2, n, 4, 5)), True)
        r_h, r_c = t(rng.standard_normal((2, n, 4, 5))), t(rng.standard_normal((2, n, 4, 5)))
        pi, pf, pg, po = pre.chunk(4, dim=1)
        i, f, g, o = act(gate, pi), act(gate, pf), act(cell, pg), act(gate, po)
        c = f * c_prev + i * g
        h = o * act(cell, c)
        ((h * r_h).sum() + (c * r_c).sum()).backward()
        p = f"lstm_{tag}_"
        out.update({p + "pre": pre, p + "c_prev": c_prev, p + "r_h": r_h, p + "r_c": r_c,
                    p + "gates": torch.cat([i, f, g, o], dim=1), p + "c": c, p + "h": h,
                    p + "dpre": pre.grad, p + "dc_prev": c_prev.grad})


def opt_cases(rng, out):
    p0 = rng.standard_normal(259).astype(np.float32)
    grads = [rng.standard_normal(259).astype(np.float32) * s for s in (1.0, 0.1, 3.0)]
    out["opt_p0"] = p0
    for s, g in enumerate(grads, 1):
        out[f"opt_g{s}"] = g
    for name, hp in OPT.items():
        hp = dict(hp)
        cls = hp.pop("cls")
        p = torch.tensor(p0, requires_grad=True)
        opt = cls([p], foreach=False, **hp)
        for s, g in enumerate(grads, 1):
            p.grad = torch.tensor(g)
            opt.step()
            out[f"opt_{name}_p{s}"] = p.detach().clone()


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(20240611)
    out = {}
    conv_cases(rng, out)
    bn_case(rng, out)
    lstm_cases(rng, out)
    opt_cases(rng, out)
    arrays = {k: (v.detach().numpy() if isinstance(v, torch.Tensor) else v) for k, v in out.items()}
    meta = {"generator": "tests/reference/make_ops_fixture.py", "torch": torch.__version__}
    for name, hp in OPT.items():
        meta["opt_" + name] = repr({k: v for k, v in hp.items() if k != "cls"})
    write_safetensors(OUT, arrays, meta)
    print(f"wrote {os.path.normpath(OUT)}: {len(arrays)} tensors, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()

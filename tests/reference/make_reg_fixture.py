#!/usr/bin/env python3
"""make_reg_fixture.py — PyTorch fixtures for tests/test_regularize.c: one training step of a model with
regularizers on, with rnnreg's own Philox-4x32-10 masks regenerated here (so forward, loss and every
gradient compare exactly), plus an evaluation-mode rollout (no masks).

Run from anywhere: /usr/bin/python3 tests/reference/make_reg_fixture.py
Writes tests/fixtures/reg_<tag>.safetensors (cl_*: ConvLSTM, tests/reference/convlstm_ref.py; pp_*:
PredRNN++, tests/reference/predrnn_pp_ref.py):
  __metadata__  model config (rnnreg keys) + batch, seq_len, n_in, reg_seed, iteration
  frames (T, B, C, H, W), use_truth (B, T), init.<name> (every parameter and buffer),
  out, loss, grad.<name> (training step at `iteration`, masks on), step1.<buffer> (BN running stats),
  eval.out, eval.loss (evaluation rollout with the init weights, after the step's BN update)
Results are computed in float64 from the float32 inputs and stored as float32.

Philox-4x32-10 (src/rng.h; Salmon et al. 2011, Random123 constants) in numpy uint64 arithmetic:
known-answer ctr = 0, key = 0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8 (Random123 kat_vectors), checked
at start. Mask of (seed, iteration, layer, tensor, step), shape (B, C, H, W), rate p:
  stream = rr_stream(RR_TAG_DROPOUT = 5, iteration, layer*16 + tensor, step)
  u_i = rr_rand_uniform(seed, stream, i) = (word >> 8) * 2^-24 (float32), i = flat index
  m_i = 1/(1-p) (float32 arithmetic) if u_i >= float32(p) else 0
Zoneout keep masks (regularize.h reg_zoneout_mask): d_i = 1 if u_i < float32(p) else 0.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convlstm_ref import ConvLSTMRef  # noqa: E402
from predrnn_pp_ref import PredRNNppRef  # noqa: E402
from stio import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
M32 = np.uint64(0xFFFFFFFF)


def philox4x32_10(ctr, key):
    """ctr: 4 uint64 arrays holding 32-bit words; key: 2 python ints. Returns 4 uint64 arrays."""
    c0, c1, c2, c3 = [np.asarray(c, dtype=np.uint64) & M32 for c in ctr]
    k0, k1 = key[0] & 0xFFFFFFFF, key[1] & 0xFFFFFFFF
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & M32
        hi1, lo1 = p1 >> np.uint64(32), p1 & M32
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
        k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF
        k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return c0, c1, c2, c3


def rr_stream(tag, a, b, c):
    return ((tag & 0xFF) << 56) | ((a & 0xFFFFFF) << 32) | ((b & 0xFFFF) << 16) | (c & 0xFFFF)


def rand_u32(seed, stream, n):
    idx = np.arange(n, dtype=np.uint64)
    block = idx >> np.uint64(2)
    z = np.zeros_like(block)
    out = philox4x32_10((block & M32, block >> np.uint64(32), z + np.uint64(stream & 0xFFFFFFFF),
                         z + np.uint64(stream >> 32)), (seed & 0xFFFFFFFF, seed >> 32))
    words = np.stack(out, axis=1)                       # (n, 4)
    return words[np.arange(n), (idx & np.uint64(3)).astype(np.int64)]


def philox_mask(seed, iteration, layer, tensor, step, shape, p):
    n = int(np.prod(shape))
    u = (rand_u32(seed, rr_stream(5, iteration, layer * 16 + tensor, step), n) >> np.uint64(8)).astype(np.float32)
    u = u * np.float32(1.0 / 16777216.0)
    p32 = np.float32(p)
    scale = np.float32(1.0) / (np.float32(1.0) - p32)
    return np.where(u >= p32, scale, np.float32(0.0)).astype(np.float32).reshape(shape)


def philox_zone(seed, iteration, layer, tensor, step, shape, p):
    n = int(np.prod(shape))
    u = (rand_u32(seed, rr_stream(5, iteration, layer * 16 + tensor, step), n) >> np.uint64(8)).astype(np.float32)
    u = u * np.float32(1.0 / 16777216.0)
    return np.where(u < np.float32(p), np.float32(1.0), np.float32(0.0)).astype(np.float32).reshape(shape)


def check_philox():
    got = philox4x32_10([np.zeros(1, np.uint64)] * 4, (0, 0))
    want = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
    assert [int(g[0]) for g in got] == want, [hex(int(g[0])) for g in got]


BASE = dict(layers=[4, 3], kernels=[3, 1], cell_act="tanh", gate_act="sigmoid", batchnorm=True,
            bn_momentum=0.01, bn_eps=1e-3, head="conv3d_causal", head_kernel=3, head_act="sigmoid",
            patch=2, image_size=12, img_channels=1)
# tag: (config overrides, use_truth)
CONVLSTM = {
    "cl_drop": (dict(dropout=0.3), [[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]]),
    "cl_rec": (dict(rec_dropout=0.25), [[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]]),
    "cl_recseq": (dict(rec_dropout=0.4, rec_dropout_seq=True, batchnorm=False, head="conv2d"),
                  [[1, 1, 1, 1, 1], [1, 1, 1, 0, 1]]),
    "cl_var": (dict(var_dropout_x=0.3, var_dropout_h=0.2), [[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]]),
    "cl_ln": (dict(layer_norm=True, cell_act="relu"), [[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]]),
    "cl_all": (dict(layer_norm=True, dropout=0.2, rec_dropout=0.2, var_dropout_x=0.25, var_dropout_h=0.15),
               [[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]]),
    "cl_zone": (dict(zoneout_c=0.3, zoneout_h=0.2), [[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]]),
    "cl_wdrop": (dict(weight_drop=0.4), [[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]]),
    "cl_zwd": (dict(layer_norm=True, zoneout_c=0.25, zoneout_h=0.15, weight_drop=0.3, dropout=0.2,
                    rec_dropout=0.1, batchnorm=False, head="conv2d"), [[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]]),
}
SEED, ITERATION, BATCH, SEQ_LEN, N_IN = 7, 3, 2, 5, 2


def train_step(ref_class, cfg, init, frames, ut):
    """One training step of the float64 reference model ref_class(**cfg) from the weights init, with
    rnnreg's Philox masks (SEED, ITERATION): the model (now in train mode, gradients set), the fixture's
    tensors (frames, use_truth, out, loss, init.*, grad.*, step1.* buffers) and the loss."""
    def mask_fn(layer, tensor, step, shape, p):
        return torch.from_numpy(philox_mask(SEED, ITERATION, layer, tensor, step, shape, p)).double()

    def zone_fn(layer, tensor, step, shape, p):
        return torch.from_numpy(philox_zone(SEED, ITERATION, layer, tensor, step, shape, p)).double()

    ref = ref_class(**cfg, mask_fn=mask_fn, zone_fn=zone_fn).double()
    ref.load_state_dict({k: v.double() for k, v in init.items()}, strict=True)
    ref.train()
    out = ref(frames.double(), ut)
    loss = torch.nn.functional.mse_loss(out, frames[1:].double())
    loss.backward()
    tensors = {"frames": frames.numpy(), "use_truth": ut.float().numpy(), "out": out.detach().numpy(),
               "loss": np.array([loss.item()])}
    for k, v in init.items():
        tensors["init." + k] = v.numpy()
    for name, p in ref.named_parameters():
        tensors["grad." + name] = p.grad.numpy()
    for name, b in ref.named_buffers():
        tensors["step1." + name] = b.numpy()
    return ref, tensors, loss


def make_convlstm(tag, over, use_truth):
    cfg = dict(BASE)
    cfg.update(over)
    torch.manual_seed(100 + sum(map(ord, tag)))
    model = ConvLSTMRef(**cfg)
    model.init_keras()
    with torch.no_grad():  # O(1) signals everywhere, non-trivial BN / LN parameters
        for name, p in model.named_parameters():
            if p.dim() > 1:
                p.mul_(2.0)
            elif ".ln_" in name or name.startswith("bns."):
                p.copy_((torch.rand_like(p) - 0.5) * 0.4 + (1.0 if name.endswith("weight") else 0.0))
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    C, S = model.channels, model.size
    frames = torch.rand(SEQ_LEN, BATCH, C, S, S)
    ut = torch.tensor(use_truth, dtype=torch.bool)

    ref, tensors, loss = train_step(ConvLSTMRef, cfg, init, frames, ut)
    ref.eval()
    with torch.no_grad():
        ev = ref.rollout(frames.double(), N_IN)
    tensors["eval.out"] = ev.numpy()
    tensors["eval.loss"] = np.array([torch.nn.functional.mse_loss(ev, frames[1:].double()).item()])
    meta = {k: (",".join(map(str, v)) if isinstance(v, list) else str(int(v)) if isinstance(v, bool) else str(v))
            for k, v in cfg.items()}
    meta.update(model="convlstm", batch=BATCH, seq_len=SEQ_LEN, n_in=N_IN, reg_seed=SEED, iteration=ITERATION,
                generator="tests/reference/make_reg_fixture.py")
    path = os.path.join(OUT, f"reg_{tag}.safetensors")
    write_safetensors(path, {k: np.asarray(v, np.float32) for k, v in tensors.items()}, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), loss {loss.item():.6f}")


PP_BASE = dict(hidden=[3, 3], kernels=[3, 1], layer_norm=True, ghu=True, patch=2, image_size=8, img_channels=1)
UT = [[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]]
PREDRNN_PP = {
    "pp_drop": dict(dropout=0.3),
    "pp_rec": dict(rec_dropout=0.25),
    "pp_recseq": dict(rec_dropout=0.4, rec_dropout_seq=True, layer_norm=False),
    "pp_var": dict(var_dropout_x=0.3, var_dropout_h=0.2),
    "pp_zone": dict(zoneout_c=0.3, zoneout_h=0.2, zoneout_m=0.25),
    "pp_wdrop": dict(weight_drop=0.4, ghu=False),
    "pp_bn": dict(batchnorm=True, bn_momentum=0.2, bn_eps=1e-3, hidden=[3, 3, 3], kernels=[3, 1, 3]),
    "pp_bn_noghu": dict(batchnorm=True, bn_momentum=0.1, bn_eps=1e-3, hidden=[3, 4], ghu=False, layer_norm=False,
                        dropout=0.2),
    "pp_all": dict(dropout=0.2, rec_dropout=0.2, var_dropout_x=0.25, var_dropout_h=0.15, zoneout_c=0.2,
                   zoneout_h=0.1, zoneout_m=0.15, weight_drop=0.3),
}


def make_predrnn_pp(tag, over):
    cfg = dict(PP_BASE)
    cfg.update(over)
    torch.manual_seed(200 + sum(map(ord, tag)))
    model = PredRNNppRef(**cfg)   # PyTorch default Conv2d init (O(1) signals), non-trivial LN parameters
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln_" in name or name.startswith("bns."):
                p.copy_((torch.rand_like(p) - 0.5) * 0.4 + (1.0 if name.endswith("weight") else 0.0))
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    C, S = model.channels, model.size
    frames = torch.rand(SEQ_LEN, BATCH, C, S, S)
    ut = torch.tensor(UT, dtype=torch.bool)

    ref, tensors, loss = train_step(PredRNNppRef, cfg, init, frames, ut)
    ref.eval()
    ev_truth = torch.zeros_like(ut)
    ev_truth[:, :N_IN] = True
    with torch.no_grad():
        ev = ref(frames.double(), ev_truth)
    tensors["eval.out"] = ev.numpy()
    tensors["eval.loss"] = np.array([torch.nn.functional.mse_loss(ev, frames[1:].double()).item()])
    meta = {("layers" if k == "hidden" else k): (",".join(map(str, v)) if isinstance(v, list) else
                                                 str(int(v)) if isinstance(v, bool) else str(v))
            for k, v in cfg.items()}
    meta.setdefault("batchnorm", "0")
    meta.update(model="predrnn_pp", head="linear", head_kernel=1, head_act="identity", batch=BATCH, seq_len=SEQ_LEN, n_in=N_IN, reg_seed=SEED, iteration=ITERATION,
                generator="tests/reference/make_reg_fixture.py")
    path = os.path.join(OUT, f"reg_{tag}.safetensors")
    write_safetensors(path, {k: np.asarray(v, np.float32) for k, v in tensors.items()}, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), loss {loss.item():.6f}")


def main():
    check_philox()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    only = sys.argv[1:]
    for tag, (over, ut) in CONVLSTM.items():
        if not only or tag in only:
            make_convlstm(tag, over, ut)
    for tag, over in PREDRNN_PP.items():
        if not only or tag in only:
            make_predrnn_pp(tag, over)


if __name__ == "__main__":
    main()

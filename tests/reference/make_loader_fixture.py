#!/usr/bin/env python3
"""make_loader_fixture.py — numpy fixtures for tests/test_loader.c (patch reshape and batch layout).

The patch reshape is PredRNN's reshape_patch as described in thuml/predrnn-pytorch
core/utils/preprocess.py (also Yunbo426/predrnn-pp utils/preprocess.py):
  [B,T,H,W,C] -> reshape [B,T,H/p,p,W/p,p,C] -> transpose (0,1,2,4,3,5,6) -> reshape [B,T,H/p,W/p,p*p*C]
written out here with numpy; our C code works on NCHW, so inputs/outputs are transposed to that.

Writes into tests/fixtures/ (run from anywhere: /usr/bin/python3 tests/reference/make_loader_fixture.py):
  loader_patch_in.npy      (B*T, C, H, W) = (2, 2, 8, 12) float32 image, NCHW
  loader_patch_p2.npy      (2, 8, 4, 6)  its reshape_patch with p = 2, NCHW
  loader_patch_p4.npy      (2, 32, 2, 3) the same with p = 4
  loader_src.npy           (T, N, H, W) = (3, 5, 8, 8) uint8 source sequences
  loader_batch_val_p2.npy  (T, B, C, Hp, Wp) = (3, 2, 4, 4, 4) float32: the validation batch of the
                           ordered split train 2 / val 2 / test 1 (sequences 2 and 3), /255, p = 2
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def reshape_patch(img, p):
    """PredRNN reshape_patch on [B, T, H, W, C]."""
    B, T, H, W, C = img.shape
    a = np.reshape(img, [B, T, H // p, p, W // p, p, C])
    b = np.transpose(a, [0, 1, 2, 4, 3, 5, 6])
    return np.reshape(b, [B, T, H // p, W // p, p * p * C])


def to_nchw(x):
    """[B, T, H, W, C] -> [B*T, C, H, W]."""
    B, T, H, W, C = x.shape
    return np.ascontiguousarray(np.transpose(x, [0, 1, 4, 2, 3]).reshape(B * T, C, H, W))


def main():
    rng = np.random.default_rng(20240601)
    os.makedirs(OUT, exist_ok=True)

    # Patch reshape: B=2, T=1, non-square 8x12 frames, C=2 so the channel order inside a patch shows.
    img = rng.random((2, 1, 8, 12, 2), dtype=np.float32)
    np.save(os.path.join(OUT, "loader_patch_in.npy"), to_nchw(img))
    for p in (2, 4):
        np.save(os.path.join(OUT, f"loader_patch_p{p}.npy"), to_nchw(reshape_patch(img, p)))

    # Batch layout: source (T, N, H, W) uint8, ordered split, validation batch = sequences 2, 3.
    src = rng.integers(0, 256, size=(3, 5, 8, 8), dtype=np.uint8)
    np.save(os.path.join(OUT, "loader_src.npy"), src)
    seqs = src[:, [2, 3]]                                        # (T, B, H, W)
    frames = np.transpose(seqs, [1, 0, 2, 3])[..., None]         # (B, T, H, W, 1) as PredRNN feeds it
    frames = frames.astype(np.float32) / np.float32(255.0)
    patched = reshape_patch(frames, 2)                           # (B, T, Hp, Wp, 4)
    batch = np.ascontiguousarray(np.transpose(patched, [1, 0, 4, 2, 3]))  # (T, B, C, Hp, Wp)
    np.save(os.path.join(OUT, "loader_batch_val_p2.npy"), batch)


if __name__ == "__main__":
    main()

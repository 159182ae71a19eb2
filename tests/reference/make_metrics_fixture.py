#!/usr/bin/env python3
"""make_metrics_fixture.py — fixed inputs and scikit-image / numpy expected values for src/metrics.c.

Writes (into tests/fixtures/, or the folder given as argv[1]):
  metrics_truth.npy, metrics_pred.npy              float32 (T=2, N=4, 64, 64): eight frame pairs
  metrics_small_truth.npy, metrics_small_pred.npy  float32 (1, 2, 20, 13): non-square frames
  metrics_expected.txt                             expected numbers, %.17g, one record a line:
      pair  <set> t n  mse mse_pixel mae psnr ssim ssim_gauss mse_f32 psnr_f32
      frame <set> t    mse mse_pixel mae psnr ssim ssim_gauss      (means over the N sequences)
      mean  <set>      mse mse_pixel mae psnr ssim ssim_gauss      (mean of the frame means)
  with <set> = "main" or "small".

The reference follows the PredRNN test code (thuml/predrnn-pytorch core/trainer.py:test and
core/utils/metrics.py:batch_psnr; docs/metrics.md) line by line:
  gx = np.minimum(np.maximum(pred, 0), 1)            (float32; the truth is in [0, 1] and not clipped)
  mse = Σ (x − gx)²,  mae = Σ |x − gx|               (in float64 here; PredRNN sums in float32, which is
                                                      kept as the column mse_f32)
  real = np.uint8(x * 255), pred_u8 = np.uint8(gx * 255)   (float32 product, truncation)
  psnr = 20 log10 255 − 10 log10(mean (pred_u8 − real)²)   (float64 here, 100 when the uint8 frames are
                                                      identical — our documented cap; batch_psnr's
                                                      float32 value, inf for identical frames, is psnr_f32)
  ssim = skimage.metrics.structural_similarity(pred_u8, real)       (library defaults)
  ssim_gauss = structural_similarity(gx, x in float64, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=1.0)
Rerun:  /usr/bin/python3 tests/reference/make_metrics_fixture.py
The functions reference_frame / reference_arrays are also imported by tests/test_metrics_cli.sh.
"""
import math
import os
import sys

import numpy as np
from skimage.metrics import structural_similarity

PSNR_CAP = 100.0  # src/metrics.h METRICS_PSNR_CAP
NAMES = ["mse", "mse_pixel", "mae", "psnr", "ssim", "ssim_gauss"]


def batch_psnr_predrnn(gen_frames, gt_frames):
    """thuml/predrnn-pytorch core/utils/metrics.py batch_psnr, as written there (float32 sums)."""
    axis = (1, 2) if gen_frames.ndim == 3 else (1, 2, 3)
    x = np.int32(gen_frames)
    y = np.int32(gt_frames)
    num_pixels = float(np.size(gen_frames[0]))
    mse = np.sum((x - y) ** 2, axis=axis, dtype=np.float32) / num_pixels
    with np.errstate(divide="ignore"):
        psnr = 20 * np.log10(255) - 10 * np.log10(mse)
    return float(np.mean(psnr))


def reference_frame(x, pred):
    """Metrics of one frame pair: x (truth) and pred are float32 [H, W]. Returns a dict."""
    assert x.dtype == np.float32 and pred.dtype == np.float32 and x.ndim == 2
    assert x.min() >= 0 and x.max() <= 1, "the truth must lie in [0, 1]"
    H, W = x.shape
    gx = np.minimum(np.maximum(pred, 0), 1)
    assert gx.dtype == np.float32
    d = x.astype(np.float64) - gx.astype(np.float64)
    real = np.uint8(x * 255)
    pred_u8 = np.uint8(gx * 255)
    mse_u8 = np.mean((pred_u8.astype(np.int64) - real.astype(np.int64)) ** 2)
    psnr = PSNR_CAP if mse_u8 == 0 else 20 * math.log10(255) - 10 * math.log10(mse_u8)
    out = {
        "mse": float(np.sum(d * d)),
        "mse_pixel": float(np.sum(d * d) / (H * W)),
        "mae": float(np.sum(np.abs(d))),
        "psnr": psnr,
        "ssim": float(structural_similarity(pred_u8, real)),
        "ssim_gauss": float("nan"),
        "mse_f32": float(np.square(x - gx).sum()),  # PredRNN's float32 expression
        "psnr_f32": batch_psnr_predrnn(pred_u8[None], real[None]),
    }
    if min(H, W) >= 11:
        out["ssim_gauss"] = float(structural_similarity(
            gx.astype(np.float64), x.astype(np.float64), gaussian_weights=True, sigma=1.5,
            use_sample_covariance=False, data_range=1.0))
    return out


def as_float01(a):
    """uint8 arrays become float32 x/255 (as rnnreg metrics reads them); float32 stays."""
    if a.dtype == np.uint8:
        return a.astype(np.float32) / np.float32(255)
    assert a.dtype == np.float32
    return a


def reference_arrays(truth, pred):
    """The JSON object `rnnreg metrics` prints, for (T, N, H, W) arrays (uint8 or float32)."""
    truth, pred = as_float01(truth), as_float01(pred)
    T, N = truth.shape[:2]
    per = [[reference_frame(truth[t, n], pred[t, n]) for n in range(N)] for t in range(T)]
    res = {"frames": T, "sequences": N, "mean": {}}
    for k in NAMES:
        frame_means = [float(np.mean([per[t][n][k] for n in range(N)])) for t in range(T)]
        res[k] = frame_means
        res["mean"][k] = float(np.mean(frame_means))
    res["_pairs"] = per
    return res


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def blobs(rng, H, W, k):
    """Sum of k Gaussian bumps, scaled into [0, 1]."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    img = np.zeros((H, W))
    for _ in range(k):
        cy, cx = rng.uniform(0, H), rng.uniform(0, W)
        s = rng.uniform(3, 9)
        img += rng.uniform(0.3, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    return img / max(img.max(), 1e-12)


def strokes(rng, H, W, k, width=1.6):
    """k anti-aliased line segments (digit-like strokes) on a black background, in [0, 1]."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    img = np.zeros((H, W))
    for _ in range(k):
        p = np.array([rng.uniform(8, H - 8), rng.uniform(8, W - 8)])
        q = p + rng.uniform(-14, 14, size=2)
        d = q - p
        t = np.clip(((yy - p[0]) * d[0] + (xx - p[1]) * d[1]) / max(d @ d, 1e-9), 0, 1)
        dist = np.hypot(yy - (p[0] + t * d[0]), xx - (p[1] + t * d[1]))
        img = np.maximum(img, np.clip(width - dist, 0, 1))
    return img


def shift_blur(img, dy, dx):
    """Shifted copy smoothed by a 3×3 box (a blurry, misplaced prediction)."""
    s = np.roll(np.roll(img, dy, axis=0), dx, axis=1)
    p = np.pad(s, 1, mode="edge")
    return sum(p[i:i + s.shape[0], j:j + s.shape[1]] for i in range(3) for j in range(3)) / 9.0


def make_main(rng):
    H = W = 64
    pairs = []
    # 0: smooth blobs vs a shifted, blurred copy with a little noise
    t = blobs(rng, H, W, 4)
    pairs.append((t, shift_blur(t, 2, -1) + rng.normal(0, 0.02, (H, W))))
    # 1: sparse strokes vs blurred strokes with values slightly outside [0, 1] (clipping)
    t = strokes(rng, H, W, 5)
    pairs.append((t, 1.1 * shift_blur(t, 1, 1) - 0.04 + rng.normal(0, 0.03, (H, W))))
    # 2: noise vs noise
    pairs.append((rng.uniform(0, 1, (H, W)), rng.uniform(0, 1, (H, W))))
    # 3: identical pair (PSNR cap, SSIM 1)
    t = strokes(rng, H, W, 4)
    pairs.append((t, t.copy()))
    # 4: all-zero pair
    pairs.append((np.zeros((H, W)), np.zeros((H, W))))
    # 5: truth on the uint8 grid k/255, prediction 0.3/255 above it: identical uint8 frames (PSNR cap,
    #    SSIM 1) but non-zero MSE and Gaussian SSIM < 1
    t = np.round(strokes(rng, H, W, 6) * 255) / 255
    pairs.append((t, t + 0.3 / 255))
    # 6: heavy clipping: prediction stretched far outside [0, 1]
    t = blobs(rng, H, W, 3)
    pairs.append((t, 1.8 * t - 0.4 + rng.normal(0, 0.05, (H, W))))
    # 7: flat grey truth vs darker flat prediction with a bright square
    p = np.full((H, W), 0.25)
    p[20:30, 35:47] = 0.9
    pairs.append((np.full((H, W), 0.5), p))
    truth = np.stack([a for a, _ in pairs]).astype(np.float32).reshape(2, 4, H, W)
    pred = np.stack([b for _, b in pairs]).astype(np.float32).reshape(2, 4, H, W)
    return np.clip(truth, 0, 1), pred


def make_small(rng):
    H, W = 20, 13
    t0 = blobs(rng, H, W, 2)
    t1 = strokes(rng, H + 16, W + 16, 2)[8:8 + H, 8:8 + W]
    truth = np.stack([t0, t1]).astype(np.float32)[None]
    pred = np.stack([shift_blur(t0, 1, 0) + rng.normal(0, 0.05, (H, W)),
                     t1[::-1] * 1.05 - 0.02]).astype(np.float32)[None]
    return np.clip(truth, 0, 1), pred


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    rng = np.random.default_rng(20240611)
    sets = {"main": make_main(rng), "small": make_small(rng)}
    lines = ["# metrics_expected.txt — written by tests/reference/make_metrics_fixture.py; do not edit",
             "# pair  <set> t n  " + " ".join(NAMES) + " mse_f32 psnr_f32",
             "# frame <set> t    " + " ".join(NAMES),
             "# mean  <set>      " + " ".join(NAMES)]
    g = lambda v: "%.17g" % v
    for name, (truth, pred) in sets.items():
        prefix = "metrics_" if name == "main" else "metrics_small_"
        np.save(os.path.join(out_dir, prefix + "truth.npy"), truth)
        np.save(os.path.join(out_dir, prefix + "pred.npy"), pred)
        ref = reference_arrays(truth, pred)
        T, N = truth.shape[:2]
        for t in range(T):
            for n in range(N):
                r = ref["_pairs"][t][n]
                lines.append(" ".join(["pair", name, str(t), str(n)] +
                                      [g(r[k]) for k in NAMES + ["mse_f32", "psnr_f32"]]))
        for t in range(T):
            lines.append(" ".join(["frame", name, str(t)] + [g(ref[k][t]) for k in NAMES]))
        lines.append(" ".join(["mean", name] + [g(ref["mean"][k]) for k in NAMES]))
    with open(os.path.join(out_dir, "metrics_expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote metrics fixtures into", os.path.normpath(out_dir))


if __name__ == "__main__":
    main()

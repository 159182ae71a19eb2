"""torch_gpu.py — the PyTorch side of `make bench BACKEND=cuda`: for every `rnnreg bench --json` line of
a GPU run (one per config, batch and precision), times the same training step of the PyTorch reference
model (tests/reference/convlstm_ref.py / predrnn_pp_ref.py, built from the line's "spec" by
tests/reference/bench_torch.py's build_model) on the same GPU, and prints one JSON line per run.

  torch_gpu.py --ours-file FILE [--compile] [--budget SECONDS]

The step is rnnreg's: zero the gradients, forward on frames (T, B, C, H, W) uniform in [0, 1) with teacher
forcing, MSE (mean) against frames 1..T-1, backward, torch.optim.Adam step (the line's lr, betas, eps,
weight decay); torch.cuda.synchronize() before and after each step, so a step's time is its GPU time
plus launch overhead, as ours (which ends a step with a device → host copy). W untimed steps (on the
first warmup_frames frames, as ours), then the number of steps ours timed; the median is reported.

Precision follows the line's "tf32": 0 → FP32 everywhere (cuDNN convolutions and cuBLAS matmuls with
TF32 disabled); 1 → PyTorch's defaults (cuDNN convolutions in TF32, which is PyTorch's default for
convolutions; matmuls stay FP32, and the models have none). The flags used are printed.

--compile: torch.compile(model) (default mode) instead of eager; the warm-up runs on all frames (one
compilation for the timed shape), and its time is reported as compile_s. A failure to compile prints
{"error": ...} for that run and goes on. --budget: stop starting new runs after SECONDS.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))


_defaults = None


def _has(obj, name):
    try:  # torch.backends.cuda.matmul raises AssertionError (not AttributeError) for unknown names
        getattr(obj, name)
        return True
    except Exception:  # noqa: BLE001
        return False


def set_precision(torch, tf32):
    """FP32 (tf32 0): no TF32 anywhere. tf32 1: PyTorch's defaults (restored if an earlier run changed
    them). Returns the flags in force, as text."""
    global _defaults
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    new_api = _has(matmul, "fp32_precision") and _has(getattr(cudnn, "conv", None), "fp32_precision")
    if new_api:  # PyTorch >= 2.9: fp32_precision = "ieee" | "tf32"
        if _defaults is None:
            _defaults = (matmul.fp32_precision, cudnn.conv.fp32_precision)
        matmul.fp32_precision, cudnn.conv.fp32_precision = _defaults if tf32 else ("ieee", "ieee")
        return "matmul.fp32_precision=%s cudnn.conv.fp32_precision=%s" % (matmul.fp32_precision,
                                                                          cudnn.conv.fp32_precision)
    if _defaults is None:
        _defaults = (matmul.allow_tf32, cudnn.allow_tf32)
    matmul.allow_tf32, cudnn.allow_tf32 = _defaults if tf32 else (False, False)
    return "matmul.allow_tf32=%s cudnn.allow_tf32=%s" % (matmul.allow_tf32, cudnn.allow_tf32)


def run_one(torch, build_model, ours, compile_model, device):
    spec, batch, seq_len = ours["spec"], ours["batch"], ours["seq_len"]
    steps, warmup = ours["steps"], max(1, ours["warmup"])
    warmup_frames = seq_len if compile_model else ours.get("warmup_frames", seq_len)
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    flags = set_precision(torch, ours.get("tf32", 0)) if cuda else "cpu"
    torch.manual_seed(1)
    model = build_model(spec).to(dev).train()
    params = sum(p.numel() for p in model.parameters())
    run = torch.compile(model) if compile_model else model
    c = spec["img_channels"] * spec["patch"] ** 2
    s = spec["image_size"] // spec["patch"]
    frames = torch.rand(seq_len, batch, c, s, s, device=dev)
    use_truth = torch.ones(batch, seq_len, dtype=torch.bool, device=dev)
    adam = ours["adam"]
    opt = torch.optim.Adam(model.parameters(), lr=adam["lr"], betas=(adam["beta1"], adam["beta2"]),
                           eps=adam["eps"], weight_decay=adam["weight_decay"])
    times, losses, first_s = [], [], None
    for i in range(warmup + steps):
        x = frames[:warmup_frames] if i < warmup else frames
        sync()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        pred = run(x, use_truth)
        loss = torch.nn.functional.mse_loss(pred, x[1:])
        loss.backward()
        opt.step()
        sync()
        dt = time.perf_counter() - t0
        if i == 0:
            first_s = dt
        if i >= warmup:
            times.append(dt)
            losses.append(loss.item())
    med = statistics.median(times)
    fwd = ours["fwd_flops_per_seq"]
    return {"bench": "torch_gpu", "mode": "compile" if compile_model else "eager", "config": ours["config"],
            "batch": batch, "seq_len": seq_len, "tf32": ours.get("tf32", 0), "precision_flags": flags,
            "torch": torch.__version__, "device": torch.cuda.get_device_name(0) if cuda else "cpu", "params": params,
            "warmup": warmup, "warmup_frames": warmup_frames, "steps": steps,
            "median_s": round(med, 6), "min_s": round(min(times), 6), "max_s": round(max(times), 6),
            "seq_per_s": round(batch / med, 4), "tflops": round(3 * fwd * batch / med * 1e-12, 4),
            "first_step_s": round(first_s, 3), "loss_first": losses[0], "loss_last": losses[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours-file", required=True, help="rnnreg bench --json lines (backend cuda), one per run")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--budget", type=float, default=0, help="stop starting runs after this many seconds")
    ap.add_argument("--device", default="cuda", help="cuda (default); cpu only to smoke-test this script")
    args = ap.parse_args()
    start = time.time()
    try:
        import torch
        from bench_torch import build_model
    except ImportError as e:
        print(json.dumps({"bench": "torch_gpu", "error": "cannot import: %s" % e}))
        return 3
    if args.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"bench": "torch_gpu", "error": "torch.cuda.is_available() is False"}))
        return 3
    with open(args.ours_file) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    for ours in lines:
        if args.budget > 0 and time.time() - start > args.budget:
            print(json.dumps({"bench": "torch_gpu", "mode": "compile" if args.compile else "eager",
                              "config": ours["config"], "batch": ours["batch"], "tf32": ours.get("tf32", 0),
                              "error": "skipped: budget of %g s spent" % args.budget}), flush=True)
            continue
        try:
            out = run_one(torch, build_model, ours, args.compile, args.device)
        except Exception as e:  # noqa: BLE001 — report and go on (a compile failure must not stop eager numbers)
            out = {"bench": "torch_gpu", "mode": "compile" if args.compile else "eager", "config": ours["config"],
                   "batch": ours["batch"], "tf32": ours.get("tf32", 0),
                   "error": ("%s: %s" % (type(e).__name__, e)).replace("\n", " ")[:300]}
        print(json.dumps(out), flush=True)
        if args.compile:
            torch._dynamo.reset()
        if args.device == "cuda":
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())

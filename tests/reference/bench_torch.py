"""bench_torch.py — the PyTorch side of `make bench`: times one training step (forward + backward +
torch.optim.Adam step) of the reference model (convlstm_ref.py / predrnn_pp_ref.py) with the same
configuration, batch, sequence length and thread count as an `rnnreg bench --json` run, and prints one
JSON line. Not a test: nothing is asserted, the numbers go to bench/bench.sh.

  bench_torch.py --ours '<the JSON line of rnnreg bench --json>' [--steps N] [--warmup W]
                 [--precision fp32|bf16]

The step is what rnnreg's step does: zero the gradients, run the model on frames (T, B, C, H, W)
uniform in [0, 1) with teacher forcing (use_truth all true), MSE (mean) against frames 1..T-1,
backward, Adam(lr, betas, eps, weight_decay of the config). W untimed steps (on the first
warmup_frames frames, as ours), then N timed ones (time.perf_counter around each step; N = the number
of steps ours timed); the median is reported.
--precision bf16 runs the forward pass and the loss under torch.autocast("cpu", dtype=torch.bfloat16)
(convolutions with bf16 operands, as PyTorch's mixed precision does on CPUs; the weights, the Adam state
and the backward call stay outside it, as PyTorch's AMP recipe has them); fp32 (default) runs without.
If torch is missing: prints {"bench": "torch_train_step", "error": "not installed"} and exits 3.
"""
import argparse
import json
import resource
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def build_model(spec):
    sys.path.insert(0, HERE)
    if spec["model"] == "convlstm":
        from convlstm_ref import ConvLSTMRef
        model = ConvLSTMRef(spec["layers"], spec["kernels"], cell_act=spec["cell_act"],
                            gate_act=spec["gate_act"], batchnorm=bool(spec["batchnorm"]),
                            bn_momentum=spec["bn_momentum"], bn_eps=spec["bn_eps"], head=spec["head"],
                            head_kernel=spec["head_kernel"], head_act=spec["head_act"],
                            patch=spec["patch"], image_size=spec["image_size"],
                            img_channels=spec["img_channels"])
        model.init_keras()
        return model
    if spec["model"] == "predrnn_pp":
        from predrnn_pp_ref import PredRNNppRef
        return PredRNNppRef(spec["layers"], spec["kernels"], layer_norm=bool(spec["layer_norm"]),
                            ghu=bool(spec["ghu"]), patch=spec["patch"], image_size=spec["image_size"],
                            img_channels=spec["img_channels"])
    raise ValueError("bench_torch.py: unknown model " + spec["model"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="the JSON line printed by rnnreg bench --json")
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default: as ours)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps (default: as ours)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="bf16: forward and loss under torch.autocast('cpu', dtype=torch.bfloat16)")
    args = ap.parse_args()
    ours = json.loads(args.ours)
    try:
        import torch
    except ImportError:
        print(json.dumps({"bench": "torch_train_step", "error": "not installed"}))
        return 3
    spec = ours["spec"]
    threads, batch, seq_len = ours["threads"], ours["batch"], ours["seq_len"]
    steps = args.steps if args.steps is not None else ours["steps"]
    warmup = args.warmup if args.warmup is not None else ours["warmup"]
    warmup_frames = ours.get("warmup_frames", seq_len)   # warm-up steps on the first frames only
    torch.set_num_threads(threads)
    # rnnreg flushes denormals to zero (src/main.c); PyTorch does the same here, so neither pays the
    # microcode assists of denormal operands the other avoids.
    torch.set_flush_denormal(True)
    torch.manual_seed(1)

    model = build_model(spec).train()
    c = spec["img_channels"] * spec["patch"] ** 2
    s = spec["image_size"] // spec["patch"]
    frames = torch.rand(seq_len, batch, c, s, s)
    use_truth = torch.ones(batch, seq_len, dtype=torch.bool)
    adam = ours["adam"]
    opt = torch.optim.Adam(model.parameters(), lr=adam["lr"], betas=(adam["beta1"], adam["beta2"]),
                           eps=adam["eps"], weight_decay=adam["weight_decay"])

    if args.precision == "bf16":
        def autocast():
            return torch.autocast("cpu", dtype=torch.bfloat16)
    else:
        import contextlib
        autocast = contextlib.nullcontext

    times, losses = [], []
    for i in range(warmup + steps):
        x = frames[:warmup_frames] if i < warmup else frames
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        with autocast():
            pred = model(x, use_truth)
            loss = torch.nn.functional.mse_loss(pred, x[1:])
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
            losses.append(loss.item())
    med = statistics.median(times)
    fwd = ours["fwd_flops_per_seq"]   # the same FLOP count as ours: 3 x forward
    print(json.dumps({
        "bench": "torch_train_step", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "precision": args.precision,
        "autocast": "torch.autocast('cpu', dtype=torch.bfloat16)" if args.precision == "bf16" else None,
        "batch": batch, "seq_len": seq_len, "warmup": warmup, "warmup_frames": warmup_frames,
        "steps": steps,
        "params": sum(p.numel() for p in model.parameters()),
        "median_s": round(med, 6), "min_s": round(min(times), 6), "max_s": round(max(times), 6),
        "seq_per_s": round(batch / med, 4), "gflops": round(3 * fwd * batch / med * 1e-9, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "loss_first": losses[0], "loss_last": losses[-1]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

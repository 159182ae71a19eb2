#!/usr/bin/env bash
# test_train_predrnn_pp.sh — `rnnreg train` with model = predrnn_pp end to end
# (experiments/configs/predrnn_pp_tiny.conf: GHU, zigzag memory, layer norm, reverse-input
# augmentation, scheduled sampling) on 40 generated sequences: learning, determinism, resume after
# kill -9, and with PyTorch (tests/reference/predrnn_pp_ref.py): the checkpoint loads with
# strict=True and one iteration — an Adam update on the sequence, then one on the time-reversed
# sequence — reproduces the next checkpoint's parameters and moments.
set -u
cd "$(dirname "$0")/.."
T=test_train_predrnn_pp
. tests/lib.sh

trainer_scratch train_pp
CONF=experiments/configs/predrnn_pp_tiny.conf
train() { local out=$1; shift; "$RNNREG" train --config "$CONF" --set data="$DATA" --set checkpoint_every=2 "$@" --out "$out"; }
untimed() { sed -E 's/, "seconds": [^,}]*//; s/, "seq_per_s": [^,}]*//' "$1"; }
same_run() {
    cmp -s "$1/last.safetensors" "$2/last.safetensors" && cmp -s "$1/best.safetensors" "$2/best.safetensors" &&
        cmp -s "$1/metrics.json" "$2/metrics.json" && cmp -s "$1/predictions.npy" "$2/predictions.npy" &&
        cmp -s <(untimed "$1/log.jsonl") <(untimed "$2/log.jsonl")
}

train "$W/a" >/dev/null 2>"$W/a.err"; rc=$?
check "tiny PredRNN++ run exits 0 ($(tail -1 "$W/a.err"))" [ "$rc" -eq 0 ]
for f in metrics.json predictions.npy best.safetensors; do check "run directory has $f" [ -s "$W/a/$f" ]; done
v1=$(head -1 "$W/a/log.jsonl" | grep -o '"val_loss": [0-9.e+-]*' | cut -d' ' -f2)
v6=$(tail -1 "$W/a/log.jsonl" | grep -o '"val_loss": [0-9.e+-]*' | cut -d' ' -f2)
check "learning: val loss $v1 -> $v6 (last < 0.7 x first)" awk -v a="$v1" -v b="$v6" 'BEGIN{exit !(b < 0.7 * a)}'

train "$W/b" >/dev/null 2>&1
check "determinism: a second identical run gives bit-identical checkpoints, metrics, predictions, log" same_run "$W/a" "$W/b"

# kill -9 once the first mid-epoch checkpoint exists, then --resume
# rnnreg itself in the background ($! of a backgrounded function would be a subshell's pid)
"$RNNREG" train --config "$CONF" --set data="$DATA" --set checkpoint_every=2 --out "$W/k" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 3000); do [ -e "$W/k/last.safetensors" ] && break; sleep 0.02; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
train "$W/k" --resume >/dev/null 2>"$W/k.err"
check "kill -9 after the first checkpoint, then --resume: identical to the uninterrupted run" same_run "$W/a" "$W/k"

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
    skip "PyTorch checks: no torch in $PYTHON"
    exit 0
fi
# one batch per epoch (n_train = batch = 4, sequences 0..3), teacher forcing so the mask is known
step=(--set n_train=4 --set sampling=teacher --set checkpoint_every=0)
train "$W/s" "${step[@]}" --set epochs=1 >/dev/null 2>&1
cp "$W/s/last.safetensors" "$W/ck1.safetensors"
train "$W/s" "${step[@]}" --set epochs=2 --resume >/dev/null 2>&1
"$PYTHON" - "$W/ck1.safetensors" "$W/s/last.safetensors" "$W/s/log.jsonl" "$DATA" >"$W/torch.txt" 2>&1 <<'PY'
import json, sys
sys.path.insert(0, "tests/reference")
import numpy as np, torch
from stio import read_safetensors
from predrnn_pp_ref import PredRNNppRef
ck1, meta1 = read_safetensors(sys.argv[1], with_metadata=True)
ck2, meta2 = read_safetensors(sys.argv[2], with_metadata=True)
log = [json.loads(l) for l in open(sys.argv[3])]
data = np.load(sys.argv[4])
x = data[:, 0:4].astype(np.float32) / 255.0                      # (20, 4, 64, 64)
x = x.reshape(20, 4, 16, 4, 16, 4).transpose(0, 1, 3, 5, 2, 4).reshape(20, 4, 16, 16, 16)  # reshape_patch, p = 4
frames32 = torch.from_numpy(np.ascontiguousarray(x))
truth = torch.ones(4, 20, dtype=torch.bool)

def iteration(dtype):
    """PredRNN train.py's iteration from checkpoint 1 in dtype: an Adam update on the sequence, then one
    on the time-reversed sequence. Returns the two losses, the parameters and the Adam moments."""
    model = PredRNNppRef([4, 4], [3, 3], layer_norm=True, ghu=True, patch=4, image_size=64).to(dtype)
    model.load_state_dict({k: torch.from_numpy(v).to(dtype) for k, v in ck1.items() if not k.startswith("optimizer.")},
                          strict=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    for n, p in model.named_parameters():
        opt.state[p] = {"step": torch.tensor(float(meta1["optimizer_step"])),  # copies: Adam updates in place
                        "exp_avg": torch.from_numpy(ck1["optimizer.exp_avg." + n]).to(dtype).clone(),
                        "exp_avg_sq": torch.from_numpy(ck1["optimizer.exp_avg_sq." + n]).to(dtype).clone()}
    frames, losses = frames32.to(dtype), []
    for seq in (frames, torch.flip(frames, dims=[0])):   # PredRNN train.py: the sequence, then reversed
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(seq, truth), seq[1:])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out = {n: p.detach().double().numpy() for n, p in model.named_parameters()}
    for n, p in model.named_parameters():
        for s in ("exp_avg", "exp_avg_sq"):
            out[f"optimizer.{s}.{n}"] = opt.state[p][s].double().numpy()
    return losses, out

# Tolerances from the float32 error of the computation, not from one machine's run (a 1e-5
# loss tolerance failed on another CPU kind, at 1.5e-5; torch's own float32 loss is off the float64
# one by up to 1.7e-5 here).
# Parameters and Adam moments: the same iteration in float64 is exact to ~1e-16, so
# e32 = max over a group's tensors of max |torch float32 - float64| / scale is the float32 error of one
# summation order of this computation, including how the model amplifies it (19 recurrent steps, two
# updates, tensor layer norms whose gain gradients are sums of ~3e5 cancelling terms, Adam's
# m/sqrt(v)): 1e-4 .. 1e-3 here (scale: a parameter tensor's largest update |w2 - w1|, a moment
# tensor's largest element; the max over the group, because one small tensor's error can vanish by
# chance). Ours is another float32 summation order of the same sums (im2col + sgemm kernels chosen per
# CPU, other reduction orders): |ours - torch32| <= |ours - exact| + |torch32 - exact| <= (R + 1) e32,
# R = |ours - exact| / e32. Over OpenBLAS Prescott/Haswell/SkylakeX/Zen, builtin BLAS, 1-2 threads and
# torch's oneDNN at AVX512/AVX2/SSE4.1, |ours - torch32| reached 2.7 e32 (R <= 1.7); F = 5 leaves ~2x
# for kernels not measured (e.g. AMX), plus 8 u (u = 2^-24) of the scale.
# The loss (a scalar, whose e32 can vanish by chance): a priori. Each step's sums of K <= 144 terms
# (conv_x over 16 channels x 3 x 3) err by about sqrt(K) u relative (Higham & Mary 2019), the error
# carried through S = 19 steps adds up at most linearly, two implementations differ by twice that, and
# d(mean r^2) / mean r^2 <= 2 rms(dy) / rms(r) doubles it again: |ours - torch| <= 4 S sqrt(K) u L
# = 5.4e-5 L. An Adam bias correction off by one step exceeds these bounds 100 .. 2000 times; beta2 =
# 0.998 instead of 0.999, 500 times.
F, U, S, K = 5.0, 2.0 ** -24, 19, 144
(l32, t32), (l64, t64) = iteration(torch.float32), iteration(torch.float64)
# e32 per group: the largest e32 / scale over its tensors (a single small tensor's e32 can vanish by chance)
groups = {"moments": [n for n in ck1 if n.startswith("optimizer.")], "params": [n for n in ck1 if n in t32 and not n.startswith("optimizer.")]}
scale = {n: float(np.max(np.abs(t64[n] - ck1[n] if g == "params" else t64[n]))) for g, ns in groups.items() for n in ns}
e32 = {g: max(float(np.max(np.abs(t32[n] - t64[n]))) / scale[n] for n in ns) for g, ns in groups.items()}
fails, used = [], {}
for g, ns in groups.items():
    for n in ns:
        err, bound = float(np.max(np.abs(ck2[n] - t32[n]))), (F * e32[g] + 8 * U) * scale[n]
        used[g] = max(used.get(g, 0.0), err / bound)
        if not err <= bound:
            fails.append(f"{n}: max diff {err:.3g} > ({F:g} x float32 error {e32[g]:.3g} + 8u) x {scale[n]:.3g}")
if int(meta2["optimizer_step"]) != int(meta1["optimizer_step"]) + 2: fails.append("not two updates per iteration")
mean = sum(l32) / 2
loss_bound = 4 * S * K ** 0.5 * U * mean
used["loss"] = abs(log[1]["train_loss"] - mean) / loss_bound
if not abs(log[1]["train_loss"] - mean) <= loss_bound:
    fails.append(f"train loss {log[1]['train_loss']} vs {mean}: relative difference "
                 f"{abs(log[1]['train_loss'] - mean) / mean:.3g} > 4 S sqrt(K) u = {loss_bound / mean:.3g}")
print(f"losses {l32[0]:.6g} (forward), {l32[1]:.6g} (reversed); log {log[1]['train_loss']:.6g}; "
      f"worst fraction of the bound: " + ", ".join(f"{k} {v:.2f}" for k, v in used.items()))
print("\n".join(fails) if fails else "all close")
sys.exit(1 if fails else 0)
PY
rc=$?
check "PyTorch: checkpoint loads with strict=True; one iteration (update on the sequence, then on the reversed sequence) reproduces the next checkpoint ($(head -1 "$W/torch.txt"))" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$W/torch.txt"
exit 0

#!/usr/bin/env bash
# test_teacher_forced.sh — `rnnreg eval --teacher-forced` and `rnnreg predict --teacher-forced` (every
# input the true frame: the report's Keras protocol) on two trained tiny ConvLSTMs, a conv2d head and
# the centred Conv3D head of the Keras example, against the PyTorch twin (tests/reference/convlstm_ref.py,
# forward_inputs on whole sequences, loaded as tools/pipeline/report_protocol.py loads it): the
# predicted future frames, the loss over all outputs, and eval's metrics against numpy on predict's
# frames. For the conv2d head the first predicted frame is the autoregressive one, bit for bit (all
# its inputs are true frames in both protocols); for the centred head it is not (it sees its frame).
# Needs build/rnnreg; the PyTorch checks need torch in $PYTHON.
set -u
cd "$(dirname "$0")/.."
T=test_teacher_forced
. tests/lib.sh

trainer_scratch tf
CONF=experiments/configs/convlstm_tiny.conf
if ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    skip "teacher-forced checks" "no numpy in $PYTHON"
    exit 0
fi
HAVE_TORCH=0; "$PYTHON" -c 'import torch' 2>/dev/null && HAVE_TORCH=1

# head NAME [--set ...]: train the tiny config for 2 epochs, then predict / eval both ways
head_case() {
    local name=$1; shift
    local d=$W/$name
    "$RNNREG" train --config "$CONF" --set data="$DATA" --set epochs=2 "$@" --out "$d" >/dev/null 2>"$d.err"
    check "$name: tiny run exits 0" [ -s "$d/best.safetensors" ]
    "$RNNREG" predict --teacher-forced --checkpoint "$d/best.safetensors" --out "$d/tf.npy" 2>"$d/tf.err"
    check "$name: predict --teacher-forced writes (10, 8, 64, 64) ($(tail -1 "$d/tf.err"))" \
        grep -q "wrote $d/tf.npy: (10, 8, 64, 64) float32, teacher-forced" "$d/tf.err"
    "$RNNREG" predict --checkpoint "$d/best.safetensors" --out "$d/ar.npy" 2>/dev/null
    "$RNNREG" eval --teacher-forced --checkpoint "$d/best.safetensors" --split test --out "$d/tf.json" 2>"$d/eval.err"
    check "$name: eval --teacher-forced writes metrics and says teacher-forced" \
        grep -q "test split, 8 sequences, teacher-forced: loss" "$d/eval.err"
    "$RNNREG" predict --teacher-forced --checkpoint "$d/best.safetensors" --sequences 3 --split test --out "$d/tf3.npy" 2>/dev/null
}
head_case conv2d
head_case centred --set head=conv3d_centered --set head_kernel=3 --set sampling=teacher --set layers=8,8 --set batchnorm=1

# eval's metrics = numpy on predict's frames (test split of the ordered split: sequences 24..31)
for name in conv2d centred; do
    d=$W/$name
    "$PYTHON" - "$d/tf.npy" "$d/tf3.npy" "$DATA" "$d/tf.json" >"$d/np.txt" 2>&1 <<'EOF'
import json, sys
import numpy as np
pred, pred3, data, m = np.load(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3]), json.load(open(sys.argv[4]))
truth = data[10:20, 24:32].astype(np.float64) / 255.0
mse = ((pred.astype(np.float64) - truth) ** 2).sum(axis=(2, 3)).mean(axis=1)
mae = np.abs(pred.astype(np.float64) - truth).sum(axis=(2, 3)).mean(axis=1)
err = max(np.max(np.abs(mse - m["mse"]) / mse), np.max(np.abs(mae - m["mae"]) / mae))
ok = m["frames"] == 10 and m["sequences"] == 8 and err < 1e-5 and np.array_equal(pred3, pred[:, :3])
print(f"max rel diff {err:.2e}")
sys.exit(0 if ok else 1)
EOF
    check "$name: eval --teacher-forced metrics = numpy on predict --teacher-forced's frames; --sequences 3 = the first 3 ($(tail -1 "$d/np.txt"))" \
        [ $? -eq 0 ]
done

# the first predicted frame: all its inputs are true frames in both protocols
check "conv2d: the first teacher-forced frame = the autoregressive one, bit for bit" "$PYTHON" -c "
import numpy as np, sys
a, b = np.load('$W/conv2d/tf.npy'), np.load('$W/conv2d/ar.npy')
sys.exit(not (np.array_equal(a[0], b[0]) and not np.array_equal(a[1:], b[1:])))"
check "centred: the first teacher-forced frame differs from the autoregressive one (it sees the frame it predicts)" "$PYTHON" -c "
import numpy as np, sys
a, b = np.load('$W/centred/tf.npy'), np.load('$W/centred/ar.npy')
sys.exit(not np.abs(a[0] - b[0]).max() > 1e-3)"

# against the PyTorch twin
if [ "$HAVE_TORCH" = 0 ]; then
    skip "teacher-forced predictions against PyTorch" "no torch in $PYTHON"
    exit 0
fi
for name in conv2d centred; do
    d=$W/$name
    loss=$(grep -oE 'loss [0-9.e+-]+' "$d/eval.err" | awk '{print $2}')
    "$PYTHON" - "$d/config" "$d/best.safetensors" "$DATA" "$d/tf.npy" "$loss" >"$d/torch.txt" 2>&1 <<'EOF'
import sys
sys.path.insert(0, "tests/reference")
sys.path.insert(0, "tools/pipeline")
import numpy as np, torch
import pipelib as pl
from convlstm_ref import ConvLSTMRef
from stio import read_safetensors
cfg = pl.read_config(sys.argv[1])
layers = [int(v) for v in cfg["layers"].split(",")]
kernels = [int(v) for v in cfg["kernels"].split(",")]
kernels = kernels * len(layers) if len(kernels) == 1 else kernels
p = int(cfg["patch"])
model = ConvLSTMRef(layers, kernels, cell_act=cfg["cell_act"], gate_act=cfg["gate_act"],
                    batchnorm=cfg["batchnorm"] == "1", bn_momentum=float(cfg["bn_momentum"]),
                    bn_eps=float(cfg["bn_eps"]), head=cfg["head"], head_kernel=int(cfg["head_kernel"]),
                    head_act=cfg["head_act"], patch=p)
state = read_safetensors(sys.argv[2])
names = set(model.state_dict())
model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items() if k in names}, strict=True)
model.eval()
T, n_in = int(cfg["seq_len"]), int(cfg["input_frames"])
x = np.load(sys.argv[3])[:T, 24:32].astype(np.float32) / 255.0          # the test split, (T, 8, 64, 64)
N = x.shape[1]
xp = x.reshape(T, N, 64 // p, p, 64 // p, p).transpose(0, 1, 3, 5, 2, 4).reshape(T, N, p * p, 64 // p, 64 // p)
frames = torch.from_numpy(np.ascontiguousarray(xp))
with torch.no_grad():
    y = model.forward_inputs(frames[:T - 1])                              # (T-1, N, C, h, w)
loss = torch.nn.functional.mse_loss(y, frames[1:]).item()
y = y.numpy()[n_in - 1:T - 1]
h = 64 // p
y = y.reshape(T - n_in, N, p, p, h, h).transpose(0, 1, 4, 2, 5, 3).reshape(T - n_in, N, 64, 64)
want = np.clip(y, 0.0, 1.0)
got = np.load(sys.argv[4])
# Tolerance from the float32 error model of tests/test_train.sh: each output is a chain of S = 19
# steps of sums of at most K terms (conv_x: 16 channels x 3 x 3 = 144; the Conv3D head: 3 taps x 8
# channels x 3 x 3 = 216), each off by ~sqrt(K) u relative between two summation orders (u = 2^-24),
# adding up at most linearly over the steps: rel = 2 S sqrt(K) u = 3.3e-5 on a pre-activation z. The
# sigmoid output then moves by sigmoid'(z) |z| rel <= 0.224 rel = 7.4e-6 (max of sigmoid'(z) |z|, at
# z = 1.54) — the bound, absolute. The loss: 4 S sqrt(K) u relative (test_train.sh). Measured: 0.03
# of the output bound, 0.002 of the loss bound.
U, S, K = 2.0 ** -24, 19, 216
ATOL = 0.224 * 2 * S * K ** 0.5 * U
LOSS_RTOL = 4 * S * K ** 0.5 * U
diff = float(np.abs(got - want).max())
lerr = abs(float(sys.argv[5]) - loss) / loss
print(f"max |C - PyTorch| {diff:.2g} (bound {ATOL:.2g}); loss {float(sys.argv[5]):.7g} vs {loss:.7g} (rel {lerr:.2g}, bound {LOSS_RTOL:.2g})")
sys.exit(0 if got.shape == want.shape and diff <= ATOL and lerr <= LOSS_RTOL else 1)
EOF
    rc=$?
    check "$name: predict --teacher-forced = the PyTorch twin's forward_inputs on whole sequences; eval's loss = its MSE ($(tail -1 "$d/torch.txt"))" \
        [ "$rc" -eq 0 ]
    [ "$rc" -eq 0 ] || cat "$d/torch.txt"
done
exit "$((fails > 0))"

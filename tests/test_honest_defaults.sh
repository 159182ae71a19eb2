#!/usr/bin/env bash
# test_honest_defaults.sh — the honest defaults, end to end. (1) A config that names no head
# trains the causal Conv3D head (resolved config: head = conv3d_causal) without a warning; naming the
# Keras example's centred head, which sees the frame it predicts, trains with one warning line on stderr.
# (2) Batch-norm state in rnnreg checkpoints against stock PyTorch: a ConvLSTM and a
# PredRNN++ run with batchnorm = 1 write checkpoints whose bns.L.* load into torch.nn.BatchNorm2d and
# whose whole state dict loads into the twin modules built with torch.nn.BatchNorm2d
# (tests/reference/*_ref.py, stock_bn=True), both with load_state_dict(strict=True);
# bns.L.num_batches_tracked is an int64 scalar counted as PyTorch counts it (the stock module, run for
# the same training forwards from the first checkpoint, reaches the second checkpoint's value); and a
# checkpoint without it (as written before it existed) still evaluates, to the same metrics.
set -u
cd "$(dirname "$0")/.."
T=test_honest_defaults
. tests/lib.sh

trainer_scratch bn_sd
# (1) the default head
printf '%s\n' "model = convlstm" "layers = 4" "kernels = 3" "cell_act = tanh" "batchnorm = 0" "patch = 4" \
    "n_train = 4" "n_val = 4" "n_test = 4" "split = ordered" "batch = 4" "epochs = 1" "threads = 1" \
    "predict_sequences = 1" >"$W/nohead.conf"
"$RNNREG" train --config "$W/nohead.conf" --set data="$DATA" --out "$W/nohead" >/dev/null 2>"$W/nohead.err"; rc=$?
check "a config without head trains (exit $rc) the causal Conv3D: DIR/config has head = conv3d_causal" \
    grep -qx 'head = conv3d_causal' "$W/nohead/config"
check "... and warns about nothing" [ -z "$(grep -i warning "$W/nohead.err")" ]
"$RNNREG" train --config "$W/nohead.conf" --set data="$DATA" --set head=conv3d_centered --out "$W/leak" \
    >/dev/null 2>"$W/leak.err"; rc=$?
check "head = conv3d_centered trains (exit $rc) with one warning line on stderr: $(grep warning "$W/leak.err")" \
    [ "$rc" -eq 0 -a "$(grep -c 'warning: head = conv3d_centered sees the frame it predicts' "$W/leak.err")" -eq 1 ]
check "help train: default conv3d_causal, and a warning on conv3d_centered" \
    grep -qE '^    head +conv3d_causal .*WARNING: conv3d_centered .*sees the frame it predicts' <("$RNNREG" help train)

# (2) batch-norm state dicts
if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
    skip "PyTorch state-dict checks: no torch in $PYTHON"
    exit 0
fi

# MODEL CONF [--set ...]: one iteration per epoch (n_train = batch = 4, ordered split, teacher forcing);
# W/MODEL/ck1.safetensors after epoch 1, W/MODEL/last.safetensors after epoch 2
run_two() {
    local model=$1 conf=$2; shift 2
    local sets=(--set data="$DATA" --set n_train=4 --set batchnorm=1 --set sampling=teacher --set checkpoint_every=0 "$@")
    "$RNNREG" train --config "$conf" "${sets[@]}" --set epochs=1 --out "$W/$model" >/dev/null 2>&1 &&
        cp "$W/$model/last.safetensors" "$W/$model/ck1.safetensors" &&
        "$RNNREG" train --config "$conf" "${sets[@]}" --set epochs=2 --out "$W/$model" --resume >/dev/null 2>&1
}
run_two convlstm experiments/configs/convlstm_tiny.conf --set layers=4,4 --set kernels=3 --set bn_momentum=0.1
check "tiny ConvLSTM with batchnorm (2 layers) trains 2 epochs" [ -s "$W/convlstm/last.safetensors" ]
run_two predrnn_pp experiments/configs/predrnn_pp_tiny.conf --set bn_momentum=0.1
check "tiny PredRNN++ with batchnorm (2 layers, reverse_input) trains 2 epochs" [ -s "$W/predrnn_pp/last.safetensors" ]

"$PYTHON" - "$W" "$DATA" >"$W/torch.txt" 2>&1 <<'PY'
import sys
sys.path.insert(0, "tests/reference")
import numpy as np, torch
from stio import read_safetensors
from convlstm_ref import ConvLSTMRef
from predrnn_pp_ref import PredRNNppRef
W, data = sys.argv[1], np.load(sys.argv[2])
x = data[:, 0:4].astype(np.float32) / 255.0                       # the one training batch: sequences 0..3
x = x.reshape(20, 4, 16, 4, 16, 4).transpose(0, 1, 3, 5, 2, 4).reshape(20, 4, 16, 16, 16)  # patch 4
frames, truth = torch.from_numpy(np.ascontiguousarray(x)), torch.ones(4, 20, dtype=torch.bool)
twins = {  # stock torch.nn.BatchNorm2d inside (stock_bn=True)
    "convlstm": lambda: ConvLSTMRef([4, 4], [3, 3], cell_act="tanh", batchnorm=True, bn_momentum=0.1, bn_eps=1e-3,
                                    head="conv2d", head_kernel=1, patch=4, stock_bn=True),
    "predrnn_pp": lambda: PredRNNppRef([4, 4], [3, 3], layer_norm=True, ghu=True, patch=4, image_size=64,
                                       batchnorm=True, bn_momentum=0.1, bn_eps=1e-3, stock_bn=True),
}
forwards = {"convlstm": [frames], "predrnn_pp": [frames, torch.flip(frames, dims=[0])]}  # reverse_input
for model, make in twins.items():
    state = {}
    for ck in ("ck1", "last"):
        t = read_safetensors(f"{W}/{model}/{ck}.safetensors")
        state[ck] = {k: torch.from_numpy(v) for k, v in t.items() if not k.startswith("optimizer.")}
    ck1, ck2 = state["ck1"], state["last"]
    nbt = ck2.get("bns.0.num_batches_tracked")
    assert nbt is not None and nbt.dtype == torch.int64 and nbt.shape == (), f"{model}: num_batches_tracked {nbt}"
    bn = torch.nn.BatchNorm2d(4, eps=1e-3, momentum=0.1)         # stock module, one layer's slice
    bn.load_state_dict({k[len("bns.0."):]: v for k, v in ck2.items() if k.startswith("bns.0.")}, strict=True)
    twin = make()
    twin.load_state_dict(ck1, strict=True)                        # the whole checkpoint, strict
    twin.train()
    with torch.no_grad():                                         # one iteration's training forwards
        for seq in forwards[model]:
            twin(seq, truth)
    got, want = int(ck2["bns.0.num_batches_tracked"]), int(twin.bns[0].num_batches_tracked)
    print(f"{model}: num_batches_tracked {int(ck1['bns.0.num_batches_tracked'])} after iteration 1, {got} after "
          f"iteration 2; PyTorch's module from checkpoint 1: {want}")
    assert got == want and int(ck1["bns.0.num_batches_tracked"]) == got // 2, f"{model}: count differs from PyTorch's"
print("all loaded strictly; counts as PyTorch's")
PY
rc=$?
check "PyTorch: bns.0.* load into a stock nn.BatchNorm2d and the whole checkpoint into the twins with nn.BatchNorm2d, strict=True; num_batches_tracked is int64 and equals the stock module's count after the same training forwards ($(grep -h 'num_batches_tracked' "$W/torch.txt" | tr '\n' ' '))" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$W/torch.txt"

# a checkpoint as written before num_batches_tracked existed: the F32 tensors and metadata only
"$PYTHON" - "$W/convlstm/last.safetensors" "$W/old.safetensors" <<'PY'
import sys
sys.path.insert(0, "tests/reference")
from stio import read_safetensors, write_safetensors
t, meta = read_safetensors(sys.argv[1], with_metadata=True)
write_safetensors(sys.argv[2], {k: v for k, v in t.items() if not k.endswith("num_batches_tracked")}, meta)
PY
"$RNNREG" eval --checkpoint "$W/convlstm/last.safetensors" --out "$W/new.json" 2>/dev/null
"$RNNREG" eval --checkpoint "$W/old.safetensors" --out "$W/old.json" 2>"$W/old.err"; rc=$?
same_eval() { [ "$rc" -eq 0 ] && [ -s "$W/old.json" ] && cmp -s "$W/new.json" "$W/old.json"; }
check "a checkpoint without num_batches_tracked (older rnnreg) still loads: eval exits $rc, same metrics as with it" same_eval
exit $((fails > 0))

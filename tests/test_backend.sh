#!/usr/bin/env bash
# test_backend.sh — the config keys backend and tf32 (and the options --backend, --tf32) of rnnreg
# train, eval, predict and bench, and `make bench BACKEND=cuda` (bench/bench.sh).
#   Where backend = cuda cannot run (a build without the CUDA backend, or no GPU visible): every
#   command fails with exit status != 0 and ONE line that names the key (backend) and the problem, and
#   train creates no run directory. tf32 = 1 with backend = cpu fails the same way for train. The
#   resolved config of a run records backend and tf32.
#   Where it can run — a GPU, or the CPU emulation of the CUDA backend when $BUILD/emu/rnnreg is built
#   (make test-gpu-emu) — train (with dropout, L2, gradient clipping, scheduled sampling and the
#   time-reversed second update: the trainer's own device work), eval and predict run on it end to end
#   and agree with the CPU: losses within 1e-4 relative (FP32) / 1e-2 (TF32), evaluation loss within
#   1e-5, predictions within 1e-4.
set -u
T=test_backend
cd "$(dirname "$0")/.."
source tests/lib.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$tmp/mm.npy
if ! "$RNNREG" mmnist --digits tests/fixtures/digits_npm20.npy --count 20 --out "$data" > /dev/null 2>&1; then
    fail "rnnreg mmnist could not generate the test data"
    exit 1
fi
conf=$tmp/tiny.conf
cat > "$conf" << EOF
model = convlstm
layers = 8
kernels = 3
cell_act = tanh
batchnorm = 0
head = conv2d
head_kernel = 1
patch = 4
n_train = 8
n_val = 4
n_test = 4
split = ordered
batch = 4
epochs = 1
lr = 0.01
dropout = 0.1
l2 = 0.0001
clip_grad_norm = 1
sampling = scheduled
sampling_iters = 4
reverse_input = 1
seq_len = 10
input_frames = 5
threads = 1
predict_sequences = 2
data = $data
EOF

# one_line WHAT KEY COMMAND...: the command fails (status != 0) with exactly one line naming KEY
one_line() {
    local what=$1 key=$2 out rc lines
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    lines=$(grep -c . <<< "$out")
    if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && grep -q -- "$key" <<< "$out"; then
        ok "$what: fails with status $rc and one line: $out"
    else
        fail "$what: want a non-zero status and one line naming '$key'; got status $rc, $lines lines: $(head -c 400 <<< "$out")"
    fi
}

# A CPU run: the checkpoint eval / predict use below, and its resolved config.
if ! "$RNNREG" train --config "$conf" --out "$tmp/cpu" > "$tmp/cpu.log" 2>&1; then
    fail "CPU training run failed: $(tail -n 2 "$tmp/cpu.log")"
    exit 1
fi
has_lines() { grep -qx "$2" "$1" && grep -qx "$3" "$1"; } # FILE LINE LINE
check "the resolved config records backend = cpu and tf32 = 0" has_lines "$tmp/cpu/config" 'backend = cpu' 'tf32 = 0'
quiet() { "$@" > /dev/null 2>&1; }
check "--resume with an explicit tf32 = 0 is the same configuration (tf32 is hashed only when set)" \
    quiet "$RNNREG" train --config "$conf" --set epochs=2 --set tf32=0 --out "$tmp/cpu" --resume
one_line "train: tf32 = 1 with backend = cpu" tf32 "$RNNREG" train --config "$conf" --tf32 --out "$tmp/tf32cpu"
check "train: no run directory for a refused tf32" test ! -e "$tmp/tf32cpu"

info=$("$RNNREG" info 2>&1)
devices=$(sed -nE 's/^cuda: compiled in; ([0-9]+) device.*/\1/p' <<< "$info")
devices=${devices:-0}

if [ "$devices" -eq 0 ]; then
    why=$(grep '^cuda:' <<< "$info")
    { cat "$conf"; echo "backend = cuda"; } > "$tmp/cuda.conf"
    one_line "train: backend = cuda in the config file (${why})" backend \
        "$RNNREG" train --config "$tmp/cuda.conf" --out "$tmp/cuda1"
    check "train: no run directory when backend = cuda cannot run" test ! -e "$tmp/cuda1"
    one_line "train --set backend=cuda" backend "$RNNREG" train --config "$conf" --set backend=cuda --out "$tmp/cuda2"
    one_line "train --backend cuda" backend "$RNNREG" train --config "$conf" --backend cuda --out "$tmp/cuda3"
    one_line "eval --backend cuda" backend "$RNNREG" eval --checkpoint "$tmp/cpu/best.safetensors" --backend cuda
    one_line "predict --backend cuda" backend \
        "$RNNREG" predict --checkpoint "$tmp/cpu/best.safetensors" --backend cuda --out "$tmp/p.npy"
    check "predict: no output file when backend = cuda cannot run" test ! -e "$tmp/p.npy"
    one_line "bench --backend cuda (training step)" backend \
        "$RNNREG" bench --config "$conf" --backend cuda --steps 1 --warmup 0
    one_line "bench --sgemm --backend cuda" backend "$RNNREG" bench --sgemm 64 --backend cuda
    one_line "make bench BACKEND=cuda (bench/bench.sh)" "no GPU" env BACKEND=cuda RNNREG="$RNNREG" bash bench/bench.sh
fi

# The CUDA path end to end, against the CPU run: on a GPU with $RNNREG, here with the emulator.
gpu_rnnreg=""
if [ "$devices" -gt 0 ]; then
    gpu_rnnreg=$RNNREG
elif [ -x "$BUILD/emu/rnnreg" ]; then
    gpu_rnnreg=$BUILD/emu/rnnreg
else
    skip "train/eval/predict on the CUDA backend: no GPU, and no CPU emulation built ($BUILD/emu/rnnreg: make test-gpu-emu)"
fi
if [ -n "$gpu_rnnreg" ]; then
    where="GPU"
    [ "$gpu_rnnreg" = "$RNNREG" ] || where="CPU emulation of the CUDA backend"
    close() { # close WHAT A B REL: |A - B| <= REL |B|
        awk -v a="$2" -v b="$3" -v r="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= r * (b < 0 ? -b : b)) }'
    }
    field() { sed -nE 's/.*"'"$2"'": ([-0-9.eE+]+).*/\1/p' "$1" | head -n 1; }
    for tf in 0 1; do
        d=$tmp/gpu$tf
        flag=(); [ "$tf" = 1 ] && flag=(--tf32)
        mode=$([ "$tf" = 1 ] && echo "--backend cuda --tf32" || echo "--backend cuda")
        if ! "$gpu_rnnreg" train --config "$conf" --backend cuda "${flag[@]}" --out "$d" > "$d.log" 2>&1; then
            fail "train $mode ($where): $(tail -n 2 "$d.log")"
            continue
        fi
        rel=$([ "$tf" = 1 ] && echo 1e-2 || echo 1e-4)
        check "train $mode records backend = cuda, tf32 = $tf" \
            has_lines "$d/config" 'backend = cuda' "tf32 = $tf"
        for key in train_loss val_loss; do
            a=$(field "$d/log.jsonl" $key) b=$(field "$tmp/cpu/log.jsonl" $key)
            check "train $mode ($where): $key $a vs CPU $b within $rel relative" close $key "$a" "$b" $rel
        done
    done
    ce=$("$RNNREG" eval --checkpoint "$tmp/cpu/best.safetensors" 2>&1 > /dev/null | sed -nE 's/.*loss ([0-9.eE+-]+).*/\1/p')
    ge=$("$gpu_rnnreg" eval --checkpoint "$tmp/cpu/best.safetensors" --backend cuda 2>&1 > /dev/null |
         sed -nE 's/.*loss ([0-9.eE+-]+).*/\1/p')
    check "eval --backend cuda of the CPU checkpoint: loss $ge vs CPU $ce within 1e-5 relative" close eval "$ge" "$ce" 1e-5
    if "$gpu_rnnreg" predict --checkpoint "$tmp/cpu/best.safetensors" --backend cuda --sequences 2 --out "$tmp/pg.npy" \
            > /dev/null 2>&1 &&
        "$RNNREG" predict --checkpoint "$tmp/cpu/best.safetensors" --sequences 2 --out "$tmp/pc.npy" > /dev/null 2>&1; then
        check "predict --backend cuda: predictions within 1e-4 of the CPU's" "$PYTHON" -c '
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
sys.exit(not (a.shape == b.shape and float(np.abs(a - b).max()) <= 1e-4))' "$tmp/pg.npy" "$tmp/pc.npy"
    else
        fail "predict --backend cuda failed"
    fi
fi

[ "$fails" -eq 0 ]

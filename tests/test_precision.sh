#!/usr/bin/env bash
# test_precision.sh — the config key `precision` (fp32 | bf16 | auto; issue 13) and --precision of
# rnnreg train, eval, predict and bench:
#   `help train` lists it with its choices; an unknown value fails with one line naming the key and
#   leaves no run directory; bf16 where it cannot run is refused in one line saying why (this build's
#   convolution engine when it is not oneDNN's; else the CPU's missing bf16 instructions, staged with
#   RNNREG_TEST_NO_BF16=1); auto there runs in fp32, records it in metrics.json and gives the fp32
#   run's numbers; an unset precision leaves the configuration hash what it was before the key existed
#   (the hash that rnnreg at commit 7a3248d wrote for this config, and FNV-1a recomputed here from the
#   resolved config as config.h defines it), and fp32 runs' metrics.json has no precision member, so
#   their files keep their bytes; bf16 / auto change the hash (resume refused); eval / predict of a
#   bf16 run where bf16 cannot run give the fp32 numbers after a one-line note.
#   Where bf16 can run (oneDNN engine and a CPU with amx_bf16 or avx512_bf16): two bf16 trainings of
#   the same config are bit-identical, record bf16, and their losses differ from the fp32 run's (so bf16
#   really ran); elsewhere that part is one counted skip.
set -u
cd "$(dirname "$0")/.."
T=test_precision
. tests/lib.sh

trainer_scratch precision
RNN=$(realpath "$RNNREG")
export OMP_NUM_THREADS=1

# Denormals are flushed on rnnreg's threads (src/main.c): MXCSR read back by `rnnreg info`; the portable
# build keeps IEEE gradual underflow (docs/portable.md).
if "$RNN" info | grep -q '^math: portable'; then
    check "the portable build keeps IEEE denormals (no FTZ, no DAZ)" grep -qx 'denormals: kept (IEEE)' <<<"$("$RNN" info)"
else
    check "rnnreg runs with denormals flushed to zero (FTZ + DAZ)" grep -qx 'denormals: flushed to zero (FTZ + DAZ)' <<<"$("$RNN" info)"
fi

# A config whose text is the same on every machine (the data path is relative: runs start in $W), so
# that its hash can be compared with the one the parent commit wrote.
cat > "$W/tiny.conf" << 'EOF'
model = convlstm
layers = 4
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
seq_len = 6
input_frames = 3
threads = 1
predict_sequences = 2
data = data.npy
EOF
# The configuration hash rnnreg wrote into the checkpoints of this config at commit 7a3248d, the parent
# of the precision key (built there with `make CUDA=0`, `train --config tiny.conf` in this folder).
HASH_BEFORE_KEY=04cbdc3a0cb8814d

rnn() { (cd "$W" && "$RNN" "$@"); }
# The output of a command without main.c's note on the OpenBLAS core (a line it prints on CPUs whose
# OpenBLAS falls back to generic kernels; it is not the command's message).
output_of() { "$@" 2>&1 | grep -v '^rnnreg: OpenBLAS picked'; return "${PIPESTATUS[0]}"; }
# refused WHAT PATTERN COMMAND...: status != 0 and one line (the BLAS note aside) matching PATTERN
refused() {
    local what=$1 pattern=$2 out rc
    shift 2
    out=$(output_of "$@")
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$(grep -c . <<< "$out")" -eq 1 ] && grep -qE -- "$pattern" <<< "$out"; then
        ok "$what: status $rc, one line: $out"
    else
        fail "$what: want status != 0 and one line matching /$pattern/; got status $rc: $(head -c 600 <<< "$out")"
    fi
}
ckpt_hash() { "$PYTHON" -c '
import json, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
print(json.loads(f.read(n))["__metadata__"]["config_hash"])' "$1"; }
# jfield FILE KEY...: a value of a JSON file (nested keys), as Python prints it; "missing" if absent
jfield() { "$PYTHON" -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    if not isinstance(v, dict) or k not in v: print("missing"); sys.exit()
    v = v[k]
print(v)' "$@"; }
# the metrics of a metrics.json / eval JSON without its precision member
numbers() { "$PYTHON" -c '
import json, sys
v = json.load(open(sys.argv[1])); v.pop("precision", None); print(json.dumps(v, sort_keys=True))' "$1"; }
untimed() { sed -E 's/, "seconds": [^,}]*//; s/, "seq_per_s": [^,}]*//' "$1"; }

# ---------------------------------------------------------------------------------------------
# The key and its errors
help=$(output_of "$RNN" help train)
check "help train lists precision with its default fp32 and its choices [fp32|bf16|auto]" \
    grep -qE '^ +precision +fp32 .*\[fp32\|bf16\|auto\]$' <<< "$help"
refused "train --precision bf17: unknown value" "precision: 'bf17' is not one of fp32\|bf16\|auto" \
    rnn train --config tiny.conf --precision bf17 --out bad1
printf 'include = tiny.conf\nprecision = half\n' > "$W/half.conf"
refused "precision = half in a config file: the file, line and key" "half.conf:2: precision: 'half'" \
    rnn train --config half.conf --out bad2
refused "bench --precision bf17" "precision: 'bf17'" rnn bench --config tiny.conf --precision bf17 --steps 1 --warmup 0
check "no run directory for a refused precision" eval '[ ! -e "$W/bad1" ] && [ ! -e "$W/bad2" ]'

# ---------------------------------------------------------------------------------------------
# fp32, unset: the hash and the files as before the key existed
output_of rnn train --config tiny.conf --out fp32 > "$W/fp32.log"
check "fp32 run (precision unset) exits 0" [ -s "$W/fp32/metrics.json" ]
h=$(ckpt_hash "$W/fp32/last.safetensors")
check "unset precision: the config hash $h is the one rnnreg wrote before the key existed ($HASH_BEFORE_KEY, commit 7a3248d)" \
    [ "$h" = "$HASH_BEFORE_KEY" ]
# FNV-1a 64 (config.c:config_hash) over "key = value\n" of the resolved config in table order, without
# the run-control keys and without the later keys left at their default (config.h)
fnv=$("$PYTHON" - "$W/fp32/config" << 'EOF'
import sys
run_only = {"epochs", "early_stop_patience", "threads", "predict_sequences", "checkpoint_every", "test_weights"}
later = {"zoneout_c": 0.0, "zoneout_h": 0.0, "zoneout_m": 0.0, "weight_drop": 0.0, "fresh_train": 0.0, "tf32": 0.0,
         "precision": "fp32"}
h = 1469598103934665603
for line in open(sys.argv[1]):
    if line.startswith("#") or " = " not in line:
        continue
    k, v = line.rstrip("\n").split(" = ", 1)
    if k in run_only:
        continue
    if k in later and (v == later[k] if isinstance(later[k], str) else float(v) == later[k]):
        continue
    for b in (k + " = " + v + "\n").encode():
        h = ((h ^ b) * 1099511628211) % 2**64
print("%016x" % h)
EOF
)
check "the hash equals FNV-1a of the resolved config recomputed in Python ($fnv)" [ "$fnv" = "$h" ]
check "the resolved config records precision = fp32" grep -qx 'precision = fp32' "$W/fp32/config"
check "fp32 metrics.json has no precision member (its bytes as before the key)" \
    [ "$(jfield "$W/fp32/metrics.json" precision)" = missing ]
check "fp32 run prints no precision line" bash -c "! grep -q '^precision:' '$W/fp32.log'"
output_of rnn eval --checkpoint fp32/best.safetensors --out fp32_eval.json > /dev/null
refused "eval --precision bf17" "precision: 'bf17'" rnn eval --checkpoint fp32/best.safetensors --precision bf17
check "eval of the fp32 run = its metrics.json, byte for byte" cmp -s "$W/fp32_eval.json" "$W/fp32/metrics.json"
check "--resume with an explicit precision = fp32 is the same configuration" \
    bash -c "cd '$W' && '$RNN' train --config tiny.conf --set epochs=2 --precision fp32 --resume --out fp32 > /dev/null 2>&1"
refused "--resume with precision = auto: another configuration (hash)" "different configuration" \
    rnn train --config tiny.conf --set epochs=2 --precision auto --resume --out fp32

# ---------------------------------------------------------------------------------------------
# Where bf16 cannot run: refusal, auto = fp32, eval in fp32 with a note
output_of rnn train --config tiny.conf --out ref > /dev/null   # one epoch, as the runs below
auto_out=$(RNNREG_TEST_NO_BF16=1 output_of rnn train --config tiny.conf --precision auto --out auto)
check "auto without bf16 instructions (RNNREG_TEST_NO_BF16=1) trains (exit 0)" [ -s "$W/auto/metrics.json" ]
engine=$(jfield "$W/auto/metrics.json" precision conv_engine)
check "auto without bf16: metrics.json records asked auto, used fp32, no bf16 ISA, the engine ($engine)" \
    eval '[ "$(jfield "$W/auto/metrics.json" precision asked)" = auto ] &&
          [ "$(jfield "$W/auto/metrics.json" precision used)" = fp32 ] &&
          [ "$(jfield "$W/auto/metrics.json" precision cpu_bf16_isa)" = None ] &&
          [ "$engine" = im2col -o "$engine" = onednn ]'
check "auto without bf16 says so on stderr: $(grep '^precision:' <<< "$auto_out")" \
    grep -qx 'precision: fp32 (asked auto; CPU convolutions: [a-z0-9]*; CPU bf16 instructions: none)' <<< "$auto_out"
check "auto without bf16 = the fp32 run: the same metrics, predictions and log" \
    eval '[ "$(numbers "$W/auto/metrics.json")" = "$(numbers "$W/ref/metrics.json")" ] &&
          cmp -s "$W/auto/predictions.npy" "$W/ref/predictions.npy" && cmp -s <(untimed "$W/auto/log.jsonl") <(untimed "$W/ref/log.jsonl")'
check "auto is a configuration of its own (hash differs from fp32)" \
    [ "$(ckpt_hash "$W/auto/last.safetensors")" != "$HASH_BEFORE_KEY" ]
if [ "$engine" = onednn ]; then
    refused "bf16 on a CPU without bf16 instructions (RNNREG_TEST_NO_BF16=1): refused naming the CPU flags" \
        "precision: bf16 cannot run here: .*amx_bf16.*avx512_bf16" \
        env RNNREG_TEST_NO_BF16=1 bash -c "cd '$W' && '$RNN' train --config tiny.conf --precision bf16 --out nobf16"
    skip "bf16 refused on the im2col engine" "this build's CPU convolutions are oneDNN's"
else
    refused "bf16 on the im2col engine: refused naming the engine" \
        "precision: bf16 cannot run here: .*im2col.*oneDNN" rnn train --config tiny.conf --precision bf16 --out nobf16
    refused "bf16 with RNNREG_TEST_NO_BF16=1 on the im2col engine: refused (the engine first)" \
        "precision: bf16 cannot run here: .*im2col" \
        env RNNREG_TEST_NO_BF16=1 bash -c "cd '$W' && '$RNN' train --config tiny.conf --precision bf16 --out nobf16"
fi
check "no run directory for a refused bf16" [ ! -e "$W/nobf16" ]
refused "bench --precision bf16 where it cannot run" "precision: bf16 cannot run here" \
    env RNNREG_TEST_NO_BF16=1 bash -c "cd '$W' && '$RNN' bench --config tiny.conf --precision bf16 --steps 1 --warmup 0"
bj=$(cd "$W" && RNNREG_TEST_NO_BF16=1 "$RNN" bench --config tiny.conf --steps 1 --warmup 0 --json 2> /dev/null)
check "bench --json records precision fp32 (default), asked fp32, the engine and the CPU's bf16 ISA" \
    grep -q "\"precision\": \"fp32\", \"precision_asked\": \"fp32\", \"conv_engine\": \"$engine\", \"cpu_bf16_isa\": null" <<< "$bj"

# eval / predict of a run whose config says bf16, where bf16 cannot run: fp32 numbers after one note
note=$(cd "$W" && RNNREG_TEST_NO_BF16=1 "$RNN" eval --checkpoint ref/best.safetensors --precision bf16 \
    --out bf16_eval.json 2>&1 > /dev/null | grep -v '^rnnreg: OpenBLAS picked\|^test split')
check "eval of a bf16 config where bf16 cannot run: exit 0, one note line naming precision and fp32: $note" \
    eval '[ -s "$W/bf16_eval.json" ] && [ "$(grep -c "note:" <<< "$note")" -eq 1 ] &&
          grep -q "^rnnreg eval: note: precision: bf16 cannot run here: .*: evaluating in fp32$" <<< "$note"'
check "that eval's JSON records asked bf16, used fp32, and has the fp32 numbers" \
    eval '[ "$(jfield "$W/bf16_eval.json" precision asked)" = bf16 ] && [ "$(jfield "$W/bf16_eval.json" precision used)" = fp32 ] &&
          [ "$(numbers "$W/bf16_eval.json")" = "$(numbers "$W/ref/metrics.json")" ]'
(cd "$W" && RNNREG_TEST_NO_BF16=1 "$RNN" predict --checkpoint ref/best.safetensors --precision bf16 --sequences 2 \
    --out bf16_pred.npy > /dev/null 2> predict.err)
check "predict of a bf16 config where bf16 cannot run: the fp32 predictions after a note" \
    eval 'cmp -s "$W/bf16_pred.npy" "$W/ref/predictions.npy" &&
          grep -q "^rnnreg predict: note: precision: bf16" "$W/predict.err"'

# ---------------------------------------------------------------------------------------------
# Where bf16 can run: determinism, and bf16 really runs
isa=$(cd "$W" && "$RNN" bench --config tiny.conf --steps 1 --warmup 0 --json 2> /dev/null | sed -nE 's/.*"cpu_bf16_isa": "?([a-z0-9_]*|null)"?,.*/\1/p')
if [ "$engine" != onednn ] || [ "$isa" = null ] || [ -z "$isa" ]; then
    skip "bf16 training (twice bit-identical, differs from fp32)" \
        "bf16 cannot run here (CPU convolution engine $engine, CPU bf16 instructions ${isa:-unknown})"
else
    output_of rnn train --config tiny.conf --precision bf16 --out bf16a > /dev/null
    output_of rnn train --config tiny.conf --precision bf16 --out bf16b > /dev/null
    check "bf16 run ($isa) exits 0 and records used bf16" \
        [ "$(jfield "$W/bf16a/metrics.json" precision used)" = bf16 ]
    check "two bf16 runs are bit-identical (checkpoints, metrics, predictions, log)" \
        eval 'cmp -s "$W/bf16a/last.safetensors" "$W/bf16b/last.safetensors" && cmp -s "$W/bf16a/metrics.json" "$W/bf16b/metrics.json" &&
              cmp -s "$W/bf16a/predictions.npy" "$W/bf16b/predictions.npy" && cmp -s <(untimed "$W/bf16a/log.jsonl") <(untimed "$W/bf16b/log.jsonl")'
    la=$(jfield "$W/bf16a/metrics.json" mean mse) lr=$(jfield "$W/ref/metrics.json" mean mse)
    tl_a=$(sed -nE 's/.*"train_loss": ([^,]*),.*/\1/p' "$W/bf16a/log.jsonl") tl_r=$(sed -nE 's/.*"train_loss": ([^,]*),.*/\1/p' "$W/ref/log.jsonl")
    check "bf16 really ran: its train loss ($tl_a) and test mse ($la) differ from fp32's ($tl_r, $lr), within 5 %" \
        "$PYTHON" -c "import sys; a, r, m, n = map(float, sys.argv[1:]); sys.exit(not (a != r and m != n and abs(a - r) < 0.05 * abs(r)))" \
        "$tl_a" "$tl_r" "$la" "$lr"
    output_of rnn eval --checkpoint bf16a/best.safetensors --out bf16a_eval.json > /dev/null
    check "eval of the bf16 run (in bf16) = its metrics.json, byte for byte" cmp -s "$W/bf16a_eval.json" "$W/bf16a/metrics.json"
fi
exit $((fails > 0))

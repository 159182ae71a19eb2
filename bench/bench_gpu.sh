#!/usr/bin/env bash
# bench_gpu.sh — `make bench BACKEND=cuda`: training-step throughput of build/rnnreg's CUDA backend
# against the PyTorch reference models on the same GPU (bench/torch_gpu.py: eager, then torch.compile),
# for the quick and paper-size ConvLSTM and PredRNN++ at batch 5 and 16, in FP32 (PyTorch with TF32
# disabled) and TF32 (ours --tf32, PyTorch's defaults: cuDNN TF32 convolutions), next to cuBLAS's sgemm
# rate. Prints a table with the ratios; asserts nothing. Without a usable GPU it says so in one line and
# exits 1. bench/README.md explains the numbers.
#
# Environment: RNNREG (default build/rnnreg), PYTHON (an interpreter with torch; default: the first of
# python3, /usr/bin/python3 that imports torch), BENCH_CONFIGS (names below, space-separated; default
# all), BENCH_BATCHES (default "5 16"), BENCH_PRECISIONS (default "fp32 tf32"), BENCH_BUDGET (seconds for
# the whole bench, default 300: runs that would start later are skipped with a note; 0 = no limit),
# BENCH_COMPILE (1 = also torch.compile, default 1), BENCH_COMPILE_PRECISIONS (the precisions compiled,
# default fp32: each shape compiles anew, so the compiled pass takes the largest batch of every config
# first, then the others, until its budget is spent), BENCH_JSON (append the raw JSON lines to this file).
set -u
cd "$(dirname "$0")/.."

RNNREG=${RNNREG:-build/rnnreg}
BUDGET=${BENCH_BUDGET:-300}
SELECT=${BENCH_CONFIGS:-}
BATCHES=${BENCH_BATCHES:-5 16}
PRECISIONS=${BENCH_PRECISIONS:-fp32 tf32}
COMPILE=${BENCH_COMPILE:-1}
COMPILE_PRECISIONS=${BENCH_COMPILE_PRECISIONS:-fp32}
json_out=${BENCH_JSON:-}

# name  config  warm-up steps  warm-up frames  max timed steps  timing budget (s, at least one step)
CONFIGS=(
    "convlstm_quick       bench/configs/convlstm_quick.conf       3 20 20 2"
    "predrnn_pp_quick     bench/configs/predrnn_pp_quick.conf     3 20 20 2"
    "convlstm_keras       bench/configs/convlstm_keras.conf       2 20 10 3"
    "predrnn_pp_official  bench/configs/predrnn_pp_official.conf  2 20 10 3"
)

t_start=$(date +%s)
elapsed() { echo $(( $(date +%s) - t_start )); }
left() { if [ "$BUDGET" -gt 0 ]; then echo $(( BUDGET - $(elapsed) )); else echo 999999; fi; }
jnum() { sed -nE 's/.*"'"$2"'": (-?[0-9.eE+-]+).*/\1/p' <<< "$1" | head -n 1; }
jstr() { sed -nE 's/.*"'"$2"'": "([^"]*)".*/\1/p' <<< "$1" | head -n 1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
keep_json() { [ -z "$json_out" ] || printf '%s\n' "$1" >> "$json_out"; }

[ -x "$RNNREG" ] || { echo "bench: BACKEND=cuda: $RNNREG not found (make it first)"; exit 1; }
# The GPU check: a small cuBLAS sgemm. Its one-line error (no CUDA in this build, no GPU) is ours.
probe=$("$RNNREG" bench --sgemm 256 --repeats 1 --backend cuda --json 2>&1)
if [ $? -ne 0 ]; then
    probe=$(head -n 1 <<< "$probe")
    echo "bench: BACKEND=cuda: no GPU to measure on: ${probe#rnnreg bench: }"
    exit 1
fi
device=$(jstr "$probe" device)

if [ -z "${PYTHON:-}" ]; then
    for p in python3 /usr/bin/python3; do
        if "$p" -c 'import torch' 2> /dev/null; then PYTHON=$p; break; fi
    done
fi
PYTHON=${PYTHON:-python3}
torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2> /dev/null)

echo "rnnreg bench, CUDA backend: one training step = forward + backward + Adam update, teacher forcing,"
echo "  synthetic frames, sequence length 20; ours (rnnreg, cuBLAS + own kernels) and PyTorch (the reference"
echo "  models of tests/reference/, cuDNN) with the same config and batch on the same GPU; median of the"
echo "  timed steps after warm-up. TFLOP/s = 3 x forward conv FLOPs x batch / step time."
echo "device: $device; host $(nproc) cores; PyTorch: ${torch_version:-not importable with $PYTHON}"
ceiling_fp32="" ceiling_tf32=""
for prec in fp32 tf32; do
    flag=(); [ "$prec" = tf32 ] && flag=(--tf32)
    sg=$("$RNNREG" bench --sgemm 4096 --repeats 5 --backend cuda "${flag[@]}" --json 2>&1) || { echo "bench: sgemm ($prec) failed: $sg"; continue; }
    keep_json "$sg"
    printf -v "ceiling_$prec" '%s' "$(calc %.2f "$(jnum "$sg" gflops) / 1000")"
done
echo "cuBLAS sgemm 4096^3 (the ceiling): FP32 ${ceiling_fp32:-?} TFLOP/s, TF32 ${ceiling_tf32:-?} TFLOP/s"
echo

ours_file=$(mktemp)
trap 'rm -f "$ours_file" "$ours_file".*' EXIT
declare -A ours_line
n_runs=0
for row in "${CONFIGS[@]}"; do
    read -r name conf warmup wframes steps seconds <<< "$row"
    if [ -n "$SELECT" ] && [ "$SELECT" != all ] && ! grep -qw -- "$name" <<< "$SELECT"; then continue; fi
    for batch in $BATCHES; do
        for prec in $PRECISIONS; do
            key="$name/$batch/$prec"
            if [ "$(left)" -lt 20 ]; then
                ours_line[$key]="skipped: BENCH_BUDGET=$BUDGET s spent"
                continue
            fi
            flag=(); [ "$prec" = tf32 ] && flag=(--tf32)
            out=$("$RNNREG" bench --config "$conf" --batch "$batch" --backend cuda "${flag[@]}" --warmup "$warmup" \
                --warmup-frames "$wframes" --steps "$steps" --max-seconds "$seconds" --json 2>&1)
            if [ $? -ne 0 ] || [ "${out:0:1}" != "{" ]; then
                ours_line[$key]="failed: $(tail -n 1 <<< "$out")"
                continue
            fi
            ours_line[$key]=$out
            keep_json "$out"
            printf '%s\n' "$out" >> "$ours_file"
            n_runs=$((n_runs + 1))
        done
    done
done

# PyTorch: one process for all eager runs, then one for the compiled ones (its own share of the budget)
declare -A eager compiled
torch_runs() { # MODE FILE: fill eager / compiled from torch_gpu.py's lines for the runs in FILE
    local mode=$1 file=$2 extra=() budget
    [ "$mode" = compile ] && extra=(--compile)
    budget=$(( $(left) - 10 ))
    if [ "$BUDGET" -gt 0 ] && [ "$budget" -lt 15 ]; then echo "  PyTorch $mode: skipped (BENCH_BUDGET=$BUDGET s spent)"; return; fi
    [ "$BUDGET" -gt 0 ] || budget=0
    local lines
    lines=$(timeout $(( budget > 0 ? budget + 60 : 100000 )) "$PYTHON" bench/torch_gpu.py --ours-file "$file" \
        "${extra[@]}" --budget "$budget" 2> "$ours_file.err")
    [ -n "$lines" ] || echo "  PyTorch $mode: no output: $(tail -n 1 "$ours_file.err")"
    while IFS= read -r l; do
        [ -n "$l" ] || continue
        keep_json "$l"
        local k
        k="$(basename "$(jstr "$l" config)" .conf)/$(jnum "$l" batch)/$( [ "$(jnum "$l" tf32)" = 1 ] && echo tf32 || echo fp32)"
        if [ "$mode" = compile ]; then compiled[$k]=$l; else eager[$k]=$l; fi
    done <<< "$lines"
}
if [ "$n_runs" -gt 0 ] && [ -n "$torch_version" ]; then
    torch_runs eager "$ours_file"
    if [ "$COMPILE" = 1 ]; then # the largest batch of every config first
        : > "$ours_file.compile"
        last_batch=$(tr ' ' '\n' <<< "$BATCHES" | grep . | tail -n 1)
        for first in 1 0; do
            for row in "${CONFIGS[@]}"; do
                read -r name _ <<< "$row"
                for batch in $BATCHES; do
                    { [ "$first" = 1 ] && [ "$batch" = "$last_batch" ]; } || { [ "$first" = 0 ] && [ "$batch" != "$last_batch" ]; } || continue
                    for prec in $COMPILE_PRECISIONS; do
                        l=${ours_line[$name/$batch/$prec]:-}
                        [ "${l:0:1}" = "{" ] && printf '%s\n' "$l" >> "$ours_file.compile"
                    done
                done
            done
        done
        [ -s "$ours_file.compile" ] && torch_runs compile "$ours_file.compile"
    fi
fi

result() { # LINE: "seq/s TFLOP/s" or the reason it has none
    local l=$1
    if [ "${l:0:1}" != "{" ]; then echo "-"; return; fi
    if [ -n "$(jstr "$l" error)" ]; then echo "-"; return; fi
    echo "$(jnum "$l" seq_per_s)"
}
printf '%-20s %5s %4s | %9s %8s %6s | %9s %7s | %9s %7s\n' config batch prec "ours seq/s" "TFLOP/s" "%peak" \
    "eager" "ours/pt" "compiled" "ours/pt"
notes=()
for row in "${CONFIGS[@]}"; do
    read -r name conf _ <<< "$row"
    for batch in $BATCHES; do
        for prec in $PRECISIONS; do
            key="$name/$batch/$prec"
            o=${ours_line[$key]:-}
            [ -n "$o" ] || continue
            if [ "${o:0:1}" != "{" ]; then
                printf '%-20s %5s %4s | %s\n' "$name" "$batch" "$prec" "$o"
                continue
            fi
            os=$(jnum "$o" seq_per_s)
            tf=$(calc %.3f "$(jnum "$o" gflops) / 1000")
            ceil=$([ "$prec" = tf32 ] && echo "${ceiling_tf32:-0}" || echo "${ceiling_fp32:-0}")
            pk=$([ -n "$ceil" ] && [ "$ceil" != 0 ] && calc %.1f "100 * $tf / $ceil" || echo "?")
            e=$(result "${eager[$key]:-}")
            c=$(result "${compiled[$key]:-}")
            re=$([ "$e" != - ] && calc %.2fx "$os / $e" || echo -)
            rc=$([ "$c" != - ] && calc %.2fx "$os / $c" || echo -)
            printf '%-20s %5s %4s | %9.3f %8s %5s%% | %9s %7s | %9s %7s\n' "$name" "$batch" "$prec" "$os" "$tf" "$pk" \
                "$e" "$re" "$c" "$rc"
            for kind in eager compiled; do
                declare -n tab=$kind
                l=${tab[$key]:-}
                err=$(jstr "$l" error)
                [ -z "$err" ] || notes+=("$key PyTorch $kind: $err")
                if [ -n "$l" ] && [ -z "$err" ] && [ "$(jnum "$l" params)" != "$(jnum "$o" params)" ]; then
                    notes+=("$key: PyTorch has $(jnum "$l" params) parameters, ours $(jnum "$o" params): not the same model")
                fi
                unset -n tab
            done
        done
    done
done
echo
for n in "${notes[@]}"; do echo "note: $n"; done
echo "ours/pt = our sequences/s divided by PyTorch's (> 1: ours is faster); fp32 = FP32 on both sides (PyTorch"
echo "with TF32 off), tf32 = ours --tf32 against PyTorch's defaults (cuDNN TF32 convolutions). %peak = our"
echo "TFLOP/s as a share of cuBLAS's sgemm rate above. $(elapsed) s in all."

#!/usr/bin/env bash
# bench.sh — `make bench`: training-step throughput of build/rnnreg against the PyTorch reference
# models on this machine (same config, batch, sequence length, thread count and OpenMP wait policy),
# next to the sgemm ceiling. Prints a table; asserts nothing. bench/README.md explains the numbers.
#
# BACKEND=cuda runs bench/bench_gpu.sh instead (the CUDA backend against PyTorch on the GPU).
# Environment: RNNREG (default build/rnnreg), PYTHON (default /usr/bin/python3), THREADS (default:
# nproc), BENCH_CONFIGS (names from the table below, space-separated; default all), BENCH_BUDGET
# (seconds, default 150: a config whose estimated cost does not fit what is left is skipped with a
# note; 0 = no limit), BENCH_JSON (also append the raw JSON lines to this file), OMP_WAIT_POLICY
# (default passive, as rnnreg itself and the Makefile set it; see README).
set -u
cd "$(dirname "$0")/.."
case "${BACKEND:-cpu}" in
    cpu | "") ;;
    cuda) exec bash bench/bench_gpu.sh ;; # the GPU comparison (bench/bench_gpu.sh)
    *) echo "bench: BACKEND=$BACKEND: not cpu or cuda"; exit 2 ;;
esac

RNNREG=${RNNREG:-build/rnnreg}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-}
[ -n "$THREADS" ] || THREADS=$(nproc)
BUDGET=${BENCH_BUDGET:-150}
SELECT=${BENCH_CONFIGS:-}
SGEMM_N=2048
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

# name  config  warm-up steps  warm-up frames  max timed steps  timing budget (s, at least one step)
CONFIGS=(
    "convlstm_quick       bench/configs/convlstm_quick.conf       2 20 8 5"
    "predrnn_pp_quick     bench/configs/predrnn_pp_quick.conf     1 4  5 8"
    "convlstm_keras       bench/configs/convlstm_keras.conf       1 4  3 20"
    "predrnn_pp_official  bench/configs/predrnn_pp_official.conf  1 4  3 20"
)

[ -x "$RNNREG" ] || { echo "bench: $RNNREG not found (make it first)" >&2; exit 1; }
json_out=${BENCH_JSON:-}
keep_json() { [ -z "$json_out" ] || printf '%s\n' "$1" >> "$json_out"; }

# The number / string after "key": in a one-line JSON object (our top-level keys are unique).
jnum() { sed -nE 's/.*"'"$2"'": (-?[0-9.eE+-]+).*/\1/p' <<< "$1" | head -n 1; }
jstr() { sed -nE 's/.*"'"$2"'": "([^"]*)".*/\1/p' <<< "$1" | head -n 1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
t_start=$(date +%s)
elapsed() { echo $(( $(date +%s) - t_start )); }

cpu=$(sed -nE 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n 1)
echo "rnnreg bench: one training step = forward + backward + Adam update, teacher forcing, synthetic"
echo "  frames, sequence length 20; ours and PyTorch with the same config, batch, threads and"
echo "  OMP_WAIT_POLICY; median of the timed steps after warm-up. GFLOP/s = 3 x forward conv FLOPs"
echo "  (model_flops_per_sequence: 2 x multiply-adds) x batch / step time."
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
     "threads $THREADS; OMP_WAIT_POLICY=$OMP_WAIT_POLICY"

sg=$("$RNNREG" bench --sgemm "$SGEMM_N" --repeats 3 --threads "$THREADS" --json) || { echo "bench: sgemm failed" >&2; exit 1; }
keep_json "$sg"
sg_rate=$(jnum "$sg" gflops)
echo "sgemm ceiling: rr_sgemm ${SGEMM_N}x$SGEMM_N ($(jstr "$sg" blas), core $("$RNNREG" info | sed -n 's/^blas core: //p'), $THREADS threads), best of 3: $sg_rate GFLOP/s"

torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null) || torch_version=""
has_torch=$([ -n "$torch_version" ] && echo 1 || echo 0)
if [ -n "$torch_version" ]; then
    echo "PyTorch: $torch_version ($PYTHON), torch.set_num_threads($THREADS)"
else
    echo "PyTorch: not installed ($PYTHON cannot import torch): our numbers only"
fi
echo

printf '%-20s %9s %5s %8s %7s %7s %6s %6s | %8s %7s %7s %6s %6s | %7s\n' config params steps "s/step" "seq/s" \
    "GFLOP/s" "sgemm" "RSS" "torch s" "seq/s" "GFLOP/s" "sgemm" "RSS" "ours/pt"
declare -A rate_of   # measured GFLOP/s (ours, PyTorch) by model kind and patch: the cost estimate of bigger configs
for row in "${CONFIGS[@]}"; do
    read -r name conf warmup wframes steps seconds <<< "$row"
    if [ -n "$SELECT" ] && [ "$SELECT" != all ] && ! grep -qw -- "$name" <<< "$SELECT"; then continue; fi
    args=(--config "$conf" --threads "$THREADS")
    dry=$("$RNNREG" bench "${args[@]}" --dry-run 2>&1) || { printf '%-20s skipped: %s\n' "$name" "${dry#rnnreg: }"; continue; }
    # Cost estimate: step FLOPs at the rate measured on a smaller config of the same kind (else the
    # sgemm rate), times (warm-up + one timed step), for ours and PyTorch.
    flops=$(calc %.6g "3 * $(jnum "$dry" fwd_flops_per_seq) * $(jnum "$dry" batch)")
    key="$(jstr "$dry" model)/patch$(jnum "$dry" patch)"
    read -r r_ours r_pt <<< "${rate_of[$key]:-$sg_rate $sg_rate}"
    est=$(calc %.0f "$flops * 1e-9 * (1 + $warmup * $wframes / 20) * (1 / $r_ours + $has_torch / $r_pt)")
    left=$(( BUDGET - $(elapsed) ))
    if [ "$BUDGET" -gt 0 ] && [ "$est" -gt "$left" ]; then
        printf '%-20s skipped: estimated %s s (%.2g TFLOP per step), %s s of BENCH_BUDGET=%s left; BENCH_BUDGET=0 runs it\n' \
            "$name" "$est" "$(calc %.4g "$flops * 1e-12")" "$(( left > 0 ? left : 0 ))" "$BUDGET"
        continue
    fi
    err=$(mktemp)
    ours=$("$RNNREG" bench "${args[@]}" --warmup "$warmup" --warmup-frames "$wframes" --steps "$steps" \
        --max-seconds "$seconds" --json 2> "$err")
    if [ $? -ne 0 ] || [ -z "$ours" ]; then
        printf '%-20s skipped: %s\n' "$name" "$(tr '\n' ' ' < "$err" | sed 's/^rnnreg: //')"
        rm -f "$err"
        continue
    fi
    keep_json "$ours"
    o_gf=$(jnum "$ours" gflops)
    line=$(printf '%-20s %9s %5s %8.3f %7.3f %7.1f %5.0f%% %6.0f' "$name" "$(jnum "$ours" params)" \
        "$warmup+$(jnum "$ours" steps)" "$(jnum "$ours" median_s)" "$(jnum "$ours" seq_per_s)" "$o_gf" \
        "$(calc %.1f "100 * $o_gf / $sg_rate")" "$(jnum "$ours" peak_rss_mib)")
    rate_of[$key]="$o_gf $o_gf"
    if [ -z "$torch_version" ]; then
        printf '%s | PyTorch: not installed\n' "$line"
        rm -f "$err"
        continue
    fi
    pt=$("$PYTHON" tests/reference/bench_torch.py --ours "$ours" 2> "$err")
    if [ $? -ne 0 ] || [ -z "$pt" ]; then
        printf '%s | PyTorch failed: %s\n' "$line" "$(tail -n 1 "$err")"
        rm -f "$err"
        continue
    fi
    rm -f "$err"
    keep_json "$pt"
    p_gf=$(jnum "$pt" gflops)
    [ "$(jnum "$pt" params)" = "$(jnum "$ours" params)" ] ||
        echo "  warning: $name: PyTorch has $(jnum "$pt" params) parameters, ours $(jnum "$ours" params): not the same model"
    rate_of[$key]="$o_gf $p_gf"
    printf '%s | %8.3f %7.3f %7.1f %5.0f%% %6.0f | %6.2fx\n' "$line" "$(jnum "$pt" median_s)" "$(jnum "$pt" seq_per_s)" \
        "$p_gf" "$(calc %.1f "100 * $p_gf / $sg_rate")" "$(jnum "$pt" peak_rss_mib)" "$(calc %.4f "$(jnum "$ours" seq_per_s) / $(jnum "$pt" seq_per_s)")"
done

echo
echo "steps = warm-up + timed. sgemm = achieved GFLOP/s as a fraction of the sgemm ceiling above."
echo "RSS = the process's peak resident memory, MiB (getrusage; PyTorch's includes the interpreter and torch itself)."
echo "ours/pt = our sequences/s divided by PyTorch's (> 1: ours is faster). $(elapsed) s in all."

#!/usr/bin/env bash
# bench.sh — `make bench`: training-step throughput of build/rnnreg against the PyTorch reference
# models on this machine (same config, batch, sequence length, thread count and OpenMP wait policy),
# next to the sgemm ceiling. Prints a table; asserts nothing. bench/README.md explains the numbers.
# Per config: ours fp32, ours bf16 (--precision bf16), PyTorch fp32 and PyTorch bf16 (autocast), each
# s/step, seq/s, GFLOP/s and peak RSS, then the ratios ours bf16 / PyTorch fp32, ours bf16 / PyTorch
# bf16 and ours fp32 / PyTorch fp32, each next to its goal of issue 13 and "met" / "short by N%"; a
# bf16 run that cannot happen here is a row "n/a (why)".
#
# BACKEND=cuda runs bench/bench_gpu.sh instead (the CUDA backend against PyTorch on the GPU).
# Environment: RNNREG (default build/rnnreg), PYTHON (default /usr/bin/python3), THREADS (default:
# nproc), BENCH_CONFIGS (names from the table below, space-separated; default all), BENCH_BUDGET
# (seconds, default 150: a config whose estimated cost does not fit what is left is skipped with a
# note; 0 = no limit), BENCH_JSON (also append the raw JSON lines to this file), BENCH_PRECISIONS
# (default "fp32 bf16"; "fp32" skips the bf16 runs), OMP_WAIT_POLICY (default passive, as rnnreg
# itself and the Makefile set it; see README).
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
echo "  (model_flops_per_sequence: 2 x multiply-adds) x batch / step time. bf16: ours --precision bf16"
echo "  (bf16 convolution operands, FP32 sums); PyTorch's forward and loss under"
echo "  torch.autocast('cpu', dtype=torch.bfloat16), backward outside it."
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
     "threads $THREADS; OMP_WAIT_POLICY=$OMP_WAIT_POLICY"

# Which precisions to time (BENCH_PRECISIONS, default both), and whether ours can run bf16 here: the
# dry run resolves --precision bf16 as a training run does and answers the refusal line where it cannot.
PRECISIONS=${BENCH_PRECISIONS:-fp32 bf16}
want_bf16=$(grep -qw bf16 <<< "$PRECISIONS" && echo 1 || echo 0)
probe_conf=$(read -r _ c _ <<< "${CONFIGS[0]}"; echo "$c")
probe=$("$RNNREG" bench --config "$probe_conf" --threads "$THREADS" --dry-run 2>&1) || { echo "bench: $probe" >&2; exit 1; }
engine=$(jstr "$probe" conv_engine)
isa=$(jstr "$probe" cpu_bf16_isa)   # empty: null, no bf16 instructions
ours_bf16_why=""                    # empty: ours runs bf16 here
if [ "$want_bf16" = 0 ]; then
    ours_bf16_why="not asked (BENCH_PRECISIONS=$PRECISIONS)"
elif ! why=$("$RNNREG" bench --config "$probe_conf" --threads "$THREADS" --precision bf16 --dry-run 2>&1); then
    ours_bf16_why=$(grep -v '^rnnreg: OpenBLAS picked' <<< "$why" | sed -E 's/^rnnreg bench: precision: bf16 cannot run here: //; s/; use precision = fp32 or auto$//' | head -n 1)
fi
echo "CPU bf16 instructions: ${isa:-none}; our CPU convolutions: $engine; ours in bf16: ${ours_bf16_why:+n/a (}${ours_bf16_why:-yes}${ours_bf16_why:+)}"

sg=$("$RNNREG" bench --sgemm "$SGEMM_N" --repeats 3 --threads "$THREADS" --json) || { echo "bench: sgemm failed" >&2; exit 1; }
keep_json "$sg"
sg_rate=$(jnum "$sg" gflops)
echo "sgemm ceiling: rr_sgemm ${SGEMM_N}x$SGEMM_N ($(jstr "$sg" blas), core $("$RNNREG" info | sed -n 's/^blas core: //p'), $THREADS threads), best of 3: $sg_rate GFLOP/s"

torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null) || torch_version=""
has_torch=$([ -n "$torch_version" ] && echo 1 || echo 0)
pt_bf16_why=""
if [ -n "$torch_version" ]; then
    echo "PyTorch: $torch_version ($PYTHON), torch.set_num_threads($THREADS)"
    if [ "$want_bf16" = 0 ]; then pt_bf16_why="not asked (BENCH_PRECISIONS=$PRECISIONS)"
    elif [ -z "$isa" ]; then pt_bf16_why="this CPU has no bf16 instructions: autocast would emulate bf16"
    elif ! "$PYTHON" -c 'import torch; torch.autocast("cpu", dtype=torch.bfloat16)' 2>/dev/null; then
        pt_bf16_why="PyTorch $torch_version has no CPU autocast to bfloat16"
    fi
else
    echo "PyTorch: not installed ($PYTHON cannot import torch): our numbers only"
    pt_bf16_why="PyTorch not installed"
fi
echo

# The goals of issue 13 (our seq/s over PyTorch's), by the CPU's bf16 instructions and the config.
goal_of() { # RATIO CONFIG → "x label" or "" (no goal)
    case "$1" in
        bf16_ptfp32) case "$isa" in amx_bf16) echo "4 amx_bf16" ;; avx512_bf16) echo "1.5 avx512_bf16" ;; esac ;;
        bf16_ptbf16) [ "$isa" = amx_bf16 ] && echo "1.2 amx_bf16" ;;
        fp32_ptfp32) case "$2" in *_quick) echo "2 quick config" ;; *) echo "1.2 fp32" ;; esac ;;
    esac
}
# ratio_line LABEL RATIO-KEY CONFIG NUMERATOR-JSON DENOMINATOR-JSON WHY-MISSING
ratio_line() {
    local label=$1 key=$2 cfg=$3 num=$4 den=$5 why=$6 goal goal_text="no goal" value verdict
    goal=$(goal_of "$key" "$cfg")
    [ -n "$goal" ] && goal_text="goal >= ${goal%% *}x (${goal#* })"
    if [ -n "$num" ] && [ -n "$den" ]; then
        value=$(calc %.2f "$(jnum "$num" seq_per_s) / $(jnum "$den" seq_per_s)")
        if [ -z "$goal" ]; then verdict="(no goal)"
        elif [ "$(calc %d "($value >= ${goal%% *})")" = 1 ]; then verdict="met"
        else verdict="short by $(calc %.0f "100 * (1 - $value / ${goal%% *})")%"; fi
        value="${value}x"
    else
        value="n/a"; verdict="n/a ($why)"
    fi
    printf '%-20s %-26s %7s  %-28s %s\n' "" "$label" "$value" "$goal_text" "$verdict"
}
# run_row CONFIG RUN JSON [sgemm]: s/step, seq/s, GFLOP/s, (share of the sgemm ceiling,) peak RSS
run_row() {
    local gf
    gf=$(jnum "$3" gflops)
    printf '%-20s %-13s %8.3f %8.3f %8.1f %6s %8.0f\n' "$1" "$2" "$(jnum "$3" median_s)" "$(jnum "$3" seq_per_s)" "$gf" \
        "$([ -n "${4:-}" ] && calc %.1f%% "100 * $gf / $sg_rate" || echo -)" "$(jnum "$3" peak_rss_mib)"
}
na_row() { printf '%-20s %-13s n/a (%s)\n' "$1" "$2" "$3"; }
miss() { # NUMERATOR WHY-NUMERATOR WHY-DENOMINATOR: why a ratio has no value (the missing side's reason)
    if [ -z "$1" ]; then echo "$2"; else echo "$3"; fi
}

printf '%-20s %-13s %8s %8s %8s %6s %8s\n' config run "s/step" "seq/s" "GFLOP/s" "sgemm" "RSS MiB"
declare -A rate_of   # measured GFLOP/s (ours, PyTorch) by model kind and patch: the cost estimate of bigger configs
for row in "${CONFIGS[@]}"; do
    read -r name conf warmup wframes steps seconds <<< "$row"
    if [ -n "$SELECT" ] && [ "$SELECT" != all ] && ! grep -qw -- "$name" <<< "$SELECT"; then continue; fi
    args=(--config "$conf" --threads "$THREADS")
    dry=$("$RNNREG" bench "${args[@]}" --dry-run 2>&1) || { printf '%-20s skipped: %s\n' "$name" "${dry#rnnreg: }"; continue; }
    # Cost estimate: step FLOPs at the rate measured on a smaller config of the same kind (else the
    # sgemm rate), times (warm-up + one timed step), for each of our and PyTorch's runs (bf16 counted
    # at the fp32 rate).
    [ -z "$ours_bf16_why" ] && n_ours=2 || n_ours=1
    [ -z "$pt_bf16_why" ] && n_pt=$((2 * has_torch)) || n_pt=$has_torch
    flops=$(calc %.6g "3 * $(jnum "$dry" fwd_flops_per_seq) * $(jnum "$dry" batch)")
    key="$(jstr "$dry" model)/patch$(jnum "$dry" patch)"
    read -r r_ours r_pt <<< "${rate_of[$key]:-$sg_rate $sg_rate}"
    est=$(calc %.0f "$flops * 1e-9 * (1 + $warmup * $wframes / 20) * ($n_ours / $r_ours + $n_pt / $r_pt)")
    left=$(( BUDGET - $(elapsed) ))
    if [ "$BUDGET" -gt 0 ] && [ "$est" -gt "$left" ]; then
        printf '%-20s skipped: estimated %s s (%.2g TFLOP per step, %d runs), %s s of BENCH_BUDGET=%s left; BENCH_BUDGET=0 runs it\n' \
            "$name" "$est" "$(calc %.4g "$flops * 1e-12")" $((n_ours + n_pt)) "$(( left > 0 ? left : 0 ))" "$BUDGET"
        continue
    fi
    err=$(mktemp)
    declare -A ours=() pt=()
    for prec in fp32 bf16; do
        [ "$prec" = bf16 ] && [ -n "$ours_bf16_why" ] && continue
        ours[$prec]=$("$RNNREG" bench "${args[@]}" --precision "$prec" --warmup "$warmup" --warmup-frames "$wframes" \
            --steps "$steps" --max-seconds "$seconds" --json 2> "$err") || ours[$prec]=""
        if [ -n "${ours[$prec]}" ]; then
            keep_json "${ours[$prec]}"
            run_row "$name" "ours $prec" "${ours[$prec]}" $([ "$prec" = fp32 ] && echo sgemm)
        else
            na_row "$name" "ours $prec" "failed: $(grep -v '^rnnreg: OpenBLAS picked' "$err" | tr '\n' ' ' | sed 's/^rnnreg bench: //')"
        fi
        name=""   # the config's name on its first line only
    done
    [ -n "$ours_bf16_why" ] && na_row "" "ours bf16" "$ours_bf16_why"
    spec_json=${ours[fp32]:-${ours[bf16]:-}}
    for prec in fp32 bf16; do
        if [ -z "$torch_version" ]; then na_row "" "PyTorch $prec" "not installed"; continue; fi
        if [ "$prec" = bf16 ] && [ -n "$pt_bf16_why" ]; then na_row "" "PyTorch bf16" "$pt_bf16_why"; continue; fi
        if [ -z "$spec_json" ]; then na_row "" "PyTorch $prec" "no run of ours to copy the model from"; continue; fi
        pt[$prec]=$("$PYTHON" tests/reference/bench_torch.py --ours "${ours[$prec]:-$spec_json}" --precision "$prec" 2> "$err") || pt[$prec]=""
        if [ -z "${pt[$prec]}" ]; then na_row "" "PyTorch $prec" "failed: $(tail -n 1 "$err")"; continue; fi
        keep_json "${pt[$prec]}"
        run_row "" "PyTorch $prec" "${pt[$prec]}" $([ "$prec" = fp32 ] && echo sgemm)
        [ "$(jnum "${pt[$prec]}" params)" = "$(jnum "$spec_json" params)" ] ||
            echo "  warning: PyTorch has $(jnum "${pt[$prec]}" params) parameters, ours $(jnum "$spec_json" params): not the same model"
    done
    rm -f "$err"
    cfg=$(read -r n _ <<< "$row"; echo "$n")
    [ -n "${ours[fp32]:-}" ] && rate_of[$key]="$(jnum "${ours[fp32]}" gflops) $( [ -n "${pt[fp32]:-}" ] && jnum "${pt[fp32]}" gflops || jnum "${ours[fp32]}" gflops)"
    ratio_line "ours bf16 / PyTorch fp32" bf16_ptfp32 "$cfg" "${ours[bf16]:-}" "${pt[fp32]:-}" \
        "$(miss "${ours[bf16]:-}" "no ours bf16" "no PyTorch fp32")"
    ratio_line "ours bf16 / PyTorch bf16" bf16_ptbf16 "$cfg" "${ours[bf16]:-}" "${pt[bf16]:-}" \
        "$(miss "${ours[bf16]:-}" "no ours bf16" "no PyTorch bf16")"
    ratio_line "ours fp32 / PyTorch fp32" fp32_ptfp32 "$cfg" "${ours[fp32]:-}" "${pt[fp32]:-}" \
        "$(miss "${ours[fp32]:-}" "no ours fp32" "no PyTorch fp32")"
    unset ours pt
done

echo
echo "sgemm = achieved GFLOP/s as a fraction of the FP32 sgemm ceiling above (FP32 rows only)."
echo "RSS = the process's peak resident memory, MiB (getrusage; PyTorch's includes the interpreter and torch itself)."
echo "Ratios = our sequences/s divided by PyTorch's (> 1: ours is faster), each next to its goal (issue 13:"
echo "  amx_bf16: ours bf16 >= 4x PyTorch fp32 and >= 1.2x PyTorch bf16; avx512_bf16 without AMX: ours bf16"
echo "  >= 1.5x PyTorch fp32; ours fp32 >= 1.2x PyTorch fp32, quick configs >= 2x). $(elapsed) s in all."

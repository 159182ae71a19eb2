#!/usr/bin/env bash
# run.sh OUTDIR — the one prepared script for a machine with a GPU (nvcc + CUDA libraries, PyTorch with
# CUDA, numpy; no OpenBLAS needed): builds rnnreg with the CUDA backend and the builtin sgemm, then runs
# every GPU check and the GPU benchmark, logging everything to OUTDIR. It never stops at a failing
# step: every step runs (or is skipped with the reason), then OUTDIR/summary.txt sums up. The whole run
# keeps to RUN_BUDGET seconds (default 470, under 8 minutes): each step's time limit is the smaller of
# its own and what is left.
#   OUTDIR/env.txt              date, commit, nvidia-smi, nvcc, PyTorch, cores
#   OUTDIR/build.log            make BLAS=builtin CONV=im2col CUDA=1 (the trainer and the two GPU test programs)
#   OUTDIR/test-gpu.log         make test-gpu: tests/gpu/test_gpu_ops (every op, CUDA vs CPU) and
#                               tests/gpu/test_gpu_model (both models x every regularizer, 3 steps CUDA vs
#                               CPU; a run whose loss falls; GPU determinism); their own logs are
#                               OUTDIR/test_gpu_ops.log and OUTDIR/test_gpu_model.log
#   OUTDIR/test-gpu-sync.log    the op checks again with RR_CUDA_SYNC=1 (only after a failure: names the
#                               kernel that faulted)
#   OUTDIR/test-backend.log     tests/test_backend.sh: rnnreg train / eval / predict --backend cuda (and
#                               --tf32) end to end against the CPU
#   OUTDIR/sanitizer.log        compute-sanitizer memcheck of the op checks (when the tool exists)
#   OUTDIR/bench.log, bench.jsonl   make bench BACKEND=cuda: ours vs PyTorch eager / torch.compile,
#                               FP32 and TF32, quick and paper sizes, batch 5 and 16 (bench/README.md)
#   OUTDIR/summary.txt          one line per step (status, seconds), the test totals, the bench table
# Exit status: 0 all steps passed; 1 a step failed; 3 no GPU was visible (built, GPU steps skipped).
# The build needs Random123, jansson, libpng and nettle (Debian packages here; a GPU machine without packages or
# a registry lacks them): on the machine with the packages run `make gpu-bundle` (headers and static
# libraries into build/gpu-deps/, ignored by git), then carry that folder along, e.g. with the device
# tool: run(command="bash tests/gpu/run.sh $OUT/gpu", carry=["build/gpu-deps"]). The Makefile and
# tools/deps.sh use build/gpu-deps/ where the packages are missing.
set -u
out="${1:?usage: tests/gpu/run.sh OUTDIR}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/../.."
BUDGET=${RUN_BUDGET:-470}
T0=$SECONDS
export PATH="$PATH:/usr/local/cuda/bin"
if command -v nvcc > /dev/null; then
    CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")}
    export CUDA_HOME LD_LIBRARY_PATH="$CUDA_HOME/lib64:${LD_LIBRARY_PATH:-}"
fi
jobs=$(nproc 2> /dev/null || echo 4)
mk=(make --no-print-directory BLAS=builtin CONV=im2col CUDA=1 ${CUDA_HOME:+CUDA_HOME=$CUDA_HOME})
bin=build/builtin
: > "$out/summary.txt"
failed=0

left() { echo $(( BUDGET - (SECONDS - T0) )); }
note() { echo "$*" | tee -a "$out/summary.txt"; }
# step NAME LIMIT COMMAND...: run with the smaller of LIMIT and the time left, log to OUTDIR/NAME.log
step() {
    local name=$1 limit=$2 t0=$SECONDS rc
    shift 2
    local l; l=$(left)
    [ "$l" -lt "$limit" ] && limit=$l
    if [ "$limit" -lt 5 ]; then
        printf '%-14s skipped: RUN_BUDGET=%ss spent\n' "$name" "$BUDGET" | tee -a "$out/summary.txt"
        failed=1
        return 1
    fi
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    rc=$?
    printf '%-14s rc=%-3d %4ds%s\n' "$name" "$rc" $((SECONDS - t0)) \
        "$([ "$rc" -eq 124 ] && echo "  (time limit ${limit}s)")" | tee -a "$out/summary.txt"
    [ "$rc" -eq 0 ] || failed=1
    return $rc
}

{
    date -u
    echo "commit: $(git rev-parse HEAD 2> /dev/null || echo unknown)$(git status --porcelain 2> /dev/null | grep -q . && echo ' (with local changes)')"
    if command -v nvidia-smi > /dev/null; then nvidia-smi 2>&1; else echo "nvidia-smi: not available"; fi
    echo
    nvcc --version 2>&1 || echo "nvcc: not found"
    echo "CUDA_HOME=${CUDA_HOME:-}"
    for p in python3 /usr/bin/python3; do
        "$p" -c 'import torch, numpy; print("torch", torch.__version__, "cuda", torch.version.cuda,
              "available", torch.cuda.is_available(), "numpy", numpy.__version__)' > "$out/py.txt" 2>&1 &&
            { sed "s#^#$p: #" "$out/py.txt"; break; }
        echo "$p: $(tail -n 1 "$out/py.txt")"
    done
    echo "nproc $jobs; RUN_BUDGET ${BUDGET}s"
    if [ -f build/gpu-deps/include/Random123/philox.h ]; then echo "libraries: build/gpu-deps/ (make gpu-bundle) where packages lack"
    elif [ -f /usr/include/Random123/philox.h ]; then echo "libraries: system packages"
    else echo "libraries: NEITHER Random123 headers nor build/gpu-deps/: run make gpu-bundle where the packages are and carry build/gpu-deps"; fi
} > "$out/env.txt" 2>&1
rm -f "$out/py.txt"

# 1. build ------------------------------------------------------------------------------------------
built=0
if step build 240 "${mk[@]}" -j"$jobs" $bin/rnnreg $bin/tests/gpu/test_gpu_ops $bin/tests/gpu/test_gpu_model; then
    built=1
else
    tail -20 "$out/build.log"
fi
devices=0
if [ "$built" = 1 ]; then
    "$bin/rnnreg" info > "$out/info.txt" 2>&1
    devices=$(sed -nE 's/^cuda: compiled in; ([0-9]+) device.*/\1/p' "$out/info.txt")
    devices=${devices:-0}
    note "rnnreg info: $(grep '^cuda:' "$out/info.txt")"
fi

# 2. the op and model checks (they print skip lines without a GPU) -----------------------------------
if [ "$built" = 1 ]; then
    step test-gpu 200 "${mk[@]}" test-gpu
    for t in test_gpu_ops test_gpu_model; do cp "$bin/tests/gpu/$t.log" "$out/$t.log" 2> /dev/null; done
    grep -E '^test-gpu ' "$out/test-gpu.log" | tee -a "$out/summary.txt"
    grep -E '^FAIL' "$out/test-gpu.log" | head -20 | tee -a "$out/summary.txt"
    if [ "$devices" -gt 0 ] && grep -q '^FAIL' "$out/test_gpu_ops.log" 2> /dev/null; then
        RR_CUDA_SYNC=1 step test-gpu-sync 90 "$bin/tests/gpu/test_gpu_ops"
    fi
fi

# 3. the trainer on the GPU, end to end ---------------------------------------------------------------
if [ "$built" = 1 ]; then
    py=""
    for p in python3 /usr/bin/python3; do "$p" -c 'import numpy' 2> /dev/null && { py=$p; break; }; done
    step test-backend 90 env RNNREG="$bin/rnnreg" BUILD="$bin" PYTHON="${py:-python3}" bash tests/test_backend.sh
    grep -cE '^ok ' "$out/test-backend.log" | sed 's/^/test-backend: passed /' | tee -a "$out/summary.txt"
    grep -E '^(FAIL|skip)' "$out/test-backend.log" | tee -a "$out/summary.txt"
    grep -q '^FAIL' "$out/test-backend.log" && failed=1
fi

# 4. memcheck of the op checks (when compute-sanitizer is installed) ----------------------------------
if [ "$devices" -gt 0 ] && command -v compute-sanitizer > /dev/null; then
    step sanitizer 90 compute-sanitizer --tool memcheck --leak-check no --error-exitcode 9 "$bin/tests/gpu/test_gpu_ops" \
        test_conv2d test_conv2d_chunks test_activations test_lstm_cell test_batchnorm test_elementwise test_loss \
        test_optim test_layernorm test_causal_lstm test_masks test_zoneout test_reg_lstm test_reg_conv test_causal_masked
    tail -3 "$out/sanitizer.log"
fi

# 5. the benchmark: ours vs PyTorch on this GPU -------------------------------------------------------
if [ "$built" = 1 ] && [ "$devices" -gt 0 ]; then
    bb=$(( $(left) - 25 ))
    [ "$bb" -gt 300 ] && bb=300
    if [ "$bb" -ge 30 ]; then
        step bench $((bb + 20)) env BENCH_BUDGET="$bb" BENCH_JSON="$out/bench.jsonl" "${mk[@]}" bench BACKEND=cuda
        sed -n '/^config /,/^ours\/pt/p' "$out/bench.log" >> "$out/summary.txt"
        grep -E '^(device|cuBLAS|note)' "$out/bench.log" >> "$out/summary.txt"
    else
        note "bench          skipped: ${bb}s of RUN_BUDGET left"
        failed=1
    fi
elif [ "$built" = 1 ]; then
    step bench-nogpu 30 env BACKEND=cuda RNNREG="$bin/rnnreg" bash bench/bench.sh # the one-line no-GPU answer
    note "$(head -n 1 "$out/bench-nogpu.log")"
fi

# summary ---------------------------------------------------------------------------------------------
echo >> "$out/summary.txt"
if [ "$built" = 1 ] && [ "$devices" -eq 0 ]; then
    note "run.sh: NO GPU visible ($(grep '^cuda:' "$out/info.txt")): built with CUDA; the GPU checks printed skip lines, the bench was not run. $((SECONDS - T0)) s."
    exit 3
fi
if [ "$failed" = 0 ]; then
    note "run.sh: all steps passed in $((SECONDS - T0)) s (logs in $out)"
else
    note "run.sh: some steps FAILED or were skipped (see above and the logs in $out); $((SECONDS - T0)) s"
fi
exit $failed

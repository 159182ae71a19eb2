#!/usr/bin/env bash
# run.sh OUTDIR — the one prepared script for a machine with a GPU (nvcc + CUDA libraries; no
# OpenBLAS needed): builds rnnreg with the CUDA backend and the builtin sgemm, runs the CUDA-vs-CPU op
# checks (make test-gpu), a memcheck/racecheck pass when compute-sanitizer exists, the CPU+CUDA test
# suite, and the op timings; every log goes into OUTDIR. Budget: about 8 minutes on 16 cores.
#   OUTDIR/env.txt          nvidia-smi, nvcc --version, the device test_gpu_ops sees
#   OUTDIR/build.log        make BLAS=builtin CUDA=1
#   OUTDIR/test-gpu.log     make test-gpu (ok / FAIL / skip lines and the summary)
#   OUTDIR/test-gpu-sync.log  the same with RR_CUDA_SYNC=1 (only when test-gpu failed: names the kernel)
#   OUTDIR/sanitizer-*.log  compute-sanitizer memcheck / racecheck of the op checks (without test_large)
#   OUTDIR/test.log         make test (the whole suite, CUDA compiled in, GPU present)
#   OUTDIR/bench.log        test_gpu_ops --bench: CPU vs GPU (FP32 / TF32) per op
#   OUTDIR/summary.txt      one line per step with its exit status and seconds
set -u
out="${1:?usage: tests/gpu/run.sh OUTDIR}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/cuda/bin"
jobs=$(nproc 2>/dev/null || echo 4)
mk=(make BLAS=builtin CUDA=1)
bin=build/builtin/tests/gpu/test_gpu_ops
: > "$out/summary.txt"

step() { # step NAME TIMEOUT_S COMMAND... : run with a time limit, log, record status
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    local rc=$?
    printf '%-16s rc=%-3d %4ds\n' "$name" "$rc" $((SECONDS - t0)) | tee -a "$out/summary.txt"
    return $rc
}

{ nvidia-smi; echo; nvcc --version; echo; echo "nproc $jobs"; } > "$out/env.txt" 2>&1
step build 240 "${mk[@]}" -j"$jobs" build/builtin/rnnreg "$bin" || { tail -30 "$out/build.log"; exit 1; }
if ! step test-gpu 120 "${mk[@]}" test-gpu; then
    RR_CUDA_SYNC=1 step test-gpu-sync 120 "$bin"
fi
grep -E '^(FAIL|skip)|^test-gpu:' "$out/test-gpu.log" | head -40
if command -v compute-sanitizer > /dev/null; then
    cases=(test_conv2d test_activations test_lstm_cell test_batchnorm test_elementwise test_loss test_optim
           test_layernorm test_causal_lstm test_masks)
    step sanitizer-memcheck 150 compute-sanitizer --tool memcheck --leak-check no --error-exitcode 9 "$bin" "${cases[@]}"
    step sanitizer-racecheck 90 compute-sanitizer --tool racecheck --error-exitcode 9 "$bin" test_batchnorm test_layernorm test_loss test_conv2d
    tail -3 "$out"/sanitizer-*.log
fi
step bench 60 "$bin" --bench
grep '^# bench' "$out/bench.log"
step test 240 "${mk[@]}" -j"$jobs" test
tail -5 "$out/test.log"
cat "$out/summary.txt"

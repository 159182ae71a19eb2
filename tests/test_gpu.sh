#!/usr/bin/env bash
# test_gpu.sh — the CUDA backend's checks inside `make test`: runs the built programs
# tests/gpu/test_gpu_ops (every op on CUDA tensors against the CPU op) and tests/gpu/test_gpu_model
# (both models with every regularizer, CUDA against CPU), which print one skip line per case when there
# is no GPU or no CUDA backend. `make test-gpu` runs the same programs on their own.
set -u
status=0
for name in test_gpu_ops test_gpu_model; do
    bin="${BUILD:-build}/tests/gpu/$name"
    if [ -x "$bin" ]; then
        "$bin" || status=1
    else
        n=$(grep -cE '^ +(CASE\(test_|\{"test_)' "tests/gpu/$name.c")
        echo "skip test_gpu: $name: $n GPU cases: $bin is not built (make test-gpu builds it)"
    fi
done
exit $status

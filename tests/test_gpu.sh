#!/usr/bin/env bash
# test_gpu.sh — the CUDA backend's op checks (tests/gpu/test_gpu_ops.c) inside `make test`: runs the
# built program, which compares every op on CUDA tensors with the CPU op and prints one skip line per
# case when there is no GPU or no CUDA backend. `make test-gpu` runs the same program on its own.
set -u
bin="${BUILD:-build}/tests/gpu/test_gpu_ops"
if [ -x "$bin" ]; then
    exec "$bin"
fi
n=$(grep -c '^    CASE(test_' tests/gpu/test_gpu_ops.c)
echo "skip test_gpu: $n GPU op cases: $bin is not built (make test-gpu builds it)"

# bench.mk — `make bench` (included by the Makefile): training-step throughput of build/rnnreg
# against PyTorch on this machine, next to the sgemm ceiling (bench/bench.sh, bench/README.md).
# THREADS=n (default: nproc), BLAS=openblas|builtin (picks the build), PYTHON (the torch side).
# BACKEND=cuda: the CUDA backend against PyTorch on the GPU (bench/bench_gpu.sh; needs a CUDA build and
# a GPU, else one line says so and the target fails); BENCH_BUDGET, BENCH_CONFIGS, BENCH_BATCHES,
# BENCH_PRECISIONS, BENCH_COMPILE as in that script; PYTHON only when given (else the script finds an
# interpreter that imports torch).
BENCH_PY = $(if $(filter cuda,$(BACKEND)),$(if $(filter command line environment,$(origin PYTHON)),$(PYTHON)),$(PYTHON))

.PHONY: bench
bench: $(BUILD)/rnnreg ## training-step throughput vs PyTorch (seq/s, GFLOP/s, sgemm ceiling); THREADS=n, BACKEND=cuda
	@RNNREG='$(BUILD)/rnnreg' PYTHON='$(BENCH_PY)' THREADS='$(THREADS)' BACKEND='$(BACKEND)' bash bench/bench.sh

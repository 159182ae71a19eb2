# bench.mk — `make bench` (included by the Makefile): training-step throughput of build/rnnreg
# against PyTorch on this machine, next to the sgemm ceiling (bench/bench.sh, bench/README.md).
# THREADS=n (default: nproc), BLAS=openblas|builtin (picks the build), PYTHON (the torch side).

.PHONY: bench
bench: $(BUILD)/rnnreg ## training-step throughput vs PyTorch (seq/s, GFLOP/s, sgemm ceiling); THREADS=n
	@RNNREG='$(BUILD)/rnnreg' PYTHON='$(PYTHON)' THREADS='$(THREADS)' bash bench/bench.sh

# tools/slurm/slurm.mk — `make test-slurm`: the cluster path (RUNNER='srun ...') against a real one-node
# Slurm on localhost, started and stopped by tools/slurm/test_slurm.sh (installs slurm-wlm and munge when
# missing; needs root). Included by the top Makefile; not part of `make test` (it starts daemons and
# trains the tiny pipeline twice: a few minutes).
.PHONY: test-slurm
test-slurm: $(BUILD)/rnnreg ## the tiny pipeline through srun on a one-node Slurm started here = the local run; ends "N passed, M failed"
	@PYTHON='$(PYTHON)' RNNREG='$(BUILD)/rnnreg' BUILD='$(BUILD)' bash tools/slurm/test_slurm.sh

# Makefile — builds rnnreg (build/rnnreg), its tests, the data, and the paper (pipeline.mk).
# `make help` lists every target. Variables: BLAS=openblas|builtin, CONV=onednn|im2col (the CPU
# convolution engine; default onednn when oneDNN's dnnl.h is installed, im2col otherwise), CUDA=0|1
# (default: 1 when nvcc is found), SANITIZE=1 (address + undefined behaviour sanitizers), THREADS=n,
# PORTABLE=1 (the build whose runs give the same bits on every x86-64 CPU, docs/portable.md).

SHELL := /bin/bash
.DEFAULT_GOAL := all

# ---------------------------------------------------------------------------------------------
# Tools and options
# ---------------------------------------------------------------------------------------------
CC      ?= gcc
BLAS    ?= openblas
SANITIZE ?= 0
# PORTABLE=1: only code of ours does arithmetic (the builtin sgemm, the im2col convolutions, the
# portable math of src/portable_math.c), in IEEE operations that every x86-64 CPU rounds alike, with
# no FMA contraction and no CUDA: one binary, the same bits on any x86-64 CPU (docs/portable.md;
# tests/test_portable.sh runs it under emulated CPUs). Its own folder, build/portable/.
PORTABLE ?= 0
ifeq ($(PORTABLE),1)
override BLAS := builtin
override CONV := im2col
override CUDA := 0
else ifneq ($(PORTABLE),0)
$(error PORTABLE must be 0 or 1, not '$(PORTABLE)')
endif

# ---------------------------------------------------------------------------------------------
# Packages: every target installs what it needs, before anything below probes the system
# (pkg-config, python3, nvcc): tools/deps.sh with the groups of the goals given (none: build). It
# checks with one dpkg-query, installs what is missing with apt-get as root and says so in one line;
# without root or apt-get make stops with one line naming the packages. Not under make -n/-q, nor
# with DEPS=0. Groups: build (compiler, OpenBLAS unless BLAS=builtin, oneDNN unless CONV=im2col, Random123, jansson, libpng, nettle), data (curl), test (Python
# torch/scikit-image/scipy, bc), paper (gnuplot, TeX Live, poppler-utils); test-slurm adds slurm
# (slurm-wlm, munge).
# ---------------------------------------------------------------------------------------------
DEPS ?= 1
DEPS_NONE  := help clean clean-paper pipeline-help pipeline-status deps test-bare gpu-bundle
DEPS_ALL   := test reproduce reproduce-pipeline runs run-stamps baselines results/%
deps_goal   = $(if $(filter $(DEPS_NONE),$1),,$(if $(filter test-slurm,$1),build data test paper slurm,$(if \
              $(filter $(DEPS_ALL),$1),build data test paper,$(if \
              $(filter check-artifacts,$1),build paper,$(if $(filter summary tables figures paper build/paper/%,$1),paper,$(if \
              $(filter data data-strip data/%,$1),build data,$(if $(filter bench,$1),build test,build)))))))
DEPS_GROUPS := $(sort $(foreach g,$(or $(MAKECMDGOALS),all),$(call deps_goal,$g)))
ifeq ($(DEPS)$(findstring n,$(firstword -$(MAKEFLAGS)))$(findstring q,$(firstword -$(MAKEFLAGS))),1)
ifneq ($(DEPS_GROUPS),)
DEPS_FAIL := $(shell RNNREG_BLAS='$(BLAS)' RNNREG_CONV='$(CONV)' bash tools/deps.sh --quiet-fail $(DEPS_GROUPS))
ifneq ($(.SHELLSTATUS),0)
$(error $(or $(DEPS_FAIL),tools/deps.sh $(DEPS_GROUPS) failed))
endif
endif
endif

NVCC    ?= $(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })
ifeq ($(NVCC),)
CUDA    ?= 0
else
CUDA    ?= 1
endif
# The system interpreter has Debian's python3-torch / python3-skimage; a pyenv python3 may not.
PYTHON  ?= $(shell for p in /usr/bin/python3 python3; do $$p -c 'import numpy' 2>/dev/null && { echo $$p; break; }; done)
ifeq ($(PYTHON),)
PYTHON  := /usr/bin/python3
endif

# The CPU convolution engine (src/conv_onednn.c or src/conv.c), probed after deps installed oneDNN:
# onednn where dnnl.h is, im2col where it is not (the GPU machine of tests/gpu/run.sh).
HAVE_DNNL := $(wildcard /usr/include/dnnl.h)
CONV_DEFAULT := $(if $(HAVE_DNNL),onednn,im2col)
CONV    ?= $(CONV_DEFAULT)
ifeq ($(CONV),onednn)
ifeq ($(HAVE_DNNL),)
$(error CONV=onednn but oneDNN's dnnl.h is not installed: install libdnnl-dev (make deps) or build with CONV=im2col)
endif
else ifneq ($(CONV),im2col)
$(error CONV must be onednn or im2col, not '$(CONV)')
endif

# Each build variant has its own folder, so SANITIZE=1, BLAS=builtin or a CONV other than this
# machine's default never mix objects with the default ones: build/ (default), build/san/,
# build/builtin/, build/im2col/ (CONV=im2col where oneDNN is installed), build/san-builtin-im2col/,
# build/portable/ (PORTABLE=1), ...
VARIANT := $(strip $(if $(filter 1,$(SANITIZE)),san) $(if $(filter 1,$(PORTABLE)),portable,$(if \
             $(filter builtin,$(BLAS)),builtin) $(if $(filter-out $(CONV_DEFAULT),$(CONV)),$(CONV))))
# Idle OpenMP threads must not spin while OpenBLAS threads work (see src/main.c); tests and bench too.
export OMP_WAIT_POLICY ?= passive

BUILD   := build$(if $(VARIANT),/$(subst $(eval) ,-,$(VARIANT)))
CFLAGS  := -std=c11 -O2 -g -Wall -Wextra -fopenmp -D_GNU_SOURCE -Isrc -Ikernels
LDLIBS  := -fopenmp -lm -lpthread

# The field's libraries (Debian packages, tools/deps.sh's build group): jansson reads JSON, libpng
# writes the strips, nettle hashes the data file (SHA-256), Random123 (header only, no pkg-config
# file) is the Philox of src/rng.h. Flags
# from pkg-config; without it, the plain names. On a machine without the packages (the GPU machine
# of tests/gpu/run.sh), build/gpu-deps/ from `make gpu-bundle` holds their headers and static
# libraries: used when it is there and the packages are not.
GPU_DEPS  := build/gpu-deps
LIB_PKGS  := jansson libpng nettle
HAVE_LIB_PKGS := $(and $(wildcard /usr/include/Random123/philox.h),$(shell pkg-config --exists $(LIB_PKGS) 2>/dev/null && echo yes))
ifeq ($(if $(HAVE_LIB_PKGS),,$(wildcard $(GPU_DEPS)/include/Random123/philox.h)),)
LIB_CFLAGS := $(shell pkg-config --cflags $(LIB_PKGS) 2>/dev/null)
LIB_LIBS  := $(or $(shell pkg-config --libs $(LIB_PKGS) 2>/dev/null),-ljansson -lpng16 -lz -lnettle)
else
LIB_CFLAGS := -I$(GPU_DEPS)/include
LIB_LIBS  := $(GPU_DEPS)/lib/libjansson.a $(GPU_DEPS)/lib/libpng16.a $(GPU_DEPS)/lib/libz.a $(GPU_DEPS)/lib/libnettle.a
endif
CFLAGS  += $(LIB_CFLAGS)
LDLIBS  += $(LIB_LIBS)

ifeq ($(CONV),onednn)
CFLAGS  += -DRR_USE_ONEDNN
LDLIBS  += -ldnnl
endif

ifeq ($(PORTABLE),1)
CFLAGS  += -DRR_PORTABLE_MATH -ffp-contract=off
endif

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS  += -fsanitize=address,undefined
endif

ifeq ($(BLAS),openblas)
CFLAGS  += -DRR_USE_CBLAS $(shell pkg-config --cflags openblas 2>/dev/null || echo -I/usr/include/x86_64-linux-gnu/openblas-pthread)
LDLIBS  += -lopenblas
else ifneq ($(BLAS),builtin)
$(error BLAS must be openblas or builtin, not '$(BLAS)')
endif

CUDA_HOME ?= /usr/local/cuda
ifeq ($(CUDA),1)
ifeq ($(NVCC),)
$(error CUDA=1 but nvcc was not found: install the CUDA toolkit or build with CUDA=0)
endif
CFLAGS  += -DRR_USE_CUDA
# sm_80 (A100) and sm_90 (H100/H200) machine code plus compute_90 PTX for newer GPUs; -fmad=false:
# no FMA contraction, so kernels round like the CPU code (kernels/cuda_common.cuh); -MMD: header deps.
NVARCH  ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
NVFLAGS := -O2 -std=c++17 -Isrc -Ikernels $(LIB_CFLAGS) -DRR_USE_CUDA -fmad=false $(NVARCH) -MMD -MP -Xcompiler -Wall,-fopenmp
LDLIBS  += -L$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++
endif

# ---------------------------------------------------------------------------------------------
# Sources. Every src/*.c goes into the program; src/main.c holds main(). Tests link everything else.
# ---------------------------------------------------------------------------------------------
SRCS      := $(sort $(wildcard src/*.c))
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
CU_SRCS   := $(if $(filter 1,$(CUDA)),$(sort $(wildcard kernels/*.cu)))
OBJS      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(patsubst kernels/%.cu,$(BUILD)/obj/cu_%.o,$(CU_SRCS))
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

# A stamp that changes whenever the build flags change, so switching BLAS/CONV/SANITIZE/CUDA rebuilds.
FLAGS_ID := $(CC) $(CFLAGS) $(LDLIBS) CUDA=$(CUDA) $(NVFLAGS)
STAMP    := $(BUILD)/.flags
$(shell mkdir -p $(BUILD)/obj $(BUILD)/tests; echo '$(FLAGS_ID)' | cmp -s - $(STAMP) || echo '$(FLAGS_ID)' > $(STAMP))

.PHONY: all
all: $(BUILD)/rnnreg ## build the trainer, build/rnnreg

$(BUILD)/rnnreg: $(BUILD)/obj/main.o $(OBJS)
	$(CC) -o $@ $^ $(LDLIBS)
ifeq ($(CUDA),1)
	@echo "built $@ with the CUDA backend ($(NVCC))"
else
	@echo "built $@ (CPU only$(if $(NVCC),, — nvcc not found, kernels/ not compiled))"
endif

$(BUILD)/obj/%.o: src/%.c $(STAMP)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The vector expf/tanhf must round where the scalar libm code rounds: no multiply-add contraction.
$(BUILD)/obj/vector_math.o: CFLAGS += -ffp-contract=off

$(BUILD)/obj/cu_%.o: kernels/%.cu $(STAMP)
	$(NVCC) $(NVFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(OBJS) $(STAMP) tests/test.h
	$(CC) $(CFLAGS) -Itests -o $@ $< $(OBJS) $(LDLIBS)

-include $(wildcard $(BUILD)/obj/*.d)

# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------
.PHONY: test test-build
test-build: $(BUILD)/rnnreg $(TEST_BINS) $(if $(filter 1,$(PORTABLE)),,portable-build)

# tests/test_portable.sh needs the portable binary beside the one under test (its own folder and flags).
.PHONY: portable-build
portable-build:
	@$(MAKE) --no-print-directory PORTABLE=1 SANITIZE=0 DEPS=0 build/portable/rnnreg

test: test-build ## build and run every test; ends with "N passed, M failed[, K skipped]"
	@PYTHON='$(PYTHON)' RNNREG='$(BUILD)/rnnreg' BUILD='$(BUILD)' PORTABLE_RNNREG='build/portable/rnnreg' bash tests/run.sh $(TEST_BINS)

.PHONY: test-vecmath-all
test-vecmath-all: $(BUILD)/tests/test_vector_math ## vector expf/tanhf/sigmoid = glibc's on all 2^32 floats (≈ 5 min; make test samples 1/61)
	@log=$(BUILD)/tests/vecmath-all.log; $(BUILD)/tests/test_vector_math $(VECMATH_ARG) > $$log; rc=$$?; cat $$log; \
	  echo "$$(grep -c '^ok' $$log) passed, $$(grep -c '^FAIL' $$log) failed, $$(grep -c '^skip' $$log) skipped"; exit $$rc
VECMATH_ARG ?= all

-include bench/bench.mk
-include tests/fuzz.mk

# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
-include data/data.mk

# ---------------------------------------------------------------------------------------------
# Experiments → results → tables and figures → paper (pipeline.mk; SCALE=tiny|quick|short|study|paper)
# ---------------------------------------------------------------------------------------------
-include pipeline.mk

# ---------------------------------------------------------------------------------------------
# Set-up and help
# ---------------------------------------------------------------------------------------------
.PHONY: deps
deps: ## install all that is missing at once (Debian/Ubuntu, apt-get); each target also installs what it needs
	@RNNREG_BLAS='$(BLAS)' RNNREG_CONV='$(CONV)' bash tools/deps.sh all

.PHONY: gpu-bundle
gpu-bundle: ## copy Random123/jansson/libpng/nettle headers and static libraries into build/gpu-deps/ for a machine without them (tests/gpu/run.sh)
	@bash tools/gpu_bundle.sh $(GPU_DEPS)

.PHONY: test-bare
test-bare: ## the README's `make test` and `make reproduce SCALE=tiny` in fresh bare Debian 12 chroots (root)
	@bash tools/test_bare.sh

.PHONY: reproduce
# The trainer and the data are made by a sub-make that uses every core (PIPE_NPROC, pipeline.mk) unless
# the user gave a -j: the plain command compiles in parallel as it trains in parallel (with nvcc, the
# CUDA kernels took most of a fresh clone's first minutes one file at a time).
reproduce: ## the whole job: data, trainer, experiments, figures, paper (SCALE=short, two predicted frames; study: ten; quick: the 20-min look)
	@$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(PIPE_NPROC)) $(BUILD)/rnnreg data
	@bash tools/deps.sh paper
	@$(MAKE) --no-print-directory reproduce-pipeline

.PHONY: clean
clean: ## remove build/ (keeps downloaded data)
	rm -rf $(BUILD)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z_-]+):.*## (.*)/  \1|\2/' | awk -F'|' '{printf "  %-18s %s\n", $$1, $$2}'
	@echo "  variables: BLAS=openblas|builtin  CONV=onednn|im2col (now $(CONV))  CUDA=0|1  SANITIZE=1  PORTABLE=1  PYTHON=$(PYTHON)"

# CUDA backend tests (make test-gpu) and the GPU test's place in `make test`.
-include kernels/cuda.mk
# make test-slurm: the cluster path on a one-node Slurm (tools/slurm/test_slurm.sh)
-include tools/slurm/slurm.mk

# data/data.mk — Make rules for the Moving MNIST data, included by the top Makefile (which defines
# BUILD and PYTHON). `make data` downloads mnist_test_seq.npy (sha256-checked) or, when that is not
# possible, generates the same kind of data with `rnnreg mmnist`; see data/fetch.sh and data/README.md.
# Override on the command line, e.g. make data DATA_DIR=/tmp/d MMNIST_SEED=2 MMNIST_DOWNLOAD=0.
# Nothing is redone once $(DATA_DIR)/moving_mnist.npy exists (it appears only when complete); `make data`
# verifies it against moving_mnist.json every time (cheap: a verified sha256 is remembered, data/fetch.sh).

DATA_DIR        ?= data
MMNIST_URL      ?= http://www.cs.toronto.edu/~nitish/unsupervised_video/mnist_test_seq.npy
MMNIST_SHA256   ?= c2a3e8d3939c001ab77bf543f130157424efa486bb4d0974d2cebb773b13f8b3
MMNIST_COUNT    ?= 10000
MMNIST_LENGTH   ?= 20
MMNIST_SEED     ?= 1
MMNIST_DOWNLOAD ?= 1
MNIST_IDX_URL   ?= https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz
MNIST_IDX_SHA256 ?= 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
MNIST_IDX       ?=

DATA_FETCH_ENV = DATA_DIR='$(DATA_DIR)' RNNREG='$(BUILD)/rnnreg' MMNIST_URL='$(MMNIST_URL)' \
	MMNIST_SHA256='$(MMNIST_SHA256)' MMNIST_COUNT='$(MMNIST_COUNT)' MMNIST_LENGTH='$(MMNIST_LENGTH)' \
	MMNIST_SEED='$(MMNIST_SEED)' MMNIST_DOWNLOAD='$(MMNIST_DOWNLOAD)' MNIST_IDX_URL='$(MNIST_IDX_URL)' \
	MNIST_IDX_SHA256='$(MNIST_IDX_SHA256)' MNIST_IDX='$(MNIST_IDX)'

.PHONY: data data-strip
# the recipe runs every time: an existing file is verified against its provenance JSON (data/fetch.sh)
data: | $(BUILD)/rnnreg ## Moving MNIST: download mnist_test_seq.npy (sha256-checked) or generate it offline; verify one found
	@$(DATA_FETCH_ENV) bash data/fetch.sh

# rnnreg is order-only: rebuilding it must not regenerate the data.
$(DATA_DIR)/moving_mnist.npy: | $(BUILD)/rnnreg
	@$(DATA_FETCH_ENV) bash data/fetch.sh

data-strip: $(BUILD)/data_strip.png ## draw sequence 0 of the data as build/data_strip.png

$(BUILD)/data_strip.png: $(DATA_DIR)/moving_mnist.npy | $(BUILD)/rnnreg
	$(BUILD)/rnnreg strip --in $< --seq 0 --out $@

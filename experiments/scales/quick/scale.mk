# scales/quick/scale.mk — the quick scale: every experiment at a size one CPU core trains in minutes
# (about an hour for the whole scale with make -j2 on two cores); its summary is committed
# (results/quick/summary/) so that `make paper` typesets without training.
SEEDS     ?= 1 2 3
OPT_SEEDS ?= 1
DATA      ?= data/moving_mnist.npy
DATA_JSON := $(DATA:.npy=.json)

# scales/quick/scale.mk — the quick scale: the smoke scale of a first look, every kind of experiment at
# a size one CPU core trains in seconds to a minute, in about a quarter of an hour for the whole scale
# with the plain `make reproduce SCALE=quick` on two cores (REPRODUCE.md §6); its summary is committed
# (results/quick/summary/) so that `make paper SCALE=quick` typesets without training. A reduced matrix:
# the report's regularizers (layer norm, dropout, recurrent dropout, L2) with three seeds, the optimizer
# study and the two sweeps with one; the other regularizers of experiments.mk run at the tiny scale (in
# `make test`) and at the paper scale. Its models do not learn enough to rank anything (its paper says
# so in the abstract): it checks the pipeline, not the methods.
SEEDS     ?= 1 2 3
OPT_SEEDS ?= 1
DATA      ?= data/moving_mnist.npy
DATA_JSON := $(DATA:.npy=.json)

REGULARIZERS := $(foreach m,$(MODELS),$m/layernorm $m/dropout $m/rec_dropout $m/l2)

# scales/paper/scale.mk — the paper scale: the report's protocol (20 epochs) at the published model
# sizes, meant for a GPU (RUN_SETS='backend=cuda', RUNNER='srun --gres=gpu:1' or similar).
SEEDS     ?= 1 2 3 4 5
OPT_SEEDS ?= 1 2 3
DATA      ?= data/moving_mnist.npy
DATA_JSON := $(DATA:.npy=.json)

# experiments/experiments.mk — WHICH experiments the pipeline runs (pipeline.mk includes it).
#
# An experiment is <model>/<name>: the file experiments/<model>/<name>.conf holds what it changes
# relative to experiments/<model>/model.conf (its first lines `# label: ...` and `# about: ...` name it
# in the paper), and its runs land in results/<scale>/<model>/<name>/<seed>/. A run's configuration is
# model.conf, then the optimizer chosen by stage 1 (stage 2 only), then <name>.conf, then the scale's
# experiments/scales/<scale>/<model>.conf (sizes only). ADDING AN EXPERIMENT = writing its .conf and
# putting <model>/<name> in one list below; the tables, figures and paper pick it up.

MODELS := convlstm predrnn_pp

# Stage 1 — the optimizer study: <model>/opt-<optimizer> (experiments/<model>/opt-<optimizer>.conf,
# which includes experiments/optimizers/<optimizer>.conf) for every model, with the seeds OPT_SEEDS.
# tools/pipeline/choose_optimizer.py picks per model the one with the lowest mean best validation loss
# and writes results/<scale>/<model>/optimizer.conf, which every stage-2 run includes.
OPTIMIZERS := adam adamw rmsprop sgd

# Stage 2 — with the chosen optimizer, every seed in SEEDS. <model>/base is the reference of the
# paired differences (same seed = same data order and initial weights).
MAIN_EXPERIMENTS := convlstm/base predrnn_pp/base

# Regularizers — stage 2 as well, every seed, each compared with its <model>/base. Each
# experiments/<model>/<name>.conf gives the label and includes experiments/regularizers/<name>.conf,
# which holds the keys and cites the method's paper. The ConvLSTM's base has batch norm (the Keras
# example), so its batch-norm experiment removes it; the PredRNN++'s base has none, so its adds it.
REGULARIZERS := $(foreach m,$(MODELS),$m/layernorm $m/dropout $m/rec_dropout $m/var_dropout $m/zoneout \
                  $m/weight_drop $m/l2 $m/adamw) convlstm/no_batchnorm predrnn_pp/batchnorm

# Sweeps — one hyper-parameter of a regularizer over several values, on every model: SWEEP_KEY.<s> is
# the config key on the figure's x axis, SWEEP_POINTS.<s> the experiments (names under each model), in
# order. A point that is also in REGULARIZERS runs with SEEDS; the others with SWEEP_SEEDS (scale.mk).
SWEEPS := dropout l2
SWEEP_KEY.dropout    := dropout
SWEEP_POINTS.dropout := dropout-0.1 dropout dropout-0.3 dropout-0.5
SWEEP_KEY.l2         := l2
SWEEP_POINTS.l2      := l2-1e-6 l2-1e-5 l2 l2-1e-3

# Stage 2 with the first seed only: the report's ConvLSTM (centred Conv3D head, teacher forcing),
# run once to explain its too-good numbers.
ONCE_EXPERIMENTS := convlstm/leak

# The report's evaluation protocol (teacher forcing at every step; tools/pipeline/report_protocol.py)
# applied to these ConvLSTM experiments' first-seed runs: the leak against the honest causal head.
PROTOCOL_EXPERIMENTS := convlstm/leak convlstm/base

# The qualitative strips (results/<scale>/summary/strip-<model>.png, one figure per model): under the
# true frames and the copy-last baseline, the first-seed predictions of the first test sequence of
# these experiments, each model's in this order (its base, every regularizer, the run-once ones).
STRIP_EXPERIMENTS := $(foreach m,$(MODELS),$m/base $(filter $m/%,$(REGULARIZERS)) $(filter $m/%,$(ONCE_EXPERIMENTS)))

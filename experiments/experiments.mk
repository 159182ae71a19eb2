# experiments/experiments.mk — WHICH experiments the pipeline runs (pipeline.mk includes it).
#
# An experiment is <model>/<name>; its runs land in results/<scale>/<model>/<name>/<seed>/. Its file —
# what it changes relative to experiments/<model>/model.conf, with the lines `# label: ...` and
# `# about: ...` that name it in the paper — is exp_conf below: the model's own
# experiments/<model>/<name>.conf where only that model runs it (convlstm/leak, convlstm/leak_causal),
# else one file that every model shares: experiments/base.conf,
# experiments/optimizers/<optimizer>.conf for opt-<optimizer>, experiments/controls/<name>.conf (a
# control such as fresh training sequences), experiments/regularizers/<name>.conf.
# A run's configuration is model.conf, then the optimizer chosen by stage 1 (stage 2 only), then the
# experiment's file, then the scale's experiments/scales/<scale>/<model>.conf (sizes only). ADDING AN
# EXPERIMENT = writing its .conf and putting <model>/<name> in one list below; the tables, figures and
# paper pick it up.

# exp_conf MODEL NAME — the file of experiment MODEL/NAME (tools/pipeline/pipelib.py experiment_conf
# is the same rule for the scripts; tests/test_pipeline.sh checks that the two agree)
exp_conf = $(or $(wildcard experiments/$1/$2.conf),$(wildcard experiments/controls/$2.conf),$(if \
             $(filter base,$2),experiments/base.conf,$(if $(filter opt-%,$2),experiments/optimizers/$(patsubst \
             opt-%,%,$2).conf,experiments/regularizers/$2.conf)))

MODELS := convlstm predrnn_pp

# Stage 1 — the optimizer study: <model>/opt-<optimizer> (experiments/optimizers/<optimizer>.conf) for
# every model, with the seeds OPT_SEEDS.
# tools/pipeline/choose_optimizer.py picks per model the one with the lowest mean best validation loss
# and writes results/<scale>/<model>/optimizer.conf, which every stage-2 run includes.
OPTIMIZERS := adam adamw rmsprop sgd

# Stage 2 — with the chosen optimizer, every seed in SEEDS. <model>/base is the reference of the
# paired differences (same seed = same data order and initial weights).
MAIN_EXPERIMENTS := convlstm/base predrnn_pp/base

# Regularizers — stage 2 as well, every seed, each compared with its <model>/base. Each
# experiments/regularizers/<name>.conf holds the keys, the label and the paper of the method, for every
# model. Neither base has batch norm (the ConvLSTM's plain cell learns where the Keras example's relu +
# batch-norm cell is unstable: experiments/scales/study/PROBES.md), so the batch-norm experiment adds it
# to both.
REGULARIZERS := $(foreach m,$(MODELS),$m/layernorm $m/dropout $m/rec_dropout $m/var_dropout $m/zoneout \
                  $m/weight_drop $m/l2 $m/adamw $m/batchnorm)

# Controls — stage 2 as well, every seed, beside <model>/base of the same seed, but not regularizers
# (not in their Holm family, not a "best method"): a scale that can afford it lists the control regime
# <model>/fresh here (experiments/controls/fresh.conf: fresh training sequences every epoch, which nothing
# can memorise; tools/pipeline/paperdata.py knows a control by its config, fresh_train = 1).
CONTROL_EXPERIMENTS :=

# Sweeps — one hyper-parameter of a regularizer over several values, on every model: SWEEP_KEY.<s> is
# the config key on the figure's x axis, SWEEP_POINTS.<s> the experiments (names under each model), in
# order. A point that is also in REGULARIZERS runs with SEEDS; the others with SWEEP_SEEDS (scale.mk).
SWEEPS := dropout l2
SWEEP_KEY.dropout    := dropout
SWEEP_POINTS.dropout := dropout-0.1 dropout dropout-0.3 dropout-0.5
SWEEP_KEY.l2         := l2
SWEEP_POINTS.l2      := l2-1e-6 l2-1e-5 l2 l2-1e-3

# Stage 2 with the first seed only: the report's ConvLSTM (centred Conv3D head, teacher forcing),
# run once to explain its too-good numbers, and its control: the same training and testing with the
# causal head (convlstm/leak_causal.conf includes leak.conf and changes the head only), so that the
# two differ in the head alone. A scale that redefines other lists (scales/<scale>/scale.mk) keeps these.
ONCE_EXPERIMENTS := convlstm/leak convlstm/leak_causal

# The report's evaluation protocol (teacher forcing at every step; tools/pipeline/report_protocol.py)
# applied to these ConvLSTM experiments' first-seed runs: the leak against its causal control (same
# training), and against the base model (the causal head as every other experiment trains it).
PROTOCOL_EXPERIMENTS := convlstm/leak convlstm/leak_causal convlstm/base

# The qualitative strips (results/<scale>/summary/strip-<model>.png, one figure per model): under the
# true frames and the copy-last baseline, the first-seed predictions of the first test sequence of
# these experiments, each model's in this order (its base, every regularizer, the controls, the run-once
# ones). Recursive (=), so that a scale.mk that redefines REGULARIZERS or CONTROL_EXPERIMENTS gets its
# strips from its own lists without restating this rule.
STRIP_EXPERIMENTS = $(foreach m,$(MODELS),$m/base $(filter $m/%,$(REGULARIZERS)) $(filter $m/%,$(CONTROL_EXPERIMENTS)) \
                      $(filter $m/%,$(ONCE_EXPERIMENTS)))

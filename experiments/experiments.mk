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

# ==== REGULARIZER SLOTS ==========================================================================
# Stage 2 as well, every seed, compared with <model>/base. Add <model>/<name> here once
# experiments/<model>/<name>.conf exists (the trainer keys come with the regularizer engineer's work),
# e.g. convlstm/dropout convlstm/recurrent_dropout convlstm/variational_dropout convlstm/zoneout
#      convlstm/weight_drop convlstm/l2 convlstm/layernorm predrnn_pp/layernorm predrnn_pp/dropout ...
REGULARIZERS :=
# =================================================================================================

# Stage 2 with the first seed only: the report's ConvLSTM (centred Conv3D head, teacher forcing),
# run once to explain its too-good numbers.
ONCE_EXPERIMENTS := convlstm/leak

# The report's evaluation protocol (teacher forcing at every step; tools/pipeline/report_protocol.py)
# applied to these ConvLSTM experiments' first-seed runs: the leak against the honest causal head.
PROTOCOL_EXPERIMENTS := convlstm/leak convlstm/base

# Rows of the qualitative strip (results/<scale>/summary/strip.png), under the true frames: the
# copy-last baseline, then these experiments' predictions (first seed, first test sequence).
STRIP_EXPERIMENTS := convlstm/base predrnn_pp/base convlstm/leak

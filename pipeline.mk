# pipeline.mk — the literate pipeline: experiment configs → training runs → summary → tables, macros
# and figure data → gnuplot figures → the paper. Included by the top Makefile, or used alone
# with `make -f pipeline.mk ...` (tests/test_pipeline.sh does), given an existing build/rnnreg.
#
#   make reproduce-pipeline [SCALE=tiny|quick|short|study|paper] [-j N] [PIPE_NPROC=n] [RUNNER='srun --gres=gpu:1'] [RUN_SETS='backend=cuda']
#   make runs | baselines | summary | tables | figures | paper | check-artifacts | pipeline-status
#
# SCALE (default short: the paper's scale, whose runs are committed, as are the study scale's) selects experiments/scales/<SCALE>/:
# the sizes (<model>.conf), the seeds and the data (scale.mk). WHAT runs is experiments/experiments.mk.
# Files, for SCALE=short:
#   results/short/<model>/<exp>/<seed>/    one run: run.conf, the trainer's outputs, done.json (last)
#   results/short/<model>/optimizer.conf   the optimizer stage 1 chose for the model (stage 2 includes it)
#   results/short/baselines/               all-zero and copy-last-frame predictions: test metrics
#   results/short/summary/                 CSV/JSON + strip-<model>.png: all the paper needs (committed for
#                                          short, study and quick)
#   build/paper/short/                     generated TeX, figure data, figures, paper.pdf
# Make decides what to redo: a run depends on the config files it includes (tools/pipeline/conf_deps.sh),
# the chosen optimizer and the data — touching one experiment's .conf reruns only its runs. A run
# directory counts as complete only when its done.json exists (written last by tools/pipeline/run.sh);
# an interrupted run is resumed from its last checkpoint. Rebuilding rnnreg does NOT rerun anything
# (order-only); remove results/<scale>/ or change a config's text to force it.
# Make judges by times, run.sh by contents: a run whose inputs (config texts, RUN_SETS, the data's
# sha256) are those it finished with is CARRIED, not trained again, when Make calls it only because
# times moved. So a study made over several sittings is committed run by run (CARRY_SCALES below).
# `make paper`, `figures` and `tables` use whatever summary exists; only `runs`, `reproduce-pipeline`
# and explicit run targets train.

SHELL        := /bin/bash
# a recipe that fails removes the target it may have half-written (the recipes also write through temps)
.DELETE_ON_ERROR:
BUILD        ?= build
PYTHON       ?= /usr/bin/python3
RNNREG       ?= $(BUILD)/rnnreg
SCALE        ?= short
RESULTS_DIR  ?= results
PAPER_DIR    ?= build/paper
RUNNER       ?=
RUN_SETS     ?=
# a run another make (on the same tree) is training: wait for it, or stop (tools/pipeline/run.sh)
RUN_LOCK     ?= wait
LATEXMK      ?= latexmk
GNUPLOT      ?= gnuplot
# the date the paper's PDF and figures carry (SOURCE_DATE_EPOCH with FORCE_SOURCE_DATE=1): fixed, so that
# two builds from the same summary are byte-identical (tools/pipeline/latex.sh; make check-artifacts)
PAPER_EPOCH  ?= 0

ifeq ($(filter $(SCALE),tiny quick short study paper),)
$(error SCALE must be tiny, quick, short, study or paper, not '$(SCALE)')
endif
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := pipeline-help
endif

RESULTS     := $(RESULTS_DIR)/$(SCALE)
SUMMARY     := $(RESULTS)/summary
PAPER_BUILD := $(PAPER_DIR)/$(SCALE)
PIPE        := tools/pipeline
# the top makefile (Makefile, or pipeline.mk when used alone), for the sub-makes of the staged targets
PIPE_TOP    := $(firstword $(MAKEFILE_LIST))
# make's -j value, for the progress estimate (MAKEFLAGS holds it only while recipes run: keep `=`)
PIPE_JOBS    = $(or $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS))),1)

include experiments/experiments.mk
include experiments/scales/$(SCALE)/scale.mk

# How many runs `make reproduce-pipeline` trains at once when no -j is given: the cores (PIPE_NPROC,
# default nproc) divided by the threads one run uses — RUN_SETS' threads=, else the scale's
# common.conf `threads`, else 0 = all cores (then one run at a time) — so runs x threads = cores.
# The thread count stays the one the results were recorded with (quick: 1), so they stay bit-identical.
PIPE_NPROC   ?= $(shell nproc 2>/dev/null || echo 1)
RUN_THREADS  := $(lastword 0 $(shell sed -nE 's/^[[:space:]]*threads[[:space:]]*=[[:space:]]*([0-9]+)[[:space:]]*(\#.*)?$$/\1/p' \
                  experiments/scales/$(SCALE)/common.conf 2>/dev/null) $(patsubst threads=%,%,$(filter threads=%,$(RUN_SETS))))
AUTO_JOBS    := $(shell t='$(RUN_THREADS)' n='$(PIPE_NPROC)'; if [ "$$t" -gt 0 ] 2>/dev/null && [ "$$n" -gt "$$t" ] 2>/dev/null; \
                  then echo $$((n / t)); else echo 1; fi)
# -j$(AUTO_JOBS) for the sub-makes unless the user gave -j (any -j, -jN: then theirs); `=`: MAKEFLAGS
PIPE_J        = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(AUTO_JOBS))

# The scales too long for one sitting: their finished runs' small files are committed (`git add
# results/<scale>` adds exactly those: .gitignore has one block per scale listed here; the large files
# — checkpoints, predictions.npy, truth.npy — stay out, carry_files.py keeps what the summary needs of
# them). A fresh clone's `make reproduce SCALE=<scale>` keeps those runs (run.sh: carried), the
# baselines and the report-protocol results (baselines.sh, report_protocol.py: kept when made from the
# same run), and trains the rest. tests/test_pipeline.sh checks .gitignore against this list.
CARRY_SCALES := short study paper

# ---------------------------------------------------------------------------------------------
# Runs. A run id is <model>/<exp>/<seed>; its stamp $(RESULTS)/<id>/done.json.
# ---------------------------------------------------------------------------------------------
FIRST_SEED   := $(firstword $(SEEDS))
OPT_EXPS     := $(foreach m,$(MODELS),$(foreach o,$(OPTIMIZERS),$m/opt-$o))
SEEDED_EXPS  := $(MAIN_EXPERIMENTS) $(REGULARIZERS) $(CONTROL_EXPERIMENTS)
OPT_RUNS     := $(foreach e,$(OPT_EXPS),$(foreach s,$(OPT_SEEDS),$e/$s))
# the sweeps' points that are not seeded experiments already: SWEEP_SEEDS (default: the first seed)
SWEEP_SEEDS  ?= $(FIRST_SEED)
SWEEP_EXPS   := $(filter-out $(SEEDED_EXPS),$(foreach m,$(MODELS),$(foreach w,$(SWEEPS),$(addprefix $m/,$(SWEEP_POINTS.$w)))))
# for summarize.py: <sweep>:<key>:<point>,<point>,... per sweep
pipe_comma   := ,
pipe_space   := $(subst ,, )
SWEEP_SPEC   := $(foreach w,$(SWEEPS),$w:$(SWEEP_KEY.$w):$(subst $(pipe_space),$(pipe_comma),$(strip $(SWEEP_POINTS.$w))))
# The control regime (CONTROL_EXPERIMENTS) and the base runs it is paired with run with SEEDS and then the
# seeds of CONTROL_SEEDS that SEEDS lacks (default: none more), so a scale can give the control's paired
# comparison more seeds without training every regularizer again; a regularizer is paired with the base
# runs of its own seeds.
CONTROL_SEEDS  ?= $(SEEDS)
CONTROL_PAIRED := $(CONTROL_EXPERIMENTS) $(foreach e,$(CONTROL_EXPERIMENTS),$(firstword $(subst /, ,$e))/base)
PAIRED_SEEDS   := $(SEEDS) $(filter-out $(SEEDS),$(CONTROL_SEEDS))
seeds_of        = $(if $(filter $1,$(CONTROL_PAIRED)),$(PAIRED_SEEDS),$(SEEDS))
MAIN_RUNS    := $(foreach e,$(SEEDED_EXPS),$(foreach s,$(call seeds_of,$e),$e/$s)) \
                $(foreach e,$(SWEEP_EXPS),$(foreach s,$(SWEEP_SEEDS),$e/$s)) \
                $(foreach e,$(ONCE_EXPERIMENTS),$e/$(FIRST_SEED))
ALL_RUNS     := $(OPT_RUNS) $(MAIN_RUNS)
stamp         = $(RESULTS)/$1/done.json
ALL_STAMPS   := $(foreach r,$(ALL_RUNS),$(call stamp,$r))
BASELINE_STAMP := $(RESULTS)/baselines/done.json
PROTOCOL_FILES := $(foreach e,$(PROTOCOL_EXPERIMENTS),$(RESULTS)/protocol/$e/$(FIRST_SEED).json)

word_of       = $(word $2,$(subst /, ,$1))
# config closure of a file (itself + includes), memoised: one shell call per distinct file
conf_closure  = $(or $(CLOSURE_$1),$(eval CLOSURE_$1 := $(shell bash $(PIPE)/conf_deps.sh $1))$(CLOSURE_$1))

# exp_scale ID — an experiment's own size override at this scale, if there is one:
# experiments/scales/<scale>/<model>/<exp>.conf (e.g. the report's epochs for the centred-head run)
exp_scale     = $(wildcard experiments/scales/$(SCALE)/$(call word_of,$1,1)/$(call word_of,$1,2).conf)

# The rules that TRAIN exist only when a training goal is asked for (runs, reproduce-pipeline, baselines,
# a file under $(RESULTS)/): `make paper`, `tables`, `figures`, `summary`, `check-artifacts` then see the
# stamps as plain files and never retrain, even when a config is newer than its results.
TRAIN_GOALS := reproduce-pipeline runs run-stamps baselines
ifneq ($(filter $(TRAIN_GOALS) $(RESULTS)/%,$(MAKECMDGOALS)),)
# run_rule ID STAGE — the rule of one run (STAGE: opt = no chosen optimizer, main = with it); a run
# drawn in a strip (STRIP_EXPERIMENTS, the first seed) keeps its strip row small (run.sh --strip)
define run_rule
$(call stamp,$1): $(call conf_closure,experiments/$(call word_of,$1,1)/model.conf) \
                  $(call conf_closure,$(call exp_conf,$(call word_of,$1,1),$(call word_of,$1,2))) \
                  $(call conf_closure,experiments/scales/$(SCALE)/$(call word_of,$1,1).conf) \
                  $(call exp_scale,$1) \
                  $(if $(filter main,$2),$(RESULTS)/$(call word_of,$1,1)/optimizer.conf) $(DATA) | $(RNNREG)
	@RNNREG='$(RNNREG)' PYTHON='$(PYTHON)' RUNNER='$(RUNNER)' RUN_SETS='$(RUN_SETS)' SCALE='$(SCALE)' JOBS='$$(PIPE_JOBS)' RUN_LOCK='$(RUN_LOCK)' \
	  PROGRESS_DIR='$(if $(wildcard $(RESULTS)/.progress/todo),$(RESULTS)/.progress)' \
	  bash $(PIPE)/run.sh --id $1 --dir $(RESULTS)/$1 --seed $(call word_of,$1,3) --data $(DATA) \
	    --include experiments/$(call word_of,$1,1)/model.conf \
	    $(if $(filter main,$2),--include $(RESULTS)/$(call word_of,$1,1)/optimizer.conf) \
	    --include $(call exp_conf,$(call word_of,$1,1),$(call word_of,$1,2)) \
	    --include experiments/scales/$(SCALE)/$(call word_of,$1,1).conf \
	    $(addprefix --include ,$(call exp_scale,$1)) \
	    $(if $(and $(filter $(FIRST_SEED),$(call word_of,$1,3)),$(filter $(STRIP_EXPERIMENTS),$(call word_of,$1,1)/$(call word_of,$1,2))),--strip)
endef
$(foreach r,$(OPT_RUNS),$(eval $(call run_rule,$r,opt)))
$(foreach r,$(MAIN_RUNS),$(eval $(call run_rule,$r,main)))

# The chosen optimizer per model, rewritten only when the choice (or the chosen files) changes (else
# touched), so rerunning the study with the same outcome retrains nothing of stage 2: run.sh carries
# its runs, their inputs' contents unchanged.
define optimizer_rule
$(RESULTS)/$1/optimizer.conf: $(foreach o,$(OPTIMIZERS),$(foreach s,$(OPT_SEEDS),$(call stamp,$1/opt-$o/$s)))
	@$(PYTHON) $(PIPE)/choose_optimizer.py --results $(RESULTS) --model $1 --optimizers '$(OPTIMIZERS)' \
	    --seeds '$(OPT_SEEDS)' --out $$@
endef
$(foreach m,$(MODELS),$(eval $(call optimizer_rule,$m)))

# Baselines on the test split: its true frames come from `rnnreg predict --truth` with any finished
# stage-1 checkpoint (all runs of a scale share the split; experiments/common.conf).
# The report's protocol (teacher-forced evaluation) of the PROTOCOL_EXPERIMENTS' first-seed runs
$(RESULTS)/protocol/%.json: $(RESULTS)/%/done.json $(BASELINE_STAMP)
	@mkdir -p $(@D)
	@$(PYTHON) $(PIPE)/report_protocol.py --run $(RESULTS)/$* --truth $(RESULTS)/baselines/truth.npy \
	    --rnnreg $(RNNREG) --out $@

$(BASELINE_STAMP): $(foreach r,$(filter $(firstword $(MODELS))/%,$(OPT_RUNS)),$(call stamp,$r)) | $(RNNREG)
	@RNNREG='$(RNNREG)' PYTHON='$(PYTHON)' bash $(PIPE)/baselines.sh $(RESULTS)/baselines \
	    $(foreach r,$(filter $(firstword $(MODELS))/%,$(OPT_RUNS)),$(RESULTS)/$r)
endif

# ---------------------------------------------------------------------------------------------
# Summary: every finished run → small CSV/JSON in $(SUMMARY). Depends on the stamps that EXIST, so
# that a committed summary (quick) is used as it is when no runs are present.
# ---------------------------------------------------------------------------------------------
SUMMARY_FILES := $(SUMMARY)/runs.csv $(SUMMARY)/frames.csv $(SUMMARY)/curves.csv $(SUMMARY)/experiments.json \
                 $(SUMMARY)/setup.json $(SUMMARY)/protocol.csv $(SUMMARY)/strip.json
SUMMARY_INPUTS := $(wildcard $(ALL_STAMPS) $(BASELINE_STAMP) $(PROTOCOL_FILES) $(foreach m,$(MODELS),$(RESULTS)/$m/optimizer.json))

# Make judges by times, and in a fresh clone every file is as new as every other: the summary of a scale
# with carried runs (short, study) would be made again from them — which needs the trainer (it draws the strips)
# — only because the scripts were checked out after it. So the summary keeps the sha256 of what it was
# made from (SUMMARY_FINGERPRINT: the command, the stamps, baselines, protocol results and optimizer
# choices it reads, and the scripts that make it) in inputs.sha256, and when Make calls its rule with
# inputs of the same content it is kept (touched), as run.sh keeps a carried run. A scale without runs
# (quick, committed alone) has no inputs and its summary no rule to run.
SUMMARIZE := $(PYTHON) $(PIPE)/summarize.py --results $(RESULTS) --scale $(SCALE) --rnnreg $(RNNREG) \
	    --data-json $(DATA_JSON) --runs '$(ALL_RUNS)' --opt-exps '$(OPT_EXPS)' \
	    --seeded-exps '$(SEEDED_EXPS)' --once-exps '$(ONCE_EXPERIMENTS)' \
	    --sweep-exps '$(SWEEP_EXPS)' --sweep-seeds '$(SWEEP_SEEDS)' --sweeps '$(SWEEP_SPEC)' --strip '$(STRIP_EXPERIMENTS)' \
	    --seeds '$(SEEDS)' --opt-seeds '$(OPT_SEEDS)' --protocol '$(PROTOCOL_EXPERIMENTS)' \
	    --control-exps '$(strip $(CONTROL_PAIRED))' --control-seeds '$(strip $(PAIRED_SEEDS))' --out $(SUMMARY)
SUMMARY_SCRIPTS := $(PIPE)/summarize.py $(PIPE)/pipelib.py $(PIPE)/carry_files.py
# the command's arguments, read off SUMMARIZE itself (its quotes dropped: names and paths, no quote in
# them), without the interpreter's and the trainer's paths, which a reviewer's make may name differently
SUMMARY_ARGS    := $(subst ',,$(filter-out $(PYTHON) --rnnreg $(RNNREG),$(SUMMARIZE)))
SUMMARY_FINGERPRINT := { printf '%s\n' '$(strip $(SUMMARY_ARGS))'; sha256sum -- $(SUMMARY_INPUTS) $(SUMMARY_SCRIPTS); } | \
                       sha256sum | cut -c1-64

$(SUMMARY)/runs.csv: $(SUMMARY_INPUTS) $(if $(SUMMARY_INPUTS),$(SUMMARY_SCRIPTS))
	@fp=$$($(SUMMARY_FINGERPRINT)) && [ $${#fp} -eq 64 ] || { echo "pipeline.mk: cannot fingerprint the inputs of $(SUMMARY)" >&2; exit 1; }; \
	  if [ -n '$(SUMMARY_INPUTS)' ] && [ "$$(cat '$(SUMMARY)/inputs.sha256' 2>/dev/null)" = "$$fp" ] && \
	     $(foreach f,$(SUMMARY_FILES),[ -s '$f' ] &&) true; then \
	    touch $(SUMMARY_FILES) && echo "[pipeline] summary: $(SUMMARY) was made from inputs of the same content (sha256 $${fp:0:12}); kept"; \
	  else \
	    $(SUMMARIZE) && printf '%s\n' "$$fp" > '$(SUMMARY)/.inputs.sha256.tmp' && \
	      mv -f '$(SUMMARY)/.inputs.sha256.tmp' '$(SUMMARY)/inputs.sha256'; \
	  fi
$(filter-out $(SUMMARY)/runs.csv,$(SUMMARY_FILES)): $(SUMMARY)/runs.csv

# ---------------------------------------------------------------------------------------------
# Tables, macros, figure data → figures → paper (all under $(PAPER_BUILD))
# ---------------------------------------------------------------------------------------------
# tables.py makes each output with its own rule (tables.py --summary S --out P OUTPUT; its OUTPUTS):
# the values and sentences of the text, the tables, the strips' floats (strips.tex, which writes the
# strips' pictures beside it) and the figures' data. Every output reads the whole summary (paperdata.py).
PAPER_TABLES := values.tex tab-setup.tex tab-optim.tex tab-main.tex tab-paired.tex tab-methods.tex tab-report.tex \
                tab-protocol.tex tab-replication.tex strips.tex
FIGURE_DATA  := figdata.gp frames.dat final.dat gap.dat curves.dat optim.dat sweep.dat regime.dat
TABLE_FILES  := $(addprefix $(PAPER_BUILD)/,$(PAPER_TABLES) $(FIGURE_DATA))
TABLES_PY    := $(PIPE)/tables.py $(PIPE)/paperdata.py $(PIPE)/sentences.py $(PIPE)/pipelib.py
FIGURES      := $(patsubst figures/%.gp,%,$(filter-out figures/style.gp,$(wildcard figures/*.gp)))
FIGURE_TEX   := $(patsubst %,$(PAPER_BUILD)/fig-%.tex,$(FIGURES))
PAPER_PDF    := $(PAPER_BUILD)/paper.pdf

# the stored regenerations of this scale on other machines (paperdata.REPLICATIONS: values.tex and
# tab-replication.tex compare their claims with this summary's)
REPLICATION_FILES := $(wildcard experiments/scales/$(SCALE)/replications/*/summary/*.csv \
                                experiments/scales/$(SCALE)/replications/*/summary/*.json \
                                experiments/scales/$(SCALE)/replications/*/models)
# the committed summary of the scale that runs this recipe at another horizon (scale.mk's TWIN: short and
# study name each other): the paper says what the other horizon shows (sentences.horizon)
TWIN_SUMMARY := $(if $(TWIN),$(RESULTS_DIR)/$(TWIN)/summary)
TWIN_FILES   := $(if $(TWIN),$(wildcard $(TWIN_SUMMARY)/*.csv $(TWIN_SUMMARY)/*.json))
$(TABLE_FILES): $(PAPER_BUILD)/%: $(SUMMARY_FILES) $(TABLES_PY) $(PIPE)/claims.py $(REPLICATION_FILES) $(TWIN_FILES) \
                experiments/report/original.csv experiments/experiments.mk
	@$(PYTHON) $(PIPE)/tables.py --summary $(SUMMARY) --out $(PAPER_BUILD) $(if $(TWIN),--twin $(TWIN_SUMMARY)) $* >/dev/null

# a figure needs figdata.gp and the data files its script names (figures/<fig>.gp: 'X.dat')
$(foreach f,$(FIGURES),$(eval $(PAPER_BUILD)/fig-$f.tex: $(addprefix $(PAPER_BUILD)/,figdata.gp \
  $(sort $(shell grep -oE '[a-z_]+\.dat' figures/$f.gp)))))

# cairolatex: fig-X.tex (the text, set by LaTeX) + fig-X.pdf (the drawing). gnuplot runs in a fresh temp
# folder inside $(PAPER_BUILD) (the figure data found through its loadpath), so the .tex names its
# drawing without a path and nothing half-written ever has a final name: the drawing, then the .tex
# (Make's target) are renamed into place only once gnuplot succeeded; the folder goes in any case (its
# path absolute: the trap runs after the cd into it).
# cairo dates the drawing by SOURCE_DATE_EPOCH (fixed: PAPER_EPOCH).
$(PAPER_BUILD)/fig-%.tex: figures/%.gp figures/style.gp
	@t=$$(mktemp -d '$(abspath $(PAPER_BUILD))/.fig-$*.XXXXXX') && trap 'rm -rf "$$t"' EXIT && cd "$$t" && \
	  SOURCE_DATE_EPOCH='$(PAPER_EPOCH)' $(GNUPLOT) -e "set loadpath '$(abspath $(PAPER_BUILD))'; style='$(abspath figures/style.gp)'; out='fig-$*'" \
	    $(abspath $<) && mv -f fig-$*.pdf ../fig-$*.pdf && mv -f fig-$*.tex ../fig-$*.tex

# latexmk works in $(PAPER_BUILD)/latex/ (its aux files, locked against a second make; pdflatex writes the PDF as it goes); the PDF
# and its log are copied out through temp names and renamed, the PDF last. tools/pipeline/latex.sh makes
# the PDF reproducible (no dates, no random ID, no paths: the same bytes from the same summary anywhere).
$(PAPER_PDF): paper/paper.tex paper/references.tex $(addprefix $(PAPER_BUILD)/,$(PAPER_TABLES)) $(FIGURE_TEX) \
              $(PIPE)/latex.sh $(PIPE)/reproducible.tex
	@mkdir -p '$(PAPER_BUILD)/latex'
	@LATEXMK='$(LATEXMK)' PAPER_EPOCH='$(PAPER_EPOCH)' flock '$(abspath $(PAPER_BUILD))/latex/.lock' \
	  bash $(PIPE)/latex.sh paper paper.tex '$(abspath $(PAPER_BUILD))/latex' '$(abspath $(PAPER_BUILD))'
	@for f in paper.log paper.pdf; do cp '$(PAPER_BUILD)/latex/'$$f '$(PAPER_BUILD)/.'$$f.tmp && \
	  mv -f '$(PAPER_BUILD)/.'$$f.tmp '$(PAPER_BUILD)/'$$f || exit 1; done
	@echo "paper: $@ ($(SCALE) scale)"

# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------
.PHONY: reproduce-pipeline runs run-stamps baselines summary tables figures paper check-artifacts \
        pipeline-status pipeline-help clean-paper

reproduce-pipeline: ## experiments → results → tables/figures → paper, at SCALE (default short); cores/threads runs at once (-j N: N)
	@$(MAKE) --no-print-directory $(PIPE_J) -f $(PIPE_TOP) runs
	@$(PYTHON) $(PIPE)/checks.py files --prune $(PAPER_BUILD) $(SUMMARY)
	@$(MAKE) --no-print-directory $(PIPE_J) -f $(PIPE_TOP) paper

runs: $(DATA) | $(RNNREG) ## train every run of SCALE that is missing or out of date (progress: run k of n)
	@todo=$$($(MAKE) --no-print-directory -n -f $(PIPE_TOP) run-stamps 2>/dev/null | sed -nE 's/.*run\.sh --id ([^ ]+) .*/\1/p'); \
	  SCALE='$(SCALE)' JOBS='$(PIPE_JOBS)' PROGRESS_DIR='$(RESULTS)/.progress' PLAN_TODO="$$todo" \
	  bash $(PIPE)/progress.sh plan $(RESULTS) $(ALL_RUNS)
	@$(MAKE) --no-print-directory -f $(PIPE_TOP) run-stamps; rc=$$?; \
	  SCALE='$(SCALE)' PROGRESS_DIR='$(RESULTS)/.progress' bash $(PIPE)/progress.sh finish; exit $$rc

run-stamps: $(ALL_STAMPS) $(foreach m,$(MODELS),$(RESULTS)/$m/optimizer.conf) $(BASELINE_STAMP) $(PROTOCOL_FILES)

baselines: $(BASELINE_STAMP) ## all-zero and copy-last-frame test metrics of SCALE

summary: $(SUMMARY)/runs.csv ## finished runs of SCALE → results/SCALE/summary (small CSV/JSON; no training)

tables: $(TABLE_FILES) ## summary → macros, tables, figure data in build/paper/SCALE (no training)

figures: $(FIGURE_TEX) ## gnuplot figures (cairolatex) from the summary (no training)

paper: $(PAPER_PDF) ## the paper build/paper/SCALE/paper.pdf from the summary (no training)

check-artifacts: paper ## lint configs and TeX, PDF numbers, determinism; means and claims vs committed; PDF rebuilt identical
	@RNNREG='$(RNNREG)' PYTHON='$(PYTHON)' SCALE='$(SCALE)' RESULTS='$(RESULTS)' PAPER_BUILD='$(PAPER_BUILD)' TWIN_SUMMARY='$(TWIN_SUMMARY)' \
	  OPT_SEEDS='$(OPT_SEEDS)' SEEDED_EXPS='$(SEEDED_EXPS)' ALL_RUNS='$(ALL_RUNS)' MODELS='$(MODELS)' \
	  LATEXMK='$(LATEXMK)' GNUPLOT='$(GNUPLOT)' PAPER_EPOCH='$(PAPER_EPOCH)' PIPE_TOP='$(PIPE_TOP)' \
	  bash $(PIPE)/check_artifacts.sh

pipeline-status: ## which runs of SCALE are complete, diverged, unfinished (running or interrupted) or missing
	@n=0; d=0; for r in $(ALL_RUNS); do n=$$((n+1)); f=$(RESULTS)/$$r/done.json; \
	  if [ -f $$f ]; then d=$$((d+1)); grep -q '"diverged"' $$f && echo "diverged    $$r"; \
	  elif [ -d $(RESULTS)/$$r ]; then echo "unfinished  $$r"; else echo "missing     $$r"; fi; done; \
	  echo "$(SCALE): $$d of $$n runs complete"

clean-paper: ## remove build/paper/SCALE (the generated TeX, figures, PDF)
	rm -rf $(PAPER_BUILD)

pipeline-help:
	@grep -hE '^[a-zA-Z_-]+:.*## ' pipeline.mk | sed -E 's/^([a-zA-Z_-]+):.*## (.*)/\1|\2/' | awk -F'|' '{printf "  %-20s %s\n", $$1, $$2}'

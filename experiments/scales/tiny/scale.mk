# scales/tiny/scale.mk — the tiny scale: a smoke test of the whole pipeline in about a minute on one
# core (tests/test_pipeline.sh), on 40 sequences generated from the 20 committed test digits. The
# numbers mean nothing; the machinery is what is tested.
SEEDS     ?= 1 2
OPT_SEEDS ?= 1
DATA      := $(RESULTS)/data/mmnist40.npy
DATA_JSON := $(RESULTS)/data/mmnist40.json

$(DATA): tests/fixtures/digits_npm20.npy | $(RNNREG)
	@mkdir -p $(@D)
	@$(RNNREG) mmnist --digits $< --count 40 --length 20 --seed 1 --out $@ >/dev/null
	@printf '{"file": "%s", "source": "generated", "why": "the tiny scale uses its own data", "generator": {"generator": "rnnreg mmnist", "count": 40, "length": 20, "seed": 1, "num_digits": 2, "size": 64, "digits": {"path": "%s", "count": 20}}, "sha256": "%s"}\n' \
	    "$(notdir $@)" "$<" "$$(sha256sum $@ | cut -c1-64)" > $(DATA_JSON).tmp && mv $(DATA_JSON).tmp $(DATA_JSON)

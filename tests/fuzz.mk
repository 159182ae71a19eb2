# tests/fuzz.mk — `make fuzz`: mutation fuzzing of the readers of untrusted bytes (.npy, safetensors,
# run configs, JSON) by tests/test_fuzz.c, built with SANITIZE=1 (AddressSanitizer + UBSan, so an
# out-of-bounds read or undefined behaviour is a crash). FUZZ_N inputs per format (default 10000),
# FUZZ_SEED picks another deterministic sequence. `make test` runs the same program unsanitized
# with 300 inputs per format. A crashing input is saved under $(FUZZ_BUILD)/tests/fuzz/ and rerun
# alone with FUZZ_ONLY=k (see tests/test_fuzz.c).
FUZZ_N    ?= 10000
FUZZ_SEED ?= 1
FUZZ_BUILD := build/$(subst $(eval) ,-,$(strip san $(if $(filter builtin,$(BLAS)),builtin)))

.PHONY: fuzz
fuzz: ## fuzz the npy, safetensors, config and JSON readers under SANITIZE=1 (FUZZ_N=10000 per format, FUZZ_SEED=1)
	@$(MAKE) --no-print-directory SANITIZE=1 $(FUZZ_BUILD)/tests/test_fuzz
	@echo "fuzzing $(FUZZ_N) mutated inputs per format (seed $(FUZZ_SEED)) with $(FUZZ_BUILD)/tests/test_fuzz"
	@log=$(FUZZ_BUILD)/tests/fuzz.log; start=$$(date +%s); \
	BUILD=$(FUZZ_BUILD) nice -n 10 $(FUZZ_BUILD)/tests/test_fuzz $(FUZZ_N) $(FUZZ_SEED) > $$log 2>&1; rc=$$?; \
	grep -E '^(FAIL|fuzz |    )' $$log; \
	p=$$(grep -c '^ok ' $$log); f=$$(grep -c '^FAIL ' $$log); \
	if [ $$rc -ne 0 ] && [ $$f -eq 0 ]; then f=1; echo "FAIL test_fuzz: exited with status $$rc (see $$log)"; fi; \
	echo "(every check line is in $$log; $$(( $$(date +%s) - start )) s)"; \
	echo "$$p passed, $$f failed"; [ $$f -eq 0 ]

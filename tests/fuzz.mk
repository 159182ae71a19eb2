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

# The format tests include tests/test_files.h (the Makefile's test rule names only tests/test.h).
$(BUILD)/tests/test_fuzz $(BUILD)/tests/test_npy $(BUILD)/tests/test_safetensors $(BUILD)/tests/test_config: tests/test_files.h

# `make fuzz-cov`: coverage-guided fuzzing with clang's libFuzzer (ASan + UBSan) of the same four
# readers (tests/fuzz_cov.c), FUZZ_COV_RUNS inputs per format (default 100000) or FUZZ_COV_TIME
# seconds, whichever ends first; seeds: the format fixtures, the experiment configs and
# tests/fuzz_seeds/json. Crashing inputs land in build/fuzzcov/<format>/crash-*.
FUZZ_COV_RUNS ?= 100000
FUZZ_COV_TIME ?= 120
FUZZ_COV_SRCS := src/common.c src/npy.c src/safetensors.c src/json.c src/config.c
FUZZ_COV_FLAGS := -std=c11 -O1 -g -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

build/fuzzcov/fuzz_cov: tests/fuzz_cov.c $(FUZZ_COV_SRCS) $(wildcard src/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_COV_FLAGS) $(LIB_CFLAGS) -o $@ tests/fuzz_cov.c $(FUZZ_COV_SRCS) -lm $(LIB_LIBS)

.PHONY: fuzz-cov
fuzz-cov: ## coverage-guided fuzzing with clang's libFuzzer (FUZZ_COV_RUNS=100000 per format, at most FUZZ_COV_TIME=120 s each)
	@command -v clang >/dev/null && echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}' \
	    | clang -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null \
	    || { echo "fuzz-cov: needs clang with libFuzzer (Debian: apt-get install clang)"; exit 1; }
	@$(MAKE) --no-print-directory build/fuzzcov/fuzz_cov
	@p=0; f=0; W=build/fuzzcov; \
	for fmt in npy safetensors config json; do \
	    rm -rf $$W/$$fmt/seeds; mkdir -p $$W/$$fmt/seeds $$W/$$fmt/corpus $$W/$$fmt/dir; \
	    case $$fmt in \
	    npy) cp tests/fixtures/format_*.npy $$W/$$fmt/seeds/ ;; \
	    safetensors) cp tests/fixtures/format_st_ref.safetensors tests/fixtures/reg_cl_recseq.safetensors $$W/$$fmt/seeds/ ;; \
	    config) cp experiments/configs/*.conf $$W/$$fmt/seeds/; cp experiments/configs/*.conf $$W/$$fmt/dir/ ;; \
	    json) cp tests/fuzz_seeds/json/*.json $$W/$$fmt/seeds/ ;; \
	    esac; \
	    ( cd $$W/$$fmt && FUZZ_FORMAT=$$fmt FUZZ_DIR=dir nice -n 10 ../fuzz_cov -runs=$(FUZZ_COV_RUNS) \
	        -max_total_time=$(FUZZ_COV_TIME) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	        corpus seeds ) > $$W/$$fmt.log 2>&1; rc=$$?; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$W/$$fmt.log); \
	    cov=$$(grep -oE 'cov: [0-9]+' $$W/$$fmt.log | tail -1); \
	    if [ $$rc -eq 0 ]; then p=$$((p + 1)); echo "ok fuzz-cov $$fmt: $$runs inputs, $$cov edges, no crash, hang or property failure"; \
	    else f=$$((f + 1)); echo "FAIL fuzz-cov $$fmt: exit $$rc after $$runs inputs (see $$W/$$fmt.log and $$W/$$fmt/crash-*)"; \
	        grep -m3 -E 'ERROR|SUMMARY|Test unit written' $$W/$$fmt.log; fi; \
	done; echo "$$p passed, $$f failed"; [ $$f -eq 0 ]

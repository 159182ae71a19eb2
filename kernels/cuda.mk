# cuda.mk — the CUDA backend's tests (included at the end of the Makefile).
#   make test-gpu   builds tests/gpu/test_gpu_ops (every op on random inputs, forward and backward,
#                   CUDA against the CPU backend) and runs it; without a GPU every check says skip.
# The same program is part of `make test` through tests/test_gpu.sh (it prints skip lines when there
# is no device, or one skip line when CUDA is not compiled in).

GPU_TEST := $(BUILD)/tests/gpu/test_gpu_ops

$(GPU_TEST): tests/gpu/test_gpu_ops.c $(OBJS) $(STAMP) tests/test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(OBJS) $(LDLIBS)

test-build: $(GPU_TEST)

.PHONY: test-gpu
test-gpu: $(GPU_TEST) ## CUDA ops vs the CPU ops (needs CUDA=1; skips without a GPU)
ifneq ($(CUDA),1)
	@echo "test-gpu: this build has no CUDA backend (CUDA=$(CUDA)); build with CUDA=1 (needs nvcc)"; exit 1
endif
	@out=$$($(GPU_TEST) 2>&1); rc=$$?; printf '%s\n' "$$out" | tee $(BUILD)/tests/gpu/last-run.log | grep -vE '^ok ' ; \
	 p=$$(grep -c '^ok ' <<<"$$out"); f=$$(grep -c '^FAIL ' <<<"$$out"); s=$$(grep -c '^skip ' <<<"$$out"); \
	 if [ $$rc -ne 0 ] && [ $$f -eq 0 ]; then f=1; echo "FAIL test_gpu_ops: exited with status $$rc (crash?)"; fi; \
	 echo "test-gpu: $$p passed, $$f failed, $$s skipped (every line in $(BUILD)/tests/gpu/last-run.log)"; \
	 [ $$f -eq 0 ]

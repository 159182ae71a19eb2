# cuda.mk — the CUDA backend's tests (included at the end of the Makefile).
#   make test-gpu      builds tests/gpu/test_gpu_ops (every op on random inputs, forward and backward,
#                      CUDA against the CPU backend) and tests/gpu/test_gpu_model (both models with
#                      every regularizer, 3 training steps CUDA vs CPU, a short run whose loss falls,
#                      GPU determinism) and runs them; without a GPU every check says skip.
#   make test-gpu-emu  the same two programs on the CPU emulation of the CUDA backend (below).
# Both programs are part of `make test` through tests/test_gpu.sh (skip lines when there is no device,
# or when CUDA is not compiled in).

GPU_TESTS := $(BUILD)/tests/gpu/test_gpu_ops $(BUILD)/tests/gpu/test_gpu_model
GPU_TEST  := $(BUILD)/tests/gpu/test_gpu_ops

$(BUILD)/tests/gpu/%: tests/gpu/%.c $(OBJS) $(STAMP) tests/test.h tests/gpu/gpu_device.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(OBJS) $(LDLIBS)

test-build: $(GPU_TESTS)

.PHONY: test-gpu
test-gpu: $(GPU_TESTS) ## CUDA ops and models vs the CPU backend (needs CUDA=1; skips without a GPU)
ifneq ($(CUDA),1)
	@echo "test-gpu: this build has no CUDA backend (CUDA=$(CUDA)); build with CUDA=1 (needs nvcc)"; exit 1
endif
	@f=0; for t in $(GPU_TESTS); do out=$$($$t 2>&1); rc=$$?; printf '%s\n' "$$out" > $$t.log; \
	 printf '%s\n' "$$out" | grep -vE '^ok '; p=$$(grep -c '^ok ' <<<"$$out"); n=$$(grep -c '^FAIL ' <<<"$$out"); \
	 s=$$(grep -c '^skip ' <<<"$$out"); \
	 if [ $$rc -ne 0 ] && [ $$n -eq 0 ]; then n=1; echo "FAIL $$(basename $$t): exited with status $$rc (crash?)"; fi; \
	 echo "test-gpu $$(basename $$t): $$p passed, $$n failed, $$s skipped (every line in $$t.log)"; f=$$((f + n)); \
	 done; [ $$f -eq 0 ]

# ---------------------------------------------------------------------------------------------
# CPU emulation of the CUDA backend (tests/gpu/emu/README.md): kernels/*.cu compiled as host C++
# against the emulator's cuda_runtime.h / cublas_v2.h (a `kernel<<<grid, block>>>(args)` launch is
# rewritten to `rr_emu_launch(kernel, grid, block)(args)` on the way), every src/*.c with
# -DRR_USE_CUDA. Needs no nvcc and no GPU: `make test-gpu-emu` runs the GPU tests here, with device
# memory that faults on any host access.
EMU        := $(BUILD)/emu
CXX        ?= g++
# The emulation stands for the GPU machine, which has no oneDNN (tests/gpu/run.sh builds CONV=im2col): the
# CPU side of its comparisons (the reference and the builtin-sgemm alternative that sizes the spread)
# runs im2col here too, whatever CONV the main build uses.
EMU_CFLAGS := $(filter-out -DRR_USE_CUDA -DRR_USE_ONEDNN,$(CFLAGS)) -DRR_USE_CUDA
EMU_CXXFLAGS := -std=c++17 -O2 -g -Wall -Wextra -fopenmp -D_GNU_SOURCE -DRR_USE_CUDA -Isrc -Ikernels \
                -Itests/gpu/emu/include -include tests/gpu/emu/emu.h
EMU_LDLIBS := $(filter-out -L$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++ -ldnnl,$(LDLIBS)) -lstdc++
EMU_HDRS   := tests/gpu/emu/emu.h tests/gpu/emu/include/cuda_runtime.h tests/gpu/emu/include/cublas_v2.h
EMU_OBJS   := $(patsubst src/%.c,$(EMU)/obj/%.o,$(LIB_SRCS)) \
              $(patsubst kernels/%.cu,$(EMU)/obj/cu_%.o,$(sort $(wildcard kernels/*.cu))) $(EMU)/obj/emu_runtime.o
EMU_STAMP  := $(EMU)/.flags
EMU_TESTS  := $(EMU)/tests/gpu/emu_selftest $(EMU)/tests/gpu/test_gpu_ops $(EMU)/tests/gpu/test_gpu_model
$(shell mkdir -p $(EMU)/obj $(EMU)/cu $(EMU)/tests/gpu; echo '$(CC) $(EMU_CFLAGS) $(CXX) $(EMU_CXXFLAGS) $(EMU_LDLIBS)' | cmp -s - $(EMU_STAMP) || echo '$(CC) $(EMU_CFLAGS) $(CXX) $(EMU_CXXFLAGS) $(EMU_LDLIBS)' > $(EMU_STAMP))

$(EMU)/obj/%.o: src/%.c $(EMU_STAMP)
	$(CC) $(EMU_CFLAGS) -MMD -MP -c -o $@ $<

$(EMU)/obj/cu_%.o: kernels/%.cu $(EMU_STAMP) $(EMU_HDRS)
	@{ echo '#line 1 "$<"'; sed -E 's/([A-Za-z_][A-Za-z_0-9]*)<<<(.*)>>>\(/rr_emu_launch(\1, \2)(/' $<; } > $(EMU)/cu/$*.cpp
	$(CXX) $(EMU_CXXFLAGS) -MMD -MP -MT $@ -MF $(EMU)/obj/cu_$*.d -c -o $@ $(EMU)/cu/$*.cpp

$(EMU)/obj/emu_runtime.o: tests/gpu/emu/emu_runtime.cpp $(EMU_STAMP) $(EMU_HDRS)
	$(CXX) $(filter-out -include tests/gpu/emu/emu.h,$(EMU_CXXFLAGS)) -c -o $@ $<

$(EMU)/tests/gpu/%: tests/gpu/%.c $(EMU_OBJS) $(EMU_STAMP) tests/test.h tests/gpu/gpu_device.h
	$(CC) $(EMU_CFLAGS) -Itests -o $@ $< $(EMU_OBJS) $(EMU_LDLIBS)

$(EMU)/tests/gpu/emu_selftest: tests/gpu/emu/emu_selftest.c $(EMU_OBJS) $(EMU_STAMP) tests/test.h
	$(CC) $(EMU_CFLAGS) -Itests -o $@ $< $(EMU_OBJS) $(EMU_LDLIBS)

$(EMU)/rnnreg: $(EMU)/obj/main.o $(EMU_OBJS)
	$(CC) -o $@ $^ $(EMU_LDLIBS)

-include $(wildcard $(EMU)/obj/*.d)

.PHONY: test-gpu-emu
test-gpu-emu: $(EMU_TESTS) $(EMU)/rnnreg ## the GPU tests on the CPU emulation of the CUDA backend (no GPU, no nvcc needed)
	@f=0; for t in $(EMU_TESTS); do out=$$($$t 2>&1); rc=$$?; printf '%s\n' "$$out" > $$t.log; \
	 printf '%s\n' "$$out" | grep -vE '^ok '; p=$$(grep -c '^ok ' <<<"$$out"); n=$$(grep -c '^FAIL ' <<<"$$out"); \
	 if [ $$rc -ne 0 ] && [ $$n -eq 0 ]; then n=1; echo "FAIL $$(basename $$t): exited with status $$rc"; fi; \
	 echo "test-gpu-emu $$(basename $$t): $$p passed, $$n failed (every line in $$t.log)"; f=$$((f + n)); done; [ $$f -eq 0 ]

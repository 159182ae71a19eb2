#!/usr/bin/env bash
# test_blas_core.sh — rnnreg never runs OpenBLAS's generic kernels by accident: when OpenBLAS picks a
# core without AVX2 kernels on a CPU with AVX2 (src/blas.h rr_blas_core_advice), rnnreg re-runs itself
# with OPENBLAS_CORETYPE set, says so (stderr, `rnnreg info`), and the library really runs that core;
# a core the user set is left alone. Then the numeric tests that go through OpenBLAS (sgemm against a
# double loop, every op against PyTorch fixtures, both models' fixtures) run again on each core type
# the re-exec can choose on this CPU, so a kernel set that miscomputes here would fail them.
T=test_blas_core
. "$(dirname "$0")/lib.sh"
if ! "$RNNREG" info | grep -q '^blas: openblas'; then skip "built without OpenBLAS (BLAS=builtin)"; exit 0; fi
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
if ! has avx2 || ! has fma; then skip "this CPU has no AVX2/FMA: no core to choose"; exit 0; fi
if has avx512f && has avx512bw && has avx512dq && has avx512vl; then best=SkylakeX; else best=Haswell; fi

# OpenBLAS knows this CPU, so a fallback is staged: RNNREG_TEST_BLAS_CORE stands in for its pick.
info=$(env -u OPENBLAS_CORETYPE RNNREG_TEST_BLAS_CORE=Prescott "$RNNREG" info)
core=$(sed -n 's/^blas core: \([A-Za-z]*\).*/\1/p' <<<"$info")
check "a staged Prescott fallback re-runs on $best (rnnreg info: '$core', OpenBLAS's own corename)" [ "$core" = "$best" ]
check "rnnreg info says the core was set by rnnreg" grep -q "OpenBLAS picked Prescott; OPENBLAS_CORETYPE=$best set by rnnreg" <<<"$info"
err=$(env -u OPENBLAS_CORETYPE RNNREG_TEST_BLAS_CORE=Prescott "$RNNREG" metrics 2>&1 >/dev/null)
check "a command's error stays one line (no start-up note on stderr)" [ "$(wc -l <<<"$err")" = 1 ]
trainer_scratch blas_core
printf 'model = convlstm\nlayers = 2\nkernels = 3\nhead_kernel = 1\npatch = 4\nn_train = 4\nn_val = 2\nn_test = 0\nbatch = 2\nepochs = 1\nseq_len = 4\ninput_frames = 2\nthreads = 1\ndata = %s\n' "$DATA" > "$W/t.conf"
log=$(env -u OPENBLAS_CORETYPE RNNREG_TEST_BLAS_CORE=Prescott "$RNNREG" train --config "$W/t.conf" --out "$W/run" 2>&1 >/dev/null)
check "a run's log (train.log) says so in one line" \
    [ "$(grep -c "OpenBLAS picked its generic Prescott kernels.*running on $best" <<<"$log")" = 1 ]
info=$(OPENBLAS_CORETYPE=Haswell RNNREG_TEST_BLAS_CORE=Prescott "$RNNREG" info)
check "a core the user set is kept (OPENBLAS_CORETYPE=Haswell)" grep -qx 'blas core: Haswell' <<<"$info"
own=$(env -u OPENBLAS_CORETYPE "$RNNREG" info | sed -n 's/^blas core: //p')
# Without staging: OpenBLAS's own pick is kept, unless it is itself a generic fallback on this CPU (Debian's
# 0.3.21 on a Sapphire Rapids Xeon picks Prescott), which is then replaced by $best.
check "without staging, OpenBLAS's own pick here ($own) is kept, or replaced only as a fallback" \
    bash -c "[[ '$own' != *'set by rnnreg'* || '$own' == '$best (OpenBLAS picked '*'; OPENBLAS_CORETYPE=$best set by rnnreg)' ]]"
# The numeric tests on every core the re-exec may choose here.
cores=(Haswell); [ "$best" = SkylakeX ] && cores+=(SkylakeX)
for c in "${cores[@]}"; do
    for t in test_blas test_ops test_convlstm test_predrnn_pp test_regularize; do
        exe=$BUILD/tests/$t
        if [ ! -x "$exe" ]; then fail "$exe is not built (make test-build)"; continue; fi
        out=$(OPENBLAS_CORETYPE=$c "$exe" 2>&1); rc=$?
        n=$(grep -c '^ok ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out")
        if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] && [ "$n" -gt 0 ]; then ok "$t on OpenBLAS core $c: $n checks pass"
        else fail "$t on OpenBLAS core $c: $f failed, exit $rc"; grep '^FAIL ' <<<"$out" | head -3; fi
    done
done
[ "$fails" -eq 0 ]

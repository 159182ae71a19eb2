/* vector_math.h — expf, tanhf and the logistic sigmoid over arrays: eight floats at a time on a CPU
 * with AVX2 and FMA, and bit for bit the same floats as the scalar rr_expf, rr_tanhf and act_sigmoid
 * they replace (portable_math.h, ops_internal.h), so no result of the trainer changes.
 *
 * Why the same bits are possible: the default build's rr_expf and rr_tanhf are glibc's, and glibc
 * computes them with fixed sequences of IEEE operations — expf (glibc 2.27+, from ARM's
 * optimized-routines; on a CPU with FMA its ifunc picks the build with fused multiply-adds) in double
 * with a 32-entry table, tanhf (fdlibm's, as in glibc 2.36) from fdlibm's expm1f in float. Those sequences,
 * lane by lane with the same roundings, give the same floats. vector_math.c cites them.
 *
 * Why it is checked: another glibc may compute differently (later versions have replaced several float
 * functions with CORE-MATH's correctly rounded ones), and so does another CPU (no FMA: glibc's SSE2 expf).
 * tests/test_vector_math.c compares the vector and scalar functions on every one of the 2^32 floats
 * (`make test-vecmath-all`, ≈ 5 min, a stage of .ci/run) or a 1/61 sample (`make test`), with
 * denormals kept and flushed. The vector path is taken only (1) on a CPU with AVX2 and FMA, (2) under a glibc version on
 * which the exhaustive comparison passed (vector_math.c lists them), and (3) when the first call's
 * check finds the same bits on 2^16 + a few thousand arguments chosen to reach every branch of the
 * algorithms; else every array goes through the scalar functions. The portable build
 * (RR_PORTABLE_MATH) always takes the scalar path: its functions are ours.
 *
 * RR_VECTOR_MATH=0 in the environment forces the scalar path (benchmarks, a suspected difference).
 * Every function accepts y == x (in place); other overlaps are not allowed. */
#ifndef RR_VECTOR_MATH_H
#define RR_VECTOR_MATH_H

#include <stdint.h>

/* y[i] = rr_tanhf(x[i]), i < n */
void vm_tanhf(const float *x, float *y, int64_t n);
/* y[i] = act_sigmoid(x[i]) = 1 / (1 + exp(−x)) as ops_internal.h computes it */
void vm_sigmoid(const float *x, float *y, int64_t n);

/* The path the arrays take: "avx2-fma" or "scalar (<why>)". Runs the start-up check if not yet run. */
const char *vm_path(void);

/* The vector functions themselves, for tests (expf is the sigmoid's part, checked on its own): 0 when
 * this CPU or build has none (then they are not called). They skip the start-up check and the
 * environment. */
int vm_vector_available(void);
/* 1 when this process runs under a glibc version listed as checked on all 2^32 floats. */
int vm_glibc_verified(void);
/* glibc's version string ("2.36"), or a note when the C library is another. */
const char *vm_libc_version(void);
void vm_expf_vector(const float *x, float *y, int64_t n);
void vm_tanhf_vector(const float *x, float *y, int64_t n);
void vm_sigmoid_vector(const float *x, float *y, int64_t n);

#endif

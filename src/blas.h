/* blas.h — the matrix-product helpers of the CPU backend (row-major, BLAS-shaped).
 * With BLAS=openblas they call cblas_sgemm; with BLAS=builtin a blocked sgemm of our own (blas.c).
 * Both are deterministic for a fixed thread count (the builtin one for any thread count: each output
 * element is summed over k in the same order whatever the partition). */
#ifndef RNNREG_BLAS_H
#define RNNREG_BLAS_H

/* C[M×N] = alpha * op(A)[M×K] · op(B)[K×N] + beta * C, row-major.
 * op(A) = A (M×K, leading dim lda) or Aᵀ (A stored K×M) when trans_a; likewise B. */
void rr_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

/* The builtin implementation, always available (tests compare it with the BLAS one). */
void rr_sgemm_builtin(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* "openblas" or "builtin". */
const char *rr_blas_name(void);
/* The kernel set the BLAS runs on: OpenBLAS's openblas_get_corename() (a DYNAMIC_ARCH build picks
 * one when the library loads, from the CPU's model number), "builtin" without OpenBLAS. */
const char *rr_blas_core(void);
/* The core type OpenBLAS should have chosen, or NULL when `core` is right for a CPU with these
 * /proc/cpuinfo `flags` (space-separated). Only a generic fallback counts: a core without AVX2 kernels
 * (OpenBLAS 0.3.21 picks its SSE3 "Prescott" set on CPUs newer than its tables, e.g. Intel Xeon with
 * AMX: sgemm 48 GFLOP/s on 2 threads against 216 with SkylakeX) on a CPU that has AVX2 and FMA. The
 * answer is "SkylakeX" when the CPU has AVX-512 F, BW, DQ and VL (the instructions OpenBLAS's SkylakeX
 * kernels use), else "Haswell". A core with AVX2 kernels (Haswell, Zen, SkylakeX, Cooperlake, ...) is
 * never second-guessed. */
const char *rr_blas_core_advice(const char *core, const char *flags);
/* When rnnreg chose the core because OpenBLAS had fallen back to generic kernels (src/main.c re-runs
 * itself with OPENBLAS_CORETYPE set): one line saying so into buf, for the run's log (train.log) and
 * `rnnreg bench`; 0 when it did not happen (buf untouched). Never on stderr at start-up: a command's
 * error stays one line. */
int rr_blas_fallback_note(char *buf, int n);

/* Set the number of threads the matrix products may use (OpenMP and OpenBLAS). */
void rr_set_threads(int n);

#endif

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
/* Set the number of threads the matrix products may use (OpenMP and OpenBLAS). */
void rr_set_threads(int n);

#endif

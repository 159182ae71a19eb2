/* cuda_ops.h — the CUDA twins of the ops (ops_list.h: ops.h, layernorm.h, causal_lstm_cell.h and the
 * ops of regularize.h). Each has the signature of its op plus the suffix _cuda (declared below from the
 * list) and fills its slot of the CUDA backend table (cuda_ops_table.cu); the op's entry
 * (src/ops_dispatch.c) has checked shapes and devices, so these functions assume checked shapes and
 * device pointers. One .cu per family, beside its C twin:
 *   conv_kernels.cu ↔ src/conv.c            activation_kernels.cu ↔ src/activation.c
 *   lstm_cell_kernels.cu ↔ src/lstm_cell.c  batchnorm_kernels.cu ↔ src/batchnorm.c
 *   elementwise_kernels.cu ↔ src/elementwise.c   loss_kernels.cu ↔ src/loss.c
 *   optim_kernels.cu ↔ src/optim_update.c   layernorm_kernels.cu ↔ src/layernorm.c
 *   causal_lstm_cell_kernels.cu ↔ src/causal_lstm_cell.c   regularize_kernels.cu ↔ src/regularize.c
 * Semantics, accumulation ("=" / "+=") and NULL conventions are those of the CPU op. */
#ifndef RNNREG_CUDA_OPS_H
#define RNNREG_CUDA_OPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "ops_list.h"

#define RR_CUDA_DECLARE_VOID(name, params, args) void name##_cuda params;
#define RR_CUDA_DECLARE_VALUE(type, name, params, args) type name##_cuda params;
RR_OPS(RR_CUDA_DECLARE_VOID, RR_CUDA_DECLARE_VALUE)
#undef RR_CUDA_DECLARE_VOID
#undef RR_CUDA_DECLARE_VALUE

/* conv_kernels.cu: chunked im2col / col2im kernels + (strided-batched) cublasSgemm (TF32 per
 * rr_cuda_set_tf32). The workspace differs from the CPU's: conv2d_scratch_floats(x, k) returns
 * conv2d_scratch_floats_cuda(x, k) for a CUDA tensor x (also for k = 1), so plan it with the tensor on
 * the device it will run on. rr_cuda_conv_chunk: samples per chunk, at most RR_CONV_CHUNK_FLOATS
 * floats of K·HW each (at least 1, at most B). */
#define RR_CONV_CHUNK_FLOATS ((int64_t)1 << 24)
extern int64_t rr_cuda_conv_chunk_floats; /* RR_CONV_CHUNK_FLOATS; tests lower it (before planning scratch) */
int rr_cuda_conv_chunk(int B, int64_t khw);
/* Row-major C = alpha op(A) op(B) + beta C on the device (rr_sgemm's contract, blas.h). */
void rr_cuda_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc);

/* elementwise_kernels.cu: use_a of op_select_samples is host memory, as in the CPU op. Deterministic
 * Σ f(i) in double for the reductions of this backend (loss_kernels.cu too): Σ x² (b NULL) or
 * Σ (x - b)². */
double rr_cuda_sum_sq_diff(const float *x, const float *b, int64_t n);

/* batchnorm_kernels.cu: one block per channel, fixed-order tree reductions in double.
 * optim_kernels.cu: the CPU's float operation order exactly (bit-identical results).
 * regularize_kernels.cu: masks are bit-identical to the CPU's (the same Philox of src/rng.h, compiled
 * __host__ __device__). */

#ifdef __cplusplus
}
#endif

#endif

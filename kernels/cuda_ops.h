/* cuda_ops.h — the CUDA twins of the ops (ops.h, layernorm.h, causal_lstm_cell.h, and the mask ops
 * of regularize.h). Each has the signature of its CPU op plus the suffix _cuda; the CPU op checks
 * shapes, then dispatches here when its tensors live on RR_CUDA (ops_internal.h ops_on_cuda), so
 * these functions assume checked shapes and device pointers. One .cu per family, beside its C twin:
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

#include "causal_lstm_cell.h"
#include "layernorm.h"
#include "ops.h"
#include "tensor.h"

/* conv_kernels.cu: chunked im2col / col2im kernels + (strided-batched) cublasSgemm (TF32 per
 * rr_cuda_set_tf32). The workspace differs from the CPU's: conv2d_scratch_floats(x, k) returns
 * conv2d_scratch_floats_cuda(x, k) for a CUDA tensor x (also for k = 1), so plan it with the tensor on
 * the device it will run on. rr_cuda_conv_chunk: samples per chunk, at most RR_CONV_CHUNK_FLOATS
 * floats of K·HW each (at least 1, at most B). */
#define RR_CONV_CHUNK_FLOATS ((int64_t)1 << 24)
extern int64_t rr_cuda_conv_chunk_floats; /* RR_CONV_CHUNK_FLOATS; tests lower it (before planning scratch) */
int rr_cuda_conv_chunk(int B, int64_t khw);
int64_t conv2d_scratch_floats_cuda(const Tensor *x, int k);
void conv2d_forward_cuda(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                         float *scratch);
void conv2d_backward_cuda(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw,
                          Tensor *db, float *scratch);
/* Row-major C = alpha op(A) op(B) + beta C on the device (rr_sgemm's contract, blas.h). */
void rr_cuda_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc);

/* activation_kernels.cu */
void activation_forward_cuda(Activation a, const Tensor *x, Tensor *y);
void activation_backward_cuda(Activation a, const Tensor *y, const Tensor *dy, Tensor *dx);

/* lstm_cell_kernels.cu */
void lstm_cell_forward_cuda(const Tensor *pre, const Tensor *c_prev, Tensor *gates, Tensor *c, Tensor *h,
                            Activation gate_act, Activation cell_act);
void lstm_cell_backward_cuda(const Tensor *gates, const Tensor *c_prev, const Tensor *c, const Tensor *dh,
                             const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                             Activation cell_act);

/* batchnorm_kernels.cu: one block per channel, fixed-order tree reductions in double */
void batchnorm_forward_train_cuda(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                  Tensor *save_mean, Tensor *save_invstd, Tensor *running_mean,
                                  Tensor *running_var, float momentum, float eps);
void batchnorm_forward_eval_cuda(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                 const Tensor *running_mean, const Tensor *running_var, float eps);
void batchnorm_backward_cuda(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                             const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                             Tensor *dbeta);

/* elementwise_kernels.cu (use_a is host memory, as in the CPU op) */
void op_fill_cuda(Tensor *y, float value);
void op_copy_cuda(const Tensor *x, Tensor *y);
void op_add_cuda(const Tensor *a, const Tensor *b, Tensor *y);
void op_axpy_cuda(float alpha, const Tensor *x, Tensor *y);
void op_scale_cuda(Tensor *y, float alpha);
void op_mul_cuda(const Tensor *a, const Tensor *b, Tensor *y);
void op_select_samples_cuda(const unsigned char *use_a, const Tensor *a, const Tensor *b, Tensor *y);
void op_select_samples_backward_cuda(const unsigned char *use_a, const Tensor *dy, Tensor *da, Tensor *db);
double op_sum_squares_cuda(const Tensor *x);
/* Σ_i op_sum_squares(xs[i]) with one device → host copy (the global gradient norm, optimizer.c) */
double op_sum_squares_many_cuda(const Tensor *const *xs, int n);
void op_to_host_cuda(const Tensor *x, float *host);
void op_from_host_cuda(const float *host, Tensor *y);
/* Deterministic Σ f(i) in double for the reductions of this backend: Σ x² (b NULL) or Σ (x - b)². */
double rr_cuda_sum_sq_diff(const float *x, const float *b, int64_t n);

/* loss_kernels.cu */
double mse_sum_forward_cuda(const Tensor *pred, const Tensor *target);
void mse_sum_backward_cuda(const Tensor *pred, const Tensor *target, double divisor, Tensor *dpred);

/* optim_kernels.cu: the CPU's float operation order exactly (bit-identical results) */
void adam_update_cuda(Tensor *param, const Tensor *grad, Tensor *m, Tensor *v, const AdamHyper *h,
                      int64_t step);
void sgd_update_cuda(Tensor *param, const Tensor *grad, Tensor *momentum_buf, float lr, float momentum,
                     float weight_decay, int nesterov, int64_t step);
void rmsprop_update_cuda(Tensor *param, const Tensor *grad, Tensor *square_avg, float lr, float alpha,
                         float eps, float weight_decay);

/* layernorm_kernels.cu */
void tensor_layernorm_forward_cuda(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                   Tensor *save_mean, Tensor *save_invstd, float eps);
void tensor_layernorm_backward_cuda(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                                    const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                                    Tensor *dbeta);

/* causal_lstm_cell_kernels.cu */
/* (stages 1 and 2 take the optional candidate mask of causal_lstm_stage1/2_*_masked; NULL: none) */
void causal_lstm_stage1_forward_cuda(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc,
                                     const Tensor *c_prev, const Tensor *gmask, Tensor *gates1, Tensor *c);
void causal_lstm_stage1_backward_cuda(const Tensor *gates1, const Tensor *c_prev, const Tensor *gmask,
                                      const Tensor *dc, Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc,
                                      Tensor *dc_prev);
void causal_lstm_stage2_forward_cuda(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc,
                                     const Tensor *ggmask, Tensor *gates2, Tensor *m);
void causal_lstm_stage2_backward_cuda(const Tensor *gates2, const Tensor *ggmask, const Tensor *dm,
                                      Tensor *dx_cc, Tensor *dc2m, Tensor *dm_cc);
void causal_lstm_stage3_forward_cuda(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c2m,
                                     const Tensor *o_m, const Tensor *cell, Tensor *gates3, Tensor *h);
void causal_lstm_stage3_backward_cuda(const Tensor *gates3, const Tensor *dh, Tensor *dx_cc, Tensor *dh_cc,
                                      Tensor *dc2m, Tensor *do_m, Tensor *dcell);
void ghu_forward_cuda(const Tensor *zz, const Tensor *zx, const Tensor *z_prev, Tensor *gates, Tensor *z);
void ghu_backward_cuda(const Tensor *gates, const Tensor *z_prev, const Tensor *dz, Tensor *dpre,
                       Tensor *dz_prev);
void concat_channels_forward_cuda(const Tensor *a, const Tensor *b, Tensor *y);
void concat_channels_backward_cuda(const Tensor *dy, Tensor *da, Tensor *db);

/* regularize_kernels.cu: the ops of src/regularize.c (regularize.h). Masks are bit-identical to the
 * CPU's (the same Philox of src/rng.h, compiled __host__ __device__). */
void reg_dropout_mask_cuda(Tensor *mask, uint64_t seed, uint64_t stream, float p);
void reg_zoneout_mask_cuda(Tensor *d, uint64_t seed, uint64_t stream, float p);
void reg_mask_backward_cuda(const Tensor *mask, const Tensor *dy, Tensor *dx);
void reg_lstm_state_forward_cuda(const Tensor *pre, const Tensor *c_prev, const Tensor *gmask, Tensor *gates,
                                 Tensor *c, Activation gate_act, Activation cell_act);
void reg_lstm_output_forward_cuda(const Tensor *gates, const Tensor *cs, Tensor *h, Activation cell_act);
void reg_lstm_output_backward_cuda(const Tensor *gates, const Tensor *cs, const Tensor *dh, Tensor *dpre,
                                   Tensor *dcs, Activation gate_act, Activation cell_act);
void reg_lstm_state_backward_cuda(const Tensor *gates, const Tensor *c_prev, const Tensor *gmask,
                                  const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                                  Activation cell_act);
/* channel block j of big (B, K·n, H, W) <-> small (B, n, H, W) (regularize.c block_copy) */
void reg_block_copy_cuda(Tensor *big, Tensor *small, int j, int to_big, int add);
void reg_bias_forward_cuda(Tensor *y, const Tensor *b);
void reg_bias_backward_cuda(const Tensor *dy, Tensor *db);
void reg_zoneout_forward_cuda(const Tensor *prev, const Tensor *upd, const Tensor *d, float p, Tensor *out);
void reg_zoneout_backward_cuda(const Tensor *d, const Tensor *dout, Tensor *dprev, Tensor *dupd);
double reg_l2_apply_cuda(const Tensor *w, Tensor *g, double lambda);

#ifdef __cplusplus
}
#endif

#endif

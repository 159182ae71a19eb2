/* ops_list.h — every op that runs on either device, listed once (an X-macro list): its name, return
 * type, parameters and the arguments to forward. From this list ops_dispatch.c generates the public
 * entry of each op and the CPU backend table, kernels/cuda_ops_table.cu the CUDA backend table, and
 * ops_internal.h the declarations of each op's three parts:
 *   <name>_check  (src/<family>.c)  checks devices and shapes once, returns the device to run on
 *                                   (ops_device: the tensors that decide, mixed devices abort);
 *   cpu_<name>    (src/<family>.c)  the CPU implementation, on checked arguments;
 *   <name>_cuda   (kernels/<family>_kernels.cu) the CUDA twin, on checked arguments.
 * Adding an op: one line here, the three functions, its declaration in the public header.
 *   OPS_VOID(name, (parameters), (arguments))
 *   OPS_VALUE(return type, name, (parameters), (arguments)) */
#ifndef RNNREG_OPS_LIST_H
#define RNNREG_OPS_LIST_H

#include <stdint.h>

#include "causal_lstm_cell.h"
#include "layernorm.h"
#include "ops.h"
#include "regularize.h"
#include "tensor.h"

#define RR_OPS(OPS_VOID, OPS_VALUE)                                                                         \
    /* ops.h: convolution (conv.c ↔ conv_kernels.cu) */                                                  \
    OPS_VALUE(int64_t, conv2d_scratch_floats, (const Tensor *x, int k), (x, k))                            \
    OPS_VOID(conv2d_forward, (const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate, \
                              float *scratch), (x, w, b, y, accumulate, scratch))                          \
    OPS_VOID(conv2d_backward, (const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw,  \
                               Tensor *db, float *scratch), (x, w, dy, dx, dw, db, scratch))               \
    /* ops.h: activations (activation.c ↔ activation_kernels.cu) */                                      \
    OPS_VOID(activation_forward, (Activation a, const Tensor *x, Tensor *y), (a, x, y))                    \
    OPS_VOID(activation_backward, (Activation a, const Tensor *y, const Tensor *dy, Tensor *dx),          \
             (a, y, dy, dx))                                                                                \
    /* ops.h: fused ConvLSTM cell (lstm_cell.c ↔ lstm_cell_kernels.cu) */                                \
    OPS_VOID(lstm_cell_forward, (const Tensor *pre, const Tensor *c_prev, Tensor *gates, Tensor *c,        \
                                 Tensor *h, Activation gate_act, Activation cell_act),                     \
             (pre, c_prev, gates, c, h, gate_act, cell_act))                                                \
    OPS_VOID(lstm_cell_backward, (const Tensor *gates, const Tensor *c_prev, const Tensor *c,              \
                                  const Tensor *dh, const Tensor *dc, Tensor *dpre, Tensor *dc_prev,       \
                                  Activation gate_act, Activation cell_act),                               \
             (gates, c_prev, c, dh, dc, dpre, dc_prev, gate_act, cell_act))                                 \
    /* ops.h: batch normalisation (batchnorm.c ↔ batchnorm_kernels.cu) */                                \
    OPS_VOID(batchnorm_forward_train, (const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y, \
                                       Tensor *save_mean, Tensor *save_invstd, Tensor *running_mean,        \
                                       Tensor *running_var, float momentum, float eps),                     \
             (x, gamma, beta, y, save_mean, save_invstd, running_mean, running_var, momentum, eps))         \
    OPS_VOID(batchnorm_forward_eval, (const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,  \
                                      const Tensor *running_mean, const Tensor *running_var, float eps),    \
             (x, gamma, beta, y, running_mean, running_var, eps))                                           \
    OPS_VOID(batchnorm_backward, (const Tensor *x, const Tensor *gamma, const Tensor *save_mean,           \
                                  const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma, \
                                  Tensor *dbeta),                                                          \
             (x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta))                                     \
    /* ops.h: elementwise arithmetic and host copies (elementwise.c ↔ elementwise_kernels.cu) */         \
    OPS_VOID(op_fill, (Tensor *y, float value), (y, value))                                                \
    OPS_VOID(op_copy, (const Tensor *x, Tensor *y), (x, y))                                                \
    OPS_VOID(op_add, (const Tensor *a, const Tensor *b, Tensor *y), (a, b, y))                             \
    OPS_VOID(op_axpy, (float alpha, const Tensor *x, Tensor *y), (alpha, x, y))                            \
    OPS_VOID(op_scale, (Tensor *y, float alpha), (y, alpha))                                               \
    OPS_VOID(op_mul, (const Tensor *a, const Tensor *b, Tensor *y), (a, b, y))                             \
    OPS_VOID(op_select_samples, (const unsigned char *use_a, const Tensor *a, const Tensor *b, Tensor *y), \
             (use_a, a, b, y))                                                                              \
    OPS_VOID(op_select_samples_backward, (const unsigned char *use_a, const Tensor *dy, Tensor *da,        \
                                          Tensor *db), (use_a, dy, da, db))                                \
    OPS_VALUE(double, op_sum_squares, (const Tensor *x), (x))                                              \
    OPS_VALUE(double, op_sum_squares_many, (const Tensor *const *xs, int n), (xs, n))                      \
    OPS_VOID(op_to_host, (const Tensor *x, float *host), (x, host))                                        \
    OPS_VOID(op_from_host, (const float *host, Tensor *y), (host, y))                                      \
    /* ops.h: MSE loss (loss.c ↔ loss_kernels.cu) */                                                     \
    OPS_VALUE(double, mse_sum_forward, (const Tensor *pred, const Tensor *target), (pred, target))         \
    OPS_VOID(mse_sum_backward, (const Tensor *pred, const Tensor *target, double divisor, Tensor *dpred),  \
             (pred, target, divisor, dpred))                                                                \
    /* ops.h: optimizer updates (optim_update.c ↔ optim_kernels.cu) */                                   \
    OPS_VOID(adam_update, (Tensor *param, const Tensor *grad, Tensor *m, Tensor *v, const AdamHyper *h,    \
                           int64_t step), (param, grad, m, v, h, step))                                    \
    OPS_VOID(sgd_update, (Tensor *param, const Tensor *grad, Tensor *momentum_buf, float lr,               \
                          float momentum, float weight_decay, int nesterov, int64_t step),                 \
             (param, grad, momentum_buf, lr, momentum, weight_decay, nesterov, step))                       \
    OPS_VOID(rmsprop_update, (Tensor *param, const Tensor *grad, Tensor *square_avg, float lr, float alpha, \
                              float eps, float weight_decay),                                              \
             (param, grad, square_avg, lr, alpha, eps, weight_decay))                                       \
    /* layernorm.h (layernorm.c ↔ layernorm_kernels.cu) */                                               \
    OPS_VOID(tensor_layernorm_forward, (const Tensor *x, const Tensor *gamma, const Tensor *beta,           \
                                        Tensor *y, Tensor *save_mean, Tensor *save_invstd, float eps),      \
             (x, gamma, beta, y, save_mean, save_invstd, eps))                                              \
    OPS_VOID(tensor_layernorm_backward, (const Tensor *x, const Tensor *gamma, const Tensor *save_mean,    \
                                         const Tensor *save_invstd, const Tensor *dy, Tensor *dx,          \
                                         Tensor *dgamma, Tensor *dbeta),                                   \
             (x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta))                                     \
    /* causal_lstm_cell.h (causal_lstm_cell.c ↔ causal_lstm_cell_kernels.cu) */                          \
    OPS_VOID(causal_lstm_stage1_forward_masked, (const Tensor *x_cc, const Tensor *h_cc,                   \
                                                 const Tensor *c_cc, const Tensor *c_prev,                 \
                                                 const Tensor *gmask, Tensor *gates1, Tensor *c),          \
             (x_cc, h_cc, c_cc, c_prev, gmask, gates1, c))                                                  \
    OPS_VOID(causal_lstm_stage1_backward_masked, (const Tensor *gates1, const Tensor *c_prev,              \
                                                  const Tensor *gmask, const Tensor *dc, Tensor *dx_cc,    \
                                                  Tensor *dh_cc, Tensor *dc_cc, Tensor *dc_prev),          \
             (gates1, c_prev, gmask, dc, dx_cc, dh_cc, dc_cc, dc_prev))                                     \
    OPS_VOID(causal_lstm_stage2_forward_masked, (const Tensor *x_cc, const Tensor *c2m,                    \
                                                 const Tensor *m_cc, const Tensor *ggmask, Tensor *gates2, \
                                                 Tensor *m), (x_cc, c2m, m_cc, ggmask, gates2, m))         \
    OPS_VOID(causal_lstm_stage2_backward_masked, (const Tensor *gates2, const Tensor *ggmask,              \
                                                  const Tensor *dm, Tensor *dx_cc, Tensor *dc2m,           \
                                                  Tensor *dm_cc), (gates2, ggmask, dm, dx_cc, dc2m, dm_cc)) \
    OPS_VOID(causal_lstm_stage3_forward, (const Tensor *x_cc, const Tensor *h_cc, const Tensor *c2m,       \
                                          const Tensor *o_m, const Tensor *cell, Tensor *gates3, Tensor *h), \
             (x_cc, h_cc, c2m, o_m, cell, gates3, h))                                                       \
    OPS_VOID(causal_lstm_stage3_backward, (const Tensor *gates3, const Tensor *dh, Tensor *dx_cc,          \
                                           Tensor *dh_cc, Tensor *dc2m, Tensor *do_m, Tensor *dcell),      \
             (gates3, dh, dx_cc, dh_cc, dc2m, do_m, dcell))                                                 \
    OPS_VOID(ghu_forward, (const Tensor *zz, const Tensor *zx, const Tensor *z_prev, Tensor *gates,        \
                           Tensor *z), (zz, zx, z_prev, gates, z))                                         \
    OPS_VOID(ghu_backward, (const Tensor *gates, const Tensor *z_prev, const Tensor *dz, Tensor *dpre,     \
                            Tensor *dz_prev), (gates, z_prev, dz, dpre, dz_prev))                          \
    OPS_VOID(concat_channels_forward, (const Tensor *a, const Tensor *b, Tensor *y), (a, b, y))            \
    OPS_VOID(concat_channels_backward, (const Tensor *dy, Tensor *da, Tensor *db), (dy, da, db))           \
    /* regularize.h (regularize.c ↔ regularize_kernels.cu) */                                            \
    OPS_VOID(reg_dropout_mask, (Tensor *mask, uint64_t seed, uint64_t stream, float p),                    \
             (mask, seed, stream, p))                                                                       \
    OPS_VOID(reg_zoneout_mask, (Tensor *d, uint64_t seed, uint64_t stream, float p), (d, seed, stream, p)) \
    OPS_VOID(reg_mask_backward, (const Tensor *mask, const Tensor *dy, Tensor *dx), (mask, dy, dx))        \
    OPS_VOID(reg_lstm_state_forward, (const Tensor *pre, const Tensor *c_prev, const Tensor *gmask,        \
                                      Tensor *gates, Tensor *c, Activation gate_act, Activation cell_act), \
             (pre, c_prev, gmask, gates, c, gate_act, cell_act))                                            \
    OPS_VOID(reg_lstm_output_forward, (const Tensor *gates, const Tensor *cs, Tensor *h,                   \
                                       Activation cell_act), (gates, cs, h, cell_act))                     \
    OPS_VOID(reg_lstm_output_backward, (const Tensor *gates, const Tensor *cs, const Tensor *dh,           \
                                        Tensor *dpre, Tensor *dcs, Activation gate_act,                    \
                                        Activation cell_act), (gates, cs, dh, dpre, dcs, gate_act, cell_act)) \
    OPS_VOID(reg_lstm_state_backward, (const Tensor *gates, const Tensor *c_prev, const Tensor *gmask,     \
                                       const Tensor *dc, Tensor *dpre, Tensor *dc_prev,                    \
                                       Activation gate_act, Activation cell_act),                          \
             (gates, c_prev, gmask, dc, dpre, dc_prev, gate_act, cell_act))                                 \
    OPS_VOID(reg_block_copy, (Tensor *big, Tensor *small, int j, int to_big, int add),                     \
             (big, small, j, to_big, add))                                                                  \
    OPS_VOID(reg_bias_forward, (Tensor *y, const Tensor *b), (y, b))                                       \
    OPS_VOID(reg_bias_backward, (const Tensor *dy, Tensor *db), (dy, db))                                  \
    OPS_VOID(reg_zoneout_forward, (const Tensor *prev, const Tensor *upd, const Tensor *d, float p,        \
                                   Tensor *out), (prev, upd, d, p, out))                                   \
    OPS_VOID(reg_zoneout_backward, (const Tensor *d, const Tensor *dout, Tensor *dprev, Tensor *dupd),     \
             (d, dout, dprev, dupd))                                                                        \
    OPS_VALUE(double, reg_l2_apply, (const Tensor *w, Tensor *g, double lambda), (w, g, lambda))

/* The table of one backend: a function pointer per op, in list order. */
#define RR_OPS_SLOT_VOID(name, params, args) void(*name) params;
#define RR_OPS_SLOT_VALUE(type, name, params, args) type(*name) params;
typedef struct OpsTable {
    RR_OPS(RR_OPS_SLOT_VOID, RR_OPS_SLOT_VALUE)
} OpsTable;

#endif

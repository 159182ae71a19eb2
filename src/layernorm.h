/* layernorm.h — "tensor layer norm" of PredRNN++ (Yunbo426/predrnn-pp layers/TensorLayerNorm.py):
 * per sample, mean and BIASED variance over (C, H, W) jointly (tf.nn.moments over axes [1,2,3] of
 * NHWC), then a per-CHANNEL gain and offset (shape [C], init 1 and 0), eps 1e-5
 * (tf.nn.batch_normalization):
 *   y[b,c,h,w] = (x[b,c,h,w] - mean_b) * invstd_b * gamma[c] + beta[c],  invstd_b = 1/sqrt(var_b + eps)
 * Conventions as ops.h: NCHW float32 views; forward writes y (=); backward ACCUMULATES dx, dgamma,
 * dbeta (+=; NULL = not needed); shapes are checked (rr_die on mismatch); deterministic for any
 * thread count (each reduction runs in one fixed order, in double).
 *   x, y, dy, dx: (B, C, H, W)   gamma, beta, dgamma, dbeta: (C)   save_mean, save_invstd: (B)
 * backward (x̂ = (x - mean) invstd, g = gamma[c] dy, means over the sample's C·H·W elements):
 *   dx += invstd (g - mean(g) - x̂ mean(g x̂));  dgamma[c] += Σ_{b,h,w} dy x̂;  dbeta[c] += Σ_{b,h,w} dy */
#ifndef RNNREG_LAYERNORM_H
#define RNNREG_LAYERNORM_H

#include "tensor.h"

#define TENSOR_LN_EPS 1e-5f /* TensorLayerNorm.py EPSILON */

void tensor_layernorm_forward(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                              Tensor *save_mean, Tensor *save_invstd, float eps);
void tensor_layernorm_backward(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                               const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                               Tensor *dbeta);

#endif

/* ops.h — every operation the models are built from, forward and backward side by side.
 *
 * Conventions (all ops):
 * - Tensors are contiguous NCHW float32 views (tensor.h). An op dispatches on the tensors' device,
 *   once, in its entry generated from ops_list.h (ops_dispatch.c): the check and the CPU
 *   implementation live in src/<family>.c, the CUDA twin in kernels/<family>_kernels.cu.
 * - Forward outputs are overwritten ("="), except where an argument says `accumulate`.
 * - Backward: parameter gradients are ACCUMULATED ("+="), so gradients of weights shared over time
 *   steps add up; input gradients are accumulated into dx when dx is non-NULL ("+=") — the caller zeroes
 *   them when a step starts. NULL means "not needed".
 * - Results are deterministic for a fixed thread count (fixed reduction order).
 * - Shapes are checked; a mismatch is a programming error and aborts with a message naming the op and
 *   the shapes (rr_die), never silently computes garbage.
 * - `scratch` is caller-provided workspace of at least the size the matching *_scratch_floats() says
 *   (planned once per model in its arena; nothing is allocated inside an op).
 */
#ifndef RNNREG_OPS_H
#define RNNREG_OPS_H

#include "tensor.h"

/* ------------------------------------------------------------------------------------------------ */
/* 2-D convolution, stride 1, zero "same" padding (k odd, pad = k/2), PyTorch weight layout.
 *   x: (B, Cin, H, W)   w: (Cout, Cin, k, k)   b: (Cout) or NULL   y: (B, Cout, H, W)
 * forward:  y (+)= conv(x, w) + b        (accumulate != 0: y += ..., else y = ...)
 * backward: dx += convᵀ(dy, w); dw += Σ_b dy ⋆ x; db += Σ_{b,h,w} dy
 * CPU engine chosen at build time (conv_cpu_engine): "im2col" = im2col + sgemm (k > 1) or a plain sgemm
 * (k == 1), the reference (conv.c); "onednn" = oneDNN's convolution primitives, fp32 or, with
 * device_precision() == RR_BF16, bf16 operands with fp32 accumulation (conv_onednn.c). */
const char *conv_cpu_engine(void);
int64_t conv2d_scratch_floats(const Tensor *x, int k);
void conv2d_forward(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                    float *scratch);
void conv2d_backward(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw,
                     Tensor *db, float *scratch);

/* ------------------------------------------------------------------------------------------------ */
/* Activations, elementwise over any shape. Backward uses the forward OUTPUT y (all three allow it).
 *   y = act(x);  dx += dy * act'(x)  */
typedef enum { ACT_IDENTITY = 0, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_HARD_SIGMOID } Activation;
const char *activation_name(Activation a);
int activation_parse(const char *name, Activation *a); /* "tanh" ... ; -1 if unknown */
void activation_forward(Activation a, const Tensor *x, Tensor *y);
void activation_backward(Activation a, const Tensor *y, const Tensor *dy, Tensor *dx);

/* ------------------------------------------------------------------------------------------------ */
/* Fused ConvLSTM cell pointwise part (Shi et al. 2015 without peepholes = Keras ConvLSTM2D;
 * gate order i, f, g, o along channels, as Keras' i, f, c, o):
 *   pre: (B, 4n, H, W) gate pre-activations (conv_x(x) + conv_h(h_prev) + bias, forget bias included)
 *   i = gate_act(pre_i)  f = gate_act(pre_f)  g = cell_act(pre_g)  o = gate_act(pre_o)
 *   c = f ⊙ c_prev + i ⊙ g          h = o ⊙ cell_act(c)
 * c_prev NULL means zeros. Saved for backward: gates (B, 4n, H, W) = activated i, f, g, o; c; h.
 * backward: given dh (B,n,H,W) and dc (grad flowing into c from step t+1, may be NULL), writes
 *   dpre (=, (B, 4n, H, W)) and dc_prev (=, may be NULL). */
void lstm_cell_forward(const Tensor *pre, const Tensor *c_prev, Tensor *gates, Tensor *c, Tensor *h,
                       Activation gate_act, Activation cell_act);
void lstm_cell_backward(const Tensor *gates, const Tensor *c_prev, const Tensor *c, const Tensor *dh,
                        const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                        Activation cell_act);

/* ------------------------------------------------------------------------------------------------ */
/* Batch normalisation over (B, H, W) per channel (PyTorch BatchNorm2d semantics):
 * training: mean/biased var of the batch normalise x; running stats updated with
 *   running = (1 - momentum) * running + momentum * stat (running var uses the UNBIASED batch var);
 * eval: running stats. save_mean/save_invstd (C) are kept for backward.
 *   x, y: (B, C, H, W)   gamma, beta, running_*: (C) */
void batchnorm_forward_train(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                             Tensor *save_mean, Tensor *save_invstd, Tensor *running_mean,
                             Tensor *running_var, float momentum, float eps);
void batchnorm_forward_eval(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                            const Tensor *running_mean, const Tensor *running_var, float eps);
void batchnorm_backward(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                        const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                        Tensor *dbeta);

/* ------------------------------------------------------------------------------------------------ */
/* Elementwise arithmetic (any shapes with equal counts). */
void op_fill(Tensor *y, float value);
void op_copy(const Tensor *x, Tensor *y);                  /* y = x */
void op_add(const Tensor *a, const Tensor *b, Tensor *y);  /* y = a + b */
void op_axpy(float alpha, const Tensor *x, Tensor *y);     /* y += alpha x */
void op_scale(Tensor *y, float alpha);                     /* y *= alpha */
void op_mul(const Tensor *a, const Tensor *b, Tensor *y);  /* y = a ⊙ b */
/* Per-sample choice (scheduled sampling): for each sample s of the outer axis,
 * y[s] = use_a[s] ? a[s] : b[s]. use_a has B entries (host memory, 0/1). */
void op_select_samples(const unsigned char *use_a, const Tensor *a, const Tensor *b, Tensor *y);
/* Backward of op_select_samples: da[s] += dy[s] where use_a[s], db[s] += dy[s] otherwise. */
void op_select_samples_backward(const unsigned char *use_a, const Tensor *dy, Tensor *da, Tensor *db);
/* Sum of squares of x (double accumulation, fixed order). */
double op_sum_squares(const Tensor *x);
/* Σ_i op_sum_squares(xs[i]) over n tensors on one device, added in order of i (the global gradient
 * norm; on the GPU with one device → host copy per 128 tensors). */
double op_sum_squares_many(const Tensor *const *xs, int n);
/* Copy a tensor to/from host memory (for I/O; the only way model code moves data). */
void op_to_host(const Tensor *x, float *host);
void op_from_host(const float *host, Tensor *y);

/* ------------------------------------------------------------------------------------------------ */
/* Mean-squared-error loss. The loss of a sequence is MEAN over all predicted elements (PyTorch
 * nn.MSELoss(reduction='mean') over (B, 19, C, H, W)); since frames arrive one step at a time, the op
 * returns the sum of squared errors of one step and the model divides by the total count:
 *   mse_sum_forward  = Σ (pred - target)²           (double accumulation, fixed order)
 *   mse_sum_backward:  dpred += 2 (pred - target) / divisor   (divisor = total element count) */
double mse_sum_forward(const Tensor *pred, const Tensor *target);
void mse_sum_backward(const Tensor *pred, const Tensor *target, double divisor, Tensor *dpred);

/* ------------------------------------------------------------------------------------------------ */
/* Optimizer updates on one parameter tensor (PyTorch torch.optim semantics, step counted from 1). */
typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    int decoupled;   /* 0: Adam (L2 added to the gradient), 1: AdamW (decoupled decay) */
} AdamHyper;
void adam_update(Tensor *param, const Tensor *grad, Tensor *m, Tensor *v, const AdamHyper *h, int64_t step);
void sgd_update(Tensor *param, const Tensor *grad, Tensor *momentum_buf, float lr, float momentum,
                float weight_decay, int nesterov, int64_t step);
void rmsprop_update(Tensor *param, const Tensor *grad, Tensor *square_avg, float lr, float alpha,
                    float eps, float weight_decay);

#endif

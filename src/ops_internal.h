/* ops_internal.h — helpers shared by the CPU op files (src/conv.c, activation.c, lstm_cell.c,
 * batchnorm.c, elementwise.c, loss.c, optim_update.c): device and shape checks that abort with the
 * op's name (ops.h: a mismatch is a programming error), and the scalar activation formulas. Not part
 * of the public interface. */
#ifndef RNNREG_OPS_INTERNAL_H
#define RNNREG_OPS_INTERNAL_H

#include <math.h>

#include "common.h"
#include "ops.h"

/* Every op runs on the CPU in this build. When the CUDA twin of a family exists, its file dispatches
 *   #ifdef RR_USE_CUDA  if (y->device == RR_CUDA) { cuda_<op>(...); return; }  #endif
 * before these checks. NULL tensors (optional arguments) pass. */
static inline void require_cpu(const char *op, const Tensor *t) {
    if (t && t->device != RR_CPU)
        rr_die("%s: a tensor is on device %d (%s), but this build has only the CPU implementation", op,
               t->device, t->device == RR_CUDA ? "CUDA" : "unknown");
    if (t && t->count > 0 && !t->data) rr_die("%s: tensor has no data (arena not allocated?)", op);
}

/* Abort unless a and b hold the same number of elements. */
static inline void require_same_count(const char *op, const Tensor *a, const Tensor *b) {
    if (a->count != b->count) {
        char sa[96], sb[96];
        rr_die("%s: element counts differ: %s (%lld) vs %s (%lld)", op, tensor_shape_str(a, sa, sizeof sa),
               (long long)a->count, tensor_shape_str(b, sb, sizeof sb), (long long)b->count);
    }
}

/* Abort unless a and b have identical shapes. */
static inline void require_same_shape(const char *op, const Tensor *a, const Tensor *b) {
    if (!tensor_same_shape(a, b)) {
        char sa[96], sb[96];
        rr_die("%s: shapes differ: %s vs %s", op, tensor_shape_str(a, sa, sizeof sa),
               tensor_shape_str(b, sb, sizeof sb));
    }
}

/* Abort unless t is 4-D. */
static inline void require_4d(const char *op, const char *name, const Tensor *t) {
    if (t->ndim != 4) {
        char s[96];
        rr_die("%s: %s must be 4-D (N, C, H, W), got %s", op, name, tensor_shape_str(t, s, sizeof s));
    }
}

/* Whether ops may run OpenMP-parallel loops. Yes with the builtin sgemm or an OpenBLAS built on
 * OpenMP: all parallel work then shares libgomp's one pool of threads. No with a pthreads OpenBLAS
 * (Debian's default libopenblas0-pthread): its workers keep spinning for a while after every sgemm
 * and idle OpenMP workers spin after every parallel region, so interleaving the two pools puts three
 * busy threads on two cores — conv2d on 16×16 maps measured 2-3× slower with OpenMP im2col. The ops
 * then run on the calling thread and the sgemm, ~95% of the time, keeps every core. (elementwise.c) */
int ops_use_openmp(void);

/* The sgemm conv.c multiplies with: rr_sgemm (OpenBLAS or builtin per the build). tests/test_ops.c
 * points it at rr_sgemm_builtin to compare the two; nothing else changes it. */
typedef void (*RRSgemmFn)(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc);
extern RRSgemmFn conv_sgemm;

/* Abort unless a is one of the Activation values. */
static inline void require_activation(const char *op, Activation a) {
    if (a < ACT_IDENTITY || a > ACT_HARD_SIGMOID) rr_die("%s: unknown activation %d", op, (int)a);
}

/* Logistic sigmoid without overflow: exp is only taken of a non-positive number. */
static inline float act_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* tf.keras 2 backend.hard_sigmoid (keras/backend.py): clip_by_value(x * 0.2 + 0.5, 0, 1),
 * multiply then add in float32, as TF does. */
static inline float act_hard_sigmoid(float x) {
    float y = x * 0.2f;
    y = y + 0.5f;
    return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
}

/* y = act(x) */
static inline float act_apply(Activation a, float x) {
    switch (a) {
    case ACT_SIGMOID: return act_sigmoid(x);
    case ACT_TANH: return tanhf(x);
    case ACT_RELU: return x < 0.0f ? 0.0f : x; /* NaN passes through, as torch.relu */
    case ACT_HARD_SIGMOID: return act_hard_sigmoid(x);
    case ACT_IDENTITY:
    default: return x;
    }
}

/* act'(x) written in terms of the output y = act(x):
 *   sigmoid y(1-y); tanh 1-y²; relu [y > 0]; hard_sigmoid 0.2 where 0 < y < 1 (the linear piece;
 *   the clipped pieces have slope 0; at the two kinks, a measure-zero set, we take 0); identity 1. */
static inline float act_grad_from_output(Activation a, float y) {
    switch (a) {
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case ACT_HARD_SIGMOID: return (y > 0.0f && y < 1.0f) ? 0.2f : 0.0f;
    case ACT_IDENTITY:
    default: return 1.0f;
    }
}

#endif

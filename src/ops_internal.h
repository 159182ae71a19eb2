/* ops_internal.h — helpers shared by the CPU op files (src/conv.c, activation.c, lstm_cell.c,
 * batchnorm.c, elementwise.c, loss.c, optim_update.c, layernorm.c, causal_lstm_cell.c, regularize.c):
 * device checks and the CUDA dispatch test, shape checks that abort with the
 * op's name (ops.h: a mismatch is a programming error), and the scalar activation formulas. Not part
 * of the public interface. */
#ifndef RNNREG_OPS_INTERNAL_H
#define RNNREG_OPS_INTERNAL_H

#include <math.h>

#include "common.h"
#include "ops.h"

#ifdef RR_USE_CUDA
#include "cuda_backend.h"
#include "cuda_ops.h"
#endif

/* require_device: the tensor's device is one this op can run on — RR_CPU, and with CUDA compiled in
 * (-DRR_USE_CUDA) RR_CUDA too. Used by the op families that have a CUDA twin (kernels/cuda_ops.h);
 * each such op, after its shape checks, dispatches to the twin when its tensors are on the GPU:
 *   #ifdef RR_USE_CUDA  if (ops_on_cuda(op, x, y, ...)) { <op>_cuda(...); return; }  #endif
 * require_cpu: the tensor is on the CPU — for ops without a CUDA twin, which would otherwise read
 * device pointers on the host. NULL tensors (optional arguments) pass both. */
static inline void require_device(const char *op, const Tensor *t) {
#ifdef RR_USE_CUDA
    if (t && t->device != RR_CPU && t->device != RR_CUDA)
        rr_die("%s: a tensor is on device %d (unknown)", op, t->device);
#else
    if (t && t->device != RR_CPU)
        rr_die("%s: a tensor is on device %d (%s), but this build has only the CPU implementation", op,
               t->device, t->device == RR_CUDA ? "CUDA" : "unknown");
#endif
    if (t && t->count > 0 && !t->data) rr_die("%s: tensor has no data (arena not allocated?)", op);
}

#ifdef RR_USE_CUDA
#define RR_CPU_ONLY "this op has only the CPU implementation"
#else
#define RR_CPU_ONLY "this build has only the CPU implementation"
#endif
static inline void require_cpu(const char *op, const Tensor *t) {
    if (t && t->device != RR_CPU)
        rr_die("%s: a tensor is on device %d (%s), but " RR_CPU_ONLY, op, t->device,
               t->device == RR_CUDA ? "CUDA" : "unknown");
    if (t && t->count > 0 && !t->data) rr_die("%s: tensor has no data (arena not allocated?)", op);
}

#ifdef RR_USE_CUDA
/* 1 when the op's tensors live on the GPU, 0 when on the CPU; a mix of devices, or CUDA tensors with
 * no GPU present, aborts naming the op. NULL tensors (optional arguments) are skipped. */
static inline int ops_on_cuda_list(const char *op, const Tensor *const *ts, int n) {
    int dev = -1;
    for (int i = 0; i < n; i++) {
        if (!ts[i]) continue;
        if (dev < 0) dev = ts[i]->device;
        else if (ts[i]->device != dev)
            rr_die("%s: tensors on different devices (%s and %s)", op, dev == RR_CUDA ? "CUDA" : "CPU",
                   ts[i]->device == RR_CUDA ? "CUDA" : "CPU");
    }
    if (dev != RR_CUDA) return 0;
    if (!rr_cuda_available()) rr_die("%s: a tensor is on CUDA, but no CUDA device is available", op);
    return 1;
}
#define ops_on_cuda(op, ...)                                                                          \
    ops_on_cuda_list(op, (const Tensor *const[]){__VA_ARGS__},                                        \
                     (int)(sizeof((const Tensor *const[]){__VA_ARGS__}) / sizeof(const Tensor *)))
#endif

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

/* ops_internal.h — what the CPU op files (src/conv.c, activation.c, lstm_cell.c, batchnorm.c,
 * elementwise.c, loss.c, optim_update.c, layernorm.c, causal_lstm_cell.c, regularize.c) share: the
 * declarations of each op's check and CPU implementation (generated from ops_list.h), the device
 * checks, shape checks that abort with the op's name (ops.h: a mismatch is a programming error), and
 * the scalar activation formulas. Not part of the public interface. */
#ifndef RNNREG_OPS_INTERNAL_H
#define RNNREG_OPS_INTERNAL_H

#include <math.h>

#include "common.h"
#include "device.h"
#include "ops.h"
#include "ops_list.h"
#include "portable_math.h"

/* Each op of ops_list.h has, besides its public entry (ops_dispatch.c):
 *   int <name>_check(...)  the device and shape checks; returns the device the op runs on, as
 *                          `return ops_device("<name>", <the tensors that decide>);`
 *   cpu_<name>(...)        the CPU implementation, called only after the check. */
#define RR_OPS_DECLARE_VOID(name, params, args) int name##_check params; void cpu_##name params;
#define RR_OPS_DECLARE_VALUE(type, name, params, args) int name##_check params; type cpu_##name params;
RR_OPS(RR_OPS_DECLARE_VOID, RR_OPS_DECLARE_VALUE)
#undef RR_OPS_DECLARE_VOID
#undef RR_OPS_DECLARE_VALUE

/* The backend table of a device (device.c): the CPU's (ops_dispatch.c) or the CUDA's
 * (kernels/cuda_ops_table.cu). */
const OpsTable *device_ops(int device);
extern const OpsTable ops_cpu;

/* An op of ops_list.h used only inside the CPU op files (regularize.c's per-gate convolution): channel
 * block j (n channels) of big (B, K·n, H, W) <-> small (B, n, H, W); to_big 1: big (+)= small (add:
 * +=, else =); to_big 0: small = big block. */
void reg_block_copy(Tensor *big, Tensor *small, int j, int to_big, int add);

/* require_device: the tensor's device is one this op can run on — RR_CPU, and with the CUDA backend
 * compiled in RR_CUDA too (every op of ops_list.h has a CUDA twin). NULL tensors (optional arguments)
 * pass. */
static inline void require_device(const char *op, const Tensor *t) {
    if (t && t->device != RR_CPU && !(t->device == RR_CUDA && device_cuda_compiled())) {
        if (device_cuda_compiled()) rr_die("%s: a tensor is on device %d (unknown)", op, t->device);
        rr_die("%s: a tensor is on device %d (%s), but this build has only the CPU implementation", op,
               t->device, t->device == RR_CUDA ? "CUDA" : "unknown");
    }
    if (t && t->count > 0 && !t->data) rr_die("%s: tensor has no data (arena not allocated?)", op);
}

/* The device the op's tensors live on (RR_CPU when all are NULL); a mix of devices, or CUDA tensors
 * with no GPU present, aborts naming the op. NULL tensors (optional arguments) are skipped. */
int ops_device_list(const char *op, const Tensor *const *ts, int n);
#define ops_device(op, ...)                                                                           \
    ops_device_list(op, (const Tensor *const[]){__VA_ARGS__},                                         \
                    (int)(sizeof((const Tensor *const[]){__VA_ARGS__}) / sizeof(const Tensor *)))

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

/* The im2col + sgemm convolution (conv.c), the reference engine: the CPU entries call it unless the
 * build has oneDNN's (conv_onednn.c), and tests compare the two in one binary. The contract of
 * conv2d_forward / conv2d_backward (ops.h), after their checks. With dx = dw = NULL the backward
 * computes only db (the fixed-order double sum both engines use). */
void conv2d_forward_im2col(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                           float *scratch);
void conv2d_backward_im2col(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw,
                            Tensor *db, float *scratch);

/* oneDNN engine only (RR_USE_ONEDNN): the memory layouts its primitives are created with.
 * CONV_LAYOUT_PLAIN: the caller's nchw / oihw as they are (bf16: a plain bf16 copy);
 * CONV_LAYOUT_ANY: oneDNN picks (blocked, e.g. nChw16c), with reorders in and out;
 * CONV_LAYOUT_AUTO: the one conv_onednn.c chose per shape from measurements (the default).
 * Tests and benchmarks switch it; primitives are cached per layout. */
typedef enum { CONV_LAYOUT_AUTO = 0, CONV_LAYOUT_PLAIN, CONV_LAYOUT_ANY } ConvLayout;
void conv_onednn_set_layout(ConvLayout layout);
/* The oneDNN implementation name (e.g. "brg:avx512_core_amx") the last call of an entry ran, for
 * tests and benchmarks; "" before any. */
const char *conv_onednn_last_impl(void);
/* How many primitive plans (one per shape, direction, precision, ...) the engine holds. */
int conv_onednn_plan_count(void);

/* Abort unless a is one of the Activation values. */
static inline void require_activation(const char *op, Activation a) {
    if (a < ACT_IDENTITY || a > ACT_HARD_SIGMOID) rr_die("%s: unknown activation %d", op, (int)a);
}

/* Logistic sigmoid without overflow: exp is only taken of a non-positive number. */
static inline float act_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + rr_expf(-x));
    float e = rr_expf(x);
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
    case ACT_TANH: return rr_tanhf(x);
    case ACT_RELU: return x < 0.0f ? 0.0f : x; /* NaN passes through, as torch.relu */
    case ACT_HARD_SIGMOID: return act_hard_sigmoid(x);
    case ACT_IDENTITY:
    default: return x;
    }
}

/* y[i] = act_apply(a, x[i]) for i < n, bit for bit (activation.c): sigmoid and tanh through the vector
 * functions of vector_math.h, the others elementwise. y == x is allowed. */
void act_apply_array(Activation a, const float *x, float *y, int64_t n);

/* The pointwise loops evaluate activations a chunk of at most ACT_CHUNK pixels at a time (stack
 * buffers of this many floats). */
#define ACT_CHUNK 256

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

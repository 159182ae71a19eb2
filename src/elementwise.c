/* elementwise.c — elementwise arithmetic on tensors of equal element count (fill, copy, add, axpy,
 * scale, mul), the per-sample select of scheduled sampling and its backward, a double-accumulated
 * sum of squares, and host <-> tensor copies. Outputs may alias inputs. */
#include <stdint.h>
#include <string.h>

#include "ops_internal.h"

#ifdef RR_USE_CBLAS
#include <cblas.h>
#endif

#define PAR_MIN 65536 /* elements below which a loop stays on one thread */

int ops_use_openmp(void) {
#if defined(RR_USE_ONEDNN)
    /* oneDNN does the convolutions on the OpenMP pool, so no OpenBLAS thread waits during a step and
     * our loops may share that pool (measured: the Keras-size ConvLSTM's cell, 31 % of a bf16 step on
     * one core, then runs on both: 10.5 -> 7.8 s per step; every loop writes each element from one thread
     * in a fixed order, so the bits equal the one-thread loops', checked on both quick models) */
    return 1;
#elif defined(RR_USE_CBLAS)
    return openblas_get_parallel() != OPENBLAS_THREAD; /* 0 sequential, 1 pthreads, 2 OpenMP */
#else
    return 1; /* the builtin sgemm itself runs on OpenMP */
#endif
}

int op_fill_check(Tensor *y, float value) {
    (void)value; /* not checked */
    require_device("op_fill", y);
    return ops_device("op_fill", y);
}

/* Zeroing (+0.0f is all zero bytes) is memset, in blocks of PAR_MIN across threads; other values are a
 * vector loop (-O2's cheap vectorizer left the plain loop scalar: a third of a step's fills). */
void cpu_op_fill(Tensor *y, float value) {
    float *ys = y->data;
    const int64_t n = y->count;
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if (bits == 0) {
        const int64_t blocks = (n + PAR_MIN - 1) / PAR_MIN;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && blocks > 1)
        for (int64_t k = 0; k < blocks; k++) {
            const int64_t i0 = k * PAR_MIN, m = n - i0 < PAR_MIN ? n - i0 : PAR_MIN;
            memset(ys + i0, 0, sizeof(float) * (size_t)m);
        }
        return;
    }
#pragma omp parallel for simd schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] = value;
}

int op_copy_check(const Tensor *x, Tensor *y) {
    require_device("op_copy", x);
    require_device("op_copy", y);
    require_same_count("op_copy", x, y);
    return ops_device("op_copy", x, y);
}

void cpu_op_copy(const Tensor *x, Tensor *y) {
    if (x->data != y->data && x->count) memmove(y->data, x->data, sizeof(float) * (size_t)x->count);
}

int op_add_check(const Tensor *a, const Tensor *b, Tensor *y) {
    require_device("op_add", a);
    require_device("op_add", b);
    require_device("op_add", y);
    require_same_count("op_add", a, b);
    require_same_count("op_add", a, y);
    return ops_device("op_add", a, b, y);
}

void cpu_op_add(const Tensor *a, const Tensor *b, Tensor *y) {
    const float *as = a->data, *bs = b->data;
    float *ys = y->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] = as[i] + bs[i];
}

int op_axpy_check(float alpha, const Tensor *x, Tensor *y) {
    (void)alpha; /* not checked */
    require_device("op_axpy", x);
    require_device("op_axpy", y);
    require_same_count("op_axpy", x, y);
    return ops_device("op_axpy", x, y);
}

void cpu_op_axpy(float alpha, const Tensor *x, Tensor *y) {
    const float *xs = x->data;
    float *ys = y->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] += alpha * xs[i];
}

int op_scale_check(Tensor *y, float alpha) {
    (void)alpha; /* not checked */
    require_device("op_scale", y);
    return ops_device("op_scale", y);
}

void cpu_op_scale(Tensor *y, float alpha) {
    float *ys = y->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] *= alpha;
}

int op_mul_check(const Tensor *a, const Tensor *b, Tensor *y) {
    require_device("op_mul", a);
    require_device("op_mul", b);
    require_device("op_mul", y);
    require_same_count("op_mul", a, b);
    require_same_count("op_mul", a, y);
    return ops_device("op_mul", a, b, y);
}

void cpu_op_mul(const Tensor *a, const Tensor *b, Tensor *y) {
    const float *as = a->data, *bs = b->data;
    float *ys = y->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] = as[i] * bs[i];
}

/* Elements per sample of the outer axis; aborts on shape mismatch. */
static int64_t per_sample(const char *op, const Tensor *ref, const Tensor *other) {
    if (!other) return 0;
    require_device(op, other);
    require_same_shape(op, ref, other);
    if (ref->ndim < 1) rr_die("%s: tensors need an outer (sample) axis", op);
    return ref->shape[0] ? ref->count / ref->shape[0] : 0;
}

int op_select_samples_check(const unsigned char *use_a, const Tensor *a, const Tensor *b, Tensor *y) {
    (void)use_a; /* not checked */
    const char *op = "op_select_samples";
    require_device(op, y);
    per_sample(op, y, a);
    per_sample(op, y, b);
    return ops_device("op_select_samples", a, b, y);
}

void cpu_op_select_samples(const unsigned char *use_a, const Tensor *a, const Tensor *b, Tensor *y) {
    const int64_t m = b && y->shape[0] ? y->count / y->shape[0] : 0;
    for (int s = 0; s < y->shape[0]; s++) {
        const float *src = (use_a[s] ? a->data : b->data) + s * m;
        if (src != y->data + s * m) memmove(y->data + s * m, src, sizeof(float) * (size_t)m);
    }
}

int op_select_samples_backward_check(const unsigned char *use_a, const Tensor *dy, Tensor *da, Tensor *db) {
    (void)use_a; /* not checked */
    const char *op = "op_select_samples_backward";
    require_device(op, dy);
    if (dy->ndim < 1) rr_die("%s: tensors need an outer (sample) axis", op);
    per_sample(op, dy, da);
    per_sample(op, dy, db);
    return ops_device("op_select_samples_backward", dy, da, db);
}

void cpu_op_select_samples_backward(const unsigned char *use_a, const Tensor *dy, Tensor *da, Tensor *db) {
    const int64_t m = dy->shape[0] ? dy->count / dy->shape[0] : 0;
    for (int s = 0; s < dy->shape[0]; s++) {
        Tensor *dst = use_a[s] ? da : db;
        if (!dst) continue;
        float *d = dst->data + s * m;
        const float *g = dy->data + s * m;
        for (int64_t i = 0; i < m; i++) d[i] += g[i];
    }
}

int op_sum_squares_check(const Tensor *x) {
    require_device("op_sum_squares", x);
    return ops_device("op_sum_squares", x);
}

double cpu_op_sum_squares(const Tensor *x) {
    double acc = 0.0;
    for (int64_t i = 0; i < x->count; i++) acc += (double)x->data[i] * x->data[i];
    return acc;
}

int op_sum_squares_many_check(const Tensor *const *xs, int n) {
    const char *op = "op_sum_squares_many";
    if (n < 0) rr_die("%s: %d tensors", op, n);
    int device = RR_CPU;
    for (int i = 0; i < n; i++) {
        require_device(op, xs[i]);
        const int d = ops_device(op, xs[0], xs[i]);
        if (i == 0) device = d;
    }
    return device;
}

double cpu_op_sum_squares_many(const Tensor *const *xs, int n) {
    double acc = 0.0;
    for (int i = 0; i < n; i++) acc += cpu_op_sum_squares(xs[i]);
    return acc;
}

int op_to_host_check(const Tensor *x, float *host) {
    (void)host; /* not checked */
    require_device("op_to_host", x);
    return ops_device("op_to_host", x);
}

void cpu_op_to_host(const Tensor *x, float *host) {
    if (x->count) memcpy(host, x->data, sizeof(float) * (size_t)x->count);
}

int op_from_host_check(const float *host, Tensor *y) {
    (void)host; /* not checked */
    require_device("op_from_host", y);
    return ops_device("op_from_host", y);
}

void cpu_op_from_host(const float *host, Tensor *y) {
    if (y->count) memcpy(y->data, host, sizeof(float) * (size_t)y->count);
}

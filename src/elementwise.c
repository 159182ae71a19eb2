/* elementwise.c — elementwise arithmetic on tensors of equal element count (fill, copy, add, axpy,
 * scale, mul), the per-sample select of scheduled sampling and its backward, a double-accumulated
 * sum of squares, and host <-> tensor copies. Outputs may alias inputs. */
#include <string.h>

#include "ops_internal.h"

#ifdef RR_USE_CBLAS
#include <cblas.h>
#endif

#define PAR_MIN 65536 /* elements below which a loop stays on one thread */

int ops_use_openmp(void) {
#ifdef RR_USE_CBLAS
    return openblas_get_parallel() != OPENBLAS_THREAD; /* 0 sequential, 1 pthreads, 2 OpenMP */
#else
    return 1; /* the builtin sgemm itself runs on OpenMP */
#endif
}

void op_fill(Tensor *y, float value) {
    require_device("op_fill", y);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_fill", y)) {
        op_fill_cuda(y, value);
        return;
    }
#endif
    float *ys = y->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] = value;
}

void op_copy(const Tensor *x, Tensor *y) {
    require_device("op_copy", x);
    require_device("op_copy", y);
    require_same_count("op_copy", x, y);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_copy", x, y)) {
        op_copy_cuda(x, y);
        return;
    }
#endif
    if (x->data != y->data && x->count) memmove(y->data, x->data, sizeof(float) * (size_t)x->count);
}

void op_add(const Tensor *a, const Tensor *b, Tensor *y) {
    require_device("op_add", a);
    require_device("op_add", b);
    require_device("op_add", y);
    require_same_count("op_add", a, b);
    require_same_count("op_add", a, y);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_add", a, b, y)) {
        op_add_cuda(a, b, y);
        return;
    }
#endif
    const float *as = a->data, *bs = b->data;
    float *ys = y->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] = as[i] + bs[i];
}

void op_axpy(float alpha, const Tensor *x, Tensor *y) {
    require_device("op_axpy", x);
    require_device("op_axpy", y);
    require_same_count("op_axpy", x, y);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_axpy", x, y)) {
        op_axpy_cuda(alpha, x, y);
        return;
    }
#endif
    const float *xs = x->data;
    float *ys = y->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] += alpha * xs[i];
}

void op_scale(Tensor *y, float alpha) {
    require_device("op_scale", y);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_scale", y)) {
        op_scale_cuda(y, alpha);
        return;
    }
#endif
    float *ys = y->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) ys[i] *= alpha;
}

void op_mul(const Tensor *a, const Tensor *b, Tensor *y) {
    require_device("op_mul", a);
    require_device("op_mul", b);
    require_device("op_mul", y);
    require_same_count("op_mul", a, b);
    require_same_count("op_mul", a, y);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_mul", a, b, y)) {
        op_mul_cuda(a, b, y);
        return;
    }
#endif
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

void op_select_samples(const unsigned char *use_a, const Tensor *a, const Tensor *b, Tensor *y) {
    const char *op = "op_select_samples";
    require_device(op, y);
    per_sample(op, y, a);
    const int64_t m = per_sample(op, y, b);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_select_samples", a, b, y)) {
        op_select_samples_cuda(use_a, a, b, y);
        return;
    }
#endif
    for (int s = 0; s < y->shape[0]; s++) {
        const float *src = (use_a[s] ? a->data : b->data) + s * m;
        if (src != y->data + s * m) memmove(y->data + s * m, src, sizeof(float) * (size_t)m);
    }
}

void op_select_samples_backward(const unsigned char *use_a, const Tensor *dy, Tensor *da, Tensor *db) {
    const char *op = "op_select_samples_backward";
    require_device(op, dy);
    if (dy->ndim < 1) rr_die("%s: tensors need an outer (sample) axis", op);
    per_sample(op, dy, da);
    per_sample(op, dy, db);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_select_samples_backward", dy, da, db)) {
        op_select_samples_backward_cuda(use_a, dy, da, db);
        return;
    }
#endif
    const int64_t m = dy->shape[0] ? dy->count / dy->shape[0] : 0;
    for (int s = 0; s < dy->shape[0]; s++) {
        Tensor *dst = use_a[s] ? da : db;
        if (!dst) continue;
        float *d = dst->data + s * m;
        const float *g = dy->data + s * m;
        for (int64_t i = 0; i < m; i++) d[i] += g[i];
    }
}

double op_sum_squares(const Tensor *x) {
    require_device("op_sum_squares", x);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_sum_squares", x)) return op_sum_squares_cuda(x);
#endif
    double acc = 0.0;
    for (int64_t i = 0; i < x->count; i++) acc += (double)x->data[i] * x->data[i];
    return acc;
}

void op_to_host(const Tensor *x, float *host) {
    require_device("op_to_host", x);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_to_host", x)) {
        op_to_host_cuda(x, host);
        return;
    }
#endif
    if (x->count) memcpy(host, x->data, sizeof(float) * (size_t)x->count);
}

void op_from_host(const float *host, Tensor *y) {
    require_device("op_from_host", y);
#ifdef RR_USE_CUDA
    if (ops_on_cuda("op_from_host", y)) {
        op_from_host_cuda(host, y);
        return;
    }
#endif
    if (y->count) memcpy(y->data, host, sizeof(float) * (size_t)y->count);
}

/* tensor.c — tensor views (shape bookkeeping only, no ownership) and the one-allocation-per-model
 * arena that hands them out (see tensor.h for the plan / allocate / rewind protocol). */
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "device.h"

#define ARENA_ALIGN 64 /* bytes: cache line, and enough for any SIMD load */

Tensor tensor_make(float *data, int device, int ndim, const int *shape) {
    if (ndim < 0 || ndim > RR_MAX_DIMS) rr_die("tensor_make: ndim %d is outside 0..%d", ndim, RR_MAX_DIMS);
    Tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.device = device;
    t.ndim = ndim;
    t.count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) rr_die("tensor_make: negative size %d on axis %d", shape[i], i);
        t.shape[i] = shape[i];
        t.count *= shape[i];
    }
    return t;
}

Tensor tensor4(float *data, int device, int n, int c, int h, int w) {
    int shape[4] = {n, c, h, w};
    return tensor_make(data, device, 4, shape);
}

Tensor tensor1(float *data, int device, int n) { return tensor_make(data, device, 1, &n); }

Tensor tensor_slice0(const Tensor *t, int first, int count) {
    char buf[96];
    if (t->ndim < 1 || first < 0 || count < 0 || first > t->shape[0] - count)
        rr_die("tensor_slice0: items [%d, %d) out of range for %s", first, first + count,
               tensor_shape_str(t, buf, sizeof buf));
    int64_t inner = 1;
    for (int i = 1; i < t->ndim; i++) inner *= t->shape[i];
    Tensor s = *t;
    s.shape[0] = count;
    s.count = inner * count;
    s.data = t->data ? t->data + inner * first : NULL;
    return s;
}

Tensor tensor_reshape(const Tensor *t, int ndim, const int *shape) {
    Tensor r = tensor_make(t->data, t->device, ndim, shape);
    if (r.count != t->count) {
        char a[96], b[96];
        rr_die("tensor_reshape: %s (%lld elements) cannot become %s (%lld)", tensor_shape_str(t, a, sizeof a),
               (long long)t->count, tensor_shape_str(&r, b, sizeof b), (long long)r.count);
    }
    return r;
}

int tensor_same_shape(const Tensor *a, const Tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

const char *tensor_shape_str(const Tensor *t, char *buf, size_t n) {
    if (!buf || n == 0) return "";
    size_t used = 0;
    int w = snprintf(buf, n, "(");
    used = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < t->ndim && used < n; i++) {
        w = snprintf(buf + used, n - used, i ? ", %d" : "%d", t->shape[i]);
        if (w > 0) used += (size_t)w;
    }
    if (used < n) snprintf(buf + used, n - used, t->ndim == 1 ? ",)" : ")");
    return buf;
}

/* ------------------------------------------------------------------------------------------------ */

void arena_init_plan(Arena *a, int device) {
    memset(a, 0, sizeof *a);
    a->device = device;
}

int arena_allocate(Arena *a) {
    if (a->base) return rr_error("arena: already allocated (%zu bytes)", a->size);
    if (a->device != RR_CPU && !(a->device == RR_CUDA && device_cuda_compiled()))
        return rr_error("arena: device %d is not available in this build (CPU only)", a->device);
    void *p = NULL; /* zeroed memory on the device (device.c) */
    if (device_alloc_zeroed(a->device, a->size ? a->size : ARENA_ALIGN, &p)) return -1;
    a->base = p;
    a->used = 0;
    return 0;
}

void arena_rewind(Arena *a) { a->used = 0; }

float *arena_take(Arena *a, int64_t count) {
    if (count < 0) rr_die("arena_take: negative count %lld", (long long)count);
    size_t bytes = ((size_t)count * sizeof(float) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    size_t at = a->used;
    if (!a->base) { /* planning: count only */
        a->used += bytes;
        if (a->used > a->size) a->size = a->used;
        return NULL;
    }
    if (at + bytes > a->size)
        rr_die("arena_take: %zu bytes requested at offset %zu exceed the planned %zu (calls differ "
               "from the planning pass)", bytes, at, a->size);
    a->used += bytes;
    return (float *)(a->base + at);
}

Tensor arena_tensor(Arena *a, int ndim, const int *shape) {
    Tensor t = tensor_make(NULL, a->device, ndim, shape);
    t.data = arena_take(a, t.count);
    return t;
}

Tensor arena_tensor4(Arena *a, int n, int c, int h, int w) {
    int shape[4] = {n, c, h, w};
    return arena_tensor(a, 4, shape);
}

void arena_free(Arena *a) {
    if (a->base) device_free(a->device, a->base);
    a->base = NULL;
    a->size = a->used = 0;
}

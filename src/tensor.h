/* tensor.h — the tensor handle every op takes, and the arena that holds a model's memory.
 *
 * A Tensor is a view: it does not own its memory. `device` says where `data` lives (RR_CPU or
 * RR_CUDA); model code never dereferences `data` itself — only ops do — so the same model code runs on
 * either backend. Layout is always contiguous row-major (C order), images NCHW.
 *
 * An Arena is one allocation per model and batch size: the model first "plans" (arena_reserve with
 * base == NULL just counts bytes), then allocates once, then hands out views in the same order. Nothing
 * is allocated inside the time loop. */
#ifndef RNNREG_TENSOR_H
#define RNNREG_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define RR_MAX_DIMS 5

enum { RR_CPU = 0, RR_CUDA = 1 };

typedef struct {
    float *data;
    int64_t count;             /* product of shape */
    int ndim;
    int shape[RR_MAX_DIMS];
    int device;                /* RR_CPU or RR_CUDA */
} Tensor;

/* A view of `data` with the given shape (ndim ≤ 5). */
Tensor tensor_make(float *data, int device, int ndim, const int *shape);
Tensor tensor4(float *data, int device, int n, int c, int h, int w);
Tensor tensor1(float *data, int device, int n);
/* Sub-tensor of the outermost axis: items [first, first + count) of shape[0]. */
Tensor tensor_slice0(const Tensor *t, int first, int count);
/* Channel block of an NCHW tensor is not contiguous for N > 1, so it is not a view; use ops instead.
 * Same data, other shape (counts must agree; aborts otherwise — a programming error). */
Tensor tensor_reshape(const Tensor *t, int ndim, const int *shape);
int tensor_same_shape(const Tensor *a, const Tensor *b);
/* "(2, 64, 16, 16)" into buf. */
const char *tensor_shape_str(const Tensor *t, char *buf, size_t n);

typedef struct {
    char *base;      /* NULL while planning */
    size_t size;     /* bytes reserved (planning) / allocated */
    size_t used;
    int device;
} Arena;

/* Planning pass: base NULL, arena_take only counts. Then arena_allocate, arena_rewind, same calls. */
void arena_init_plan(Arena *a, int device);
int arena_allocate(Arena *a);          /* allocate `size` bytes on the device, zeroed; -1 on failure */
void arena_rewind(Arena *a);           /* used = 0: hand out the same views again */
float *arena_take(Arena *a, int64_t count); /* 64-byte aligned; NULL data while planning */
Tensor arena_tensor(Arena *a, int ndim, const int *shape);
Tensor arena_tensor4(Arena *a, int n, int c, int h, int w);
void arena_free(Arena *a);

#endif

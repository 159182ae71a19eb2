/* safetensors.h — reading and writing safetensors files of float32 tensors and int64 scalars
 * (model checkpoints; PyTorch's BatchNorm num_batches_tracked is an int64 scalar).
 * Format (huggingface/safetensors README and safetensors/src/tensor.rs): 8-byte little-endian u64 N,
 * N bytes of UTF-8 JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {str: str}} padded with spaces, then the byte buffer; offsets are relative to the
 * buffer start, and the tensors sorted by offset tile the buffer exactly (no gaps, no overlaps). */
#ifndef RNNREG_SAFETENSORS_H
#define RNNREG_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_DIMS 8

typedef struct {
    const char *name;
    int ndim;                   /* 0 = scalar */
    int64_t shape[ST_MAX_DIMS];
    int64_t count;              /* number of elements (set by st_load; st_save derives it from shape) */
    float *data;                /* [count], C order */
} StTensor;

typedef struct {
    const char *name;
    int64_t value;              /* an I64 tensor of shape () */
} StI64;

typedef struct {
    int n;                      /* tensors, in file (offset) order */
    StTensor *tensors;
    int n_i64;                  /* I64 scalars, in file order (not in tensors) */
    StI64 *i64;
    int n_meta;                 /* "__metadata__" entries, in header order */
    char **meta_keys, **meta_values;
    void *buf;                  /* internal: the file contents, tensors point into it */
    size_t buf_len;
} StFile;

/* Write n F32 tensors and n_meta string pairs to path atomically (temp file + rename), as the
 * reference serializer does: compact JSON, "__metadata__" first, tensors sorted by name and stored
 * in that order, header padded with spaces to a multiple of 8 bytes. Names must be distinct and not
 * "__metadata__"; metadata keys must be distinct. */
int st_save(const char *path, const StTensor *tensors, int n, int n_meta, const char *const *meta_keys,
            const char *const *meta_values);
/* The same with n_i64 I64 scalars besides the F32 tensors (all names distinct, all sorted together). */
int st_save_i64(const char *path, const StTensor *tensors, int n, const StI64 *ints, int n_i64, int n_meta,
                const char *const *meta_keys, const char *const *meta_values);

/* Read and validate the whole file (header size, UTF-8 JSON, fields, dtype sizes against offsets,
 * tiling of the buffer, duplicate names). Only F32 tensors and I64 scalars (shape ()) are accepted. On failure returns -1 with
 * one error line naming path and the problem, and *f is left empty. */
int st_load(const char *path, StFile *f);
const StTensor *st_find(const StFile *f, const char *name); /* NULL if absent (or not F32) */
const StI64 *st_find_i64(const StFile *f, const char *name); /* NULL if absent (or not an I64 scalar) */
const char *st_meta(const StFile *f, const char *key);      /* NULL if absent */
void st_free(StFile *f);

#endif

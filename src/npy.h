/* npy.h — NumPy .npy files (format versions 1.0 and 2.0; uint8 and float32; C order): reading by
 * memory map, writing atomically (temp file + rename).
 * Spec: numpy/lib/format.py docstring ("The .npy format"). */
#ifndef RNNREG_NPY_H
#define RNNREG_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8

typedef enum { NPY_U8 = 1, NPY_F32 = 2 } NpyDtype;

typedef struct {
    NpyDtype dtype;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    int64_t count;   /* number of elements */
    void *data;      /* element 0 (inside the read-only map, or owned memory) */
    size_t nbytes;   /* count * element size */
    void *map_base;  /* internal: mmap base (NULL when data is owned) */
    size_t map_len;  /* internal */
} NpyArray;

/* Map path read-only and parse its header. On a malformed file (bad magic, unsupported version,
 * truncated header or data, unsupported dtype, Fortran order, bad shape) returns -1 with one error
 * line naming path and the problem. */
int npy_load(const char *path, NpyArray *a);
void npy_free(NpyArray *a);

/* Check a loaded array against an expected shape (-1 = any size on that axis) and dtype (0 = any).
 * On mismatch: -1 with "<path>: shape (a, b, c) but expected (x, y, z)" or a dtype message. */
int npy_expect(const NpyArray *a, const char *path, NpyDtype dtype, int ndim, const int64_t *shape);

/* "<ndim>D <dtype> <shape>" of a loaded array, e.g. "3D float32 (2, 3, 4)", into out (cap bytes);
 * returns out. Take it before npy_free, which clears the array. */
char *npy_describe(const NpyArray *a, char *out, size_t cap);

/* Write an array (header version 1.0, or 2.0 when the header needs it) to path atomically. */
int npy_save(const char *path, NpyDtype dtype, int ndim, const int64_t *shape, const void *data);

/* The header npy_save writes (magic through the final '\n'; byte-identical to numpy's, its length a
 * multiple of 64) as a malloc'd buffer in *out of *len bytes. major: 1 or 2 forces that version,
 * 0 picks 1.0 unless the header needs 2.0. (npy_expect also takes ndim -1 = any, shape NULL = any.) */
int npy_format_header(NpyDtype dtype, int ndim, const int64_t *shape, int major, char **out, size_t *len);

size_t npy_dtype_size(NpyDtype dtype);
const char *npy_dtype_name(NpyDtype dtype); /* "uint8" / "float32" */

#endif

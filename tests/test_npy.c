/* test_npy.c — .npy reading and writing against files numpy wrote (tests/fixtures/format_*.npy from
 * tests/reference/make_format_fixtures.py): values, shapes, byte-identical headers, round trips,
 * every malformed-file error, truncation/byte-flip fuzzing, and atomic failed writes; bad input and
 * faults (a FIFO, escape sequences in a header, the loader's message, a symlink planted at a
 * temp name, stale-temp cleanup beside a live writer). Also writes
 * $BUILD/tests/npy_roundtrip*.npy for tests/test_formats_python.sh to read with numpy. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "loader.h"
#include "npy.h"
#include "test.h"
#include "test_files.h"

#define FIX "tests/fixtures/"

/* The closed forms of make_format_fixtures.py. */
static uint8_t U(int64_t i) { return (uint8_t)((7 * i + 3) % 256); }
static float F(int64_t i) { return (float)(((37 * i) % 101 - 50) / 8.0); }

static void fill_u8(uint8_t *x, int64_t n) { for (int64_t i = 0; i < n; i++) x[i] = U(i); }
static void fill_f32(float *x, int64_t n) { for (int64_t i = 0; i < n; i++) x[i] = F(i); }

static int file_bytes(const char *path, char **data, size_t *n) { return rr_read_file(path, data, n); }

static int same_files(const char *a, const char *b) {
    char *x, *y;
    size_t nx, ny;
    if (file_bytes(a, &x, &nx)) return 0;
    if (file_bytes(b, &y, &ny)) { free(x); return 0; }
    int same = nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

static int shape_is(const NpyArray *a, int ndim, const int64_t *shape) {
    if (a->ndim != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (a->shape[i] != shape[i]) return 0;
    return 1;
}

/* Load a fixture and compare every value with the closed form. */
static void check_fixture(const char *name, NpyDtype dtype, int ndim, const int64_t *shape, int64_t count) {
    char path[256];
    snprintf(path, sizeof path, FIX "%s", name);
    NpyArray a;
    int rc = npy_load(path, &a);
    CHECK(rc == 0, "%s loads (%s)", name, rc ? rr_last_error() : "ok");
    if (rc) return;
    CHECK(a.dtype == dtype && shape_is(&a, ndim, shape) && a.count == count &&
              a.nbytes == (size_t)count * npy_dtype_size(dtype),
          "%s: dtype %s, ndim %d, count %lld", name, npy_dtype_name(a.dtype), a.ndim, (long long)a.count);
    int64_t bad = -1;
    if (dtype == NPY_U8) {
        const uint8_t *x = a.data;
        for (int64_t i = 0; i < count && bad < 0; i++)
            if (x[i] != U(i)) bad = i;
    } else {
        CHECK(((uintptr_t)a.data % 4) == 0, "%s: float data is 4-byte aligned", name);
        const float *x = a.data;
        for (int64_t i = 0; i < count && bad < 0; i++)
            if (x[i] != F(i)) bad = i;
    }
    CHECK(bad < 0, "%s: all %lld values equal the closed form (first bad %lld)", name, (long long)count, (long long)bad);
    npy_free(&a);
    CHECK(a.data == NULL && a.map_base == NULL, "%s: npy_free clears the array", name);
}

/* Write our version of a fixture's array and compare the whole file with numpy's. */
static void check_identical(const char *name, NpyDtype dtype, int ndim, const int64_t *shape, int64_t count,
                            int major) {
    void *data = rr_malloc((size_t)(count ? count : 1) * npy_dtype_size(dtype));
    if (dtype == NPY_U8) fill_u8(data, count);
    else fill_f32(data, count);
    char fix[256];
    snprintf(fix, sizeof fix, FIX "%s", name);
    if (major == 1) {
        int rc = npy_save(tmp("npy_same.npy"), dtype, ndim, shape, data);
        CHECK(rc == 0 && same_files(fix, tmp("npy_same.npy")), "%s: npy_save output is byte-identical to numpy's file", name);
    }
    char *h, *file;
    size_t hlen, flen;
    int ok = npy_format_header(dtype, ndim, shape, major, &h, &hlen) == 0 && file_bytes(fix, &file, &flen) == 0;
    CHECK(ok && hlen <= flen && memcmp(h, file, hlen) == 0 && hlen % 64 == 0 && h[hlen - 1] == '\n' &&
              flen - hlen == (size_t)count * npy_dtype_size(dtype),
          "%s: version %d.0 header (%zu bytes) is byte-identical to numpy's", name, major, ok ? hlen : 0);
    if (ok) {
        free(h);
        free(file);
    }
    free(data);
}

/* Write a version-1.0 file whose header dict is `dict` (padded to 64 with spaces and '\n'), followed
 * by ndata bytes of data. */
static const char *write_raw(const char *name, int major, int minor, const char *dict, size_t ndata) {
    const char *path = tmp(name);
    size_t prefix = major == 1 ? 10 : 12, n = strlen(dict);
    size_t hlen = n + 1 + (64 - (prefix + n + 1) % 64) % 64;
    size_t total = prefix + hlen + ndata;
    unsigned char *b = rr_calloc(total, 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = (unsigned char)minor;
    for (size_t i = 0; i < prefix - 8; i++) b[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + prefix, dict, n);
    memset(b + prefix + n, ' ', hlen - n - 1);
    b[prefix + hlen - 1] = '\n';
    put_file(path, b, total);
    free(b);
    return path;
}

static void expect_fail(const char *path, const char *word, const char *what) {
    NpyArray a;
    int rc = npy_load(path, &a);
    const char *msg = rr_last_error();
    int ok = rc == -1 && strstr(msg, path) && strstr(msg, word) && !strchr(msg, '\n') && a.data == NULL;
    CHECK(ok, "malformed: %s -> -1 with \"%s\" and the file name", what, word);
    if (!ok) printf("    rc %d, message: \"%s\"\n", rc, msg);
    else printf("    (%s)\n", msg);
    if (rc == 0) npy_free(&a);
}

static void test_malformed(void) {
    const char *good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    NpyArray a;
    CHECK(npy_load(write_raw("npy_good.npy", 1, 0, good, 24), &a) == 0, "the hand-made base file loads");
    npy_free(&a);
    CHECK(npy_load(write_raw("npy_good2.npy", 2, 0, good, 24), &a) == 0 && a.count == 6, "the hand-made 2.0 base file loads");
    npy_free(&a);

    expect_fail(tmp("npy_no_such_file.npy"), "cannot open", "missing file");
    expect_fail(test_dir, "not a regular file", "a directory");
    put_file(tmp("npy_empty.npy"), "", 0);
    expect_fail(tmp("npy_empty.npy"), "truncated", "empty file");
    put_file(tmp("npy_text.npy"), "hello world, not numpy\n", 23);
    expect_fail(tmp("npy_text.npy"), "bad magic", "text file");
    expect_fail(write_raw("npy_v4.npy", 4, 0, good, 24), "unsupported version", "version 4.0");
    expect_fail(write_raw("npy_v11.npy", 1, 1, good, 24), "unsupported version", "version 1.1");
    {
        char *b;
        size_t n;
        if (file_bytes(tmp("npy_good.npy"), &b, &n) == 0) {
            put_file(tmp("npy_trunc_hdr.npy"), b, 40);
            expect_fail(tmp("npy_trunc_hdr.npy"), "truncated header", "file cut inside the header");
            put_file(tmp("npy_trunc_data.npy"), b, n - 1);
            expect_fail(tmp("npy_trunc_data.npy"), "truncated data", "data one byte short");
            free(b);
        }
    }
    expect_fail(write_raw("npy_list.npy", 1, 0, "['descr', 'shape']", 24), "not a dict", "header is a list");
    expect_fail(write_raw("npy_junk.npy", 1, 0, "descr = '<f4'", 24), "not a dict", "header is not Python");
    expect_fail(write_raw("npy_noshape.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False}", 24), "missing key 'shape'", "no 'shape'");
    expect_fail(write_raw("npy_nodescr.npy", 1, 0, "{'fortran_order': False, 'shape': (6,)}", 24), "missing key 'descr'", "no 'descr'");
    expect_fail(write_raw("npy_extra.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", 24),
                "unexpected key", "extra key");
    expect_fail(write_raw("npy_dupkey.npy", 1, 0, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", 24),
                "duplicate key", "duplicate key");
    expect_fail(write_raw("npy_unclosed.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)", 24),
                "malformed header", "unclosed dict");
    expect_fail(write_raw("npy_f8.npy", 1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 24), "unsupported dtype", "'<f8'");
    expect_fail(write_raw("npy_be.npy", 1, 0, "{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", 24), "unsupported dtype", "'>f4' (big-endian)");
    expect_fail(write_raw("npy_bool.npy", 1, 0, "{'descr': '|b1', 'fortran_order': False, 'shape': (24,), }", 24), "unsupported dtype", "'|b1'");
    expect_fail(write_raw("npy_struct.npy", 1, 0, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", 24),
                "unsupported dtype", "structured dtype");
    expect_fail(write_raw("npy_fortran.npy", 1, 0, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24), "fortran_order", "Fortran order");
    expect_fail(write_raw("npy_fortran_bad.npy", 1, 0, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", 24), "fortran_order", "fortran_order 0");
    expect_fail(write_raw("npy_neg.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 24), "negative dimension", "negative dimension");
    expect_fail(write_raw("npy_bigdim.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 24),
                "overflow", "dimension over int64");
    expect_fail(write_raw("npy_bigprod.npy", 1, 0, "{'descr': '<u1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 24),
                "overflow", "element count over int64");
    expect_fail(write_raw("npy_bigbytes.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2305843009213693952, 2), }", 24),
                "overflows the byte count", "byte count over size_t");
    expect_fail(write_raw("npy_hugedata.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", 24),
                "truncated data", "shape far larger than the file");
    expect_fail(write_raw("npy_notuple.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", 24), "not a tuple", "shape (6)");
    expect_fail(write_raw("npy_list_shape.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", 24), "not a tuple", "shape [2, 3]");
    expect_fail(write_raw("npy_float_shape.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5, 3), }", 24), "malformed header", "shape (2.5, 3)");
    expect_fail(write_raw("npy_9dims.npy", 1, 0, "{'descr': '<u1', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 24),
                "more than 8 dimensions", "9 dimensions");
    expect_fail(write_raw("npy_trailing.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x", 24),
                "trailing characters", "text after the dict");

    /* Accepted variants: 3.0 header, extra data bytes after the array (numpy ignores them too). */
    CHECK(npy_load(write_raw("npy_v3.npy", 3, 0, good, 24), &a) == 0 && a.count == 6, "version 3.0 header loads");
    npy_free(&a);
    CHECK(npy_load(write_raw("npy_extra_data.npy", 1, 0, good, 30), &a) == 0 && a.count == 6, "trailing bytes after the data are ignored");
    npy_free(&a);
}

/* Cut a valid file at every length and flip every byte: never a crash; errors name the file. */
/* fuzz_file's reader: npy_load, then read every byte the header describes (ASan catches a read outside). */
static int fuzz_load(const char *path, size_t file_size) {
    NpyArray a;
    if (npy_load(path, &a) != 0) return -1;
    int out = a.nbytes > file_size;
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < a.nbytes && !out; i++) sink ^= ((unsigned char *)a.data)[i];
    (void)sink;
    npy_free(&a);
    return out;
}

static void fuzz(const char *src, const char *label) {
    static const unsigned char vals[] = {0, 0xFF, ' ', '(', ')', ',', '\'', '9', '-', '}', '\n', 'L'};
    char *b;
    size_t n;
    if (file_bytes(src, &b, &n)) {
        CHECK(0, "fuzz %s: read %s", label, src);
        return;
    }
    fuzz_file(label, b, n, tmp("npy_fuzz.npy"), vals, sizeof vals, fuzz_load);
    free(b);
}

static void test_expect(void) {
    NpyArray a;
    if (npy_load(FIX "format_u8_4d_v1.npy", &a)) {
        CHECK(0, "npy_expect: fixture loads");
        return;
    }
    const char *p = "some/file.npy";
    int64_t right[4] = {2, 3, 4, 5}, wild[4] = {2, -1, 4, -1}, wrong[4] = {2, 3, 4, 6};
    CHECK(npy_expect(&a, p, NPY_U8, 4, right) == 0, "npy_expect: exact shape and dtype pass");
    CHECK(npy_expect(&a, p, 0, 4, wild) == 0, "npy_expect: -1 axes and dtype 0 match anything");
    CHECK(npy_expect(&a, p, NPY_U8, -1, NULL) == 0, "npy_expect: ndim -1 skips the shape check");
    CHECK(npy_expect(&a, p, NPY_U8, 4, wrong) == -1, "npy_expect: wrong size fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "some/file.npy: shape (2, 3, 4, 5) but expected (2, 3, 4, 6)", "npy_expect: shape message");
    CHECK(npy_expect(&a, p, NPY_U8, 3, right) == -1, "npy_expect: wrong ndim fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "shape (2, 3, 4, 5) but expected (2, 3, 4)", "npy_expect: ndim message");
    CHECK(npy_expect(&a, p, NPY_U8, 4, wild) == 0 && npy_expect(&a, p, NPY_F32, 4, wild) == -1, "npy_expect: wrong dtype fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "some/file.npy: dtype uint8 but expected float32", "npy_expect: dtype message");
    int64_t one[1] = {7};
    CHECK(npy_expect(&a, p, NPY_U8, 1, one) == -1, "npy_expect: 1-D expectation fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "expected (7,)", "npy_expect: 1-tuple printed as (7,)");
    npy_free(&a);
}

static void test_roundtrip(void) {
    /* float32 (2, 3, 4) and uint8 (3, 5): also read by tests/test_formats_python.sh with numpy. */
    int64_t fs[3] = {2, 3, 4}, us[2] = {3, 5};
    float fx[24];
    uint8_t ux[15];
    fill_f32(fx, 24);
    fill_u8(ux, 15);
    char rt_f[1024], rt_u[1024];
    snprintf(rt_f, sizeof rt_f, "%s/npy_roundtrip.npy", test_dir);
    snprintf(rt_u, sizeof rt_u, "%s/npy_roundtrip_u8.npy", test_dir);
    CHECK(npy_save(rt_f, NPY_F32, 3, fs, fx) == 0, "round trip: save float32 (2, 3, 4)");
    CHECK(npy_save(rt_u, NPY_U8, 2, us, ux) == 0, "round trip: save uint8 (3, 5)");
    NpyArray a;
    if (npy_load(rt_f, &a) == 0) {
        CHECK(a.dtype == NPY_F32 && shape_is(&a, 3, fs), "round trip: float32 shape");
        check_close_f32("round trip: float32 values", a.data, fx, 24, 0, 0);
        npy_free(&a);
    } else {
        CHECK(0, "round trip: load %s: %s", rt_f, rr_last_error());
    }
    if (npy_load(rt_u, &a) == 0) {
        CHECK(a.dtype == NPY_U8 && shape_is(&a, 2, us) && memcmp(a.data, ux, 15) == 0, "round trip: uint8 shape and values");
        npy_free(&a);
    } else {
        CHECK(0, "round trip: load %s: %s", rt_u, rr_last_error());
    }
    /* scalar and a larger random 4-D array */
    float s = -3.25f;
    CHECK(npy_save(tmp("npy_rt_scalar.npy"), NPY_F32, 0, NULL, &s) == 0 && npy_load(tmp("npy_rt_scalar.npy"), &a) == 0 &&
              a.ndim == 0 && a.count == 1 && *(float *)a.data == s,
          "round trip: float32 scalar");
    npy_free(&a);
    int64_t big[4] = {3, 7, 16, 16};
    int64_t nb = 3 * 7 * 16 * 16;
    float *x = rr_malloc((size_t)nb * sizeof *x);
    uint32_t st = 12345;
    for (int64_t i = 0; i < nb; i++) {
        st = st * 1664525u + 1013904223u;
        memcpy(&x[i], &st, 4); /* arbitrary bit patterns, NaNs included: compare bytes */
    }
    CHECK(npy_save(tmp("npy_rt_bits.npy"), NPY_F32, 4, big, x) == 0 && npy_load(tmp("npy_rt_bits.npy"), &a) == 0 &&
              shape_is(&a, 4, big) && memcmp(a.data, x, (size_t)nb * 4) == 0,
          "round trip: %lld arbitrary float32 bit patterns preserved", (long long)nb);
    npy_free(&a);
    free(x);
}

static void test_failed_write(void) {
    float x[2] = {1, 2};
    int64_t sh[1] = {2};
    const char *nodir = tmp("no_such_dir/x.npy");
    int rc = npy_save(nodir, NPY_F32, 1, sh, x);
    struct stat st;
    CHECK(rc == -1 && strstr(rr_last_error(), nodir) && stat(tmp("no_such_dir"), &st) != 0,
          "failed write into a missing directory: -1 naming the file, nothing created (%s)", rr_last_error());
    /* The target is a directory: the temp file is written, the rename fails, the temp is removed. */
    const char *target = tmp("npy_dir_target");
    rr_mkdir_p(target);
    rc = npy_save(target, NPY_F32, 1, sh, x);
    CHECK(rc == -1 && strstr(rr_last_error(), target) && count_tmp_leftovers(test_dir, "npy_dir_target") == 0,
          "failed rename onto a directory: -1, no temp file left behind (%s)", rr_last_error());
    CHECK(npy_save(tmp("npy_bad_dtype.npy"), (NpyDtype)7, 1, sh, x) == -1 && access(tmp("npy_bad_dtype.npy"), F_OK) != 0,
          "npy_save rejects an unknown dtype and writes nothing");
    int64_t neg[1] = {-2};
    CHECK(npy_save(tmp("npy_bad_shape.npy"), NPY_F32, 1, neg, x) == -1 && access(tmp("npy_bad_shape.npy"), F_OK) != 0,
          "npy_save rejects a negative dimension and writes nothing");
}

/* Regression tests of the faults that concern .npy reading and the atomic writer. */
static void test_faults(void) {
    /* A FIFO as the data file: refused at once, not waited on (open blocked until a writer came). */
    const char *fifo = tmp("npy_fifo.npy");
    unlink(fifo);
    if (mkfifo(fifo, 0600) == 0) {
        NpyArray a;
        hang_guard("npy_load of a FIFO", 10);
        int rc = npy_load(fifo, &a);
        hang_guard_off();
        CHECK(rc == -1 && strstr(rr_last_error(), fifo) && strstr(rr_last_error(), "not a regular file (a FIFO)"),
              "a FIFO is refused without blocking (%s)", rr_last_error());
        unlink(fifo);
    } else {
        SKIP("FIFO: mkfifo failed: %s", strerror(errno));
    }

    /* Escape sequences in header keys and descr reach the message escaped, not raw. */
    NpyArray a;
    int rc = npy_load(write_raw("npy_esc_key.npy", 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), '\x1b[2J\x1b]0;x\x07': 1}", 24), &a);
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && strstr(rr_last_error(), "unexpected key '\\x1b[2J\\x1b]0;x\\x07'"),
          "an unexpected header key is printed escaped (%s)", rr_last_error());
    rc = npy_load(write_raw("npy_esc_descr.npy", 1, 0, "{'descr': '\x1b[31m<f4', 'fortran_order': False, 'shape': (6,), }", 24), &a);
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && strstr(rr_last_error(), "unsupported dtype '\\x1b[31m<f4'"),
          "an unsupported descr is printed escaped (%s)", rr_last_error());

    /* The loader's message names the file and the real dtype and shape (it read them after npy_free). */
    LoaderConfig lc = {.n_train = 1, .n_val = 1, .n_test = 0, .batch = 1, .patch = 1};
    Loader L;
    int64_t f4[4] = {2, 3, 4, 5}, u3[3] = {4, 3, 8};
    float *fx = rr_calloc(120, sizeof *fx);
    uint8_t ux[96] = {0};
    const char *pf = tmp("npy_loader_f32.npy"), *pu = tmp("npy_loader_u8_3d.npy");
    if (npy_save(pf, NPY_F32, 4, f4, fx) == 0 && npy_save(pu, NPY_U8, 3, u3, ux) == 0) {
        rc = loader_open(&L, pf, &lc);
        CHECK(rc == -1 && strstr(rr_last_error(), pf) && strstr(rr_last_error(), "got 4D float32 (2, 3, 4, 5)"),
              "float32 data: the message names the file, float32 and (2, 3, 4, 5) (%s)", rr_last_error());
        if (rc == 0) loader_free(&L);
        rc = loader_open(&L, pu, &lc);
        CHECK(rc == -1 && strstr(rr_last_error(), pu) && strstr(rr_last_error(), "got 3D uint8 (4, 3, 8)"),
              "3-D data: the message names the file, uint8 and (4, 3, 8) (%s)", rr_last_error());
        if (rc == 0) loader_free(&L);
    } else {
        CHECK(0, "write the loader's test files: %s", rr_last_error());
    }
    free(fx);

    /* A symlink planted at the old predictable temp name "<out>.tmp.<pid>": never written through. */
    const char *out = tmp("npy_target.npy"), *victim = tmp("npy_victim.txt");
    char planted[1100];
    snprintf(planted, sizeof planted, "%s.tmp.%ld", out, (long)getpid());
    put_file(victim, "precious\n", 9);
    unlink(planted);
    unlink(out);
    if (symlink(victim, planted) == 0) {
        float x[3] = {1, 2, 3};
        int64_t sh[1] = {3};
        rc = npy_save(out, NPY_F32, 1, sh, x);
        char *v = NULL;
        size_t vn = 0;
        int victim_ok = rr_read_file(victim, &v, &vn) == 0 && vn == 9 && memcmp(v, "precious\n", 9) == 0;
        free(v);
        CHECK(rc == 0 && victim_ok, "a symlink planted at <out>.tmp.<pid> is not followed: its target is unchanged");
        CHECK(npy_load(out, &a) == 0 && a.count == 3 && ((float *)a.data)[2] == 3.0f, "... and the output is written in full");
        npy_free(&a);
        struct stat st;
        CHECK(lstat(planted, &st) == 0 && S_ISLNK(st.st_mode), "... and the planted link is left as it was (not ours)");
        unlink(planted);
    } else {
        SKIP("planted symlink: symlink failed: %s", strerror(errno));
    }

    /* The temp file's mode is 0666 less the umask, as fopen gave. */
    mode_t old = umask(027);
    rc = rr_write_file_atomic(tmp("npy_mode.txt"), "x", 1);
    umask(old);
    struct stat ms;
    CHECK(rc == 0 && stat(tmp("npy_mode.txt"), &ms) == 0 && (ms.st_mode & 0777) == 0640,
          "atomic output has mode 0666 & ~umask (umask 027 -> 0640, got %o)", rc ? 0 : (unsigned)(ms.st_mode & 0777));

    /* Stale-temp cleanup removes the temps of dead processes only: a live writer's temp is kept. */
    const char *cdir = tmp("npy_stale");
    rr_mkdir_p(cdir);
    DIR *dd = opendir(cdir); /* empty it: a previous run's files would count as removed */
    for (struct dirent *e; dd && (e = readdir(dd));) {
        char old_file[1200];
        snprintf(old_file, sizeof old_file, "%s/%s", cdir, e->d_name);
        if (e->d_name[0] != '.') unlink(old_file);
    }
    if (dd) closedir(dd);
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0); /* reaped: the pid no longer exists (until reused, which would keep the file: safe) */
    pid_t live = fork();
    if (live == 0) {
        pause();
        _exit(0);
    }
    char n_live[64], n_live_rnd[80], n_dead[64], n_dead_rnd[80], n_self[64], n_other[64], n_bad[64];
    char n_dead_host[200], n_far[200], host[41] = "", h[256] = "";
    /* this machine's tag as rr_atomic_open writes it: the host name, other characters as '-' */
    if (gethostname(h, sizeof h - 1) == 0)
        for (size_t i = 0, k = 0; h[i] && k < 40; i++, host[k] = 0)
            host[k++] = (h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ? h[i] : '-';
    snprintf(n_dead_host, sizeof n_dead_host, "config.tmp.%ld.00ff00ff00ff00ff.%s", (long)dead, host);
    snprintf(n_far, sizeof n_far, "config.tmp.%ld.00ff00ff00ff00ff.%s-elsewhere", (long)dead, host);
    snprintf(n_live, sizeof n_live, "log.jsonl.tmp.%ld", (long)live);
    snprintf(n_live_rnd, sizeof n_live_rnd, "last.safetensors.tmp.%ld.0123abcd", (long)live);
    snprintf(n_dead, sizeof n_dead, "log.jsonl.tmp.%ld", (long)dead);
    snprintf(n_dead_rnd, sizeof n_dead_rnd, "last.safetensors.tmp.%ld.89efABCD", (long)dead);
    snprintf(n_self, sizeof n_self, "config.tmp.%ld", (long)getpid());
    snprintf(n_other, sizeof n_other, "notes.txt.tmp.%ld", (long)dead);
    snprintf(n_bad, sizeof n_bad, "config.tmp.%ldx", (long)dead);
    const char *names[] = {n_live, n_live_rnd, n_dead, n_dead_rnd, n_self, n_other, n_bad, n_dead_host, n_far};
    char path[1200];
    for (int i = 0; i < 9; i++) {
        snprintf(path, sizeof path, "%s/%s", cdir, names[i]);
        put_file(path, "t", 1);
    }
    static const char *const outputs[] = {"config", "log.jsonl", "last.safetensors"};
    int removed = rr_remove_stale_temps(cdir, outputs, 3);
    int exists[9];
    for (int i = 0; i < 9; i++) {
        snprintf(path, sizeof path, "%s/%s", cdir, names[i]);
        exists[i] = access(path, F_OK) == 0;
    }
    CHECK(exists[0] && exists[1], "stale-temp cleanup keeps the temps of a live process (another run writing now)");
    CHECK(!exists[2] && !exists[3] && !exists[7] && removed == 3,
          "stale-temp cleanup removes the temps of a dead process of this machine (%d removed)", removed);
    CHECK(exists[8], "... but not a temp of another machine (a shared file system: its pid means nothing here)");
    CHECK(exists[4] && exists[5] && exists[6], "... and keeps its own temps, other files' temps and names that are not temps");
    kill(live, SIGKILL);
    waitpid(live, NULL, 0);
}

int main(void) {
    TEST_BEGIN("test_npy");
    test_files_init();

    int64_t s4[4] = {2, 3, 4, 5}, s2[2] = {3, 4}, s0[1] = {0}, s1[1] = {7}, s5[1] = {5}, se[2] = {0, 3};
    int64_t s23[2] = {2, 3}, s32[2] = {3, 2};
    check_fixture("format_u8_4d_v1.npy", NPY_U8, 4, s4, 120);
    check_fixture("format_f32_2d_v1.npy", NPY_F32, 2, s2, 12);
    check_fixture("format_f32_scalar_v1.npy", NPY_F32, 0, s0, 1);
    check_fixture("format_f32_empty_v1.npy", NPY_F32, 2, se, 0);
    check_fixture("format_f32_1d_v2.npy", NPY_F32, 1, s1, 7);
    check_fixture("format_u8_1d_v2.npy", NPY_U8, 1, s5, 5);
    check_fixture("format_f32_oddhdr.npy", NPY_F32, 2, s23, 6);
    check_fixture("format_u8_py2long.npy", NPY_U8, 2, s32, 6);

    check_identical("format_u8_4d_v1.npy", NPY_U8, 4, s4, 120, 1);
    check_identical("format_f32_2d_v1.npy", NPY_F32, 2, s2, 12, 1);
    check_identical("format_f32_scalar_v1.npy", NPY_F32, 0, s0, 1, 1);
    check_identical("format_f32_empty_v1.npy", NPY_F32, 2, se, 0, 1);
    check_identical("format_f32_1d_v2.npy", NPY_F32, 1, s1, 7, 2);
    check_identical("format_u8_1d_v2.npy", NPY_U8, 1, s5, 5, 2);

    test_roundtrip();
    test_expect();
    test_malformed();
    fuzz(FIX "format_f32_2d_v1.npy", "v1.0 float32");
    fuzz(FIX "format_u8_1d_v2.npy", "v2.0 uint8");
    test_failed_write();
    test_faults();

    /* A 3 GiB sparse file (past 32-bit sizes; the real data file is 819 MB): mapped, not read. */
    {
        int64_t big[4] = {3, 1024, 1024, 1024};
        char *h;
        size_t hlen;
        const char *path = tmp("npy_sparse_3g.npy");
        FILE *fp = fopen(path, "wb");
        int ok = fp && npy_format_header(NPY_U8, 4, big, 0, &h, &hlen) == 0;
        if (ok) {
            ok = fwrite(h, 1, hlen, fp) == hlen && ftruncate(fileno(fp), (off_t)(hlen + (3ull << 30))) == 0;
            free(h);
        }
        if (fp) fclose(fp);
        NpyArray a;
        ok = ok && npy_load(path, &a) == 0;
        CHECK(ok && a.count == (int64_t)3 << 30 && a.nbytes == 3ull << 30 && ((uint8_t *)a.data)[a.nbytes - 1] == 0,
              "3 GiB sparse uint8 file maps with the right count (%s)", ok ? "ok" : rr_last_error());
        if (ok) npy_free(&a);
        unlink(path);
    }

    /* The real data file, when it has been downloaded (make data). */
    const char *real = "data/moving_mnist.npy";
    if (access(real, R_OK) == 0) {
        NpyArray a;
        int64_t want[4] = {20, 10000, 64, 64};
        int rc = npy_load(real, &a);
        CHECK(rc == 0 && npy_expect(&a, real, NPY_U8, 4, want) == 0, "%s maps as uint8 (20, 10000, 64, 64)", real);
        if (rc == 0) npy_free(&a);
    } else {
        SKIP("real data file: %s absent (make data)", real);
    }
    return tests_exit();
}

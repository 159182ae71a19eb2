/* test_safetensors.c — safetensors reading/writing and the JSON reader under it: a file written in
 * pure Python from the spec (tests/fixtures/format_st_ref.safetensors, by
 * tests/reference/make_format_fixtures.py), the byte vectors of the reference implementation's own
 * serializer tests (huggingface/safetensors, safetensors/src/tensor.rs), round trips, every
 * malformed-file error, truncation/byte-flip fuzzing, atomic failed writes, and bad input and faults
 * (a FIFO or a device as the file, escape sequences in tensor names and dtypes). Writes
 * $BUILD/tests/st_roundtrip.safetensors for tests/test_formats_python.sh to check in Python. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "safetensors.h"
#include "test.h"
#include "test_files.h"

/* The closed form of make_format_fixtures.py (and of test_formats_python.sh). */
static float F(int64_t i) { return (float)(((37 * i) % 101 - 50) / 8.0); }

/* A file of: 8-byte size, header text, pad spaces to a multiple of `align` (1 = none), then ndata
 * bytes of data (the float32 closed form F(i), truncated to ndata bytes). */
static const char *write_st(const char *name, const char *header, size_t ndata, int align) {
    const char *path = tmp(name);
    size_t n = strlen(header), padded = (n + align - 1) / align * align;
    unsigned char *b = rr_calloc(8 + padded + ndata + 4, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(b + 8, header, n);
    memset(b + 8 + n, ' ', padded - n);
    for (size_t i = 0; i * 4 < ndata; i++) {
        float v = F((int64_t)i);
        memcpy(b + 8 + padded + 4 * i, &v, 4);
    }
    put_file(path, b, 8 + padded + ndata);
    free(b);
    return path;
}

static void expect_fail(const char *path, const char *word, const char *what) {
    StFile f;
    int rc = st_load(path, &f);
    const char *msg = rr_last_error();
    int ok = rc == -1 && strstr(msg, path) && strstr(msg, word) && !strchr(msg, '\n') && f.n == 0 && f.buf == NULL;
    CHECK(ok, "malformed: %s -> -1 with \"%s\" and the file name", what, word);
    if (!ok) printf("    rc %d, message: \"%s\"\n", rc, msg);
    else printf("    (%s)\n", msg);
    if (rc == 0) st_free(&f);
}

static int values_are(const StTensor *t, int64_t start) {
    for (int64_t i = 0; i < t->count; i++)
        if (t->data[i] != F(start + i)) return 0;
    return 1;
}

static int shape_is(const StTensor *t, int ndim, const int64_t *shape) {
    if (!t || t->ndim != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != shape[i]) return 0;
    return 1;
}

static void test_reference_file(void) {
    const char *path = "tests/fixtures/format_st_ref.safetensors";
    StFile f;
    int rc = st_load(path, &f);
    CHECK(rc == 0, "Python-written file loads (%s)", rc ? rr_last_error() : "ok");
    if (rc) return;
    CHECK(f.n == 4, "4 tensors (got %d)", f.n);
    const char *order[4] = {"bias", "conv.weight", "empty", "scalar"};
    int in_order = f.n == 4;
    for (int i = 0; i < 4 && in_order; i++) in_order = strcmp(f.tensors[i].name, order[i]) == 0;
    CHECK(in_order, "tensors listed in buffer order, not header order");
    int64_t sb[1] = {3}, sc[4] = {2, 3, 2, 2}, se[2] = {0, 4};
    const StTensor *b = st_find(&f, "bias"), *c = st_find(&f, "conv.weight"), *e = st_find(&f, "empty"), *s = st_find(&f, "scalar");
    CHECK(shape_is(b, 1, sb) && b->count == 3 && values_are(b, 100), "bias: shape [3], values F(100..102)");
    CHECK(shape_is(c, 4, sc) && c->count == 24 && values_are(c, 0), "conv.weight: shape [2, 3, 2, 2], values F(0..23)");
    CHECK(shape_is(e, 2, se) && e->count == 0, "empty: shape [0, 4], no elements");
    CHECK(shape_is(s, 0, NULL) && s->count == 1 && s->data[0] == F(7), "scalar: shape [], value F(7)");
    CHECK(c && ((uintptr_t)c->data % 4) == 0, "tensor data is 4-byte aligned");
    CHECK(st_find(&f, "nope") == NULL && st_find(&f, "__metadata__") == NULL, "st_find: absent names give NULL");
    CHECK(f.n_meta == 2 && st_meta(&f, "step") && strcmp(st_meta(&f, "step"), "1200") == 0, "metadata step = 1200");
    const char *note = st_meta(&f, "note");
    CHECK(note && strcmp(note, "h\xc3\xa9llo \"q\"\n\\ \xe2\x9c\x93") == 0, "metadata note: \\u escapes decoded to UTF-8, quotes, newline, backslash");
    CHECK(st_meta(&f, "missing") == NULL, "st_meta: absent key gives NULL");
    st_free(&f);
    CHECK(f.n == 0 && f.tensors == NULL && f.buf == NULL, "st_free clears the file");
}

/* The expected bytes of the reference serializer's tests (tensor.rs: test_serialization,
 * test_serialization_forced_alignement, test_empty). */
static void test_reference_bytes(void) {
    float d[6] = {0, 1, 2, 3, 4, 5};
    struct {
        const char *name;
        int ndim;
        int64_t shape[4];
        const char *header;
        size_t hsize;
    } cases[2] = {
        {"attn.0", 3, {1, 2, 3}, "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", 64},
        {"attn0", 4, {1, 1, 2, 3}, "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", 72},
    };
    for (int k = 0; k < 2; k++) {
        StTensor t = {cases[k].name, cases[k].ndim, {0}, 6, d};
        memcpy(t.shape, cases[k].shape, sizeof cases[k].shape);
        char *b = NULL;
        size_t n = 0;
        int ok = st_save(tmp("st_refbytes.safetensors"), &t, 1, 0, NULL, NULL) == 0 &&
                 rr_read_file(tmp("st_refbytes.safetensors"), &b, &n) == 0;
        unsigned char want[8] = {(unsigned char)cases[k].hsize};
        ok = ok && n == 8 + cases[k].hsize + 24 && memcmp(b, want, 8) == 0 &&
             memcmp(b + 8, cases[k].header, cases[k].hsize) == 0 && memcmp(b + 8 + cases[k].hsize, d, 24) == 0;
        CHECK(ok, "st_save of '%s' matches the reference serializer's bytes (header %zu)", cases[k].name, cases[k].hsize);
        free(b);
    }
    const char *keys[1] = {"framework"}, *vals[1] = {"pt"};
    const char *want_empty = "\x08\0\0\0\0\0\0\0{}      ";
    const char *want_meta = "\x28\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"}}     ";
    char *b = NULL;
    size_t n = 0;
    int ok = st_save(tmp("st_empty.safetensors"), NULL, 0, 0, NULL, NULL) == 0 && rr_read_file(tmp("st_empty.safetensors"), &b, &n) == 0;
    CHECK(ok && n == 16 && memcmp(b, want_empty, 16) == 0, "st_save with no tensors matches the reference bytes");
    free(b);
    b = NULL;
    ok = st_save(tmp("st_meta.safetensors"), NULL, 0, 1, keys, vals) == 0 && rr_read_file(tmp("st_meta.safetensors"), &b, &n) == 0;
    CHECK(ok && n == 48 && memcmp(b, want_meta, 48) == 0, "st_save with metadata only matches the reference bytes");
    free(b);
    StFile f;
    CHECK(st_load(tmp("st_meta.safetensors"), &f) == 0 && f.n == 0 && strcmp(st_meta(&f, "framework"), "pt") == 0,
          "metadata-only file loads back");
    st_free(&f);
}

static void test_roundtrip(void) {
    static float w[54], bias[2], sc[1];
    for (int i = 0; i < 54; i++) w[i] = F(i);
    for (int i = 0; i < 2; i++) bias[i] = F(200 + i);
    sc[0] = F(5);
    /* Given out of name order; the file stores them sorted by name. */
    StTensor t[4] = {
        {"layer1.weight", 4, {2, 3, 3, 3}, 54, w},
        {"zero", 1, {0}, 0, NULL},
        {"layer1.bias", 1, {2}, 2, bias},
        {"a_scalar", 0, {0}, 1, sc},
    };
    const char *keys[3] = {"epoch", "arch", "quote"};
    const char *vals[3] = {"3", "convlstm", "a\"b\\c\nd\t\xc3\xa9\x01/"};
    char path[1024];
    snprintf(path, sizeof path, "%s/st_roundtrip.safetensors", test_dir);
    CHECK(st_save(path, t, 4, 3, keys, vals) == 0, "round trip: st_save (%s)", rr_last_error());
    StFile f;
    if (st_load(path, &f)) {
        CHECK(0, "round trip: st_load: %s", rr_last_error());
        return;
    }
    const char *sorted[4] = {"a_scalar", "layer1.bias", "layer1.weight", "zero"};
    int ok = f.n == 4;
    for (int i = 0; ok && i < 4; i++) ok = strcmp(f.tensors[i].name, sorted[i]) == 0;
    CHECK(ok, "round trip: tensors stored sorted by name");
    for (int i = 0; i < 4; i++) {
        const StTensor *g = st_find(&f, t[i].name);
        CHECK(g && shape_is(g, t[i].ndim, t[i].shape) && g->count == t[i].count &&
                  (t[i].count == 0 || memcmp(g->data, t[i].data, (size_t)t[i].count * 4) == 0),
              "round trip: '%s' shape and values", t[i].name);
    }
    ok = f.n_meta == 3;
    for (int i = 0; ok && i < 3; i++) ok = strcmp(f.meta_keys[i], keys[i]) == 0 && strcmp(st_meta(&f, keys[i]), vals[i]) == 0;
    CHECK(ok, "round trip: metadata keys (in order) and values with escapes");
    st_free(&f);

    char *b;
    size_t n;
    if (rr_read_file(path, &b, &n) == 0) {
        uint64_t h = 0;
        for (int i = 7; i >= 0; i--) h = h << 8 | (unsigned char)b[i];
        const char *start = "{\"__metadata__\":{\"epoch\":\"3\",\"arch\":\"convlstm\",\"quote\":\"a\\\"b\\\\c\\nd\\t\xc3\xa9\\u0001/\"},\"a_scalar\":";
        CHECK(h % 8 == 0 && 8 + h <= n && memcmp(b + 8, start, strlen(start)) == 0 && (b[8 + h - 1] == ' ' || b[8 + h - 1] == '}'),
              "round trip: header padded to 8, metadata first, serde_json escapes");
        free(b);
    }
}

static void test_malformed(void) {
    const char *one = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    StFile f;
    CHECK(st_load(write_st("st_good.safetensors", one, 8, 8), &f) == 0 && f.n == 1 && values_are(&f.tensors[0], 0),
          "the hand-made base file loads");
    st_free(&f);
    /* unpadded header of odd length: data must be realigned */
    const char *odd = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}  }"; /* 57 bytes */
    CHECK(strlen(odd) % 4 != 0 && st_load(write_st("st_unpadded.safetensors", odd, 12, 1), &f) == 0 && f.n == 1 &&
              ((uintptr_t)f.tensors[0].data % 4) == 0 && values_are(&f.tensors[0], 0),
          "an unpadded header of odd length loads, data realigned");
    st_free(&f);
    CHECK(st_load(write_st("st_extrafield.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":[1]}}", 8, 8), &f) == 0,
          "unknown fields in a tensor entry are ignored (as serde does)");
    st_free(&f);

    expect_fail(tmp("st_no_such_file.safetensors"), "cannot open", "missing file");
    put_file(tmp("st_short.safetensors"), "\x10\0\0", 3);
    expect_fail(tmp("st_short.safetensors"), "truncated", "3-byte file");
    put_file(tmp("st_bigsize.safetensors"), "\xff\xff\0\0\0\0\0\0{}", 10);
    expect_fail(tmp("st_bigsize.safetensors"), "larger than the rest", "header size larger than the file");
    put_file(tmp("st_limit.safetensors"), "\0\0\0\x10\0\0\0\0{}", 10);
    expect_fail(tmp("st_limit.safetensors"), "exceeds", "header size over the 100 MB limit");
    static const char npy_start[] = "\x93NUMPY\x01\x00v\x00{'descr'";
    put_file(tmp("st_npy.safetensors"), npy_start, sizeof npy_start - 1);
    expect_fail(tmp("st_npy.safetensors"), "exceeds", "a .npy file");
    expect_fail(write_st("st_badjson.safetensors", "{\"a\":{\"dtype\":\"F32\",}}", 0, 8), "invalid JSON", "trailing comma in JSON");
    expect_fail(write_st("st_empty_hdr.safetensors", "", 0, 1), "invalid JSON", "empty header");
    expect_fail(write_st("st_array.safetensors", "[1, 2]", 0, 8), "not an object", "header is an array");
    expect_fail(write_st("st_entry.safetensors", "{\"a\":[1]}", 0, 8), "not an object", "tensor entry is an array");
    expect_fail(write_st("st_nodtype.safetensors", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 8), "missing field \"dtype\"", "no dtype");
    expect_fail(write_st("st_noshape.safetensors", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, 8), "missing field \"shape\"", "no shape");
    expect_fail(write_st("st_nooff.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, 8), "missing field \"data_offsets\"", "no data_offsets");
    expect_fail(write_st("st_dtype_num.safetensors", "{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 8), "not a string", "numeric dtype");
    expect_fail(write_st("st_dtype_bad.safetensors", "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 8), "unknown dtype 'F33'", "unknown dtype");
    expect_fail(write_st("st_f64.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, 8), "only F32", "F64 tensor");
    expect_fail(write_st("st_bf16.safetensors", "{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8, 8), "only F32", "BF16 tensor");
    expect_fail(write_st("st_mismatch.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12, 8), "needs 16 bytes", "shape/offset mismatch");
    expect_fail(write_st("st_overlap.safetensors",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, 8),
                "overlap", "overlapping offsets");
    expect_fail(write_st("st_same.safetensors",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 8),
                "overlap", "two tensors sharing bytes");
    expect_fail(write_st("st_gap.safetensors",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, 8),
                "gap", "a hole between tensors");
    expect_fail(write_st("st_notzero.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, 8), "gap", "first tensor not at 0");
    expect_fail(write_st("st_range.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, 8), "out of range", "offsets past the end (truncated data)");
    expect_fail(write_st("st_hugeoff.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", 8, 8),
                "too big integer", "offset beyond int64 (jansson refuses integers beyond int64)");
    expect_fail(write_st("st_trailing.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, 8), "trailing bytes", "bytes after the last tensor");
    expect_fail(write_st("st_backwards.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, 8), "end before", "end < begin");
    expect_fail(write_st("st_dup.safetensors",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, 8),
                "duplicate key 'a'", "duplicate names");
    expect_fail(write_st("st_dupmeta.safetensors", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, 8), "duplicate key 'k'", "duplicate metadata keys");
    expect_fail(write_st("st_metaval.safetensors", "{\"__metadata__\":{\"k\":1}}", 0, 8), "not a string", "metadata value not a string");
    expect_fail(write_st("st_metaobj.safetensors", "{\"__metadata__\":\"x\"}", 0, 8), "not an object", "metadata not an object");
    expect_fail(write_st("st_negshape.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, 8), "bad shape", "negative dimension");
    expect_fail(write_st("st_fracshape.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, 8), "bad shape", "non-integer dimension");
    expect_fail(write_st("st_off3.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, 8), "data_offsets", "three offsets");
    expect_fail(write_st("st_9dims.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, 8), "dimensions", "9 dimensions");
    expect_fail(write_st("st_overflow.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,0]}}", 0, 8), "overflows", "element count overflow");
    expect_fail(write_st("st_utf8.safetensors", "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 8), "UTF-8", "invalid UTF-8 name");
    expect_fail(write_st("st_surrogate.safetensors", "{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 8), "surrogate", "lone surrogate escape");
    expect_fail(write_st("st_nul.safetensors", "{\"a\\u0000\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 8), "u0000", "NUL in a name");
    {
        char deep[300] = "{\"a\":";
        for (int i = 0; i < 100; i++) strcat(deep, "[");
        expect_fail(write_st("st_deep.safetensors", deep, 0, 8), "nesting", "deeply nested JSON");
        char nulpad[128];
        snprintf(nulpad, sizeof nulpad, "%s", one);
        size_t n = strlen(nulpad);
        unsigned char b[8 + 64 + 8] = {64};
        memcpy(b + 8, nulpad, n); /* padded with NUL bytes instead of spaces */
        put_file(tmp("st_nulpad.safetensors"), b, 8 + 64 + 8);
        expect_fail(tmp("st_nulpad.safetensors"), "trailing characters", "header padded with NULs");
    }
}

/* Truncate the fixture at every length and flip bytes: never a crash; errors name the file. */
/* fuzz_file's reader: st_load, then read every tensor value (ASan catches a read outside the file). */
static int fuzz_load(const char *path, size_t file_size) {
    StFile f;
    (void)file_size; /* st_load maps the file: a tensor outside it is a read ASan reports */
    if (st_load(path, &f) != 0) return -1;
    volatile float sink = 0;
    for (int i = 0; i < f.n; i++)
        for (int64_t k = 0; k < f.tensors[i].count; k++) sink += f.tensors[i].data[k];
    (void)sink;
    st_free(&f);
    return 0;
}

static void fuzz(void) {
    static const unsigned char vals[] = {0, 0xFF, ' ', '"', '[', ']', '{', '}', ',', ':', '9', '-', '\\', 'e', 0xC3};
    char *b;
    size_t n;
    if (rr_read_file("tests/fixtures/format_st_ref.safetensors", &b, &n)) {
        CHECK(0, "fuzz: read fixture");
        return;
    }
    fuzz_file("safetensors", b, n, tmp("st_fuzz.safetensors"), vals, sizeof vals, fuzz_load);
    free(b);
}

static void test_bad_writes(void) {
    float x[2] = {1, 2};
    StTensor t[2] = {{"a", 1, {2}, 2, x}, {"a", 1, {2}, 2, x}};
    struct stat st;
    const char *nodir = tmp("no_such_dir/x.safetensors");
    CHECK(st_save(nodir, t, 1, 0, NULL, NULL) == -1 && strstr(rr_last_error(), nodir) && stat(tmp("no_such_dir"), &st) != 0,
          "failed write into a missing directory: -1 naming the file, nothing created");
    const char *target = tmp("st_dir_target");
    rr_mkdir_p(target);
    CHECK(st_save(target, t, 1, 0, NULL, NULL) == -1 && count_tmp_leftovers(test_dir, "st_dir_target") == 0,
          "failed rename onto a directory: -1, no temp file left behind");
    const char *p = tmp("st_bad_write.safetensors");
    unlink(p);
    CHECK(st_save(p, t, 2, 0, NULL, NULL) == -1 && strstr(rr_last_error(), "duplicate tensor name 'a'") && access(p, F_OK) != 0,
          "st_save: duplicate names rejected, nothing written");
    StTensor m = {"__metadata__", 1, {2}, 2, x};
    CHECK(st_save(p, &m, 1, 0, NULL, NULL) == -1 && access(p, F_OK) != 0, "st_save: '__metadata__' as a name rejected");
    StTensor u = {"bad\xff", 1, {2}, 2, x};
    CHECK(st_save(p, &u, 1, 0, NULL, NULL) == -1 && strstr(rr_last_error(), "UTF-8") && access(p, F_OK) != 0,
          "st_save: a name that is not UTF-8 rejected");
    const char *k[2] = {"k", "k"}, *v[2] = {"1", "2"};
    CHECK(st_save(p, t, 1, 2, k, v) == -1 && strstr(rr_last_error(), "duplicate metadata key") && access(p, F_OK) != 0,
          "st_save: duplicate metadata keys rejected");
    StTensor neg = {"n", 1, {-1}, 0, x};
    CHECK(st_save(p, &neg, 1, 0, NULL, NULL) == -1 && access(p, F_OK) != 0, "st_save: negative dimension rejected");
}

static void test_json(void) {
    const char *text = " {\"n\": [0, -12, 3.5e2, 9223372036854775807, -9223372036854775808, 9223372036854775808.0],"
                       " \"s\": \"\\u00e9\\ud83d\\ude00\\/\\\"\", \"t\": true, \"f\": false, \"z\": null, \"o\": {}} ";
    JsonValue v;
    char err[128];
    int rc = json_parse(text, strlen(text), &v, err, sizeof err);
    CHECK(rc == 0 && v.type == JSON_OBJECT && v.n == 6, "json: parses an object of 6 keys (%s)", err);
    if (rc) return;
    const JsonValue *n = json_get(&v, "n"), *s = json_get(&v, "s");
    CHECK(n && n->n == 6 && n->items[0].is_int && n->items[0].integer == 0 && n->items[1].integer == -12 &&
              !n->items[2].is_int && n->items[2].number == 350.0 && n->items[3].integer == INT64_MAX &&
              n->items[4].is_int && n->items[4].integer == INT64_MIN && !n->items[5].is_int && n->items[5].number == 9223372036854775808.0,
          "json: integers exact to int64 limits, reals as double");
    CHECK(s && strcmp(s->string, "\xc3\xa9\xf0\x9f\x98\x80/\"") == 0, "json: \\u escapes and surrogate pairs decode to UTF-8");
    CHECK(json_get(&v, "t")->boolean == 1 && json_get(&v, "f")->type == JSON_BOOL && json_get(&v, "z")->type == JSON_NULL &&
              json_get(&v, "o")->type == JSON_OBJECT && json_get(&v, "missing") == NULL,
          "json: literals, empty object, absent key");
    json_free(&v);
    const char *bad[] = {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"", "\"a\nb\"", "tru", "{} {}", "{'a':1}", "[1 2]", "nan",
                         "[9223372036854775808]", "{\"a\":1,\"a\":2}"};
    int all = 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (json_parse(bad[i], strlen(bad[i]), &v, err, sizeof err) != -1 || !strstr(err, "at byte")) {
            all = 0;
            printf("    accepted or no position: '%s'\n", bad[i]);
        }
    }
    CHECK(all, "json: %zu invalid texts rejected with a position", sizeof bad / sizeof *bad);
    char *q = json_quote("a\"\\\n\x1f\xc3\xa9");
    CHECK(q && strcmp(q, "\"a\\\"\\\\\\n\\u001f\xc3\xa9\"") == 0, "json_quote escapes like serde_json");
    free(q);
    CHECK(json_quote("\xc3") == NULL, "json_quote: truncated UTF-8 gives NULL");
}

/* Regression tests of bad input and faults: non-regular files are refused at once, untrusted names
 * and dtypes are printed escaped. */
static void test_faults(void) {
    StFile f;
    const char *fifo = tmp("st_fifo.safetensors");
    unlink(fifo);
    if (mkfifo(fifo, 0600) == 0) {
        hang_guard("st_load of a FIFO", 10);
        int rc = st_load(fifo, &f);
        hang_guard_off();
        CHECK(rc == -1 && strstr(rr_last_error(), fifo) && strstr(rr_last_error(), "not a regular file (a FIFO)"),
              "a FIFO as checkpoint is refused without blocking (%s)", rr_last_error());
        unlink(fifo);
    } else {
        SKIP("FIFO: mkfifo failed: %s", strerror(errno));
    }
    if (access("/dev/zero", R_OK) == 0) {
        hang_guard("st_load of /dev/zero", 10);
        int rc = st_load("/dev/zero", &f);
        hang_guard_off();
        CHECK(rc == -1 && strstr(rr_last_error(), "/dev/zero: not a regular file (a character device)"),
              "/dev/zero as checkpoint is refused at once, not read until memory runs out (%s)", rr_last_error());
    }
    /* A tensor name and a dtype with terminal escapes (JSON \u001b decodes to ESC). */
    int rc = st_load(write_st("st_esc_name.safetensors", "{\"\\u001b[2J\\u001b]0;x\\u0007\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, 8), &f);
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && strstr(rr_last_error(), "tensor '\\x1b[2J\\x1b]0;x\\x07'"),
          "a tensor name with escape sequences is printed escaped (%s)", rr_last_error());
    rc = st_load(write_st("st_esc_dtype.safetensors", "{\"a\":{\"dtype\":\"\\u001b[31mF32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 8), &f);
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && strstr(rr_last_error(), "unknown dtype '\\x1b[31mF32'"),
          "a dtype with escape sequences is printed escaped (%s)", rr_last_error());
    rc = st_load(write_st("st_esc_c1.safetensors", "{\"\\u009b2J\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, 8), &f);
    CHECK(rc == -1 && strstr(rr_last_error(), "tensor '\\xc2\\x9b2J'"),
          "a C1 control (U+009B, CSI on some terminals) is escaped too (%s)", rr_last_error());
}

int main(void) {
    TEST_BEGIN("test_safetensors");
    test_files_init();
    test_json();
    test_reference_file();
    test_reference_bytes();
    test_roundtrip();
    test_malformed();
    fuzz();
    test_bad_writes();
    test_faults();
    return tests_exit();
}

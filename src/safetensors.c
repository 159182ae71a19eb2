/* safetensors.c — safetensors reader (validating every field; F32, and I64 scalars) and atomic writer; see
 * safetensors.h. Rules follow the reference implementation (huggingface/safetensors,
 * safetensors/src/tensor.rs): header size at most 100,000,000 bytes; the header is a JSON object
 * (UTF-8) of tensor entries plus an optional "__metadata__" of string values; entries sorted by
 * data_offsets must start at 0, follow each other without gaps or overlaps, have end - begin equal
 * to prod(shape) * dtype size, and end exactly at the end of the file. The writer sorts tensors by
 * name and pads the header with spaces to a multiple of 8 bytes, as the reference serializer does. */
#include "safetensors.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define ST_MAX_HEADER 100000000u

/* Element sizes of the reference dtypes (tensor.rs, enum Dtype). */
static size_t dtype_size(const char *d) {
    static const struct { const char *name; size_t size; } table[] = {
        {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2},
        {"F16", 2}, {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4}, {"F64", 8}, {"I64", 8}, {"U64", 8},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strcmp(d, table[i].name) == 0) return table[i].size;
    return 0;
}

/* One header entry while validating. */
typedef struct {
    const char *name, *dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;
} Entry;

static int cmp_entry_offsets(const void *a, const void *b) {
    const Entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name occurring twice in names[0..n) (sorted copy), or NULL. */
static const char *find_duplicate(const char *const *names, int n) {
    if (n < 2) return NULL;
    const char **sorted = rr_malloc((size_t)n * sizeof *sorted);
    memcpy(sorted, names, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_str_ptr);
    const char *dup = NULL;
    for (int i = 1; i < n && !dup; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0) dup = sorted[i];
    free(sorted);
    return dup;
}

static void shape_str(char *out, size_t cap, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++) n += (size_t)snprintf(out + n, cap - n, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (n < cap) snprintf(out + n, cap - n, "]");
}

static const char *a_type(JsonType t) { /* "an array", "a string", ... */
    return t == JSON_ARRAY || t == JSON_OBJECT ? (t == JSON_ARRAY ? "an array" : "an object")
           : t == JSON_NULL ? "null" : t == JSON_BOOL ? "a bool" : t == JSON_NUMBER ? "a number" : "a string";
}

/* A non-negative JSON integer. */
static int get_u64(const JsonValue *v, uint64_t *out) {
    if (!v || v->type != JSON_NUMBER || !v->is_int || v->integer < 0) return -1;
    *out = (uint64_t)v->integer;
    return 0;
}

/* Fill e from the header object of tensor `name`. */
static int read_entry(const char *path, const char *name, const JsonValue *v, Entry *e) {
    memset(e, 0, sizeof *e);
    e->name = name;
    if (v->type != JSON_OBJECT) return rr_error("%s: tensor '%s': entry is %s, not an object", path, rr_esc(name), a_type(v->type));
    const JsonValue *dtype = json_get(v, "dtype"), *shape = json_get(v, "shape"), *off = json_get(v, "data_offsets");
    if (!dtype || !shape || !off)
        return rr_error("%s: tensor '%s': missing field \"%s\"", path, rr_esc(name), !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (dtype->type != JSON_STRING) return rr_error("%s: tensor '%s': \"dtype\" is not a string", path, rr_esc(name));
    if (!dtype_size(dtype->string)) return rr_error("%s: tensor '%s': unknown dtype '%s'", path, rr_esc(name), rr_esc(dtype->string));
    e->dtype = dtype->string;
    if (shape->type != JSON_ARRAY) return rr_error("%s: tensor '%s': \"shape\" is not an array", path, rr_esc(name));
    if (shape->n > ST_MAX_DIMS) return rr_error("%s: tensor '%s': shape has %d dimensions (at most %d)", path, rr_esc(name), shape->n, ST_MAX_DIMS);
    e->ndim = shape->n;
    for (int i = 0; i < shape->n; i++) {
        uint64_t d;
        if (get_u64(&shape->items[i], &d)) return rr_error("%s: tensor '%s': bad shape: dimension %d is not a non-negative integer", path, rr_esc(name), i);
        e->shape[i] = (int64_t)d;
    }
    if (off->type != JSON_ARRAY || off->n != 2 || get_u64(&off->items[0], &e->begin) || get_u64(&off->items[1], &e->end))
        return rr_error("%s: tensor '%s': \"data_offsets\" is not [begin, end] of non-negative integers", path, rr_esc(name));
    return 0;
}

static int read_metadata(const char *path, const JsonValue *v, StFile *f) {
    if (v->type != JSON_OBJECT) return rr_error("%s: \"__metadata__\" is %s, not an object", path, a_type(v->type));
    for (int i = 0; i < v->n; i++)
        if (v->items[i].type != JSON_STRING)
            return rr_error("%s: \"__metadata__\" value of '%s' is %s, not a string", path, rr_esc(v->keys[i]), a_type(v->items[i].type));
    f->n_meta = v->n;
    f->meta_keys = rr_calloc((size_t)v->n, sizeof(char *));
    f->meta_values = rr_calloc((size_t)v->n, sizeof(char *));
    for (int i = 0; i < v->n; i++) {
        f->meta_keys[i] = rr_strdup(v->keys[i]);
        f->meta_values[i] = rr_strdup(v->items[i].string);
    }
    return 0;
}

/* Validate the parsed header against the buffer of data_len bytes; on success fills f. */
static int load_header(const char *path, const JsonValue *root, size_t data_len, unsigned char *data, StFile *f) {
    if (root->type != JSON_OBJECT) return rr_error("%s: header is %s, not an object", path, a_type(root->type));
    Entry *entries = rr_calloc((size_t)root->n + 1, sizeof *entries);
    int n = 0, rc = -1;
    for (int i = 0; i < root->n; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) {
            if (read_metadata(path, &root->items[i], f)) goto out;
        } else if (read_entry(path, root->keys[i], &root->items[i], &entries[n++])) {
            goto out;
        }
    }
    qsort(entries, (size_t)n, sizeof *entries, cmp_entry_offsets);
    uint64_t pos = 0;
    for (int i = 0; i < n; i++) {
        const Entry *e = &entries[i];
        char sh[256];
        shape_str(sh, sizeof sh, e->ndim, e->shape);
        if (e->end < e->begin) {
            rr_error("%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] end before they begin", path, rr_esc(e->name), e->begin, e->end);
            goto out;
        }
        if (e->end > data_len) {
            rr_error("%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] out of range: the buffer has %zu bytes (truncated file?)",
                     path, rr_esc(e->name), e->begin, e->end, data_len);
            goto out;
        }
        if (e->begin != pos) {
            rr_error("%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] %s (the previous tensor ends at %" PRIu64 ")", path,
                     rr_esc(e->name), e->begin, e->end, e->begin < pos ? "overlap another tensor" : "leave a gap", pos);
            goto out;
        }
        uint64_t nbytes = dtype_size(e->dtype);
        for (int d = 0; d < e->ndim; d++) {
            uint64_t dim = (uint64_t)e->shape[d];
            if (dim && nbytes > UINT64_MAX / dim) {
                rr_error("%s: tensor '%s': shape %s overflows", path, rr_esc(e->name), sh);
                goto out;
            }
            nbytes *= dim;
        }
        if (e->end - e->begin != nbytes) {
            rr_error("%s: tensor '%s': shape %s of %s needs %" PRIu64 " bytes but data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64,
                     path, rr_esc(e->name), sh, rr_esc(e->dtype), nbytes, e->begin, e->end, e->end - e->begin);
            goto out;
        }
        pos = e->end;
    }
    if (pos != data_len) {
        rr_error("%s: the buffer has %zu bytes but the tensors cover %" PRIu64 " (trailing bytes)", path, data_len, pos);
        goto out;
    }
    int n_i64 = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(entries[i].dtype, "I64") && entries[i].ndim == 0) {
            n_i64++;
            continue;
        }
        if (strcmp(entries[i].dtype, "F32") != 0) {
            rr_error("%s: tensor '%s' has dtype %s: only F32 is supported", path, rr_esc(entries[i].name), rr_esc(entries[i].dtype));
            goto out;
        }
    }
    f->n_i64 = 0;
    f->i64 = rr_calloc((size_t)n_i64 + 1, sizeof *f->i64);
    f->n = 0;
    f->tensors = rr_calloc((size_t)(n - n_i64) + 1, sizeof *f->tensors);
    for (int i = 0; i < n; i++) {
        if (!strcmp(entries[i].dtype, "I64")) { /* an I64 scalar (PyTorch's num_batches_tracked) */
            StI64 *s = &f->i64[f->n_i64++];
            s->name = rr_strdup(entries[i].name);
            memcpy(&s->value, data + entries[i].begin, sizeof s->value); /* offset may be unaligned */
            continue;
        }
        StTensor *t = &f->tensors[f->n++];
        t->name = rr_strdup(entries[i].name);
        t->ndim = entries[i].ndim;
        memcpy(t->shape, entries[i].shape, sizeof t->shape);
        t->count = (int64_t)((entries[i].end - entries[i].begin) / 4);
        t->data = (float *)(void *)(data + entries[i].begin);
    }
    rc = 0;
out:
    free(entries);
    return rc;
}

int st_load(const char *path, StFile *f) {
    memset(f, 0, sizeof *f);
    char *buf;
    size_t len;
    if (rr_read_file(path, &buf, &len)) return -1;
    if (len < 8) {
        free(buf);
        return rr_error("%s: truncated: %zu bytes, shorter than the 8-byte header size field", path, len);
    }
    uint64_t hsize = 0;
    for (int i = 7; i >= 0; i--) hsize = hsize << 8 | (unsigned char)buf[i];
    if (hsize > ST_MAX_HEADER) {
        free(buf);
        return rr_error("%s: header size %" PRIu64 " exceeds the %u-byte limit (not a safetensors file?)", path, hsize, ST_MAX_HEADER);
    }
    if (hsize > len - 8) {
        free(buf);
        return rr_error("%s: truncated: header size %" PRIu64 " is larger than the rest of the %zu-byte file", path, hsize, len);
    }
    JsonValue root;
    char why[256];
    if (json_parse(buf + 8, (size_t)hsize, &root, why, sizeof why)) {
        free(buf);
        return rr_error("%s: invalid JSON header: %s", path, why);
    }
    /* Tensor data must be 4-byte aligned to be read as float: the buffer is malloc'd (aligned), and
     * offsets are multiples of 4, so only a header size that is not a multiple of 4 needs a move. */
    unsigned char *data = (unsigned char *)buf + 8 + hsize;
    size_t data_len = len - 8 - (size_t)hsize;
    if (load_header(path, &root, data_len, data, f)) {
        json_free(&root);
        st_free(f);
        free(buf);
        return -1;
    }
    json_free(&root);
    if (hsize % 4 != 0) {
        memmove(buf, data, data_len);
        for (int i = 0; i < f->n; i++) f->tensors[i].data = (float *)(void *)((unsigned char *)buf + ((unsigned char *)f->tensors[i].data - data));
    }
    f->buf = buf;
    f->buf_len = len;
    return 0;
}

const StTensor *st_find(const StFile *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const StI64 *st_find_i64(const StFile *f, const char *name) {
    for (int i = 0; i < f->n_i64; i++)
        if (strcmp(f->i64[i].name, name) == 0) return &f->i64[i];
    return NULL;
}

const char *st_meta(const StFile *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

void st_free(StFile *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) free((char *)f->tensors[i].name);
    for (int i = 0; i < f->n_i64; i++) free((char *)f->i64[i].name);
    free(f->i64);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->tensors);
    free(f->meta_keys);
    free(f->meta_values);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

/* ---- writing ------------------------------------------------------------------------------ */

typedef struct {
    char *s;
    size_t n, cap;
} Str;

static void str_add(Str *b, const char *s) {
    size_t n = strlen(s);
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap) b->cap = b->cap ? 2 * b->cap : 256;
        b->s = rr_realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n + 1);
    b->n += n;
}

/* Append s as a JSON string; -1 when s is not UTF-8. */
static int str_add_quoted(Str *b, const char *s) {
    char *q = json_quote(s);
    if (!q) return -1;
    str_add(b, q);
    free(q);
    return 0;
}

/* One tensor to write: an F32 StTensor, or (t NULL) an I64 scalar. */
typedef struct {
    const char *name;
    const StTensor *t;
    const int64_t *i64;
} Item;

static int cmp_item_name(const void *a, const void *b) {
    return strcmp(((const Item *)a)->name, ((const Item *)b)->name);
}

int st_save(const char *path, const StTensor *tensors, int n, int n_meta, const char *const *meta_keys,
            const char *const *meta_values) {
    return st_save_i64(path, tensors, n, NULL, 0, n_meta, meta_keys, meta_values);
}

int st_save_i64(const char *path, const StTensor *tensors, int n, const StI64 *ints, int n_i64, int n_meta,
                const char *const *meta_keys, const char *const *meta_values) {
    if (n < 0 || n_i64 < 0 || n_meta < 0) return rr_error("%s: negative tensor or metadata count", path);
    for (int i = 0; i < n_i64; i++)
        if (!ints[i].name || !strcmp(ints[i].name, "__metadata__"))
            return rr_error("%s: I64 scalar %d has no name or is '__metadata__'", path, i);
    for (int i = 0; i < n; i++) {
        const StTensor *t = &tensors[i];
        if (!t->name) return rr_error("%s: tensor %d has no name", path, i);
        if (strcmp(t->name, "__metadata__") == 0) return rr_error("%s: '__metadata__' cannot be a tensor name", path);
        if (t->ndim < 0 || t->ndim > ST_MAX_DIMS) return rr_error("%s: tensor '%s': ndim %d out of range 0..%d", path, t->name, t->ndim, ST_MAX_DIMS);
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0) return rr_error("%s: tensor '%s': negative dimension", path, t->name);
    }
    for (int i = 0; i < n_meta; i++)
        if (!meta_keys[i] || !meta_values[i]) return rr_error("%s: metadata entry %d is NULL", path, i);
    const char **names = rr_malloc((size_t)(n + n_i64 > n_meta ? n + n_i64 : n_meta) * sizeof *names + 1);
    for (int i = 0; i < n; i++) names[i] = tensors[i].name;
    for (int i = 0; i < n_i64; i++) names[n + i] = ints[i].name;
    const char *dup = find_duplicate(names, n + n_i64);
    if (dup) {
        free(names);
        return rr_error("%s: duplicate tensor name '%s'", path, rr_esc(dup));
    }
    dup = find_duplicate(meta_keys, n_meta);
    free(names);
    if (dup) return rr_error("%s: duplicate metadata key '%s'", path, rr_esc(dup));

    Item *order = rr_calloc((size_t)(n + n_i64) + 1, sizeof *order); /* by name, as stored */
    for (int i = 0; i < n; i++) order[i] = (Item){tensors[i].name, &tensors[i], NULL};
    for (int i = 0; i < n_i64; i++) order[n + i] = (Item){ints[i].name, NULL, &ints[i].value};
    n += n_i64; /* from here on: all tensors */
    qsort(order, (size_t)n, sizeof *order, cmp_item_name);
    static const StTensor scalar = {NULL, 0, {0}, 1, NULL}; /* the shape of an I64 scalar */

    Str h = {0};
    str_add(&h, "{");
    int bad = 0;
    if (n_meta > 0) {
        str_add(&h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta && !bad; i++) {
            if (i) str_add(&h, ",");
            bad |= str_add_quoted(&h, meta_keys[i]);
            str_add(&h, ":");
            bad |= str_add_quoted(&h, meta_values[i]);
        }
        str_add(&h, "}");
    }
    uint64_t offset = 0;
    for (int k = 0; k < n && !bad; k++) {
        const StTensor *t = order[k].t ? order[k].t : &scalar;
        const uint64_t esize = order[k].t ? 4 : 8; /* F32 or I64 */
        uint64_t count = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] && count > (UINT64_MAX / esize - offset) / (uint64_t)t->shape[d]) {
                free(order);
                free(h.s);
                return rr_error("%s: tensor '%s': shape overflows", path, t->name);
            }
            count *= (uint64_t)t->shape[d];
        }
        if (order[k].t && count && !t->data) {
            free(order);
            free(h.s);
            return rr_error("%s: tensor '%s' has no data", path, t->name);
        }
        char num[64];
        if (n_meta > 0 || k > 0) str_add(&h, ",");
        if (str_add_quoted(&h, order[k].name)) {
            bad = 1;
            break;
        }
        str_add(&h, esize == 8 ? ":{\"dtype\":\"I64\",\"shape\":[" : ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(num, sizeof num, "%s%" PRId64, d ? "," : "", t->shape[d]);
            str_add(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", offset, offset + esize * count);
        str_add(&h, num);
        offset += esize * count;
    }
    if (bad) {
        free(order);
        free(h.s);
        return rr_error("%s: a tensor name or metadata string is not valid UTF-8", path);
    }
    str_add(&h, "}");
    while (h.n % 8) str_add(&h, " ");

    RRAtomicFile af;
    if (rr_atomic_open(&af, path)) {
        free(order);
        free(h.s);
        return -1;
    }
    unsigned char size_le[8];
    for (int i = 0; i < 8; i++) size_le[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    bad = fwrite(size_le, 1, 8, af.fp) != 8 || fwrite(h.s, 1, h.n, af.fp) != h.n;
    for (int k = 0; k < n && !bad; k++) {
        const StTensor *t = order[k].t;
        if (!t) {
            bad = fwrite(order[k].i64, sizeof(int64_t), 1, af.fp) != 1;
            continue;
        }
        size_t count = 1;
        for (int d = 0; d < t->ndim; d++) count *= (size_t)t->shape[d];
        if (count) bad = fwrite(t->data, sizeof(float), count, af.fp) != count;
    }
    free(order);
    free(h.s);
    if (bad) {
        rr_atomic_abort(&af);
        return rr_error("%s: short write", path);
    }
    return rr_atomic_commit(&af);
}

/* npy.c — NumPy .npy reading (memory map) and writing (atomic), per the format described in the
 * numpy/lib/format.py docstring: 6-byte magic "\x93NUMPY", major and minor version bytes, header length
 * (uint16 LE in 1.0, uint32 LE in 2.0/3.0), then an ASCII Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (20, 10000, 64, 64), }
 * padded with spaces and ended with '\n', then the raw C-order data. */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host ('<f4' data is used in place)"
#endif

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

size_t npy_dtype_size(NpyDtype dtype) {
    return dtype == NPY_U8 ? 1 : dtype == NPY_F32 ? 4 : 0;
}

const char *npy_dtype_name(NpyDtype dtype) {
    return dtype == NPY_U8 ? "uint8" : dtype == NPY_F32 ? "float32" : "unknown dtype";
}

static const char *dtype_descr(NpyDtype dtype) {
    return dtype == NPY_U8 ? "|u1" : dtype == NPY_F32 ? "<f4" : NULL;
}

/* "(a, b, c)" like Python's repr of a tuple ("()" and "(5,)" included); -1 entries print as "*". */
static void format_shape(char *out, size_t cap, int ndim, const int64_t *shape) {
    size_t n = 0;
    n += (size_t)snprintf(out + n, cap - n, "(");
    for (int i = 0; i < ndim && n < cap; i++) {
        if (shape[i] < 0) n += (size_t)snprintf(out + n, cap - n, "%s*", i ? ", " : "");
        else n += (size_t)snprintf(out + n, cap - n, "%s%" PRId64, i ? ", " : "", shape[i]);
    }
    if (n < cap) snprintf(out + n, cap - n, ndim == 1 ? ",)" : ")");
}

/* ---- header dict parser -------------------------------------------------------------------
 * Accepts the Python literal subset numpy writes: a dict with string keys 'descr' (a string),
 * 'fortran_order' (True/False) and 'shape' (a tuple of non-negative ints, Python 2's "5L" allowed),
 * any spacing and key order, an optional trailing comma, then only whitespace. */

typedef struct {
    const char *path, *s;
    size_t len, pos;
} Hdr;

static void hdr_ws(Hdr *h) {
    while (h->pos < h->len && (h->s[h->pos] == ' ' || h->s[h->pos] == '\t' || h->s[h->pos] == '\n' ||
                               h->s[h->pos] == '\r'))
        h->pos++;
}

static int hdr_peek(const Hdr *h) { return h->pos < h->len ? (unsigned char)h->s[h->pos] : -1; }

static int hdr_error(const Hdr *h, const char *what) {
    return rr_error("%s: malformed header: %s at header byte %zu", h->path, what, h->pos);
}

/* A quoted string without escapes; copies at most cap-1 bytes (longer strings are an error). */
static int hdr_string(Hdr *h, char *out, size_t cap) {
    int q = hdr_peek(h);
    if (q != '\'' && q != '"') return hdr_error(h, "expected a quoted string");
    size_t start = ++h->pos;
    while (h->pos < h->len && h->s[h->pos] != q) {
        if (h->s[h->pos] == '\\' || h->s[h->pos] == '\n') return hdr_error(h, "unsupported string");
        h->pos++;
    }
    if (h->pos >= h->len) return hdr_error(h, "unterminated string");
    size_t n = h->pos - start;
    h->pos++;
    if (n >= cap) return hdr_error(h, "string too long");
    memcpy(out, h->s + start, n);
    out[n] = 0;
    return 0;
}

static int hdr_word(Hdr *h, const char *w) {
    size_t n = strlen(w);
    if (h->len - h->pos < n || memcmp(h->s + h->pos, w, n) != 0) return 0;
    h->pos += n;
    return 1;
}

static int hdr_shape(Hdr *h, int *ndim, int64_t *shape) {
    if (hdr_peek(h) != '(') return rr_error("%s: malformed header: 'shape' is not a tuple", h->path);
    h->pos++;
    int n = 0, commas = 0;
    for (;;) {
        hdr_ws(h);
        if (hdr_peek(h) == ')') { h->pos++; break; }
        if (n > commas) return hdr_error(h, "expected ',' or ')' in shape");
        int neg = 0;
        if (hdr_peek(h) == '-' || hdr_peek(h) == '+') { neg = hdr_peek(h) == '-'; h->pos++; hdr_ws(h); }
        if (hdr_peek(h) < '0' || hdr_peek(h) > '9') return hdr_error(h, "expected an integer in shape");
        uint64_t v = 0;
        int overflow = 0;
        while (hdr_peek(h) >= '0' && hdr_peek(h) <= '9') {
            unsigned d = (unsigned)(hdr_peek(h) - '0');
            if (v > ((uint64_t)INT64_MAX - d) / 10) overflow = 1;
            else v = v * 10 + d;
            h->pos++;
        }
        if (hdr_peek(h) == 'L' || hdr_peek(h) == 'l') h->pos++; /* Python 2 long */
        if (neg && v > 0) return rr_error("%s: negative dimension -%" PRIu64 " in shape", h->path, v);
        if (overflow) return rr_error("%s: dimension overflows int64 in shape", h->path);
        if (n == NPY_MAX_DIMS) return rr_error("%s: shape has more than %d dimensions", h->path, NPY_MAX_DIMS);
        shape[n++] = (int64_t)v;
        hdr_ws(h);
        if (hdr_peek(h) == ',') { h->pos++; commas++; }
    }
    if (n == 1 && commas == 0) return rr_error("%s: malformed header: 'shape' is not a tuple", h->path);
    if (commas > n || (n == 0 && commas)) return hdr_error(h, "stray ',' in shape");
    *ndim = n;
    return 0;
}

/* Parse the dict at s[0..len): fills dtype, ndim, shape. */
static int parse_header(const char *path, const char *s, size_t len, NpyDtype *dtype, int *ndim,
                        int64_t *shape) {
    Hdr h = {path, s, len, 0};
    int have_descr = 0, have_fortran = 0, have_shape = 0;
    hdr_ws(&h);
    if (hdr_peek(&h) != '{') return rr_error("%s: malformed header: header is not a dict", path);
    h.pos++;
    for (;;) {
        hdr_ws(&h);
        if (hdr_peek(&h) == '}') { h.pos++; break; }
        char key[32];
        if (hdr_string(&h, key, sizeof key)) return -1;
        hdr_ws(&h);
        if (hdr_peek(&h) != ':') return hdr_error(&h, "expected ':'");
        h.pos++;
        hdr_ws(&h);
        if (strcmp(key, "descr") == 0) {
            if (have_descr++) return rr_error("%s: malformed header: duplicate key 'descr'", path);
            char descr[32];
            if (hdr_peek(&h) == '[') return rr_error("%s: unsupported dtype: structured descr (only '|u1' uint8 and '<f4' float32)", path);
            if (hdr_string(&h, descr, sizeof descr)) return -1;
            if (strcmp(descr, "|u1") == 0 || strcmp(descr, "<u1") == 0) *dtype = NPY_U8;
            else if (strcmp(descr, "<f4") == 0) *dtype = NPY_F32;
            else return rr_error("%s: unsupported dtype '%s' (only '|u1' uint8 and '<f4' float32)", path, rr_esc(descr));
        } else if (strcmp(key, "fortran_order") == 0) {
            if (have_fortran++) return rr_error("%s: malformed header: duplicate key 'fortran_order'", path);
            if (hdr_word(&h, "True")) return rr_error("%s: fortran_order True is not supported (C order only)", path);
            if (!hdr_word(&h, "False")) return hdr_error(&h, "'fortran_order' is not True or False");
        } else if (strcmp(key, "shape") == 0) {
            if (have_shape++) return rr_error("%s: malformed header: duplicate key 'shape'", path);
            if (hdr_shape(&h, ndim, shape)) return -1;
        } else {
            return rr_error("%s: malformed header: unexpected key '%s'", path, rr_esc(key));
        }
        hdr_ws(&h);
        if (hdr_peek(&h) == ',') { h.pos++; continue; }
        if (hdr_peek(&h) == '}') { h.pos++; break; }
        return hdr_error(&h, "expected ',' or '}'");
    }
    hdr_ws(&h);
    if (h.pos != h.len) return hdr_error(&h, "trailing characters after the dict");
    const char *missing = !have_descr ? "descr" : !have_fortran ? "fortran_order" : !have_shape ? "shape" : NULL;
    if (missing) return rr_error("%s: malformed header: missing key '%s'", path, missing);
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

int npy_load(const char *path, NpyArray *a) {
    memset(a, 0, sizeof *a);
    int fd;
    size_t size;
    if (rr_open_regular(path, 0, NULL, &fd, &size)) return -1; /* a FIFO is refused, never waited on */
    if (size == 0) {
        close(fd);
        return rr_error("%s: truncated header: empty file (not a .npy file)", path);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return rr_error("%s: cannot mmap: %s", path, strerror(e));
    const unsigned char *b = map;

    size_t nmagic = size < 6 ? size : 6;
    if (memcmp(b, npy_magic, nmagic) != 0) {
        rr_error("%s: bad magic: not a .npy file", path);
        goto out;
    }
    if (size < 8) {
        rr_error("%s: truncated header: file is only %zu bytes", path, size);
        goto out;
    }
    int major = b[6], minor = b[7];
    size_t len_bytes = major == 1 ? 2 : 4;
    if ((major != 1 && major != 2 && major != 3) || minor != 0) {
        rr_error("%s: unsupported version %d.%d (only 1.0, 2.0, 3.0)", path, major, minor);
        goto out;
    }
    if (size < 8 + len_bytes) {
        rr_error("%s: truncated header: file is only %zu bytes", path, size);
        goto out;
    }
    size_t hlen = b[8] | (size_t)b[9] << 8;
    if (len_bytes == 4) hlen |= (size_t)b[10] << 16 | (size_t)b[11] << 24;
    size_t data_off = 8 + len_bytes + hlen;
    if (data_off > size) {
        rr_error("%s: truncated header: header length %zu runs past the end of the %zu-byte file", path, hlen, size);
        goto out;
    }
    NpyDtype dtype = 0;
    int ndim = 0;
    int64_t shape[NPY_MAX_DIMS];
    if (parse_header(path, (const char *)b + 8 + len_bytes, hlen, &dtype, &ndim, shape)) goto out;

    size_t esize = npy_dtype_size(dtype);
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] != 0 && count > INT64_MAX / shape[i]) {
            char s[256];
            format_shape(s, sizeof s, ndim, shape);
            rr_error("%s: shape %s overflows the element count", path, s);
            goto out;
        }
        count *= shape[i];
    }
    if ((uint64_t)count > SIZE_MAX / esize) {
        rr_error("%s: shape overflows the byte count", path);
        goto out;
    }
    size_t nbytes = (size_t)count * esize;
    if (nbytes > size - data_off) {
        char s[256];
        format_shape(s, sizeof s, ndim, shape);
        rr_error("%s: truncated data: shape %s %s needs %zu bytes but only %zu follow the header", path, s,
                 npy_dtype_name(dtype), nbytes, size - data_off);
        goto out;
    }
    a->dtype = dtype;
    a->ndim = ndim;
    memcpy(a->shape, shape, (size_t)ndim * sizeof *shape);
    a->count = count;
    a->nbytes = nbytes;
    if ((data_off % esize) != 0) {
        /* A header length numpy would not write leaves float data misaligned: copy it out. */
        a->data = rr_aligned_alloc(nbytes);
        memcpy(a->data, b + data_off, nbytes);
        munmap(map, size);
        return 0;
    }
    a->data = (void *)(b + data_off);
    a->map_base = map;
    a->map_len = size;
    return 0;
out:
    munmap(map, size);
    return -1;
}

void npy_free(NpyArray *a) {
    if (!a) return;
    if (a->map_base) munmap(a->map_base, a->map_len);
    else free(a->data);
    memset(a, 0, sizeof *a);
}

char *npy_describe(const NpyArray *a, char *out, size_t cap) {
    char sh[256];
    format_shape(sh, sizeof sh, a->ndim, a->shape);
    snprintf(out, cap, "%dD %s %s", a->ndim, npy_dtype_name(a->dtype), sh);
    return out;
}

int npy_expect(const NpyArray *a, const char *path, NpyDtype dtype, int ndim, const int64_t *shape) {
    if (dtype && a->dtype != dtype)
        return rr_error("%s: dtype %s but expected %s", path, npy_dtype_name(a->dtype), npy_dtype_name(dtype));
    if (ndim < 0) return 0;
    int ok = a->ndim == ndim;
    for (int i = 0; ok && shape && i < ndim; i++)
        if (shape[i] >= 0 && a->shape[i] != shape[i]) ok = 0;
    if (ok) return 0;
    char got[256], want[256];
    format_shape(got, sizeof got, a->ndim, a->shape);
    if (shape) {
        format_shape(want, sizeof want, ndim, shape);
        return rr_error("%s: shape %s but expected %s", path, got, want);
    }
    return rr_error("%s: shape %s but expected %d dimensions", path, got, ndim);
}

/* ---- writing ------------------------------------------------------------------------------ */

int npy_format_header(NpyDtype dtype, int ndim, const int64_t *shape, int major, char **out, size_t *len) {
    const char *descr = dtype_descr(dtype);
    if (!descr) return rr_error("npy header: unsupported dtype %d", (int)dtype);
    if (ndim < 0 || ndim > NPY_MAX_DIMS) return rr_error("npy header: ndim %d out of range 0..%d", ndim, NPY_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0) return rr_error("npy header: negative dimension %" PRId64, shape[i]);
    /* The dict as numpy's _write_array_header makes it: sorted keys, repr values, "'k': v, " each,
     * then spaces so the first axis can grow to GROWTH_AXIS_MAX_DIGITS = 21 digits in place. */
    char dict[512], tuple[256];
    format_shape(tuple, sizeof tuple, ndim, shape);
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple);
    if (ndim > 0) {
        char first[32];
        int digits = snprintf(first, sizeof first, "%" PRId64, shape[0]);
        for (int i = digits; i < 21; i++) dict[n++] = ' ';
        dict[n] = 0;
    }
    /* numpy's _wrap_header: magic, version, length, dict, spaces, '\n', the total a multiple of 64
     * (padlen is 1..64: a header that is already aligned still gets 64 spaces). */
    size_t hlen = (size_t)n + 1;
    if (major == 0) major = hlen + 64 - (10 + hlen) % 64 > 65535 ? 2 : 1; /* 1.0 unless it overflows */
    if (major != 1 && major != 2) return rr_error("npy header: unsupported version %d.0", major);
    size_t prefix = major == 1 ? 10 : 12;
    size_t padlen = 64 - (prefix + hlen) % 64;
    size_t field = hlen + padlen;
    if (major == 1 && field > 65535) return rr_error("npy header: %zu bytes too long for version 1.0", field);
    size_t total = prefix + field;
    char *h = rr_malloc(total);
    memcpy(h, npy_magic, 6);
    h[6] = (char)major;
    h[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++) h[8 + i] = (char)((field >> (8 * i)) & 0xFF);
    memcpy(h + prefix, dict, (size_t)n);
    memset(h + prefix + n, ' ', padlen);
    h[total - 1] = '\n';
    *out = h;
    *len = total;
    return 0;
}

int npy_save(const char *path, NpyDtype dtype, int ndim, const int64_t *shape, const void *data) {
    char *header;
    size_t hlen;
    if (npy_format_header(dtype, ndim, shape, 0, &header, &hlen)) {
        char why[512];
        snprintf(why, sizeof why, "%s", rr_last_error());
        return rr_error("%s: %s", path, why);
    }
    size_t count = 1, esize = npy_dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] != 0 && count > SIZE_MAX / esize / (size_t)shape[i]) {
            free(header);
            return rr_error("%s: shape overflows the byte count", path);
        }
        count *= (size_t)shape[i];
    }
    size_t nbytes = count * esize;
    if (nbytes && !data) {
        free(header);
        return rr_error("%s: no data to write", path);
    }
    RRAtomicFile af;
    if (rr_atomic_open(&af, path)) {
        free(header);
        return -1;
    }
    int bad = fwrite(header, 1, hlen, af.fp) != hlen;
    free(header);
    if (!bad && nbytes) bad = fwrite(data, 1, nbytes, af.fp) != nbytes;
    if (bad) {
        rr_atomic_abort(&af);
        return rr_error("%s: short write: %s", path, strerror(errno));
    }
    return rr_atomic_commit(&af);
}

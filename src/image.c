/* image.c — hand-written grayscale PNG (stored deflate blocks) and PGM output, CRC-32 / Adler-32, and
 * `rnnreg strip`, which draws frames of .npy arrays as a picture strip. See image.h. */
#include "image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"

/* ---------------------------------------------------------------------------------------------- */
/* Checksums                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

uint32_t rr_crc32(uint32_t crc, const void *data, size_t n) {
    /* Table-driven reflected CRC (PNG spec, "CRC algorithm"); the table is 1 KiB, built per call. */
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t rr_adler32(uint32_t adler, const void *data, size_t n) {
    /* RFC 1950 §8: s1 = 1 + sum of bytes, s2 = sum of s1 values, both mod 65521. The modulo is taken
     * every 5552 bytes, the most that cannot overflow 32 bits (zlib's NMAX). */
    const uint32_t BASE = 65521;
    const uint8_t *p = data;
    uint32_t s1 = adler & 0xFFFF, s2 = adler >> 16;
    while (n > 0) {
        size_t run = n < 5552 ? n : 5552;
        n -= run;
        while (run--) {
            s1 += *p++;
            s2 += s1;
        }
        s1 %= BASE;
        s2 %= BASE;
    }
    return (s2 << 16) | s1;
}

/* ---------------------------------------------------------------------------------------------- */
/* PNG and PGM                                                                                    */
/* ---------------------------------------------------------------------------------------------- */

#define IMAGE_MAX_SIDE 1000000        /* sanity limits, far above any strip */
#define IMAGE_MAX_BYTES (1LL << 30)

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* One chunk: length (4, big-endian), type (4), data, CRC-32 over type and data. */
static void png_chunk(FILE *fp, const char type[4], const uint8_t *data, uint32_t n) {
    uint8_t be[4];
    put_be32(be, n);
    fwrite(be, 1, 4, fp);
    fwrite(type, 1, 4, fp);
    if (n) fwrite(data, 1, n, fp);
    uint32_t crc = rr_crc32(rr_crc32(0, type, 4), data, n);
    put_be32(be, crc);
    fwrite(be, 1, 4, fp);
}

static int image_check(const char *path, int64_t width, int64_t height) {
    if (width < 1 || height < 1 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE ||
        (width + 1) * height > IMAGE_MAX_BYTES)
        return rr_error("%s: bad image size %lld x %lld", path, (long long)width, (long long)height);
    return 0;
}

int png_write_gray8(const char *path, const uint8_t *pixels, int64_t width, int64_t height) {
    if (image_check(path, width, height)) return -1;
    /* Scanlines: a filter-type byte (0 = None) before each row. */
    size_t row = (size_t)width + 1, raw_n = row * (size_t)height;
    size_t n_blocks = (raw_n + 65534) / 65535;
    size_t z_n = 2 + 5 * n_blocks + raw_n + 4; /* zlib header, block headers, data, Adler-32 */
    uint8_t *z = rr_malloc(z_n), *q = z;
    /* zlib header (RFC 1950): CMF 0x78 = deflate, 32 KiB window; FLG 0x01 makes CMF*256+FLG a
     * multiple of 31, no preset dictionary, "fastest" level. */
    *q++ = 0x78;
    *q++ = 0x01;
    uint32_t adler = 1;
    size_t left = raw_n;
    int64_t y = 0, x = -1; /* next raw byte: filter byte when x == -1, else pixel (x, y) */
    while (left > 0) {
        size_t len = left < 65535 ? left : 65535;
        left -= len;
        /* Stored block header (RFC 1951 §3.2.4): BFINAL, BTYPE=00 in one byte, then LEN and ~LEN
         * as little-endian 16-bit numbers. */
        *q++ = left == 0 ? 1 : 0;
        *q++ = (uint8_t)len, *q++ = (uint8_t)(len >> 8);
        *q++ = (uint8_t)~len, *q++ = (uint8_t)(~len >> 8);
        uint8_t *block = q;
        for (size_t i = 0; i < len; i++) {
            *q++ = x < 0 ? 0 : pixels[y * width + x];
            if (++x == width) x = -1, y++;
        }
        adler = rr_adler32(adler, block, len);
    }
    put_be32(q, adler);
    q += 4;

    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)width);
    put_be32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* colour type: grayscale */
    ihdr[10] = 0; /* compression method: deflate */
    ihdr[11] = 0; /* filter method 0 */
    ihdr[12] = 0; /* no interlace */
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    RRAtomicFile af;
    if (rr_atomic_open(&af, path)) {
        free(z);
        return -1;
    }
    fwrite(signature, 1, sizeof signature, af.fp);
    png_chunk(af.fp, "IHDR", ihdr, sizeof ihdr);
    png_chunk(af.fp, "IDAT", z, (uint32_t)(q - z));
    png_chunk(af.fp, "IEND", NULL, 0);
    free(z);
    return rr_atomic_commit(&af); /* catches any failed fwrite through ferror */
}

int pgm_write_gray8(const char *path, const uint8_t *pixels, int64_t width, int64_t height) {
    if (image_check(path, width, height)) return -1;
    RRAtomicFile af;
    if (rr_atomic_open(&af, path)) return -1;
    fprintf(af.fp, "P5\n%lld %lld\n255\n", (long long)width, (long long)height);
    fwrite(pixels, 1, (size_t)(width * height), af.fp);
    return rr_atomic_commit(&af);
}

int image_write_gray8(const char *path, const uint8_t *pixels, int64_t width, int64_t height) {
    size_t n = strlen(path);
    if (n >= 4 && !strcmp(path + n - 4, ".pgm")) return pgm_write_gray8(path, pixels, width, height);
    return png_write_gray8(path, pixels, width, height);
}

/* ---------------------------------------------------------------------------------------------- */
/* Strips                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

/* Pixel (y, x) of frame t of sequence n as 0..255. */
static uint8_t strip_pixel(const StripInput *in, int64_t t, int64_t n, int64_t y, int64_t x) {
    int64_t i = ((t * in->N + n) * in->H + y) * in->W + x;
    if (in->dtype == NPY_U8) return ((const uint8_t *)in->data)[i];
    float v = ((const float *)in->data)[i];
    if (!(v > 0.0f)) return 0; /* also NaN */
    if (v >= 1.0f) return 255;
    return (uint8_t)lrintf(v * 255.0f);
}

int strip_compose(const StripInput *inputs, int n_inputs, const int64_t *seqs, int n_seqs, int scale,
                  uint8_t **pixels, int64_t *width, int64_t *height) {
    if (n_inputs < 1) return rr_error("strip: no input arrays");
    if (n_seqs < 1) return rr_error("strip: no sequences selected");
    if (scale < 1 || scale > 64) return rr_error("strip: scale %d must be in 1..64", scale);
    int64_t H = inputs[0].H, W = inputs[0].W, maxT = 0;
    for (int i = 0; i < n_inputs; i++) {
        const StripInput *in = &inputs[i];
        if (in->dtype != NPY_U8 && in->dtype != NPY_F32)
            return rr_error("%s: dtype must be uint8 or float32", in->name);
        if (in->T < 1 || in->N < 1 || in->H < 1 || in->W < 1)
            return rr_error("%s: empty array (T=%lld, N=%lld, H=%lld, W=%lld)", in->name, (long long)in->T,
                            (long long)in->N, (long long)in->H, (long long)in->W);
        if (in->H != H || in->W != W)
            return rr_error("%s: frames are %lldx%lld but %s has %lldx%lld", in->name, (long long)in->H,
                            (long long)in->W, inputs[0].name, (long long)H, (long long)W);
        for (int s = 0; s < n_seqs; s++)
            if (seqs[s] < 0 || seqs[s] >= in->N)
                return rr_error("%s: sequence %lld out of range (N = %lld)", in->name, (long long)seqs[s],
                                (long long)in->N);
        if (in->T > maxT) maxT = in->T;
    }
    const int64_t cellH = H * scale, cellW = W * scale, rows = (int64_t)n_inputs * n_seqs;
    const int64_t w = STRIP_SEP + maxT * (cellW + STRIP_SEP);
    const int64_t h = STRIP_SEP + rows * (cellH + STRIP_SEP) + (n_seqs - 1) * (STRIP_GROUP_SEP - STRIP_SEP);
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w * h > IMAGE_MAX_BYTES)
        return rr_error("strip: picture would be %lld x %lld pixels; use fewer frames/sequences or a smaller scale",
                        (long long)w, (long long)h);
    uint8_t *img = rr_malloc((size_t)(w * h));
    memset(img, STRIP_GRAY, (size_t)(w * h));
    for (int g = 0; g < n_seqs; g++)
        for (int i = 0; i < n_inputs; i++) {
            const StripInput *in = &inputs[i];
            int64_t y0 = STRIP_SEP + (g * (int64_t)n_inputs + i) * (cellH + STRIP_SEP) +
                         g * (int64_t)(STRIP_GROUP_SEP - STRIP_SEP);
            for (int64_t t = 0; t < in->T; t++) {
                int64_t x0 = STRIP_SEP + (maxT - in->T + t) * (cellW + STRIP_SEP); /* right-aligned */
                for (int64_t yy = 0; yy < cellH; yy++)
                    for (int64_t xx = 0; xx < cellW; xx++)
                        img[(y0 + yy) * w + x0 + xx] = strip_pixel(in, t, seqs[g], yy / scale, xx / scale);
            }
        }
    *pixels = img;
    *width = w;
    *height = h;
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* rnnreg strip                                                                                   */
/* ---------------------------------------------------------------------------------------------- */

#define STRIP_MAX_INPUTS 32
#define STRIP_MAX_SEQS 256

static void strip_usage(FILE *out) {
    fprintf(out,
            "usage: rnnreg strip --in A.npy [--in B.npy ...] --out strip.png [--seq N | --seqs 0,1,2] [--scale K]\n"
            "  Draws sequence N of each (T, N, H, W) array (uint8, or float32 shown as clip(v, 0, 1)*255;\n"
            "  (T, N, 1, H, W) is accepted too) as one row of T frames. Rows are right-aligned, so a\n"
            "  10-frame prediction sits under frames 11-20 of a 20-frame truth row; %d-px gray separators.\n"
            "  --in FILE     an input array (repeat for more rows, top to bottom)\n"
            "  --out FILE    the picture: PNG (8-bit gray), or PGM when FILE ends in .pgm\n"
            "  --seq N       the sequence to draw (default 0)\n"
            "  --seqs LIST   several sequences, comma-separated: one group of rows per sequence\n"
            "  --scale K     integer upscale of every frame (nearest neighbour, default 1)\n",
            STRIP_SEP);
}

static int parse_int64(const char *s, int64_t *v) {
    char *end;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end) return -1;
    *v = x;
    return 0;
}

int cmd_strip(int argc, char **argv) {
    const char *in_paths[STRIP_MAX_INPUTS], *out_path = NULL;
    int n_in = 0, n_seqs = 1, scale = 1;
    int64_t seqs[STRIP_MAX_SEQS] = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            strip_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "rnnreg strip: %s needs a value (or is unknown)\n", a);
            strip_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--in")) {
            if (n_in == STRIP_MAX_INPUTS) {
                fprintf(stderr, "rnnreg strip: at most %d --in arrays\n", STRIP_MAX_INPUTS);
                return 2;
            }
            in_paths[n_in++] = v;
        } else if (!strcmp(a, "--out")) {
            out_path = v;
        } else if (!strcmp(a, "--seq")) {
            n_seqs = 1;
            if (parse_int64(v, &seqs[0]) || seqs[0] < 0) {
                fprintf(stderr, "rnnreg strip: --seq: '%s' is not a sequence index\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--seqs")) {
            n_seqs = 0;
            char *list = rr_strdup(v), *save = NULL;
            for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (n_seqs == STRIP_MAX_SEQS || parse_int64(tok, &seqs[n_seqs]) || seqs[n_seqs] < 0) {
                    fprintf(stderr, "rnnreg strip: --seqs: bad list '%s' (at most %d indices)\n", v,
                            STRIP_MAX_SEQS);
                    free(list);
                    return 2;
                }
                n_seqs++;
            }
            free(list);
            if (n_seqs == 0) {
                fprintf(stderr, "rnnreg strip: --seqs: empty list\n");
                return 2;
            }
        } else if (!strcmp(a, "--scale")) {
            int64_t k;
            if (parse_int64(v, &k) || k < 1 || k > 64) {
                fprintf(stderr, "rnnreg strip: --scale: '%s' is not an integer in 1..64\n", v);
                return 2;
            }
            scale = (int)k;
        } else {
            fprintf(stderr, "rnnreg strip: unknown option '%s'\n", a);
            strip_usage(stderr);
            return 2;
        }
    }
    if (n_in == 0 || !out_path) {
        fprintf(stderr, "rnnreg strip: need at least one --in and an --out\n");
        strip_usage(stderr);
        return 2;
    }

    NpyArray arrays[STRIP_MAX_INPUTS];
    StripInput inputs[STRIP_MAX_INPUTS];
    int loaded = 0, status = 1;
    for (; loaded < n_in; loaded++) {
        NpyArray *a = &arrays[loaded];
        const char *path = in_paths[loaded];
        if (npy_load(path, a)) goto done;
        int ok4 = a->ndim == 4, ok5 = a->ndim == 5 && a->shape[2] == 1;
        if (!ok4 && !ok5) {
            rr_error("%s: expected a (T, N, H, W) or (T, N, 1, H, W) array, got %d dimensions", path, a->ndim);
            loaded++;
            goto done;
        }
        inputs[loaded] = (StripInput){path, a->dtype, a->shape[0], a->shape[1], a->shape[a->ndim - 2],
                                      a->shape[a->ndim - 1], a->data};
    }
    uint8_t *pixels;
    int64_t w, h;
    if (strip_compose(inputs, n_in, seqs, n_seqs, scale, &pixels, &w, &h)) goto done;
    int rc = image_write_gray8(out_path, pixels, w, h);
    free(pixels);
    if (rc) goto done;
    status = 0;
done:
    if (status) fprintf(stderr, "rnnreg: %s\n", rr_last_error());
    for (int i = 0; i < loaded; i++) npy_free(&arrays[i]);
    return status;
}

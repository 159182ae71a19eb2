/* test_metrics.c — src/metrics.c against scikit-image / numpy values computed by
 * tests/reference/make_metrics_fixture.py (committed in tests/fixtures/metrics_*), closed forms for
 * flat frames, the accumulator (means, thread-count independence, errors) and the JSON writer.
 *
 * Tolerances (relative, the reference is float64 numpy / skimage on the same float32 inputs):
 *   all six metrics  1e-12 (observed <= 5e-14): the sums differ only in order (numpy pairwise vs our
 *                    loop); for ssim we form the 7×7 window sums exactly in integers while skimage's
 *                    uniform_filter divides by 7 after each separable pass and takes E[x²] − μ²;
 *                    for ssim_gauss the 11-tap sums run in a different order.
 *   mse_f32, psnr_f32  1e-5: PredRNN's own float32 expressions (np.square(x - gx).sum() and batch_psnr
 *                      with dtype=np.float32) — the protocol we reproduce in double. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "metrics.h"
#include "npy.h"
#include "test.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define FIX "tests/fixtures/"

typedef struct {
    char kind[8], set[8];
    int t, n;
    double v[8]; /* six metrics (+ mse_f32, psnr_f32 for "pair") */
} ExpectLine;

static ExpectLine expect[64];
static int n_expect = 0;

static int read_expected(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    char line[1024];
    while (fgets(line, sizeof line, fp) && n_expect < 64) {
        if (line[0] == '#' || line[0] == '\n') continue;
        ExpectLine *e = &expect[n_expect];
        memset(e, 0, sizeof *e);
        char *p = line;
        int used = 0;
        if (sscanf(p, "%7s %7s%n", e->kind, e->set, &used) != 2) continue;
        p += used;
        int nv = 6;
        if (!strcmp(e->kind, "pair")) {
            if (sscanf(p, "%d %d%n", &e->t, &e->n, &used) != 2) continue;
            p += used;
            nv = 8;
        } else if (!strcmp(e->kind, "frame")) {
            if (sscanf(p, "%d%n", &e->t, &used) != 1) continue;
            p += used;
        }
        int ok = 1;
        for (int i = 0; i < nv; i++) {
            char *end;
            e->v[i] = strtod(p, &end);
            if (end == p) ok = 0;
            p = end;
        }
        if (ok) n_expect++;
    }
    fclose(fp);
    return 0;
}

static const ExpectLine *find(const char *kind, const char *set, int t, int n) {
    for (int i = 0; i < n_expect; i++)
        if (!strcmp(expect[i].kind, kind) && !strcmp(expect[i].set, set) && expect[i].t == t &&
            expect[i].n == n)
            return &expect[i];
    return NULL;
}

static const double rtol_of[METRICS_COUNT] = {1e-12, 1e-12, 1e-12, 1e-12, 1e-12, 1e-12};

static void check_frame(const char *what, const MetricsFrame *got, const double *want) {
    for (int i = 0; i < METRICS_COUNT; i++)
        CHECK_NEAR(metrics_get(got, i), want[i], 1e-13, rtol_of[i], "%s %s = %.10g", what, metrics_names[i],
                   metrics_get(got, i));
}

/* Every pair of a fixture set, then the accumulator over the whole (T, N, H, W) array. */
static void check_set(const char *set, const char *truth_path, const char *pred_path) {
    NpyArray truth, pred;
    if (npy_load(truth_path, &truth) || npy_load(pred_path, &pred)) {
        CHECK(0, "load %s fixtures: %s", set, rr_last_error());
        return;
    }
    CHECK(truth.dtype == NPY_F32 && pred.dtype == NPY_F32 && truth.ndim == 4 && pred.ndim == 4,
          "%s fixtures are float32 (T, N, H, W)", set);
    const int T = (int)truth.shape[0], N = (int)truth.shape[1], H = (int)truth.shape[2],
              W = (int)truth.shape[3];
    const float *tf = truth.data, *pf = pred.data;
    const size_t fs = (size_t)H * W;
    char what[96];
    for (int t = 0; t < T; t++) {
        for (int n = 0; n < N; n++) {
            const ExpectLine *e = find("pair", set, t, n);
            if (!e) {
                CHECK(0, "expected values for %s pair t=%d n=%d", set, t, n);
                continue;
            }
            MetricsFrame m;
            size_t off = ((size_t)t * N + n) * fs;
            metrics_frame(tf + off, pf + off, H, W, &m);
            snprintf(what, sizeof what, "%s %dx%d t=%d n=%d", set, H, W, t, n);
            check_frame(what, &m, e->v);
            /* PredRNN's float32 expressions */
            CHECK_NEAR(m.mse, e->v[6], 0, 1e-5, "%s mse vs PredRNN float32 sum %.9g", what, e->v[6]);
            if (isinf(e->v[7]))
                CHECK(m.psnr == METRICS_PSNR_CAP, "%s identical uint8 frames: PredRNN inf, ours the %g dB cap",
                      what, METRICS_PSNR_CAP);
            else
                CHECK_NEAR(m.psnr, e->v[7], 0, 1e-5, "%s psnr vs PredRNN float32 batch_psnr %.9g", what,
                           e->v[7]);
        }
    }
    /* accumulator, batch by batch (frame t of all N sequences is contiguous in (T, N, H, W)) */
    MetricsAcc acc;
    MetricsResult res;
    CHECK(metrics_acc_init(&acc, T) == 0, "%s: accumulator init", set);
    for (int t = 0; t < T; t++) metrics_acc_add_batch(&acc, t, tf + (size_t)t * N * fs, pf + (size_t)t * N * fs, N, H, W);
    if (metrics_acc_finish(&acc, &res) == 0) {
        CHECK(res.frames == T && res.sequences == N, "%s: result has %d frames, %lld sequences", set,
              res.frames, (long long)res.sequences);
        for (int t = 0; t < T; t++) {
            const ExpectLine *e = find("frame", set, t, 0);
            snprintf(what, sizeof what, "%s frame %d mean over %d sequences", set, t, N);
            if (e) check_frame(what, &res.frame[t], e->v);
        }
        const ExpectLine *e = find("mean", set, 0, 0);
        snprintf(what, sizeof what, "%s mean over frames", set);
        if (e) check_frame(what, &res.mean, e->v);
        CHECK(e != NULL, "%s: expected mean line present", set);
        metrics_result_free(&res);
    } else {
        CHECK(0, "%s: accumulator finish: %s", set, rr_last_error());
    }
    metrics_acc_free(&acc);
    npy_free(&truth);
    npy_free(&pred);
}

/* Flat frames: every window has zero variance, so SSIM = (2·μx·μy + C1) / (μx² + μy² + C1). */
static void check_flat(void) {
    enum { H = 16, W = 12 };
    static float a[H * W], b[H * W];
    const int ka = 200, kb = 51;  /* uint8 levels; k/255 in float32 truncates back to k */
    for (int i = 0; i < H * W; i++) a[i] = (float)ka / 255.0f, b[i] = (float)kb / 255.0f;
    MetricsFrame m;
    metrics_frame(a, b, H, W, &m);
    double fa = (float)ka / 255.0f, fb = (float)kb / 255.0f, d = fa - fb;
    CHECK_NEAR(m.mse, H * W * d * d, 0, 1e-13, "flat: mse = H*W*(a-b)^2");
    CHECK_NEAR(m.mse_pixel, d * d, 0, 1e-13, "flat: mse_pixel = (a-b)^2");
    CHECK_NEAR(m.mae, H * W * fabs(d), 0, 1e-13, "flat: mae = H*W*|a-b|");
    CHECK_NEAR(m.psnr, 20 * log10(255.0 / (ka - kb)), 0, 1e-13, "flat: psnr = 20 log10(255/|ka-kb|)");
    double C1 = (0.01 * 255) * (0.01 * 255);
    CHECK_NEAR(m.ssim, (2.0 * ka * kb + C1) / ((double)ka * ka + (double)kb * kb + C1), 0, 1e-13,
               "flat: ssim = (2ab + C1)/(a^2 + b^2 + C1) on uint8 levels");
    double c1 = 1e-4;
    CHECK_NEAR(m.ssim_gauss, (2 * fa * fb + c1) / (fa * fa + fb * fb + c1), 0, 1e-12,
               "flat: ssim_gauss = (2ab + C1)/(a^2 + b^2 + C1), C1 = 0.01^2");
}

/* A 7×7 frame is one window: SSIM from the sample statistics of the 49 uint8 values. 7 <= H < 11
 * leaves ssim_gauss undefined (NaN). */
static void check_single_window(void) {
    float x[49], y[49];
    double ux = 0, uy = 0;
    int xi[49], yi[49];
    for (int i = 0; i < 49; i++) {
        xi[i] = (i * 37 + 11) % 256;
        yi[i] = (i * i * 13 + 5) % 256;
        x[i] = (float)xi[i] / 255.0f;
        y[i] = (float)yi[i] / 255.0f;
        ux += xi[i] / 49.0, uy += yi[i] / 49.0;
    }
    double vx = 0, vy = 0, cxy = 0;
    for (int i = 0; i < 49; i++) {
        vx += (xi[i] - ux) * (xi[i] - ux) / 48.0;
        vy += (yi[i] - uy) * (yi[i] - uy) / 48.0;
        cxy += (xi[i] - ux) * (yi[i] - uy) / 48.0;
    }
    double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);
    double want = (2 * ux * uy + C1) * (2 * cxy + C2) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
    MetricsFrame m;
    metrics_frame(y, x, 7, 7, &m);
    CHECK_NEAR(m.ssim, want, 1e-14, 1e-12, "7x7 frame: ssim from the 49-sample statistics (%.12g)", want);
    CHECK(isnan(m.ssim_gauss) && isfinite(m.psnr), "7x7 frame: ssim_gauss NaN (window 11), psnr finite");
    metrics_frame(y, x, 6, 8, &m);
    CHECK(isnan(m.mse) && isnan(m.ssim), "6x8 frame: smaller than the SSIM window gives NaN");
}

static void check_nan_and_clip(void) {
    enum { H = 12, W = 12 };
    static float t[H * W], p[H * W], pc[H * W];
    for (int i = 0; i < H * W; i++) {
        t[i] = (float)((i * 7) % 13) / 12.0f;
        p[i] = (float)((i * 5) % 17) / 8.0f - 0.5f;  /* in [-0.5, 1.5] */
        pc[i] = p[i] < 0 ? 0 : (p[i] > 1 ? 1 : p[i]);
    }
    MetricsFrame m1, m2;
    metrics_frame(t, p, H, W, &m1);
    metrics_frame(t, pc, H, W, &m2);
    CHECK(!memcmp(&m1, &m2, sizeof m1), "prediction outside [0,1] scores exactly as its clipped copy");
    p[17] = NAN;
    metrics_frame(t, p, H, W, &m1);
    int all_nan = 1;
    for (int i = 0; i < METRICS_COUNT; i++) all_nan &= isnan(metrics_get(&m1, i));
    CHECK(all_nan, "a NaN in the prediction makes every metric NaN");
}

/* Sums over sequences do not depend on the OpenMP thread count or on batching. */
static void check_determinism(void) {
    enum { N = 37, H = 64, W = 64, T = 2 };
    float *t = rr_malloc(sizeof(float) * N * H * W), *p = rr_malloc(sizeof(float) * N * H * W);
    for (int i = 0; i < N * H * W; i++) {
        t[i] = (float)((i * 2654435761u) >> 8 & 0xffff) / 65535.0f;
        p[i] = (float)((i * 40503u + 7) >> 3 & 0xffff) / 50000.0f - 0.1f;
    }
    MetricsResult r[3];
    for (int run = 0; run < 3; run++) {
#ifdef _OPENMP
        omp_set_num_threads(run == 0 ? 1 : 4);
#endif
        MetricsAcc acc;
        metrics_acc_init(&acc, T);
        for (int f = 0; f < T; f++) {
            if (run < 2) {
                metrics_acc_add_batch(&acc, f, t, p, N, H, W);
            } else {
                for (int b = 0; b < N; b += 10)
                    metrics_acc_add_batch(&acc, f, t + (size_t)b * H * W, p + (size_t)b * H * W,
                                          N - b < 10 ? N - b : 10, H, W);
            }
        }
        metrics_acc_finish(&acc, &r[run]);
        metrics_acc_free(&acc);
    }
    CHECK(!memcmp(r[0].frame, r[1].frame, sizeof(MetricsFrame) * T) && !memcmp(&r[0].mean, &r[1].mean, sizeof r[0].mean),
          "1 thread and 4 threads give bit-identical means");
    CHECK(!memcmp(r[0].frame, r[2].frame, sizeof(MetricsFrame) * T),
          "one batch of 37 and batches of 10 give bit-identical means");
    for (int run = 0; run < 3; run++) metrics_result_free(&r[run]);
    free(t);
    free(p);
}

static void check_errors(void) {
    MetricsAcc acc;
    MetricsResult res;
    float f[64] = {0};
    CHECK(metrics_acc_init(&acc, 0) == -1, "init with 0 frames fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "frames", "init error names the frames");
    metrics_acc_init(&acc, 2);
    CHECK(metrics_acc_add(&acc, 2, f, f, 8, 8) == -1, "frame index out of range fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "frame index 2", "message names the frame index");
    CHECK(metrics_acc_add(&acc, 0, f, f, 6, 8) == -1, "6x8 frames are refused");
    CHECK(metrics_acc_add(&acc, 0, f, f, 8, 8) == 0, "8x8 frame added");
    CHECK(metrics_acc_finish(&acc, &res) == -1, "finish with an empty frame fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "frame 1 has no sequences", "message names the empty frame");
    metrics_acc_add(&acc, 1, f, f, 8, 8);
    metrics_acc_add(&acc, 1, f, f, 8, 8);
    CHECK(metrics_acc_finish(&acc, &res) == -1, "finish with unequal counts fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "frame 1 has 2 sequences but frame 0 has 1", "message gives the counts");
    metrics_acc_free(&acc);
}

/* The JSON file parses, has every key, and round-trips the doubles exactly; NaN becomes null. */
static void check_json(void) {
    MetricsResult res = {.frames = 2, .sequences = 5};
    res.frame = rr_calloc(2, sizeof(MetricsFrame));
    res.frame[0] = (MetricsFrame){46.5, 46.5 / 4096, 106.8, 23.123456789012345, 0.898, 0.1 / 3};
    res.frame[1] = (MetricsFrame){1e-300, 2.5e-7, 0, METRICS_PSNR_CAP, 1, NAN};
    res.mean = (MetricsFrame){1, 2, 3, 4, 5, NAN};
    /* in the build variant's own folder (tests/run.sh exports BUILD), which exists after linking */
    char path[512];
    snprintf(path, sizeof path, "%s/tests/test_metrics.json", getenv("BUILD") ? getenv("BUILD") : "build");
    if (metrics_write_json(path, &res)) {
        CHECK(0, "write json: %s", rr_last_error());
        metrics_result_free(&res);
        return;
    }
    char *text = NULL, err[256];
    size_t len = 0;
    JsonValue root;
    if (rr_read_file(path, &text, &len) || json_parse(text, len, &root, err, sizeof err)) {
        CHECK(0, "json output parses: %s", text ? err : rr_last_error());
        free(text);
        metrics_result_free(&res);
        return;
    }
    const JsonValue *fr = json_get(&root, "frames"), *sq = json_get(&root, "sequences");
    CHECK(fr && fr->is_int && fr->integer == 2 && sq && sq->is_int && sq->integer == 5,
          "json frames = 2, sequences = 5");
    int exact = 1, nulls = 1;
    for (int i = 0; i < METRICS_COUNT; i++) {
        const JsonValue *arr = json_get(&root, metrics_names[i]);
        if (!arr || arr->type != JSON_ARRAY || arr->n != 2) {
            exact = 0;
            continue;
        }
        for (int t = 0; t < 2; t++) {
            double want = metrics_get(&res.frame[t], i);
            if (isnan(want))
                nulls &= arr->items[t].type == JSON_NULL;
            else
                exact &= arr->items[t].type == JSON_NUMBER && arr->items[t].number == want;
        }
    }
    const JsonValue *mean = json_get(&root, "mean");
    for (int i = 0; i < METRICS_COUNT; i++) {
        const JsonValue *v = json_get(mean, metrics_names[i]);
        double want = metrics_get(&res.mean, i);
        if (!v) exact = 0;
        else if (isnan(want)) nulls &= v->type == JSON_NULL;
        else exact &= v->type == JSON_NUMBER && v->number == want;
    }
    CHECK(exact, "json per-frame arrays and means round-trip every double exactly");
    CHECK(nulls, "json writes NaN as null");
    json_free(&root);
    free(text);
    unlink(path);
    metrics_result_free(&res);
}

int main(void) {
    TEST_BEGIN("test_metrics");
    if (read_expected(FIX "metrics_expected.txt") || n_expect < 10) {
        CHECK(0, "read %smetrics_expected.txt (%d records)", FIX, n_expect);
        return tests_exit();
    }
    check_set("main", FIX "metrics_truth.npy", FIX "metrics_pred.npy");
    check_set("small", FIX "metrics_small_truth.npy", FIX "metrics_small_pred.npy");
    check_flat();
    check_single_window();
    check_nan_and_clip();
    check_determinism();
    check_errors();
    check_json();
    return tests_exit();
}

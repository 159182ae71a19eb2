/* metrics.c — per-frame MSE / MAE / PSNR / SSIM of predicted frames (the PredRNN / PredRNN++ test
 * protocol, see metrics.h for the exact definitions), an accumulator of per-frame means over
 * sequences, the JSON writer, and the `rnnreg metrics` subcommand. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "npy.h"
#include "portable_math.h"

const char *const metrics_names[METRICS_COUNT] = {"mse", "mse_pixel", "mae", "psnr", "ssim", "ssim_gauss"};

double metrics_get(const MetricsFrame *m, int i) {
    switch (i) {
    case 0: return m->mse;
    case 1: return m->mse_pixel;
    case 2: return m->mae;
    case 3: return m->psnr;
    case 4: return m->ssim;
    default: return m->ssim_gauss;
    }
}

static double *metrics_slot(MetricsFrame *m, int i) {
    double *p[METRICS_COUNT] = {&m->mse, &m->mse_pixel, &m->mae, &m->psnr, &m->ssim, &m->ssim_gauss};
    return p[i];
}

/* Clip to [0, 1] like np.minimum(np.maximum(v, 0), 1); NaN is handled before (metrics_frame). */
static inline float clip01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

/* np.uint8(x * 255) for float32 x in [0, 1]: the product is rounded to float32 (C11: assignment to a
 * float drops any extra precision), then truncated toward zero. */
static inline uint8_t to_u8(float x) {
    float scaled = x * 255.0f;
    return (uint8_t)scaled;
}

/* ---------------------------------------------------------------------------------------------
 * SSIM, scikit-image 0.19 defaults on uint8 (skimage/metrics/_structural_similarity.py): uniform
 * 7×7 window (scipy.ndimage.uniform_filter), C1 = (0.01·255)², C2 = (0.03·255)², sample covariance
 * cov_norm = 49/48, map cropped by pad = 3 before the mean. Only window centres inside the crop are
 * computed, and those windows never reach the border, so the filter's boundary mode (reflect) plays
 * no part. The window sums of u, v, u², v², uv are exact integers; with S = Σu, T = Σv (49 pixels):
 *   μu = S/49, cov_norm·(E[u²] − μu²) = (49·Σu² − S²) / (48·49), and likewise for v and uv.
 * ------------------------------------------------------------------------------------------- */
#define SSIM_WIN 7
#define SSIM_PAD 3

/* ws: 5·Ho·W + 5·W int32 of scratch (Ho = H − 6). */
static double ssim_uniform_u8(const uint8_t *u, const uint8_t *v, int H, int W, int32_t *ws) {
    const int Ho = H - 2 * SSIM_PAD, Wo = W - 2 * SSIM_PAD;  /* window centres kept by the crop */
    const size_t plane = (size_t)Ho * W;
    int32_t *col = ws;              /* [5][Ho][W] vertical 7-sums of u, v, u², v², uv */
    int32_t *box = ws + 5 * plane;  /* [5][W] one row of full 7×7 window sums */
    for (int r = 0; r < Ho; r++) {
        int32_t *cu = col + (size_t)r * W, *cv = cu + plane, *cuu = cv + plane, *cvv = cuu + plane,
                *cuv = cvv + plane;
        for (int c = 0; c < W; c++) cu[c] = cv[c] = cuu[c] = cvv[c] = cuv[c] = 0;
        for (int k = 0; k < SSIM_WIN; k++) {
            const uint8_t *ur = u + (size_t)(r + k) * W, *vr = v + (size_t)(r + k) * W;
#pragma omp simd
            for (int c = 0; c < W; c++) {
                int32_t a = ur[c], b = vr[c];
                cu[c] += a, cv[c] += b, cuu[c] += a * a, cvv[c] += b * b, cuv[c] += a * b;
            }
        }
    }
    const double R = 255.0, C1 = (0.01 * R) * (0.01 * R), C2 = (0.03 * R) * (0.03 * R);
    const double NP = SSIM_WIN * SSIM_WIN;           /* 49 */
    const double inv_np2 = 1.0 / (NP * NP);          /* means: S/49 · T/49 = S·T/2401 */
    const double inv_cov = 1.0 / (NP * (NP - 1.0));  /* (49/48)·(1/49²) */
    double total = 0.0;
    for (int r = 0; r < Ho; r++) {
        for (int m = 0; m < 5; m++) {
            const int32_t *src = col + m * plane + (size_t)r * W;
            int32_t *dst = box + (size_t)m * W;
            for (int c = 0; c < Wo; c++) dst[c] = 0;
            for (int k = 0; k < SSIM_WIN; k++)
#pragma omp simd
                for (int c = 0; c < Wo; c++) dst[c] += src[c + k];
        }
        for (int c = 0; c < Wo; c++) {
            int64_t S = box[c], T = box[W + c], SS = box[2 * W + c], TT = box[3 * W + c], ST = box[4 * W + c];
            double A1 = 2.0 * (double)(S * T) * inv_np2 + C1;
            double A2 = 2.0 * (double)(49 * ST - S * T) * inv_cov + C2;
            double B1 = (double)(S * S + T * T) * inv_np2 + C1;
            double B2 = (double)(49 * SS - S * S + 49 * TT - T * T) * inv_cov + C2;
            total += (A1 * A2) / (B1 * B2);
        }
    }
    return total / ((double)Ho * (double)Wo);
}

/* ---------------------------------------------------------------------------------------------
 * Gaussian SSIM (Wang et al. 2004) on double frames in [0, 1], as skimage structural_similarity(...,
 * gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0): skimage passes
 * truncate = 3.5 to scipy.ndimage.gaussian_filter, whose radius is int(3.5·1.5 + 0.5) = 5, weights
 * exp(−x²/(2σ²)) for x = −5..5 normalised to sum 1 (scipy _gaussian_kernel1d), applied along axis 0
 * then axis 1; C1 = 0.01², C2 = 0.03²; map cropped by 5. As above, the crop keeps only centres whose
 * windows lie inside the image, so the reflect boundary mode does not matter.
 * ------------------------------------------------------------------------------------------- */
#define GAUSS_R 5
#define GAUSS_WIN (2 * GAUSS_R + 1)

static void gauss_weights(double w[GAUSS_WIN]) {
    const double sigma = 1.5, a = -0.5 / (sigma * sigma);
    double sum = 0.0;
    for (int k = -GAUSS_R; k <= GAUSS_R; k++) sum += (w[k + GAUSS_R] = rr_exp(a * (double)(k * k)));
    for (int k = 0; k < GAUSS_WIN; k++) w[k] /= sum;
}

/* x, y: [H][W]; ws: 3·H·W + 5·Ho·W + 5·W doubles of scratch (Ho = H − 10). */
static double ssim_gauss_f64(const double *x, const double *y, int H, int W, double *ws) {
    double w[GAUSS_WIN];
    gauss_weights(w);
    const int Ho = H - 2 * GAUSS_R, Wo = W - 2 * GAUSS_R;
    const size_t n = (size_t)H * W, plane = (size_t)Ho * W;
    double *prod = ws;               /* [3][H][W]: x², y², xy (skimage filters im1*im1 etc.) */
    double *col = prod + 3 * n;      /* [5][Ho][W]: x, y, x², y², xy filtered along axis 0 */
    double *row = col + 5 * plane;   /* [5][W]: one row filtered along axis 1 as well */
    for (size_t i = 0; i < n; i++) prod[i] = x[i] * x[i], prod[n + i] = y[i] * y[i], prod[2 * n + i] = x[i] * y[i];
    const double *maps[5] = {x, y, prod, prod + n, prod + 2 * n};
    for (int m = 0; m < 5; m++) {
        for (int r = 0; r < Ho; r++) {
            double *dst = col + m * plane + (size_t)r * W;
            for (int c = 0; c < W; c++) dst[c] = 0.0;
            for (int k = 0; k < GAUSS_WIN; k++) {
                const double *src = maps[m] + (size_t)(r + k) * W;
#pragma omp simd
                for (int c = 0; c < W; c++) dst[c] += w[k] * src[c];
            }
        }
    }
    const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
    double total = 0.0;
    for (int r = 0; r < Ho; r++) {
        for (int m = 0; m < 5; m++) {
            const double *src = col + m * plane + (size_t)r * W;
            double *dst = row + (size_t)m * W;
            for (int c = 0; c < Wo; c++) dst[c] = 0.0;
            for (int k = 0; k < GAUSS_WIN; k++)
#pragma omp simd
                for (int c = 0; c < Wo; c++) dst[c] += w[k] * src[c + k];
        }
        for (int c = 0; c < Wo; c++) {
            double ux = row[c], uy = row[W + c];
            double vx = row[2 * W + c] - ux * ux, vy = row[3 * W + c] - uy * uy, vxy = row[4 * W + c] - ux * uy;
            double A1 = 2.0 * ux * uy + C1, A2 = 2.0 * vxy + C2;
            double B1 = ux * ux + uy * uy + C1, B2 = vx + vy + C2;
            total += (A1 * A2) / (B1 * B2);
        }
    }
    return total / ((double)Ho * (double)Wo);
}

void metrics_frame(const float *truth, const float *pred, int H, int W, MetricsFrame *out) {
    const double nan = NAN;
    *out = (MetricsFrame){nan, nan, nan, nan, nan, nan};
    if (H < METRICS_MIN_SIZE || W < METRICS_MIN_SIZE) return;
    const size_t n = (size_t)H * W;
    for (size_t i = 0; i < n; i++)
        if (isnan(truth[i]) || isnan(pred[i])) return;

    /* one workspace: f64 [2][H][W] clipped prediction, truth; the SSIM scratch (at most
     * 3·H·W + 5·H·W + 5·W doubles); u8 [2][H][W] uint8 prediction, truth */
    const size_t scratch = 8 * n + 5 * (size_t)W;
    double *f64 = rr_malloc(sizeof(double) * (2 * n + scratch) + 2 * n);
    double *ws = f64 + 2 * n;
    uint8_t *u8 = (uint8_t *)(ws + scratch);
    double se = 0.0, ae = 0.0;
    int64_t se_u8 = 0;
    for (size_t i = 0; i < n; i++) {
        float p = clip01(pred[i]), t = clip01(truth[i]);
        double d = (double)p - (double)t;  /* exact: both are float32 */
        se += d * d;
        ae += fabs(d);
        u8[i] = to_u8(p);
        u8[n + i] = to_u8(t);
        int32_t di = (int32_t)u8[i] - (int32_t)u8[n + i];
        se_u8 += di * di;
        f64[i] = p;
        f64[n + i] = t;
    }
    out->mse = se;
    out->mse_pixel = se / (double)n;
    out->mae = ae;
    /* batch_psnr: 20·log10(255) − 10·log10(mse_u8); capped where PredRNN would give +inf. */
    out->psnr = se_u8 == 0 ? METRICS_PSNR_CAP
                           : 20.0 * rr_log10(255.0) - 10.0 * rr_log10((double)se_u8 / (double)n);
    out->ssim = ssim_uniform_u8(u8, u8 + n, H, W, (int32_t *)ws);
    if (H >= GAUSS_WIN && W >= GAUSS_WIN) out->ssim_gauss = ssim_gauss_f64(f64, f64 + n, H, W, ws);
    free(f64);
}

/* --------------------------------------------------------------------------------------------- */

int metrics_acc_init(MetricsAcc *acc, int frames) {
    memset(acc, 0, sizeof *acc);
    if (frames < 1) return rr_error("metrics: number of frames must be >= 1, not %d", frames);
    acc->frames = frames;
    acc->count = rr_calloc((size_t)frames, sizeof(int64_t));
    acc->sum = rr_calloc((size_t)frames, sizeof(MetricsFrame));
    return 0;
}

static void acc_add_frame(MetricsAcc *acc, int t, const MetricsFrame *m) {
    for (int i = 0; i < METRICS_COUNT; i++) *metrics_slot(&acc->sum[t], i) += metrics_get(m, i);
    acc->count[t]++;
}

static int acc_check(const MetricsAcc *acc, int t, int H, int W) {
    if (t < 0 || t >= acc->frames)
        return rr_error("metrics: frame index %d outside 0..%d", t, acc->frames - 1);
    if (H < METRICS_MIN_SIZE || W < METRICS_MIN_SIZE)
        return rr_error("metrics: frames are %d x %d but must be at least %d x %d", H, W,
                        METRICS_MIN_SIZE, METRICS_MIN_SIZE);
    return 0;
}

int metrics_acc_add(MetricsAcc *acc, int t, const float *truth, const float *pred, int H, int W) {
    if (acc_check(acc, t, H, W)) return -1;
    MetricsFrame m;
    metrics_frame(truth, pred, H, W, &m);
    acc_add_frame(acc, t, &m);
    return 0;
}

int metrics_acc_add_batch(MetricsAcc *acc, int t, const float *truth, const float *pred, int n, int H,
                          int W) {
    if (acc_check(acc, t, H, W)) return -1;
    if (n < 0) return rr_error("metrics: negative batch size %d", n);
    if (n == 0) return 0;
    MetricsFrame *per = rr_malloc(sizeof(MetricsFrame) * (size_t)n);
    const size_t fs = (size_t)H * W;
    /* Each sequence's numbers are computed independently, then summed in order b = 0..n-1. */
#pragma omp parallel for schedule(dynamic, 4)
    for (int b = 0; b < n; b++) metrics_frame(truth + (size_t)b * fs, pred + (size_t)b * fs, H, W, &per[b]);
    for (int b = 0; b < n; b++) acc_add_frame(acc, t, &per[b]);
    free(per);
    return 0;
}

int metrics_acc_finish(const MetricsAcc *acc, MetricsResult *res) {
    memset(res, 0, sizeof *res);
    if (acc->frames < 1 || !acc->count) return rr_error("metrics: accumulator not initialised");
    for (int t = 0; t < acc->frames; t++) {
        if (acc->count[t] == 0) return rr_error("metrics: frame %d has no sequences", t);
        if (acc->count[t] != acc->count[0])
            return rr_error("metrics: frame %d has %lld sequences but frame 0 has %lld", t,
                            (long long)acc->count[t], (long long)acc->count[0]);
    }
    res->frames = acc->frames;
    res->sequences = acc->count[0];
    res->frame = rr_calloc((size_t)acc->frames, sizeof(MetricsFrame));
    for (int i = 0; i < METRICS_COUNT; i++) {
        double over_frames = 0.0;
        for (int t = 0; t < acc->frames; t++) {
            double mean_t = metrics_get(&acc->sum[t], i) / (double)acc->count[t];
            *metrics_slot(&res->frame[t], i) = mean_t;
            over_frames += mean_t;
        }
        *metrics_slot(&res->mean, i) = over_frames / (double)acc->frames;
    }
    return 0;
}

void metrics_acc_free(MetricsAcc *acc) {
    free(acc->count);
    free(acc->sum);
    memset(acc, 0, sizeof *acc);
}

void metrics_result_free(MetricsResult *res) {
    free(res->frame);
    memset(res, 0, sizeof *res);
}

/* --------------------------------------------------------------------------------------------- */

static void json_number(FILE *fp, double v) {
    if (isfinite(v))
        fprintf(fp, "%.17g", v);
    else
        fputs("null", fp);
}

static void write_json_body(FILE *fp, const MetricsResult *res, const char *extra) {
    fprintf(fp, "{\n  \"frames\": %d,\n  \"sequences\": %lld", res->frames, (long long)res->sequences);
    for (int i = 0; i < METRICS_COUNT; i++) {
        fprintf(fp, ",\n  \"%s\": [", metrics_names[i]);
        for (int t = 0; t < res->frames; t++) {
            if (t) fputs(", ", fp);
            json_number(fp, metrics_get(&res->frame[t], i));
        }
        fputc(']', fp);
    }
    fputs(",\n  \"mean\": {", fp);
    for (int i = 0; i < METRICS_COUNT; i++) {
        fprintf(fp, "%s\"%s\": ", i ? ", " : "", metrics_names[i]);
        json_number(fp, metrics_get(&res->mean, i));
    }
    fputc('}', fp);
    if (extra && *extra) fprintf(fp, ",\n  %s", extra);
    fputs("\n}\n", fp);
}

int metrics_write_json(const char *path, const MetricsResult *res) { return metrics_write_json_extra(path, res, NULL); }

int metrics_write_json_extra(const char *path, const MetricsResult *res, const char *extra) {
    if (!path) {
        write_json_body(stdout, res, extra);
        if (fflush(stdout) || ferror(stdout)) return rr_error("stdout: write failed");
        return 0;
    }
    RRAtomicFile af;
    if (rr_atomic_open(&af, path)) return -1;
    write_json_body(af.fp, res, extra);
    return rr_atomic_commit(&af);
}

/* ---------------------------------------------------------------------------------------------
 * rnnreg metrics --truth T.npy --pred P.npy [--out FILE.json]
 * ------------------------------------------------------------------------------------------- */

static void metrics_usage(FILE *fp) {
    fprintf(fp,
            "usage: rnnreg metrics --truth T.npy --pred P.npy [--out FILE.json]\n"
            "\n"
            "Per-frame quality of predicted frames against the truth, by the PredRNN / PredRNN++ test\n"
            "protocol. Both arrays have shape (T, N, H, W) (H, W >= %d), dtype uint8 (read as x/255) or\n"
            "float32 (values in [0, 1]; both are clipped to [0, 1]). For each frame t the metrics are\n"
            "averaged over the N sequences:\n"
            "  mse         sum over pixels of squared error ([0, 1] scale)\n"
            "  mse_pixel   mse / (H*W)\n"
            "  mae         sum over pixels of absolute error (after clipping)\n"
            "  psnr        on uint8(x*255) frames, dB; identical uint8 frames count as %g dB\n"
            "  ssim        scikit-image defaults on uint8 frames (7x7 uniform window)\n"
            "  ssim_gauss  Wang et al. 2004 (11x11 Gaussian, sigma 1.5) on float frames; null if H or W < 11\n"
            "Prints JSON {\"frames\", \"sequences\", \"mse\": [T], ..., \"mean\": {...}} to stdout, or writes it\n"
            "atomically to --out.\n",
            METRICS_MIN_SIZE, METRICS_PSNR_CAP);
}

/* Load path as a (T, N, H, W) uint8 or float32 array. */
static int load_frames(const char *path, NpyArray *a) {
    if (npy_load(path, a)) return -1;
    if (a->ndim != 4) {
        int nd = a->ndim;
        npy_free(a);
        return rr_error("%s: %d dimensions but expected 4 (T, N, H, W)", path, nd);
    }
    if (a->shape[2] < METRICS_MIN_SIZE || a->shape[3] < METRICS_MIN_SIZE || a->shape[0] < 1 ||
        a->shape[1] < 1 || a->shape[2] > 1 << 15 || a->shape[3] > 1 << 15 || a->shape[1] > INT32_MAX) {
        long long s[4] = {(long long)a->shape[0], (long long)a->shape[1], (long long)a->shape[2],
                          (long long)a->shape[3]};
        npy_free(a);
        return rr_error("%s: shape (%lld, %lld, %lld, %lld) but expected (T, N, H, W) with T, N >= 1 and "
                        "%d <= H, W <= 32768",
                        path, s[0], s[1], s[2], s[3], METRICS_MIN_SIZE);
    }
    return 0;
}

/* Frames [t, n0 : n0+cnt] of a (T, N, H, W) as float32 into out [cnt, H, W]; uint8 becomes x/255
 * in float32 (numpy: u8.astype(np.float32) / 255). */
static void frames_as_float(const NpyArray *a, int64_t t, int64_t n0, int64_t cnt, float *out) {
    const int64_t N = a->shape[1];
    const size_t fs = (size_t)(a->shape[2] * a->shape[3]);
    const size_t off = ((size_t)t * (size_t)N + (size_t)n0) * fs, m = (size_t)cnt * fs;
    if (a->dtype == NPY_U8) {
        const uint8_t *src = (const uint8_t *)a->data + off;
        for (size_t i = 0; i < m; i++) out[i] = (float)src[i] / 255.0f;
    } else {
        memcpy(out, (const float *)a->data + off, m * sizeof(float));
    }
}

/* A float32 array must not hold NaN (a diverged model): refuse it with a clear message. */
static int check_no_nan(const NpyArray *a, const char *path) {
    if (a->dtype != NPY_F32) return 0;
    const float *f = a->data;
    for (int64_t i = 0; i < a->count; i++)
        if (isnan(f[i])) return rr_error("%s: element %lld is NaN", path, (long long)i);
    return 0;
}

int cmd_metrics(int argc, char **argv) {
    const char *truth_path = NULL, *pred_path = NULL, *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            metrics_usage(stdout);
            return 0;
        }
        const char **dst = !strcmp(arg, "--truth") ? &truth_path
                           : !strcmp(arg, "--pred") ? &pred_path
                           : !strcmp(arg, "--out")  ? &out_path
                                                    : NULL;
        if (!dst) {
            fprintf(stderr, "rnnreg metrics: unknown argument '%s' (see rnnreg metrics --help)\n", arg);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "rnnreg metrics: %s needs a value\n", arg);
            return 2;
        }
        *dst = argv[++i];
    }
    if (!truth_path || !pred_path) {
        fprintf(stderr, "rnnreg metrics: --truth and --pred are required (see rnnreg metrics --help)\n");
        return 2;
    }

    NpyArray truth, pred;
    if (load_frames(truth_path, &truth)) rr_die_last();
    if (load_frames(pred_path, &pred)) {
        npy_free(&truth);
        rr_die_last();
    }
    for (int d = 0; d < 4; d++) {
        if (truth.shape[d] == pred.shape[d]) continue;
        rr_error("%s: shape (%lld, %lld, %lld, %lld) differs from %s's (%lld, %lld, %lld, %lld)", pred_path,
                 (long long)pred.shape[0], (long long)pred.shape[1], (long long)pred.shape[2],
                 (long long)pred.shape[3], truth_path, (long long)truth.shape[0], (long long)truth.shape[1],
                 (long long)truth.shape[2], (long long)truth.shape[3]);
        npy_free(&truth);
        npy_free(&pred);
        rr_die_last();
    }
    if (check_no_nan(&truth, truth_path) || check_no_nan(&pred, pred_path)) {
        npy_free(&truth);
        npy_free(&pred);
        rr_die_last();
    }

    const int T = (int)truth.shape[0], H = (int)truth.shape[2], W = (int)truth.shape[3];
    const int64_t N = truth.shape[1];
    const int64_t chunk = 256;  /* sequences converted and evaluated at a time */
    const size_t fs = (size_t)H * W;
    float *tbuf = rr_malloc(sizeof(float) * fs * (size_t)(N < chunk ? N : chunk));
    float *pbuf = rr_malloc(sizeof(float) * fs * (size_t)(N < chunk ? N : chunk));
    MetricsAcc acc;
    MetricsResult res;
    int rc = metrics_acc_init(&acc, T);
    for (int t = 0; t < T && !rc; t++) {
        for (int64_t n0 = 0; n0 < N && !rc; n0 += chunk) {
            int64_t cnt = N - n0 < chunk ? N - n0 : chunk;
            frames_as_float(&truth, t, n0, cnt, tbuf);
            frames_as_float(&pred, t, n0, cnt, pbuf);
            rc = metrics_acc_add_batch(&acc, t, tbuf, pbuf, (int)cnt, H, W);
        }
    }
    if (!rc) rc = metrics_acc_finish(&acc, &res);
    if (!rc) {
        rc = metrics_write_json(out_path, &res);
        metrics_result_free(&res);
    }
    metrics_acc_free(&acc);
    free(tbuf);
    free(pbuf);
    npy_free(&truth);
    npy_free(&pred);
    if (rc) rr_die_last();
    return 0;
}

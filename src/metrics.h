/* metrics.h — frame-quality metrics of video prediction, following the test protocol of PredRNN /
 * PredRNN++ (thuml/predrnn-pytorch core/trainer.py:test + core/utils/metrics.py; Yunbo426/predrnn-pp
 * train.py + utils/metrics.py; see docs/metrics.md).
 *
 * One frame is H × W float32 values; the truth is meant to be in [0, 1]. Per frame, with both frames
 * first clipped to [0, 1] (PredRNN clips the prediction only; clipping the truth changes nothing for
 * valid data and keeps the uint8 conversion defined):
 *   mse        Σ_pixels (x̂ − x)²        on the [0, 1] scale (the literature's "MSE per frame")
 *   mse_pixel  mse / (H·W)
 *   mae        Σ_pixels |x̂ − x|          AFTER clipping (Yunbo426/predrnn-pp's batch_mae_frame_float
 *                                          computed it BEFORE clipping; the two agree whenever the
 *                                          prediction already lies in [0, 1])
 *   psnr       PredRNN batch_psnr on uint8 frames u = uint8(x·255) (x·255 in float32, truncated):
 *              20·log10(255) − 10·log10(mean_pixels (û − u)²). PredRNN gives +inf when the uint8
 *              frames are identical; we report METRICS_PSNR_CAP = 100 dB instead (JSON has no inf;
 *              any non-identical 64×64 pair scores at most 20·log10(255·64) ≈ 84.3 dB).
 *   ssim       scikit-image structural_similarity(û, u) with its defaults on 2-D uint8 frames:
 *              7×7 uniform window, K1 = 0.01, K2 = 0.03, data_range 255, sample covariance
 *              (× 49/48), mean of the SSIM map cropped by 3 pixels on each side.
 *   ssim_gauss Wang et al. 2004 SSIM (IEEE TIP 13:600) on the clipped float frames = skimage
 *              structural_similarity(x̂, x, gaussian_weights=True, sigma=1.5,
 *              use_sample_covariance=False, data_range=1.0): 11×11 Gaussian window (σ = 1.5, truncated
 *              at radius int(3.5σ + 0.5) = 5), mean of the map cropped by 5. NaN when H or W < 11.
 * A NaN anywhere in either frame makes all six values NaN (written as null in JSON).
 * Everything is computed in double. */
#ifndef RNNREG_METRICS_H
#define RNNREG_METRICS_H

#include <stdint.h>

#define METRICS_PSNR_CAP 100.0
#define METRICS_MIN_SIZE 7   /* H and W must be at least the 7×7 SSIM window */
#define METRICS_COUNT 6      /* the six numbers of MetricsFrame, in the order of metrics_names */

typedef struct {
    double mse, mse_pixel, mae, psnr, ssim, ssim_gauss;
} MetricsFrame;

/* Names in JSON order: "mse", "mse_pixel", "mae", "psnr", "ssim", "ssim_gauss". */
extern const char *const metrics_names[METRICS_COUNT];
/* The i-th number of a MetricsFrame (0 <= i < METRICS_COUNT), in the order of metrics_names. */
double metrics_get(const MetricsFrame *m, int i);

/* The metrics of one frame pair: truth, pred are [H, W] row-major; H, W >= METRICS_MIN_SIZE
 * (smaller sizes give all-NaN). */
void metrics_frame(const float *truth, const float *pred, int H, int W, MetricsFrame *out);

/* Accumulator of per-frame means over sequences, for evaluation batch by batch.
 *   MetricsAcc acc; metrics_acc_init(&acc, T);
 *   for each batch: for t: metrics_acc_add_batch(&acc, t, truth_t, pred_t, B, H, W);
 *   MetricsResult r; metrics_acc_finish(&acc, &r); ... metrics_result_free(&r); metrics_acc_free(&acc);
 * Sums run in double in the order of the calls (and of b inside a batch), so results do not depend
 * on the number of OpenMP threads. */
typedef struct {
    int frames;
    int64_t *count;       /* [frames] sequences added to frame t */
    MetricsFrame *sum;    /* [frames] sums over the sequences */
} MetricsAcc;

typedef struct {
    int frames;           /* T */
    int64_t sequences;    /* N (every frame has the same count) */
    MetricsFrame *frame;  /* [T] means over the N sequences */
    MetricsFrame mean;    /* mean over the T frames of frame[t] */
} MetricsResult;

int metrics_acc_init(MetricsAcc *acc, int frames);
/* Add one sequence's frame t: truth, pred [H, W]. */
int metrics_acc_add(MetricsAcc *acc, int t, const float *truth, const float *pred, int H, int W);
/* Add frame t of n sequences: truth, pred [n, H, W] (frame b at offset b*H*W); OpenMP over b. */
int metrics_acc_add_batch(MetricsAcc *acc, int t, const float *truth, const float *pred, int n, int H,
                          int W);
/* Per-frame means; -1 when a frame has no sequences or the frames' counts differ. */
int metrics_acc_finish(const MetricsAcc *acc, MetricsResult *res);
void metrics_acc_free(MetricsAcc *acc);
void metrics_result_free(MetricsResult *res);

/* Write {"frames": T, "sequences": N, "mse": [T values], ..., "ssim_gauss": [...],
 * "mean": {"mse": .., ...}} (%.17g; non-finite values as null). path NULL writes to stdout;
 * otherwise the file is written atomically. */
int metrics_write_json(const char *path, const MetricsResult *res);
/* The same with more members after "mean": `extra` is their JSON text (e.g. "\"precision\": {...}"),
 * written as given; NULL or "" = metrics_write_json. */
int metrics_write_json_extra(const char *path, const MetricsResult *res, const char *extra);

#endif

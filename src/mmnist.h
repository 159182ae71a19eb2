/* mmnist.h — the Moving MNIST generator: digits bouncing inside a square canvas, the algorithm of
 * Srivastava, Mansimov & Salakhutdinov, "Unsupervised Learning of Video Representations using LSTMs",
 * ICML 2015 (emansim/unsupervised-videos, data_handler.py, BouncingMNISTDataHandler):
 *   per digit: y, x ~ U[0,1), theta ~ U[0, 2 pi), v = (sin theta, cos theta);
 *   per frame: pos += step * v first (so frame 0 is already one step in), then per axis
 *              pos <= 0 -> pos = 0, v = -v;  pos >= 1 -> pos = 1, v = -v;
 *   top-left corner = (int)(free * pos), free = size - digit side (64 - 28 = 36: 3.6 px/frame);
 *   the digits of a frame are combined by pixelwise max.
 * Digit choice: uniform with replacement over the digit set, independently for every digit of every
 * sequence (Srivastava walks a shuffled list instead; the distribution of a single pick is the same).
 *
 * Randomness: Philox (rng.h) only. Digit d of sequence i draws from stream
 * rr_stream(RR_TAG_MMNIST, i, d, 0) with rr_rand_uniform_f64 at fixed indices MMNIST_DRAW_*, so
 * sequence i is a pure function of (seed, i, digit set, settings): the same for any thread count and
 * any --count that includes it. Output layout (T, N, size, size) uint8, that of mnist_test_seq.npy. */
#ifndef RNNREG_MMNIST_H
#define RNNREG_MMNIST_H

#include <stdint.h>

/* rr_rand_uniform_f64 indices of the draws of one digit's stream. */
enum { MMNIST_DRAW_DIGIT = 0, MMNIST_DRAW_Y = 1, MMNIST_DRAW_X = 2, MMNIST_DRAW_THETA = 3 };

#define MMNIST_MAX_COUNT (1 << 24) /* sequence ids are 24 bits of the stream (rr_stream a) */

typedef struct {
    int64_t count;  /* sequences N (10000) */
    int length;     /* frames per sequence T (20) */
    int num_digits; /* digits per sequence (2) */
    int size;       /* canvas side in pixels (64) */
    double step;    /* step per frame as a fraction of the free range (0.1) */
    uint64_t seed;  /* (1) */
} MmnistConfig;

void mmnist_config_default(MmnistConfig *cfg);

/* Check settings against the digit size (dh, dw); -1 with a message naming the bad setting. */
int mmnist_check_config(const MmnistConfig *cfg, int dh, int dw);

/* The digit index (in [0, n_digits)) used by digit `digit` of sequence `seq`. */
int64_t mmnist_digit_index(const MmnistConfig *cfg, int64_t seq, int digit, int64_t n_digits);

/* Top-left corners top[T], left[T] of digit `digit` of sequence `seq` for free ranges (free_y, free_x)
 * = (size - dh, size - dw). */
void mmnist_trajectory(const MmnistConfig *cfg, int64_t seq, int digit, int free_y, int free_x, int *top,
                       int *left);

/* Draw sequence `seq`: frame t goes to frames + t * frame_stride (size*size bytes, overwritten).
 * digits: (n_digits, dh, dw) uint8. */
void mmnist_render_sequence(const MmnistConfig *cfg, const uint8_t *digits, int64_t n_digits, int dh, int dw,
                            int64_t seq, uint8_t *frames, int64_t frame_stride);

/* Generate all cfg->count sequences into out (T, N, size, size) uint8 (caller-allocated), OpenMP over
 * sequences. Returns -1 (message) when the settings are invalid. */
int mmnist_generate(const MmnistConfig *cfg, const uint8_t *digits, int64_t n_digits, int dh, int dw,
                    uint8_t *out);

#endif

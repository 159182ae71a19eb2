/* loader.h — Moving MNIST batches for training and evaluation: a seeded train/validation/test split of
 * the sequence axis, a seeded per-epoch shuffle of the training sequences, and batches of float32
 * frames in [0, 1] laid out time-major (T, B, C, Hp, Wp) after PredRNN's patch reshape
 * (space-to-depth; thuml/predrnn-pytorch core/utils/preprocess.py reshape_patch, see
 * docs/models.md §4).
 *
 * Source array: (T, N, H, W) uint8, as in Srivastava et al.'s mnist_test_seq.npy (T = 20, N = 10000,
 * 64 × 64). Frame t of sequence n is data[t, n, :, :].
 *
 * Split (sizes chosen by the caller, n_train + n_val + n_test <= N, the rest unused):
 *   LOADER_SPLIT_RANDOM:  perm = rr_permutation(split_seed, rr_stream(RR_TAG_SPLIT, 0, 0, 0), N);
 *                         train = perm[0 : n_train], val = perm[n_train : n_train + n_val],
 *                         test = perm[n_train + n_val : n_train + n_val + n_test].
 *   LOADER_SPLIT_ORDERED: train = 0 .. n_train-1, val = the next n_val, test = the next n_test.
 *   Each split's index list is then sorted ascending, so "test sequence k" is the k-th smallest source
 *   index of the test split (evaluation order and strip pictures do not depend on the permutation).
 *
 * Epoch order (training only): position i of epoch e is train[order_e[i]] with
 *   order_e = rr_permutation(shuffle_seed, rr_stream(RR_TAG_SHUFFLE, e, 0, 0), n_train),
 * a pure function of (shuffle_seed, e), so a resumed run sees the same order. 0 <= e < 2^24.
 * Validation and test batches are never shuffled (epoch is ignored for them).
 *
 * Fresh training sequences (fresh_train = 1; the control regime in which nothing can be memorised):
 * epoch 0 trains on the training split above; epoch e >= 1 on the e-th slice of n_train sequences that
 * no split uses, pool = perm[n_train + n_val + n_test : N] (random split; ordered: the sequences after
 * the test split), slice e = pool[(e - 1) * n_train : e * n_train] sorted ascending, then shuffled by
 * order_e as above. Validation and test are the fixed splits' sequences, so a fresh run and a fixed one
 * of the same seed see the same epoch 0 and are evaluated on the same sequences. An epoch past the end
 * of the pool is an error (loader_fresh_epochs tells how many epochs the data holds).
 *
 * Partial last batch: training drops it (loader_num_batches = floor(n_train / B)); validation and test
 * keep it (ceil(n / B) batches; loader_batch returns how many sequences it filled and zero-fills the
 * unused slots b >= count of the caller's (T, B, C, Hp, Wp) buffer).
 *
 * Batch layout: out[((t*B + b)*C + (ri*p + ci))*Hp*Wp + y*Wp + x] = data[t, n_b, y*p + ri, x*p + ci] / 255
 * with C = p*p, Hp = H/p, Wp = W/p (p = 1 gives (T, B, 1, H, W)).
 *
 * Threads: loader_batch caches the current epoch's training order inside the loader; do not call it
 * for the training split from several threads at once. No allocation happens per batch. */
#ifndef RNNREG_LOADER_H
#define RNNREG_LOADER_H

#include <stdint.h>

#include "npy.h"

typedef enum { SPLIT_TRAIN = 0, SPLIT_VAL = 1, SPLIT_TEST = 2 } Split;
typedef enum { LOADER_SPLIT_RANDOM = 0, LOADER_SPLIT_ORDERED = 1 } LoaderSplitMode;

typedef struct {
    int64_t n_train, n_val, n_test; /* split sizes; their sum <= N */
    LoaderSplitMode split_mode;
    uint64_t split_seed;   /* drives the split permutation (keep fixed across runs to share a test set) */
    uint64_t shuffle_seed; /* drives the per-epoch training order */
    int batch;             /* B >= 1 */
    int patch;             /* p >= 1, divides H and W */
    int fresh_train;       /* 1: epoch e >= 1 trains on the e-th slice of unused sequences (above) */
} LoaderConfig;

typedef struct LoaderEpochCache LoaderEpochCache;

typedef struct {
    LoaderConfig cfg;
    int64_t T, N, H, W;       /* source shape */
    int64_t C, Hp, Wp;        /* batch frame shape after the patch reshape: p*p, H/p, W/p */
    const uint8_t *data;      /* (T, N, H, W), not owned unless loaded from a file */
    int64_t *split[3];        /* sorted source indices of train / val / test (owned) */
    int64_t split_n[3];
    int64_t *pool;            /* fresh_train: the unused sequences in split-permutation order (owned) */
    int64_t pool_n;
    NpyArray array;           /* the mapped file when opened with loader_open */
    int owns_array;
    LoaderEpochCache *cache;  /* current epoch's training order (owned) */
} Loader;

/* Open a (T, N, H, W) uint8 .npy file and build the split. Errors name the path. */
int loader_open(Loader *L, const char *path, const LoaderConfig *cfg);
/* Same on an array in memory (not copied; must outlive the loader). name is used in error lines. */
int loader_init(Loader *L, const uint8_t *data, int64_t T, int64_t N, int64_t H, int64_t W,
                const LoaderConfig *cfg, const char *name);
void loader_free(Loader *L);

/* Number of sequences in a split, and of batches (training drops the partial last batch). */
int64_t loader_split_size(const Loader *L, Split which);
int64_t loader_num_batches(const Loader *L, Split which);
/* Floats in one batch buffer: T * B * C * Hp * Wp. */
int64_t loader_batch_floats(const Loader *L);

/* The training order of epoch e: order[i] = source index of the i-th training sequence (n_train
 * entries). */
int loader_epoch_order(const Loader *L, int epoch, int64_t *order);

/* How many epochs have training sequences: with fresh_train, 1 + pool_n / n_train; else unlimited
 * (INT32_MAX). */
int64_t loader_fresh_epochs(const Loader *L);

/* Source indices of the sequences of one batch (B entries; unused slots get -1). Returns the number
 * of sequences (1..B) or -1 on error (batch index out of range, bad epoch). */
int loader_batch_indices(const Loader *L, Split which, int64_t batch_index, int epoch, int64_t *idx);

/* Fill out (loader_batch_floats floats, layout (T, B, C, Hp, Wp)) with one batch. Returns the number
 * of sequences filled (1..B) or -1 on error. */
int loader_batch(const Loader *L, Split which, int64_t batch_index, int epoch, float *out);

/* PredRNN patch reshape (space-to-depth) on NCHW float tensors, and its exact inverse:
 *   patched[b, (ri*p + ci)*C + c, y, x] = image[b, c, y*p + ri, x*p + ci]
 * image: (B, C, H, W); patched: (B, C*p*p, H/p, W/p). H and W must be divisible by p; in and out must
 * not overlap. Errors (-1) for p < 1 or sizes not divisible. */
int patch_reshape(const float *image, float *patched, int64_t B, int64_t C, int64_t H, int64_t W, int p);
int patch_reshape_back(const float *patched, float *image, int64_t B, int64_t C, int64_t H, int64_t W,
                       int p);

const char *split_name(Split which); /* "train" / "val" / "test" */

#endif

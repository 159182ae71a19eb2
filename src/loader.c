/* loader.c — Moving MNIST split, per-epoch shuffle, time-major patched batches, and PredRNN's patch
 * reshape (space-to-depth) with its inverse. Conventions are documented in loader.h. */
#include "loader.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "rng.h"

struct LoaderEpochCache {
    int epoch;      /* epoch whose order is in `order`, or -1 */
    int64_t *order; /* n_train source indices */
};

#define LOADER_MAX_EPOCH ((1 << 24) - 1) /* rr_stream keeps 24 bits of the epoch */

const char *split_name(Split which) {
    switch (which) {
    case SPLIT_TRAIN: return "train";
    case SPLIT_VAL: return "val";
    case SPLIT_TEST: return "test";
    }
    return "?";
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int loader_init(Loader *L, const uint8_t *data, int64_t T, int64_t N, int64_t H, int64_t W,
                const LoaderConfig *cfg, const char *name) {
    memset(L, 0, sizeof *L);
    if (!name) name = "loader";
    if (T < 1 || N < 1 || H < 1 || W < 1)
        return rr_error("%s: bad source shape (%lld, %lld, %lld, %lld)", name, (long long)T,
                        (long long)N, (long long)H, (long long)W);
    if (cfg->batch < 1) return rr_error("%s: batch size %d must be >= 1", name, cfg->batch);
    if (cfg->patch < 1 || H % cfg->patch || W % cfg->patch)
        return rr_error("%s: patch size %d must be >= 1 and divide the frame size %lldx%lld", name,
                        cfg->patch, (long long)H, (long long)W);
    if (cfg->n_train < 0 || cfg->n_val < 0 || cfg->n_test < 0)
        return rr_error("%s: negative split size (train %lld, val %lld, test %lld)", name,
                        (long long)cfg->n_train, (long long)cfg->n_val, (long long)cfg->n_test);
    int64_t used = cfg->n_train + cfg->n_val + cfg->n_test;
    if (used > N)
        return rr_error("%s: split sizes train %lld + val %lld + test %lld = %lld exceed the %lld sequences",
                        name, (long long)cfg->n_train, (long long)cfg->n_val, (long long)cfg->n_test,
                        (long long)used, (long long)N);
    if (cfg->split_mode != LOADER_SPLIT_RANDOM && cfg->split_mode != LOADER_SPLIT_ORDERED)
        return rr_error("%s: unknown split mode %d", name, (int)cfg->split_mode);

    L->cfg = *cfg;
    L->data = data;
    L->T = T, L->N = N, L->H = H, L->W = W;
    L->C = (int64_t)cfg->patch * cfg->patch;
    L->Hp = H / cfg->patch, L->Wp = W / cfg->patch;

    /* Source order of the sequences: a seeded permutation or 0..N-1; then consecutive slices. */
    int64_t *perm = rr_malloc((size_t)N * sizeof *perm);
    if (cfg->split_mode == LOADER_SPLIT_RANDOM)
        rr_permutation(cfg->split_seed, rr_stream(RR_TAG_SPLIT, 0, 0, 0), N, perm);
    else
        for (int64_t i = 0; i < N; i++) perm[i] = i;
    int64_t sizes[3] = {cfg->n_train, cfg->n_val, cfg->n_test}, start = 0;
    for (int s = 0; s < 3; s++) {
        L->split_n[s] = sizes[s];
        L->split[s] = rr_malloc((size_t)(sizes[s] ? sizes[s] : 1) * sizeof(int64_t));
        memcpy(L->split[s], perm + start, (size_t)sizes[s] * sizeof(int64_t));
        qsort(L->split[s], (size_t)sizes[s], sizeof(int64_t), cmp_i64);
        start += sizes[s];
    }
    /* fresh_train: the rest of the permutation, in its order (slices are sorted when used) */
    L->pool_n = cfg->fresh_train ? N - start : 0;
    L->pool = rr_malloc((size_t)(L->pool_n ? L->pool_n : 1) * sizeof(int64_t));
    memcpy(L->pool, perm + start, (size_t)L->pool_n * sizeof(int64_t));
    free(perm);

    L->cache = rr_malloc(sizeof *L->cache);
    L->cache->epoch = -1;
    L->cache->order = rr_malloc((size_t)(cfg->n_train ? cfg->n_train : 1) * sizeof(int64_t));
    return 0;
}

int loader_open(Loader *L, const char *path, const LoaderConfig *cfg) {
    NpyArray a;
    memset(L, 0, sizeof *L);
    if (npy_load(path, &a)) return -1;
    if (a.dtype != NPY_U8 || a.ndim != 4) {
        char got[320];
        npy_describe(&a, got, sizeof got); /* before npy_free clears a */
        npy_free(&a);
        return rr_error("%s: expected a (T, N, H, W) uint8 array, got %s", path, got);
    }
    if (loader_init(L, a.data, a.shape[0], a.shape[1], a.shape[2], a.shape[3], cfg, path)) {
        npy_free(&a);
        return -1;
    }
    L->array = a;
    L->owns_array = 1;
    return 0;
}

void loader_free(Loader *L) {
    for (int s = 0; s < 3; s++) free(L->split[s]);
    free(L->pool);
    if (L->cache) free(L->cache->order);
    free(L->cache);
    if (L->owns_array) npy_free(&L->array);
    memset(L, 0, sizeof *L);
}

static int split_ok(Split which) { return which == SPLIT_TRAIN || which == SPLIT_VAL || which == SPLIT_TEST; }

int64_t loader_split_size(const Loader *L, Split which) { return split_ok(which) ? L->split_n[which] : 0; }

int64_t loader_num_batches(const Loader *L, Split which) {
    if (!split_ok(which)) return 0;
    int64_t n = L->split_n[which], B = L->cfg.batch;
    return which == SPLIT_TRAIN ? n / B : (n + B - 1) / B;
}

int64_t loader_batch_floats(const Loader *L) { return L->T * L->cfg.batch * L->C * L->Hp * L->Wp; }

int loader_epoch_order(const Loader *L, int epoch, int64_t *order) {
    if (epoch < 0 || epoch > LOADER_MAX_EPOCH)
        return rr_error("loader: epoch %d out of range 0..%d", epoch, LOADER_MAX_EPOCH);
    int64_t n = L->split_n[SPLIT_TRAIN];
    const int64_t *set = L->split[SPLIT_TRAIN];
    int64_t *slice = NULL;
    if (L->cfg.fresh_train && epoch > 0) {
        if (epoch >= loader_fresh_epochs(L))
            return rr_error("loader: fresh_train: epoch %d needs sequences %lld..%lld of the %lld that no split "
                            "uses (%lld in all, %lld per epoch): the data holds %lld epochs of fresh sequences",
                            epoch + 1, (long long)((epoch - 1) * n + 1), (long long)(epoch * n),
                            (long long)L->pool_n, (long long)L->N, (long long)n,
                            (long long)loader_fresh_epochs(L));
        slice = rr_malloc((size_t)n * sizeof *slice);
        memcpy(slice, L->pool + (int64_t)(epoch - 1) * n, (size_t)n * sizeof *slice);
        qsort(slice, (size_t)n, sizeof *slice, cmp_i64);
        set = slice;
    }
    rr_permutation(L->cfg.shuffle_seed, rr_stream(RR_TAG_SHUFFLE, (uint32_t)epoch, 0, 0), n, order);
    for (int64_t i = 0; i < n; i++) order[i] = set[order[i]];
    free(slice);
    return 0;
}

int64_t loader_fresh_epochs(const Loader *L) {
    int64_t n = L->split_n[SPLIT_TRAIN];
    if (!L->cfg.fresh_train || n == 0) return INT32_MAX;
    int64_t e = 1 + L->pool_n / n;
    return e < INT32_MAX ? e : INT32_MAX;
}

/* The source indices of batch `batch_index` are seq[0 .. count-1] (a slice of the split list or of
 * the cached epoch order). Returns count or -1. */
static int batch_slice(const Loader *L, Split which, int64_t batch_index, int epoch, const int64_t **seq) {
    if (!split_ok(which)) return rr_error("loader: unknown split %d", (int)which);
    int64_t nb = loader_num_batches(L, which), B = L->cfg.batch;
    if (batch_index < 0 || batch_index >= nb)
        return rr_error("loader: %s batch %lld out of range (%lld batches of %lld)", split_name(which),
                        (long long)batch_index, (long long)nb, (long long)B);
    const int64_t *list = L->split[which];
    if (which == SPLIT_TRAIN) {
        LoaderEpochCache *c = L->cache;
        if (c->epoch != epoch) {
            if (loader_epoch_order(L, epoch, c->order)) return -1;
            c->epoch = epoch;
        }
        list = c->order;
    }
    int64_t first = batch_index * B, count = L->split_n[which] - first;
    *seq = list + first;
    return (int)(count < B ? count : B);
}

int loader_batch_indices(const Loader *L, Split which, int64_t batch_index, int epoch, int64_t *idx) {
    const int64_t *seq;
    int count = batch_slice(L, which, batch_index, epoch, &seq);
    if (count < 0) return -1;
    for (int64_t b = 0; b < L->cfg.batch; b++) idx[b] = b < count ? seq[b] : -1;
    return count;
}

int loader_batch(const Loader *L, Split which, int64_t batch_index, int epoch, float *out) {
    const int64_t *seq;
    int count = batch_slice(L, which, batch_index, epoch, &seq);
    if (count < 0) return -1;
    const int64_t B = L->cfg.batch, p = L->cfg.patch, H = L->H, W = L->W, Hp = L->Hp, Wp = L->Wp;
    const int64_t frame = H * W; /* = C * Hp * Wp */
    for (int64_t t = 0; t < L->T; t++) {
        for (int64_t b = 0; b < B; b++) {
            float *dst = out + (t * B + b) * frame; /* out[t, b] : (C, Hp, Wp) */
            if (b >= count) {
                memset(dst, 0, (size_t)frame * sizeof *dst);
                continue;
            }
            const uint8_t *src = L->data + (t * L->N + seq[b]) * H * W; /* data[t, n_b] : (H, W) */
            /* dst[ri*p + ci, y, x] = src[y*p + ri, x*p + ci] / 255 */
            for (int64_t ri = 0; ri < p; ri++)
                for (int64_t ci = 0; ci < p; ci++) {
                    float *d = dst + (ri * p + ci) * Hp * Wp;
                    for (int64_t y = 0; y < Hp; y++) {
                        const uint8_t *row = src + (y * p + ri) * W + ci;
                        for (int64_t x = 0; x < Wp; x++) d[y * Wp + x] = (float)row[x * p] / 255.0f;
                    }
                }
        }
    }
    return count;
}

static int patch_check(int64_t B, int64_t C, int64_t H, int64_t W, int p) {
    if (p < 1 || B < 0 || C < 1 || H < 1 || W < 1 || H % p || W % p)
        return rr_error("patch reshape: patch size %d must be >= 1 and divide H=%lld and W=%lld", p,
                        (long long)H, (long long)W);
    return 0;
}

/* Both directions walk the same index map; `back` swaps source and destination. */
static void patch_map(const float *in, float *out, int64_t B, int64_t C, int64_t H, int64_t W, int p,
                      int back) {
    const int64_t Hp = H / p, Wp = W / p;
    for (int64_t b = 0; b < B; b++)
        for (int64_t ri = 0; ri < p; ri++)
            for (int64_t ci = 0; ci < p; ci++)
                for (int64_t c = 0; c < C; c++) {
                    int64_t pc = (ri * p + ci) * C + c; /* PredRNN channel order inside a patch */
                    const int64_t patched_base = (b * C * p * p + pc) * Hp * Wp;
                    const int64_t image_base = (b * C + c) * H * W;
                    for (int64_t y = 0; y < Hp; y++)
                        for (int64_t x = 0; x < Wp; x++) {
                            int64_t pi = patched_base + y * Wp + x;
                            int64_t ii = image_base + (y * p + ri) * W + x * p + ci;
                            if (back)
                                out[ii] = in[pi];
                            else
                                out[pi] = in[ii];
                        }
                }
}

int patch_reshape(const float *image, float *patched, int64_t B, int64_t C, int64_t H, int64_t W, int p) {
    if (patch_check(B, C, H, W, p)) return -1;
    patch_map(image, patched, B, C, H, W, p, 0);
    return 0;
}

int patch_reshape_back(const float *patched, float *image, int64_t B, int64_t C, int64_t H, int64_t W,
                       int p) {
    if (patch_check(B, C, H, W, p)) return -1;
    patch_map(patched, image, B, C, H, W, p, 1);
    return 0;
}

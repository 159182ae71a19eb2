/* test_loader.c — the Moving MNIST loader: split, per-epoch shuffle, batch values and layout, and the
 * PredRNN patch reshape against numpy fixtures (tests/reference/make_loader_fixture.py). Run from the
 * repository root. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "loader.h"
#include "npy.h"
#include "rng.h"
#include "test.h"

#define FIX "tests/fixtures/"

static LoaderConfig config(int64_t tr, int64_t va, int64_t te, int batch, int patch) {
    LoaderConfig c = {tr, va, te, LOADER_SPLIT_RANDOM, 1234, 99, batch, patch, 0};
    return c;
}

/* Synthetic (T, N, H, W) bytes from Philox, so every position holds an unrelated value. */
static uint8_t *random_source(int64_t T, int64_t N, int64_t H, int64_t W) {
    int64_t n = T * N * H * W;
    uint8_t *d = rr_malloc((size_t)n);
    for (int64_t i = 0; i < n; i++) d[i] = (uint8_t)rr_rand_u32(7, rr_stream(RR_TAG_TEST, 1, 0, 0), (uint64_t)i);
    return d;
}

static void test_split(void) {
    const int64_t N = 100;
    uint8_t *src = random_source(2, N, 4, 4);
    Loader a, b, c, o;
    LoaderConfig cfg = config(60, 20, 15, 8, 1);
    CHECK(loader_init(&a, src, 2, N, 4, 4, &cfg, "mem") == 0, "random split 60/20/15 of 100 builds");
    CHECK(loader_init(&b, src, 2, N, 4, 4, &cfg, "mem") == 0, "same config builds again");
    LoaderConfig cfg2 = cfg;
    cfg2.split_seed = 1235;
    CHECK(loader_init(&c, src, 2, N, 4, 4, &cfg2, "mem") == 0, "other split seed builds");

    int count[100] = {0}, in_range = 1, sorted = 1;
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < a.split_n[s]; i++) {
            int64_t v = a.split[s][i];
            if (v < 0 || v >= N) in_range = 0;
            else count[v]++;
            if (i && a.split[s][i - 1] >= v) sorted = 0;
        }
    int used = 0, dup = 0;
    for (int i = 0; i < N; i++) used += count[i] > 0, dup += count[i] > 1;
    CHECK(loader_split_size(&a, SPLIT_TRAIN) == 60 && loader_split_size(&a, SPLIT_VAL) == 20 &&
              loader_split_size(&a, SPLIT_TEST) == 15,
          "split sizes are 60/20/15");
    CHECK(in_range && dup == 0 && used == 95, "splits are disjoint and cover 95 distinct sequences (dup %d, used %d)",
          dup, used);
    CHECK(sorted, "each split's index list is sorted ascending");
    int same = 1, differs = 0;
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < a.split_n[s]; i++) {
            same &= a.split[s][i] == b.split[s][i];
            differs |= a.split[s][i] != c.split[s][i];
        }
    CHECK(same, "same split seed gives the same split");
    CHECK(differs, "a different split seed gives a different split");
    /* The random split is not the ordered one (train would be exactly 0..59). */
    int ordered_like = 1;
    for (int i = 0; i < 60; i++) ordered_like &= a.split[SPLIT_TRAIN][i] == i;
    CHECK(!ordered_like, "random split differs from the ordered split");

    LoaderConfig co = cfg;
    co.split_mode = LOADER_SPLIT_ORDERED;
    CHECK(loader_init(&o, src, 2, N, 4, 4, &co, "mem") == 0, "ordered split builds");
    int ord = 1;
    for (int i = 0; i < 60; i++) ord &= o.split[SPLIT_TRAIN][i] == i;
    for (int i = 0; i < 20; i++) ord &= o.split[SPLIT_VAL][i] == 60 + i;
    for (int i = 0; i < 15; i++) ord &= o.split[SPLIT_TEST][i] == 80 + i;
    CHECK(ord, "ordered split is 0..59 / 60..79 / 80..94");

    Loader bad;
    LoaderConfig cb = config(60, 30, 11, 8, 1);
    CHECK(loader_init(&bad, src, 2, N, 4, 4, &cb, "mem.npy") == -1, "sizes summing to 101 > 100 fail");
    CHECK_ERR_CONTAINS(rr_last_error(), "mem.npy: split sizes train 60 + val 30 + test 11 = 101 exceed",
                       "error names the source and the sizes");
    LoaderConfig cp = config(10, 0, 0, 2, 3);
    CHECK(loader_init(&bad, src, 2, N, 4, 4, &cp, "mem.npy") == -1, "patch 3 does not divide 4: fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "patch size 3", "error names the patch size");

    loader_free(&a), loader_free(&b), loader_free(&c), loader_free(&o);
    free(src);
}

static void test_epochs(void) {
    const int64_t N = 50;
    uint8_t *src = random_source(2, N, 4, 4);
    Loader a, b;
    LoaderConfig cfg = config(37, 5, 5, 4, 1);
    loader_init(&a, src, 2, N, 4, 4, &cfg, "mem");
    loader_init(&b, src, 2, N, 4, 4, &cfg, "mem");
    int64_t e0[37], e1[37], e0b[37], e3[37], e3b[37];
    loader_epoch_order(&a, 0, e0);
    loader_epoch_order(&a, 1, e1);
    loader_epoch_order(&a, 3, e3);
    loader_epoch_order(&b, 3, e3b); /* a fresh loader asked for epoch 3 first (a resumed run) */
    loader_epoch_order(&b, 0, e0b);
    CHECK(!memcmp(e3, e3b, sizeof e3) && !memcmp(e0, e0b, sizeof e0),
          "epoch order depends only on (seed, epoch), not on what was asked before");
    CHECK(memcmp(e0, e1, sizeof e0) != 0, "epoch 0 and epoch 1 orders differ");

    int all_once = 1;
    for (int e = 0; e < 5; e++) {
        int64_t ord[37];
        loader_epoch_order(&a, e, ord);
        for (int64_t i = 0; i < 37; i++) {
            int n = 0;
            for (int64_t j = 0; j < 37; j++) n += ord[j] == a.split[SPLIT_TRAIN][i];
            all_once &= n == 1;
        }
    }
    CHECK(all_once, "every training index appears exactly once in each of epochs 0..4");

    /* Batches walk the epoch order; 37 = 9*4 + 1 so training has 9 batches (partial one dropped). */
    CHECK(loader_num_batches(&a, SPLIT_TRAIN) == 9, "training drops the partial batch: 9 batches of 4 from 37");
    CHECK(loader_num_batches(&a, SPLIT_VAL) == 2, "validation keeps it: 2 batches from 5");
    int walk = 1;
    for (int64_t bi = 0; bi < 9; bi++) {
        int64_t idx[4];
        int n = loader_batch_indices(&a, SPLIT_TRAIN, bi, 1, idx);
        walk &= n == 4;
        for (int k = 0; k < 4; k++) walk &= idx[k] == e1[bi * 4 + k];
    }
    CHECK(walk, "training batches of epoch 1 are consecutive slices of its order");
    int64_t idx[4];
    int n = loader_batch_indices(&a, SPLIT_VAL, 1, 0, idx);
    CHECK(n == 1 && idx[0] == a.split[SPLIT_VAL][4] && idx[1] == -1, "last validation batch holds 1 sequence");
    int64_t v0[4], v7[4];
    loader_batch_indices(&a, SPLIT_VAL, 0, 0, v0);
    loader_batch_indices(&a, SPLIT_VAL, 0, 7, v7);
    CHECK(!memcmp(v0, v7, sizeof v0), "validation batches do not depend on the epoch");
    CHECK(loader_batch_indices(&a, SPLIT_TRAIN, 9, 0, idx) == -1, "training batch 9 is out of range");
    CHECK_ERR_CONTAINS(rr_last_error(), "train batch 9 out of range", "error says so");
    CHECK(loader_epoch_order(&a, -1, e0) == -1 && loader_epoch_order(&a, 1 << 24, e0) == -1,
          "epochs outside 0..2^24-1 are rejected");

    LoaderConfig c2 = cfg;
    c2.shuffle_seed = 100;
    Loader d;
    loader_init(&d, src, 2, N, 4, 4, &c2, "mem");
    int64_t d0[37];
    loader_epoch_order(&d, 0, d0);
    CHECK(memcmp(e0, d0, sizeof e0) != 0, "another shuffle seed gives another epoch-0 order");
    loader_free(&a), loader_free(&b), loader_free(&d);
    free(src);
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* fresh_train: epoch 0 is the fixed split's, epoch e >= 1 the e-th slice of the sequences no split
 * uses, recomputed here from the documented formula (loader.h) with rr_permutation directly. */
static void test_fresh(void) {
    const int64_t N = 100, n = 10, used = 10 + 5 + 5;
    uint8_t *src = random_source(2, N, 4, 4);
    Loader fixed, fresh;
    LoaderConfig cfg = config(n, 5, 5, 2, 1);
    CHECK(loader_init(&fixed, src, 2, N, 4, 4, &cfg, "mem") == 0, "fixed loader 10/5/5 of 100 builds");
    cfg.fresh_train = 1;
    CHECK(loader_init(&fresh, src, 2, N, 4, 4, &cfg, "mem") == 0, "fresh loader 10/5/5 of 100 builds");
    int same_splits = 1;
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < fixed.split_n[s]; i++) same_splits &= fixed.split[s][i] == fresh.split[s][i];
    CHECK(same_splits, "fresh_train keeps the training, validation and test splits of the fixed loader");
    int64_t a0[10], b0[10];
    loader_epoch_order(&fixed, 0, a0);
    loader_epoch_order(&fresh, 0, b0);
    CHECK(!memcmp(a0, b0, sizeof a0), "epoch 0 of a fresh run is the fixed run's epoch 0");
    CHECK(loader_fresh_epochs(&fresh) == 9 && loader_fresh_epochs(&fixed) == INT32_MAX,
          "80 unused sequences hold 1 + 8 epochs of 10 (fixed: unlimited)");

    int64_t perm[100];
    rr_permutation(1234, rr_stream(RR_TAG_SPLIT, 0, 0, 0), N, perm);
    int seen[100] = {0}, formula = 1, outside = 1;
    for (int64_t i = 0; i < used; i++) seen[perm[i]] = -1; /* the splits' sequences */
    for (int e = 1; e <= 8; e++) {
        int64_t ord[10], slice[10], shuffle[10];
        CHECK(loader_epoch_order(&fresh, e, ord) == 0, "epoch %d of 8 fresh ones has sequences", e);
        memcpy(slice, perm + used + (e - 1) * n, sizeof slice);
        qsort(slice, 10, sizeof slice[0], cmp64);
        rr_permutation(99, rr_stream(RR_TAG_SHUFFLE, (uint32_t)e, 0, 0), n, shuffle);
        for (int64_t i = 0; i < n; i++) {
            formula &= ord[i] == slice[shuffle[i]];
            outside &= seen[ord[i]] == 0;
            seen[ord[i]] = e;
        }
    }
    int all_used = 1;
    for (int64_t i = 0; i < N; i++) all_used &= seen[i] != 0;
    CHECK(formula, "epoch e's order = sorted pool slice e, shuffled by the epoch's permutation (loader.h)");
    CHECK(outside && all_used, "epochs 1..8 use each of the 80 unused sequences once and no split's sequence");
    int64_t idx[2], ord2[10];
    loader_epoch_order(&fresh, 2, ord2);
    CHECK(loader_batch_indices(&fresh, SPLIT_TRAIN, 3, 2, idx) == 2 && idx[0] == ord2[6] && idx[1] == ord2[7],
          "training batch 3 of epoch 2 is slice 6..7 of that epoch's fresh order");
    int64_t v0[2], v5[2];
    loader_batch_indices(&fresh, SPLIT_VAL, 0, 0, v0);
    loader_batch_indices(&fresh, SPLIT_VAL, 0, 5, v5);
    CHECK(!memcmp(v0, v5, sizeof v0) && v0[0] == fixed.split[SPLIT_VAL][0], "validation stays fixed");
    CHECK(loader_epoch_order(&fresh, 9, ord2) == -1, "epoch 9 would need sequences 81..90 of 80: refused");
    CHECK_ERR_CONTAINS(rr_last_error(), "fresh_train: epoch 10 needs sequences 81..90", "error names the key");

    Loader ordered;
    cfg.split_mode = LOADER_SPLIT_ORDERED;
    loader_init(&ordered, src, 2, N, 4, 4, &cfg, "mem");
    int64_t o1[10], sorted_ok = 1;
    loader_epoch_order(&ordered, 1, o1);
    qsort(o1, 10, sizeof o1[0], cmp64);
    for (int64_t i = 0; i < n; i++) sorted_ok &= o1[i] == used + i;
    CHECK(sorted_ok, "ordered split: epoch 1 trains on sequences 20..29, the ones after the test split");
    loader_free(&fixed), loader_free(&fresh), loader_free(&ordered);
    free(src);
}

/* Every element of every batch equals source/255 at the patch position, for p = 1, 2, 4. */
static void test_batch_values(void) {
    const int64_t T = 3, N = 11, H = 8, W = 8;
    uint8_t *src = random_source(T, N, H, W);
    for (int p = 1; p <= 4; p *= 2) {
        Loader L;
        LoaderConfig cfg = config(6, 5, 0, 2, p);
        loader_init(&L, src, T, N, H, W, &cfg, "mem");
        const int64_t B = 2, C = p * p, Hp = H / p, Wp = W / p;
        CHECK(loader_batch_floats(&L) == T * B * H * W && L.C == C && L.Hp == Hp, "p=%d: batch is (%lld, 2, %lld, %lld, %lld)",
              p, (long long)T, (long long)C, (long long)Hp, (long long)Wp);
        float *out = rr_malloc((size_t)loader_batch_floats(&L) * sizeof(float));
        long bad = 0, checked = 0;
        struct { Split s; int64_t nb; int epoch; } runs[2] = {{SPLIT_TRAIN, 3, 2}, {SPLIT_VAL, 3, 0}};
        int counts_ok = 1;
        for (int r = 0; r < 2; r++)
            for (int64_t bi = 0; bi < runs[r].nb; bi++) {
                int64_t idx[2];
                int n = loader_batch_indices(&L, runs[r].s, bi, runs[r].epoch, idx);
                for (int64_t k = 0; k < (int64_t)(B * T * H * W); k++) out[k] = -7.0f; /* poison */
                int got = loader_batch(&L, runs[r].s, bi, runs[r].epoch, out);
                counts_ok &= got == n;
                for (int64_t t = 0; t < T; t++)
                    for (int64_t b = 0; b < B; b++)
                        for (int64_t ri = 0; ri < p; ri++)
                            for (int64_t ci = 0; ci < p; ci++)
                                for (int64_t y = 0; y < Hp; y++)
                                    for (int64_t x = 0; x < Wp; x++) {
                                        float v = out[(((t * B + b) * C + ri * p + ci) * Hp + y) * Wp + x];
                                        float want = b < n ? (float)src[((t * N + idx[b]) * H + y * p + ri) * W +
                                                                        x * p + ci] / 255.0f
                                                           : 0.0f;
                                        bad += v != want;
                                        checked++;
                                    }
            }
        CHECK(bad == 0 && counts_ok, "p=%d: %ld batch values equal source/255 at the patch position (or 0 in unused slots)",
              p, checked);
        free(out);
        loader_free(&L);
    }
    free(src);
}

static int load_f32(const char *path, NpyArray *a, int ndim, const int64_t *shape) {
    if (npy_load(path, a)) {
        printf("    %s\n", rr_last_error());
        return -1;
    }
    if (npy_expect(a, path, NPY_F32, ndim, shape)) {
        printf("    %s\n", rr_last_error());
        npy_free(a);
        return -1;
    }
    return 0;
}

static void test_patch_fixtures(void) {
    NpyArray in, p2, p4;
    const int64_t s_in[4] = {2, 2, 8, 12}, s2[4] = {2, 8, 4, 6}, s4[4] = {2, 32, 2, 3};
    int ok = !load_f32(FIX "loader_patch_in.npy", &in, 4, s_in) && !load_f32(FIX "loader_patch_p2.npy", &p2, 4, s2) &&
             !load_f32(FIX "loader_patch_p4.npy", &p4, 4, s4);
    CHECK(ok, "patch fixtures load (tests/reference/make_loader_fixture.py)");
    if (!ok) return;
    float out[384], back[384];
    CHECK(patch_reshape(in.data, out, 2, 2, 8, 12, 2) == 0, "patch_reshape p=2 runs");
    check_close_f32("p=2 reshape equals numpy reshape_patch (2x2x8x12 -> 2x8x4x6)", out, p2.data, 384, 0, 0);
    CHECK(patch_reshape_back(p2.data, back, 2, 2, 8, 12, 2) == 0, "patch_reshape_back p=2 runs");
    check_close_f32("p=2 reshape_back of numpy's patches equals the image", back, in.data, 384, 0, 0);
    CHECK(patch_reshape(in.data, out, 2, 2, 8, 12, 4) == 0, "patch_reshape p=4 runs");
    check_close_f32("p=4 reshape equals numpy reshape_patch (2x2x8x12 -> 2x32x2x3)", out, p4.data, 384, 0, 0);
    patch_reshape_back(p4.data, back, 2, 2, 8, 12, 4);
    check_close_f32("p=4 reshape_back of numpy's patches equals the image", back, in.data, 384, 0, 0);
    npy_free(&in), npy_free(&p2), npy_free(&p4);
}

static void test_patch_roundtrip(void) {
    const int64_t B = 3, C = 3, H = 12, W = 8, n = B * C * H * W;
    float *x = rr_malloc(n * sizeof *x), *y = rr_malloc(n * sizeof *y), *z = rr_malloc(n * sizeof *z);
    for (int64_t i = 0; i < n; i++) x[i] = rr_rand_uniform(11, rr_stream(RR_TAG_TEST, 2, 0, 0), (uint64_t)i) - 0.5f;
    for (int p = 1; p <= 4; p *= 2) {
        patch_reshape(x, y, B, C, H, W, p);
        patch_reshape_back(y, z, B, C, H, W, p);
        CHECK(!memcmp(x, z, n * sizeof *x), "inverse(reshape(x)) == x bit for bit, p=%d, (3,3,12,8)", p);
        CHECK(p == 1 ? !memcmp(x, y, n * sizeof *x) : memcmp(x, y, n * sizeof *x) != 0,
              "p=%d: reshape is the identity exactly when p = 1", p);
    }
    CHECK(patch_reshape(x, y, B, C, H, W, 3) == -1, "p=3 does not divide W=8: fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "patch size 3", "error names the patch size");
    CHECK(patch_reshape_back(y, z, B, C, H, W, 0) == -1, "p=0 fails");
    free(x), free(y), free(z);
}

static void test_file(void) {
    Loader L;
    LoaderConfig cfg = {2, 2, 1, LOADER_SPLIT_ORDERED, 0, 0, 2, 2, 0};
    int rc = loader_open(&L, FIX "loader_src.npy", &cfg);
    CHECK(rc == 0, "loader_open on loader_src.npy (3, 5, 8, 8) uint8");
    if (rc) {
        printf("    %s\n", rr_last_error());
        return;
    }
    NpyArray want;
    const int64_t shape[5] = {3, 2, 4, 4, 4};
    if (!load_f32(FIX "loader_batch_val_p2.npy", &want, 5, shape)) {
        float out[384];
        int n = loader_batch(&L, SPLIT_VAL, 0, 0, out);
        CHECK(n == 2, "validation batch 0 holds 2 sequences");
        check_close_f32("validation batch (T, B, C, Hp, Wp) equals numpy's reshape_patch(x/255), time-major", out,
                        want.data, 384, 0, 0);
        npy_free(&want);
        for (int i = 0; i < 384; i++) out[i] = -1;
        n = loader_batch(&L, SPLIT_TEST, 0, 0, out);
        int zeros = 1;
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < 64; i++) zeros &= out[(t * 2 + 1) * 64 + i] == 0.0f;
        CHECK(n == 1 && zeros, "test batch 0 holds 1 sequence; the unused slot is zero-filled");
    } else {
        CHECK(0, "loader_batch_val_p2.npy loads");
    }
    loader_free(&L);

    CHECK(loader_open(&L, FIX "no_such_file.npy", &cfg) == -1, "missing file fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "no_such_file.npy", "error names the file");
    CHECK(loader_open(&L, FIX "loader_patch_in.npy", &cfg) == -1, "float32 array is rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "loader_patch_in.npy: expected a (T, N, H, W) uint8 array",
                       "error names the file and the expected dtype");
    LoaderConfig big = cfg;
    big.n_test = 2;
    CHECK(loader_open(&L, FIX "loader_src.npy", &big) == -1, "split 2+2+2 of 5 sequences fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "loader_src.npy: split sizes", "error names the file");
}

int main(void) {
    TEST_BEGIN("loader");
    test_split();
    test_epochs();
    test_fresh();
    test_batch_values();
    test_patch_fixtures();
    test_patch_roundtrip();
    test_file();
    return tests_exit();
}

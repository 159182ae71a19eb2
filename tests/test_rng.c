/* test_rng.c — checks the Philox-4x32-10 generator against the Random123 known-answer vectors
 * (Random123 kat_vectors, also cuRAND's Philox4_32_10), and the statistics and determinism of the
 * helpers built on it (uniforms, permutations). */
#include <stdlib.h>

#include "rng.h"
#include "test.h"

static void kat(const char *what, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                uint32_t k1, uint32_t e0, uint32_t e1, uint32_t e2, uint32_t e3) {
    uint32_t ctr[4] = {c0, c1, c2, c3}, key[2] = {k0, k1}, out[4];
    rr_philox4x32_10(ctr, key, out);
    CHECK(out[0] == e0 && out[1] == e1 && out[2] == e2 && out[3] == e3,
          "Philox4x32-10 known answer, %s (got %08x %08x %08x %08x)", what, out[0], out[1], out[2], out[3]);
}

int main(void) {
    TEST_BEGIN("rng");
    /* Random123 kat_vectors: philox4x32 10 rounds. */
    kat("zero counter and key", 0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8);
    kat("all-ones counter and key", 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
        0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd);
    kat("digits of pi", 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
        0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1);

    /* Uniforms: mean 1/2 and variance 1/12 within 5 standard errors for n = 1e6. */
    const long n = 1000000;
    double s = 0, s2 = 0;
    float lo = 1, hi = 0;
    for (long i = 0; i < n; i++) {
        float u = rr_rand_uniform(42, rr_stream(RR_TAG_TEST, 1, 2, 3), (uint64_t)i);
        s += u;
        s2 += (double)u * u;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    CHECK(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n), "uniform mean %.5f is 1/2 within 5 standard errors", mean);
    CHECK(fabs(var - 1.0 / 12) < 5 * sqrt(1.0 / 180 / n), "uniform variance %.5f is 1/12 within 5 standard errors", var);
    CHECK(lo >= 0.0f && hi < 1.0f, "uniforms lie in [0, 1): min %.3g max %.7f", lo, hi);

    /* Bernoulli keep fraction for p = 0.3 within a 5-sigma binomial bound. */
    long kept = 0;
    for (long i = 0; i < n; i++) kept += rr_keep(7, rr_stream(RR_TAG_DROPOUT, 3, 1, 5), (uint64_t)i, 0.3f);
    double frac = (double)kept / n;
    CHECK(fabs(frac - 0.7) < 5 * sqrt(0.7 * 0.3 / n), "keep fraction %.5f is 1-p = 0.7 within 5 sigma", frac);

    /* Counter-based: a number depends only on (seed, stream, index), not on call order. */
    uint32_t a = rr_rand_u32(5, 9, 12345), b;
    for (int i = 0; i < 100; i++) (void)rr_rand_u32(5, 9, (uint64_t)i);
    b = rr_rand_u32(5, 9, 12345);
    CHECK(a == b, "same (seed, stream, index) gives the same word regardless of call order");
    CHECK(rr_rand_u32(5, 9, 12345) != rr_rand_u32(6, 9, 12345) && rr_rand_u32(5, 9, 12345) != rr_rand_u32(5, 10, 12345),
          "another seed or stream gives another word");
    CHECK(rr_stream(1, 2, 3, 4) != rr_stream(1, 2, 4, 3) && rr_stream(1, 2, 3, 4) != rr_stream(2, 2, 3, 4),
          "stream ids with permuted fields differ");

    /* Permutations: each is a bijection, deterministic per (seed, stream), first-position counts uniform. */
    enum { P = 10, R = 20000 };
    int64_t perm[P], perm2[P];
    long first[P] = {0};
    int all_bijections = 1;
    for (int r = 0; r < R; r++) {
        rr_permutation(3, rr_stream(RR_TAG_SHUFFLE, (uint32_t)r, 0, 0), P, perm);
        int seen[P] = {0};
        for (int i = 0; i < P; i++) {
            if (perm[i] < 0 || perm[i] >= P || seen[perm[i]]++) all_bijections = 0;
        }
        first[perm[0]]++;
    }
    CHECK(all_bijections, "%d permutations of 0..%d are all bijections", R, P - 1);
    double chi2 = 0, expect = (double)R / P;
    for (int i = 0; i < P; i++) chi2 += (first[i] - expect) * (first[i] - expect) / expect;
    CHECK(chi2 < 27.88, "first element uniform over %d values: chi2 = %.2f < 27.88 (p = 0.001, 9 dof)", P, chi2);
    rr_permutation(3, 77, P, perm);
    rr_permutation(3, 77, P, perm2);
    CHECK(memcmp(perm, perm2, sizeof perm) == 0, "same seed and stream give the same permutation");
    return tests_exit();
}

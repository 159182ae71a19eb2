/* test_rng.c — checks the Philox-4x32-10 generator against the Random123 known-answer vectors
 * (Random123 kat_vectors, also cuRAND's Philox4_32_10), against Random123's philox4x32 and a
 * textbook Philox written here (Salmon et al. 2011, section 3.2) on many counters and keys, pins the
 * words, uniforms and permutations rnnreg draws (masks, init, data, splits) to values recorded from
 * the generator before it moved onto Random123, and checks the statistics and determinism of the
 * helpers built on it (uniforms, permutations). */
#include <Random123/philox.h>
#include <stdlib.h>

#include "rng.h"
#include "test.h"

/* Recorded with the hand-written Philox of rng.h before it called Random123 (draws_pinned). */
#define RNG_DIGEST_WORDS 0x91130e9811c85a47ull
#define RNG_DIGEST_FLOATS 0x1f4a07f034ab232cull
#define RNG_DIGEST_DOUBLES 0xf1100f4f1255e41dull
#define RNG_DIGEST_KEEPS 0x6d357459efcbca44ull
#define RNG_DIGEST_PERMS 0xa8ffd34ab6aec1c9ull

/* Philox-4x32-10 from the paper's definition, independent of rng.h and Random123: ten rounds of
 * (c0, c1, c2, c3) -> (hi(M1*c2) ^ c1 ^ k0, lo(M1*c2), hi(M0*c0) ^ c3 ^ k1, lo(M0*c0)) with the key
 * bumped by the Weyl constants between rounds. */
static void textbook_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]}, k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n[4] = {(uint32_t)(p1 >> 32) ^ c[1] ^ k0, (uint32_t)p1, (uint32_t)(p0 >> 32) ^ c[3] ^ k1, (uint32_t)p0};
        memcpy(c, n, sizeof c);
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    memcpy(out, c, sizeof c);
}

/* splitmix64 (Steele, Lea & Flood 2014): a stream of test counters and keys unrelated to Philox. */
static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* rr_philox4x32_10 == Random123's philox4x32 == the textbook rounds on n random counters and keys
 * (edge words 0 and 0xffffffff mixed in), and rr_rand_u32 is word (index & 3) of the block at
 * counter (index >> 2, stream) under key seed. */
static void philox_agrees(long n) {
    uint64_t s = 2011;
    long same_r123 = 0, same_book = 0, same_word = 0;
    for (long i = 0; i < n; i++) {
        uint32_t ctr[4], key[2], ours[4], book[4];
        for (int j = 0; j < 4; j++) ctr[j] = (uint32_t)splitmix64(&s);
        for (int j = 0; j < 2; j++) key[j] = (uint32_t)splitmix64(&s);
        if (i % 7 == 0) ctr[i % 4] = 0;
        if (i % 11 == 0) key[i % 2] = 0xffffffffu;
        rr_philox4x32_10(ctr, key, ours);
        philox4x32_ctr_t c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
        philox4x32_key_t k = {{key[0], key[1]}};
        philox4x32_ctr_t r = philox4x32(c, k);
        textbook_philox(ctr, key, book);
        same_r123 += memcmp(ours, r.v, sizeof ours) == 0;
        same_book += memcmp(ours, book, sizeof ours) == 0;
        uint64_t seed = splitmix64(&s), stream = splitmix64(&s), index = splitmix64(&s) >> (i % 64);
        uint64_t block = index >> 2;
        uint32_t bc[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream, (uint32_t)(stream >> 32)};
        uint32_t bk[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, bo[4];
        textbook_philox(bc, bk, bo);
        same_word += rr_rand_u32(seed, stream, index) == bo[index & 3];
    }
    CHECK(same_r123 == n, "rr_philox4x32_10 equals Random123's philox4x32 on %ld/%ld random counters and keys", same_r123, n);
    CHECK(same_book == n, "rr_philox4x32_10 equals the textbook Philox rounds on %ld/%ld counters and keys", same_book, n);
    CHECK(same_word == n, "rr_rand_u32(seed, stream, i) is word i&3 of philox((i>>2, stream), seed) on %ld/%ld draws", same_word, n);
}

/* FNV-1a over 32-bit words: a digest of many draws, to pin them to recorded values. */
static uint64_t fnv_word(uint64_t h, uint64_t w) {
    for (int b = 0; b < 8; b++) h = (h ^ ((w >> (8 * b)) & 0xFF)) * 0x100000001B3ull;
    return h;
}

/* The numbers rnnreg draws, pinned: digests of words, float and double uniforms, keep masks and
 * permutations over the purpose tags, recorded from the generator before it moved onto Random123.
 * Any change to a mask, an initial weight, a generated sequence or a split changes one of them. */
static void draws_pinned(void) {
    uint64_t hw = 0xcbf29ce484222325ull, hf = hw, hd = hw, hk = hw, hp = hw;
    const uint64_t seeds[] = {0, 1, 7, 42, 0xffffffffffffffffull, 0x123456789abcdefull};
    for (size_t si = 0; si < sizeof seeds / sizeof *seeds; si++) {
        for (uint32_t tag = RR_TAG_SHUFFLE; tag <= RR_TAG_SPLIT; tag++) {
            uint64_t st = rr_stream(tag, 3 * tag + (uint32_t)si, 5, 9 + tag);
            for (uint64_t i = 0; i < 1000; i++) {
                uint64_t idx = i * 977 + (i << 33);
                hw = fnv_word(hw, rr_rand_u32(seeds[si], st, idx));
                float f = rr_rand_uniform(seeds[si], st, idx);
                uint32_t fb;
                memcpy(&fb, &f, sizeof fb);
                hf = fnv_word(hf, fb);
                double d = rr_rand_uniform_f64(seeds[si], st, idx);
                uint64_t db;
                memcpy(&db, &d, sizeof db);
                hd = fnv_word(hd, db);
                hk = fnv_word(hk, (uint64_t)rr_keep(seeds[si], st, idx, 0.25f));
            }
            int64_t perm[257];
            rr_permutation(seeds[si], st, 257, perm);
            for (int i = 0; i < 257; i++) hp = fnv_word(hp, (uint64_t)perm[i]);
        }
    }
    printf("    digests: words %016llx floats %016llx doubles %016llx keeps %016llx perms %016llx\n",
           (unsigned long long)hw, (unsigned long long)hf, (unsigned long long)hd, (unsigned long long)hk, (unsigned long long)hp);
    CHECK(hw == RNG_DIGEST_WORDS, "36,000 words rr_rand_u32 over 6 seeds x 6 purpose tags equal the recorded digest");
    CHECK(hf == RNG_DIGEST_FLOATS, "the same draws as rr_rand_uniform floats equal the recorded digest");
    CHECK(hd == RNG_DIGEST_DOUBLES, "rr_rand_uniform_f64 doubles equal the recorded digest");
    CHECK(hk == RNG_DIGEST_KEEPS, "rr_keep masks at p = 0.25 equal the recorded digest");
    CHECK(hp == RNG_DIGEST_PERMS, "36 rr_permutation of 0..256 equal the recorded digest");
}

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
    philox_agrees(200000);
    draws_pinned();

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

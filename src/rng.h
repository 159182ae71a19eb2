/* rng.h — the one random number generator of rnnreg: Philox-4x32-10, a counter-based generator
 * (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the
 * constants are those of Random123 and cuRAND's curand_Philox4x32_10).
 *
 * Every random number is a pure function of (seed, stream, index): no hidden global state. So a
 * resumed run draws the same numbers, and the CUDA backend computes the same bits per element.
 *   key     = seed (64 bits as two 32-bit words)
 *   counter = (index low, index high, stream low, stream high)
 * Streams name what the numbers are for (rr_stream packs a purpose tag and up to three ids, such as
 * (iteration, layer, time step)); index runs over the elements. Each Philox call yields 4 words;
 * rr_rand_u32 returns word (index & 3) of counter index >> 2. */
#ifndef RNNREG_RNG_H
#define RNNREG_RNG_H

#include <stdint.h>

#if defined(__CUDACC__)
#define RR_HD __host__ __device__ __forceinline__
#else
#define RR_HD static inline
#endif

#define RR_PHILOX_M0 0xD2511F53u
#define RR_PHILOX_M1 0xCD9E8D57u
#define RR_PHILOX_W0 0x9E3779B9u
#define RR_PHILOX_W1 0xBB67AE85u

/* One Philox-4x32-10 block: out = philox(ctr, key). */
RR_HD void rr_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
    uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)RR_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)RR_PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ c1 ^ k0;
        uint32_t n1 = lo1;
        uint32_t n2 = hi0 ^ c3 ^ k1;
        uint32_t n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += RR_PHILOX_W0;
        k1 += RR_PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* Pack a purpose tag (8 bits) and three ids (a: 24 bits, b: 16 bits, c: 16 bits) into a stream. */
RR_HD uint64_t rr_stream(uint32_t tag, uint32_t a, uint32_t b, uint32_t c) {
    return ((uint64_t)(tag & 0xFFu) << 56) | ((uint64_t)(a & 0xFFFFFFu) << 32) |
           ((uint64_t)(b & 0xFFFFu) << 16) | (uint64_t)(c & 0xFFFFu);
}

/* The index-th 32-bit word of stream `stream` under `seed`. */
RR_HD uint32_t rr_rand_u32(uint64_t seed, uint64_t stream, uint64_t index) {
    uint64_t block = index >> 2;
    uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream,
                       (uint32_t)(stream >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t out[4];
    rr_philox4x32_10(ctr, key, out);
    return out[index & 3];
}

/* Uniform float in [0, 1) with 24 random bits: (u >> 8) * 2^-24. */
RR_HD float rr_rand_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
    return (float)(rr_rand_u32(seed, stream, index) >> 8) * (1.0f / 16777216.0f);
}

/* Uniform double in [0, 1) with 53 random bits from two consecutive words (2*index, 2*index+1). */
RR_HD double rr_rand_uniform_f64(uint64_t seed, uint64_t stream, uint64_t index) {
    uint64_t hi = rr_rand_u32(seed, stream, 2 * index) >> 5;   /* 27 bits */
    uint64_t lo = rr_rand_u32(seed, stream, 2 * index + 1) >> 6; /* 26 bits */
    return (double)((hi << 26) | lo) * (1.0 / 9007199254740992.0);
}

/* Bernoulli keep mask for inverted dropout: 1 with probability 1 - p. */
RR_HD int rr_keep(uint64_t seed, uint64_t stream, uint64_t index, float p) {
    return rr_rand_uniform(seed, stream, index) >= p;
}

/* Purpose tags for rr_stream (one per kind of randomness; add new ones at the end). */
enum {
    RR_TAG_SHUFFLE = 1,    /* loader: epoch permutation (a = epoch) */
    RR_TAG_MMNIST = 2,     /* Moving MNIST generator (a = sequence) */
    RR_TAG_INIT = 3,       /* weight initialisation (a = parameter index) */
    RR_TAG_SAMPLING = 4,   /* scheduled sampling coin flips (a = iteration) */
    RR_TAG_DROPOUT = 5,    /* regularizer masks (a = iteration, b = layer*16 + tensor, c = step) */
    RR_TAG_SPLIT = 6,      /* train/validation/test split permutation */
    RR_TAG_TEST = 255
};

/* Fisher–Yates permutation of 0..n-1 driven by (seed, stream): perm[i] for i < n.
 * Uses rr_rand_uniform_f64 so n up to 2^31 is unbiased for practical purposes. */
void rr_permutation(uint64_t seed, uint64_t stream, int64_t n, int64_t *perm);

#endif

/* rng.h — the one random number generator of rnnreg: Philox-4x32-10, a counter-based generator
 * (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011), taken from
 * Random123, the authors' reference implementation (Debian librandom123-dev, <Random123/philox.h>),
 * which compiles for the host and, under nvcc, for the device (kernels/ draw the same masks).
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
/* Random123 is C++ under nvcc (and kernels/ include this header inside extern "C"): C++ linkage. */
#ifdef __cplusplus
extern "C++" {
#include <Random123/philox.h>
}
#else
#include <Random123/philox.h>
#endif

#if defined(__CUDACC__)
#define RR_HD __host__ __device__ __forceinline__
#else
#define RR_HD static inline
#endif

/* One Philox-4x32-10 block: out = philox(ctr, key). */
RR_HD void rr_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
    philox4x32_ctr_t ctr = {{ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]}};
    philox4x32_key_t key = {{key_in[0], key_in[1]}};
    philox4x32_ctr_t r = philox4x32_R(10, ctr, key);
    out[0] = r.v[0]; out[1] = r.v[1]; out[2] = r.v[2]; out[3] = r.v[3];
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

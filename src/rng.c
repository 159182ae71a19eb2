/* rng.c — the parts of the random number generator (rng.h, Random123's Philox) that are not inline:
 * seeded permutations. */
#include "rng.h"

void rr_permutation(uint64_t seed, uint64_t stream, int64_t n, int64_t *perm) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    /* Fisher–Yates, from the end: swap i with a uniform j in [0, i]. */
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rr_rand_uniform_f64(seed, stream, (uint64_t)i) * (double)(i + 1));
        if (j > i) j = i;
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

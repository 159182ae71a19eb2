/* blas.c — sgemm: OpenBLAS when built with BLAS=openblas, else (and always as rr_sgemm_builtin) a
 * blocked, packed sgemm of our own. The builtin kernel packs panels of op(A) and op(B) into
 * contiguous blocks and runs a 4×32 register-tile micro-kernel whose inner loop the compiler
 * vectorises; the k-loop order is fixed, so results do not depend on the thread count. */
#pragma GCC optimize("O3")
#include "blas.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef RR_USE_CBLAS
#include <cblas.h>
#endif

#define MR 4    /* rows of the register tile */
#define NR 32   /* columns of the register tile */
#define KC 256  /* depth of a packed panel */
#define MC 64   /* rows of a packed A block */
#define NC 512  /* columns of a packed B block */

/* element (i, k) of op(A) */
static inline float a_at(const float *A, int lda, int trans, int i, int k) {
    return trans ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
}
static inline float b_at(const float *B, int ldb, int trans, int k, int j) {
    return trans ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
}

/* Pack op(B)[k0:k0+kc, j0:j0+nc] into NR-wide column strips: strip s holds kc rows of NR floats. */
static void pack_b(const float *B, int ldb, int trans, int k0, int kc, int j0, int nc, float *dst) {
    for (int js = 0; js < nc; js += NR) {
        int w = nc - js < NR ? nc - js : NR;
        for (int k = 0; k < kc; k++) {
            float *row = dst + (size_t)js * kc + (size_t)k * NR;
            if (!trans) {
                const float *src = B + (size_t)(k0 + k) * ldb + j0 + js;
                for (int j = 0; j < w; j++) row[j] = src[j];
            } else {
                for (int j = 0; j < w; j++) row[j] = b_at(B, ldb, 1, k0 + k, j0 + js + j);
            }
            for (int j = w; j < NR; j++) row[j] = 0.0f;
        }
    }
}

/* Pack op(A)[i0:i0+mc, k0:k0+kc] into MR-tall row strips: strip s holds kc columns of MR floats. */
static void pack_a(const float *A, int lda, int trans, int i0, int mc, int k0, int kc, float *dst) {
    for (int is = 0; is < mc; is += MR) {
        int h = mc - is < MR ? mc - is : MR;
        for (int k = 0; k < kc; k++) {
            float *col = dst + (size_t)is * kc + (size_t)k * MR;
            for (int i = 0; i < h; i++) col[i] = a_at(A, lda, trans, i0 + is + i, k0 + k);
            for (int i = h; i < MR; i++) col[i] = 0.0f;
        }
    }
}

/* acc[MR][NR] = sum_k a[k][MR] ⊗ b[k][NR]; then C[h×w] += alpha*acc. Two clones, chosen once by the
 * CPU (gcc's target_clones, an ifunc): AVX2 and the x86-64 baseline. Each acc element is the same
 * chain of IEEE multiplies and adds in the same k order in both (the lanes are independent elements;
 * no FMA: -ffp-contract=off in the portable build, and the baseline and `avx2` targets have none), so
 * the clone changes the speed, not the bits (tests/test_portable.sh runs both). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static void micro_kernel(int kc, const float *a, const float *b, float alpha, float *C, int ldc, int h,
                         int w) {
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (int k = 0; k < kc; k++) {
        const float *bk = b + (size_t)k * NR;
        const float *ak = a + (size_t)k * MR;
        for (int i = 0; i < MR; i++) {
            float av = ak[i];
            for (int j = 0; j < NR; j++) acc[i][j] += av * bk[j];
        }
    }
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) C[(size_t)i * ldc + j] += alpha * acc[i][j];
}

void rr_sgemm_builtin(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    /* C = beta*C first (beta == 0 overwrites, so NaN garbage in C never leaks through). */
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            memset(c, 0, sizeof(float) * (size_t)N);
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
    if (K <= 0 || alpha == 0.0f) return;

    int n_jblocks = (N + NC - 1) / NC;
    int n_iblocks = (M + MC - 1) / MC;
    float *bpack = rr_aligned_alloc(sizeof(float) * (size_t)KC * (size_t)(((NC + NR - 1) / NR) * NR));
    for (int jb = 0; jb < n_jblocks; jb++) {
        int j0 = jb * NC, nc = N - j0 < NC ? N - j0 : NC;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = K - k0 < KC ? K - k0 : KC;
            pack_b(B, ldb, trans_b, k0, kc, j0, nc, bpack);
            /* Each thread owns whole MC×nc blocks of C: no two threads write the same element and
             * the k order is the same for every element, so the result is thread-count independent. */
#pragma omp parallel
            {
                float *apack = rr_aligned_alloc(sizeof(float) * (size_t)KC * MC);
#pragma omp for schedule(static)
                for (int ib = 0; ib < n_iblocks; ib++) {
                    int i0 = ib * MC, mc = M - i0 < MC ? M - i0 : MC;
                    pack_a(A, lda, trans_a, i0, mc, k0, kc, apack);
                    for (int js = 0; js < nc; js += NR) {
                        int w = nc - js < NR ? nc - js : NR;
                        for (int is = 0; is < mc; is += MR) {
                            int h = mc - is < MR ? mc - is : MR;
                            micro_kernel(kc, apack + (size_t)is * kc, bpack + (size_t)js * kc, alpha,
                                         C + (size_t)(i0 + is) * ldc + j0 + js, ldc, h, w);
                        }
                    }
                }
                free(apack);
            }
        }
    }
    free(bpack);
}

void rr_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
#ifdef RR_USE_CBLAS
    if (M <= 0 || N <= 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    rr_sgemm_builtin(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

const char *rr_blas_name(void) {
#ifdef RR_USE_CBLAS
    return "openblas";
#else
    return "builtin";
#endif
}

#ifdef RR_USE_CBLAS
void openblas_set_num_threads(int);
char *openblas_get_corename(void);
#endif

const char *rr_blas_core(void) {
#ifdef RR_USE_CBLAS
    return openblas_get_corename();
#else
    return "builtin";
#endif
}

/* Whether the space-separated flag list holds `flag` as a whole word. */
static int has_flag(const char *flags, const char *flag) {
    const size_t n = strlen(flag);
    for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += n)
        if ((p == flags || p[-1] == ' ' || p[-1] == '\t') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n'))
            return 1;
    return 0;
}

/* OpenBLAS's x86-64 core names whose sgemm kernels use AVX2 / FMA or AVX-512 (driver/others/dynamic.c
 * of OpenBLAS 0.3.21: corename[]); every other name is an SSE-era or generic kernel set. */
static const char *const avx2_cores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};

const char *rr_blas_core_advice(const char *core, const char *flags) {
    if (!core || !flags || !strcmp(core, "builtin")) return NULL;
    for (size_t i = 0; i < sizeof avx2_cores / sizeof avx2_cores[0]; i++)
        if (!strcasecmp(core, avx2_cores[i])) return NULL;
    if (!has_flag(flags, "avx2") || !has_flag(flags, "fma")) return NULL;
    if (has_flag(flags, "avx512f") && has_flag(flags, "avx512bw") && has_flag(flags, "avx512dq") &&
        has_flag(flags, "avx512vl"))
        return "SkylakeX";
    return "Haswell";
}

void rr_set_threads(int n) {
    if (n < 1) n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
#ifdef RR_USE_CBLAS
    openblas_set_num_threads(n);
#endif
}

int rr_blas_fallback_note(char *buf, int n) {
    const char *fallback = getenv("RNNREG_BLAS_FALLBACK"), *set = getenv("OPENBLAS_CORETYPE");
    if (!fallback || !set) return 0;
    snprintf(buf, (size_t)n, "blas: OpenBLAS picked its generic %s kernels on a CPU with AVX2%s; running on %s "
             "(OPENBLAS_CORETYPE=%s set by rnnreg)", fallback, strstr(set, "SkylakeX") ? " and AVX-512" : "",
             rr_blas_core(), set);
    return 1;
}

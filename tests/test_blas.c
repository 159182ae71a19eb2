/* test_blas.c — checks rr_sgemm (OpenBLAS or builtin) and rr_sgemm_builtin against a plain
 * triple loop in double precision, for every transpose combination, odd sizes that cross the block
 * edges, leading dimensions larger than the width, and alpha/beta; and that the builtin sgemm gives
 * bit-identical results with 1 and 2 threads; and the rule that decides when OpenBLAS's own core
 * choice is a generic fallback to be overridden (rr_blas_core_advice), on flag lists of real CPUs. */
#include <stdlib.h>

#include "blas.h"
#include "rng.h"
#include "test.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static void fill(float *x, long n, uint32_t id) {
    for (long i = 0; i < n; i++) x[i] = 2.0f * rr_rand_uniform(1, rr_stream(RR_TAG_TEST, id, 0, 0), (uint64_t)i) - 1.0f;
}

static void reference(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            C[(size_t)i * ldc + j] = (float)(alpha * acc + beta * C[(size_t)i * ldc + j]);
        }
}

typedef void (*Gemm)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static void run_case(const char *impl, Gemm gemm, int ta, int tb, int M, int N, int K, float alpha, float beta) {
    int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
    long na = (long)(ta ? K : M) * lda, nb = (long)(tb ? N : K) * ldb, nc = (long)M * ldc;
    float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb);
    float *C = malloc(sizeof(float) * nc), *R = malloc(sizeof(float) * nc);
    fill(A, na, 1);
    fill(B, nb, 2);
    fill(C, nc, 3);
    memcpy(R, C, sizeof(float) * nc);
    gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc);
    /* float32 accumulation of K products of magnitude <= 1: error grows like sqrt(K)*eps*|sum| bound;
     * 1e-5*K absolute is a loose but meaningful bound (a wrong index gives O(1) errors). */
    char what[160];
    snprintf(what, sizeof what, "%s sgemm ta=%d tb=%d M=%d N=%d K=%d alpha=%g beta=%g vs double loop", impl, ta,
             tb, M, N, K, alpha, beta);
    check_close_f32(what, C, R, nc, 1e-5 * K + 1e-6, 1e-5);
    free(A), free(B), free(C), free(R);
}

/* rr_blas_core_advice on /proc/cpuinfo flag lists (abridged, the words that matter kept in place):
 * the cases come from OpenBLAS 0.3.21's dynamic.c (which names have AVX2 kernels) and Intel's and AMD's
 * manuals (which CPUs have which flags), not from the function. */
static void check_core_advice(void) {
    const char *xeon_amx = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx fma avx2 avx512f avx512dq avx512cd avx512bw "
                           "avx512vl avx512_bf16 amx_bf16 amx_tile";
    const char *haswell = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx fma avx2 bmi2";
    const char *sandy = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx";
    const char *fp16_only = "fpu sse2 avx fma avx2 avx512fp16 avx512bwx avx512dqx avx512vlx"; /* no whole words */
    struct { const char *core, *flags, *want; } cases[] = {
        {"Prescott", xeon_amx, "SkylakeX"},   /* 0.3.21 on a Sapphire Rapids Xeon: the fallback */
        {"Nehalem", xeon_amx, "SkylakeX"},
        {"Prescott", haswell, "Haswell"},
        {"Core2", haswell, "Haswell"},
        {"Prescott", fp16_only, "Haswell"},  /* avx512fp16 is not avx512f */
        {"Prescott", sandy, NULL},           /* no AVX2: nothing better to choose */
        {"Sandybridge", haswell, "Haswell"},
        {"Haswell", xeon_amx, NULL},         /* AVX2 kernels are a choice, not a fallback */
        {"Zen", xeon_amx, NULL},
        {"SkylakeX", xeon_amx, NULL},
        {"Cooperlake", xeon_amx, NULL},
        {"builtin", xeon_amx, NULL},
        {"Prescott", "", NULL},              /* flags unreadable */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = rr_blas_core_advice(cases[i].core, cases[i].flags);
        CHECK((got == NULL && cases[i].want == NULL) || (got && cases[i].want && !strcmp(got, cases[i].want)),
              "core advice: %s on flags \"%.40s...\" -> %s (want %s)", cases[i].core, cases[i].flags,
              got ? got : "keep", cases[i].want ? cases[i].want : "keep");
    }
}

int main(void) {
    TEST_BEGIN("blas");
    check_core_advice();
    const int sizes[][3] = {{1, 1, 1}, {5, 7, 3}, {67, 45, 300}, {130, 33, 17}, {4, 600, 9}};
    for (int s = 0; s < 5; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                run_case("builtin", rr_sgemm_builtin, ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f);
                if (s == 2) run_case("builtin", rr_sgemm_builtin, ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], -0.5f, 1.5f);
                run_case(rr_blas_name(), rr_sgemm, ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 0.7f, 1.0f);
            }
    /* beta = 0 must overwrite C even if it holds NaN (BLAS semantics). */
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[4] = {NAN, NAN, NAN, NAN};
    rr_sgemm_builtin(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    CHECK(C[0] == 1 && C[1] == 2 && C[2] == 3 && C[3] == 4, "beta = 0 overwrites NaN in C (A·I = A)");

#ifdef _OPENMP
    int M = 200, N = 150, K = 700;
    float *X = malloc(sizeof(float) * M * K), *Y = malloc(sizeof(float) * K * N);
    float *C1 = calloc((size_t)M * N, sizeof(float)), *C2 = calloc((size_t)M * N, sizeof(float));
    fill(X, (long)M * K, 4);
    fill(Y, (long)K * N, 5);
    omp_set_num_threads(1);
    rr_sgemm_builtin(0, 0, M, N, K, 1.0f, X, K, Y, N, 0.0f, C1, N);
    omp_set_num_threads(2);
    rr_sgemm_builtin(0, 0, M, N, K, 1.0f, X, K, Y, N, 0.0f, C2, N);
    CHECK(memcmp(C1, C2, sizeof(float) * M * N) == 0, "builtin sgemm is bit-identical with 1 and 2 threads");
    free(X), free(Y), free(C1), free(C2);
#endif
    return tests_exit();
}

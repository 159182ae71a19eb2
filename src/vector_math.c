/* vector_math.c — expf, tanhf and the sigmoid over arrays, eight lanes at a time (AVX2 + FMA), giving
 * the bits of the scalar functions they stand for (vector_math.h says why that holds and how it is
 * checked). Each lane follows the scalar algorithm operation by operation:
 *
 *   expf: glibc sysdeps/ieee754/flt-32/e_expf.c (Szabolcs Nagy, ARM optimized-routines, 2017), as
 *         glibc's x86-64 FMA build (sysdeps/x86_64/fpu/multiarch/e_expf-fma.c) compiles it:
 *           z = x·32/ln2 (double);  kd = fma(32/ln2, x, 0x1.8p52) (round to an integer k in the low
 *           bits);  r = fma(32/ln2, x, −(kd − 0x1.8p52));  s = 2^(k/32) from a 32-entry table;
 *           p = fma(fma(C0, r, C1), r², fma(C2, r, 1));  expf = (float)(p · s)
 *         with the coefficients C0..C2 of its e_exp2f_data.c. Arguments with |x| ≥ 88 or NaN (glibc's
 *         slow branch: overflow, underflow, errno) go to the scalar function.
 *   tanhf: fdlibm s_tanhf.c (Sun Microsystems 1993; glibc 2.36's tanhf): for 2^−55 ≤ |x| < 22,
 *           |x| ≥ 1: 1 − 2/(expm1f(2|x|) + 2);  |x| < 1: −t/(t + 2) with t = expm1f(−2|x|);
 *         sign restored; ±1 from 22 on; x·(1 + x) below 2^−55; NaN and ±∞ to the scalar function.
 *   expm1f: fdlibm s_expm1f.c, in float with no fused operations (glibc builds it for baseline
 *         x86-64): argument reduction x = k·ln2 + r (k = ±1 near ±ln2, else trunc(x/ln2 ± ½)),
 *         the rational approximation with Q1..Q5, and the reconstruction by k (0, −1, 1, ≤ −2 or
 *         > 56, 2..22, 23..56). Only the arguments tanhf passes, −2 < a < 44, are taken here.
 *   sigmoid: ops_internal.h's act_sigmoid: x ≥ 0: 1/(1 + expf(−x)); else e/(1 + e), e = expf(x).
 *
 * Every lane computes every branch and a mask picks its own; integer bit tricks (adding k to the
 * exponent) are the same integer operations. This file is compiled with -ffp-contract=off (Makefile):
 * a multiply and an add must stay two roundings where the scalar code has two. */
#include "vector_math.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(RR_PORTABLE_MATH)
#define VM_HAVE_AVX2 1
#include <immintrin.h>
#else
#define VM_HAVE_AVX2 0
#endif

/* ---- the scalar path: the functions themselves ------------------------------------------------ */

static void scalar_expf(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = rr_expf(x[i]);
}
static void scalar_tanhf(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = rr_tanhf(x[i]);
}
static void scalar_sigmoid(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = act_sigmoid(x[i]);
}

#if VM_HAVE_AVX2

#define VM_TARGET __attribute__((target("avx2,fma")))

/* 2^(i/32) in double, minus i << 47 (so that adding k << 47 for k = 32·q + i gives 2^(k/32)): the
 * table of e_exp2f_data.c, computed here. exp2l's 64-bit result rounded to double is the correctly
 * rounded 2^(i/32) for these 32 arguments (checked: tests/test_vector_math.c compares the result
 * with glibc's expf on every float). */
static uint64_t exp2_table[32];

static void exp2_table_init(void) {
    for (int i = 0; i < 32; i++) {
        const double v = (double)exp2l((long double)i / 32.0L);
        uint64_t u;
        memcpy(&u, &v, sizeof u);
        exp2_table[i] = u - ((uint64_t)i << 47);
    }
}

/* e_exp2f_data.c's constants: N/ln2 with N = 32, the rounding shift 1.5·2^52, and the cubic's
 * coefficients (its poly[], scaled by N^-3, N^-2, N^-1). */
#define EXPF_INVLN2N (0x1.71547652b82fep+0 * 32)
#define EXPF_SHIFT 0x1.8p+52
#define EXPF_C0 (0x1.c6af84b912394p-5 / 32 / 32 / 32)
#define EXPF_C1 (0x1.ebfce50fac4f3p-3 / 32 / 32)
#define EXPF_C2 (0x1.62e42ff0c52d6p-1 / 32)

/* expf of four floats (as doubles) in the main range |x| < 88. */
VM_TARGET static inline __m128 expf4(__m128 xf) {
    const __m256d xd = _mm256_cvtps_pd(xf);
    const __m256d invln2n = _mm256_set1_pd(EXPF_INVLN2N), shift = _mm256_set1_pd(EXPF_SHIFT);
    __m256d kd = _mm256_fmadd_pd(invln2n, xd, shift);
    const __m256i ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shift);
    const __m256d r = _mm256_fmsub_pd(invln2n, xd, kd);
    const __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
    __m256i t = _mm256_i64gather_epi64((const long long *)exp2_table, idx, 8);
    t = _mm256_add_epi64(t, _mm256_slli_epi64(ki, 47));
    const __m256d s = _mm256_castsi256_pd(t);
    const __m256d z = _mm256_fmadd_pd(_mm256_set1_pd(EXPF_C0), r, _mm256_set1_pd(EXPF_C1));
    const __m256d r2 = _mm256_mul_pd(r, r);
    __m256d y = _mm256_fmadd_pd(_mm256_set1_pd(EXPF_C2), r, _mm256_set1_pd(1.0));
    y = _mm256_fmadd_pd(z, r2, y);
    y = _mm256_mul_pd(y, s);
    return _mm256_cvtpd_ps(y);
}

/* expf of eight floats; 0 (and nothing written) when a lane is outside |x| < 88 or NaN. */
VM_TARGET static inline int expf8(__m256 x, __m256 *out) {
    const __m256i top = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 20), _mm256_set1_epi32(0x7ff));
    const __m256i slow = _mm256_cmpgt_epi32(top, _mm256_set1_epi32(0x42a)); /* top12(88.0f) = 0x42b */
    if (!_mm256_testz_si256(slow, slow)) return 0;
    const __m128 lo = expf4(_mm256_castps256_ps128(x)), hi = expf4(_mm256_extractf128_ps(x, 1));
    *out = _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
    return 1;
}

/* fdlibm expm1f's constants (s_expm1f.c). */
#define EM1_LN2_HI 6.9313812256e-01f /* 0x3f317180 */
#define EM1_LN2_LO 9.0580006145e-06f /* 0x3717f7d1 */
#define EM1_INVLN2 1.4426950216e+00f /* 0x3fb8aa3b */
#define EM1_Q1 -3.3333335072e-02f
#define EM1_Q2 1.5873016091e-03f
#define EM1_Q3 -7.9365076090e-05f
#define EM1_Q4 4.0082177293e-06f
#define EM1_Q5 -2.0109921195e-07f
#define EM1_HUGE 1.0e+30f

VM_TARGET static inline __m256 vsel(__m256 mask, __m256 yes, __m256 no) { return _mm256_blendv_ps(no, yes, mask); }
#define F(v) _mm256_set1_ps(v)
#define I(v) _mm256_set1_epi32(v)

/* fdlibm expm1f of eight floats a with −2 < a < 44 (tanhf's arguments): every branch of s_expm1f.c
 * that such an a reaches, selected per lane. */
VM_TARGET static inline __m256 expm1f8(__m256 a) {
    const __m256i bits = _mm256_castps_si256(a);
    const __m256i hx = _mm256_and_si256(bits, I(0x7fffffff));
    const __m256 neg = _mm256_castsi256_ps(_mm256_cmpgt_epi32(I(0), bits)); /* sign bit set */
    /* argument reduction: |a| > ln2/2 reduces by k·ln2 */
    const __m256 big = _mm256_castsi256_ps(_mm256_cmpgt_epi32(hx, I(0x3eb17218)));
    const __m256 mid = _mm256_castsi256_ps(_mm256_cmpgt_epi32(I(0x3F851592), hx)); /* |a| < 1.5 ln2 */
    const __m256i kgen = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(F(EM1_INVLN2), a), vsel(neg, F(-0.5f), F(0.5f))));
    const __m256i kmid = _mm256_castps_si256(vsel(neg, _mm256_castsi256_ps(I(-1)), _mm256_castsi256_ps(I(1))));
    __m256i k = _mm256_castps_si256(vsel(mid, _mm256_castsi256_ps(kmid), _mm256_castsi256_ps(kgen)));
    k = _mm256_and_si256(k, _mm256_castps_si256(big)); /* k = 0 where |a| ≤ ln2/2 */
    const __m256 tk = _mm256_cvtepi32_ps(k);
    const __m256 hi = _mm256_sub_ps(a, _mm256_mul_ps(tk, F(EM1_LN2_HI))); /* t·ln2_hi is exact */
    const __m256 lo = _mm256_mul_ps(tk, F(EM1_LN2_LO));
    const __m256 xred = _mm256_sub_ps(hi, lo);
    const __m256 x = vsel(big, xred, a);
    const __m256 c = _mm256_sub_ps(_mm256_sub_ps(hi, xred), lo);
    /* the primary range */
    const __m256 hfx = _mm256_mul_ps(F(0.5f), x);
    const __m256 hxs = _mm256_mul_ps(x, hfx);
    __m256 r1 = _mm256_add_ps(F(EM1_Q4), _mm256_mul_ps(hxs, F(EM1_Q5)));
    r1 = _mm256_add_ps(F(EM1_Q3), _mm256_mul_ps(hxs, r1));
    r1 = _mm256_add_ps(F(EM1_Q2), _mm256_mul_ps(hxs, r1));
    r1 = _mm256_add_ps(F(EM1_Q1), _mm256_mul_ps(hxs, r1));
    r1 = _mm256_add_ps(F(1.0f), _mm256_mul_ps(hxs, r1));
    const __m256 t3 = _mm256_sub_ps(F(3.0f), _mm256_mul_ps(r1, hfx));
    const __m256 e = _mm256_mul_ps(hxs, _mm256_div_ps(_mm256_sub_ps(r1, t3), _mm256_sub_ps(F(6.0f), _mm256_mul_ps(x, t3))));
    /* k = 0 */
    const __m256 y0 = _mm256_sub_ps(x, _mm256_sub_ps(_mm256_mul_ps(x, e), hxs));
    /* k ≠ 0 */
    const __m256 ek = _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(x, _mm256_sub_ps(e, c)), c), hxs);
    const __m256 ym1 = _mm256_sub_ps(_mm256_mul_ps(F(0.5f), _mm256_sub_ps(x, ek)), F(0.5f));
    const __m256 yp1 = vsel(_mm256_cmp_ps(x, F(-0.25f), _CMP_LT_OQ),
                            _mm256_mul_ps(F(-2.0f), _mm256_sub_ps(ek, _mm256_add_ps(x, F(0.5f)))),
                            _mm256_add_ps(F(1.0f), _mm256_mul_ps(F(2.0f), _mm256_sub_ps(x, ek))));
    const __m256i kexp = _mm256_slli_epi32(k, 23);
    /* k ≤ −2 or k > 56 */
    __m256 ya = _mm256_sub_ps(F(1.0f), _mm256_sub_ps(ek, x));
    ya = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(ya), kexp));
    ya = _mm256_sub_ps(ya, F(1.0f));
    /* 2 ≤ k < 23: t = 1 − 2^−k */
    const __m256 tb = _mm256_castsi256_ps(_mm256_sub_epi32(I(0x3f800000), _mm256_srlv_epi32(I(0x1000000), k)));
    __m256 yb = _mm256_sub_ps(tb, _mm256_sub_ps(ek, x));
    yb = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(yb), kexp));
    /* 23 ≤ k ≤ 56: t = 2^−k */
    const __m256 tc = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_sub_epi32(I(0x7f), k), 23));
    __m256 yc = _mm256_sub_ps(x, _mm256_add_ps(ek, tc));
    yc = _mm256_add_ps(yc, F(1.0f));
    yc = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(yc), kexp));
    /* pick per lane */
    const __m256 k0 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, I(0)));
    const __m256 km1 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, I(-1)));
    const __m256 kp1 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, I(1)));
    const __m256 ka = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_cmpgt_epi32(I(-1), k), _mm256_cmpgt_epi32(k, I(56))));
    const __m256 kb = _mm256_castsi256_ps(_mm256_cmpgt_epi32(I(23), k));
    __m256 y = vsel(kb, yb, yc);
    y = vsel(ka, ya, y);
    y = vsel(kp1, yp1, y);
    y = vsel(km1, ym1, y);
    y = vsel(k0, y0, y);
    /* |a| < 2^−25: a itself, as a − ((huge + a) − (huge + a)) */
    const __m256 tiny = _mm256_castsi256_ps(_mm256_cmpgt_epi32(I(0x33000000), hx));
    const __m256 u = _mm256_add_ps(F(EM1_HUGE), a);
    return vsel(tiny, _mm256_sub_ps(a, _mm256_sub_ps(u, u)), y);
}

/* tanhf of eight floats; 0 (nothing written) when a lane is NaN or ±∞. */
VM_TARGET static inline int tanhf8(__m256 x, __m256 *out) {
    const __m256i bits = _mm256_castps_si256(x);
    const __m256i ix = _mm256_and_si256(bits, I(0x7fffffff));
    const __m256i nonfinite = _mm256_cmpgt_epi32(ix, I(0x7f7fffff));
    if (!_mm256_testz_si256(nonfinite, nonfinite)) return 0;
    const __m256 signmask = _mm256_castsi256_ps(I((int)0x80000000));
    const __m256 ax = _mm256_andnot_ps(signmask, x);
    const __m256 ge1 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(ix, I(0x3f7fffff)));
    const __m256 two_ax = _mm256_mul_ps(F(2.0f), ax);
    const __m256 arg = vsel(ge1, two_ax, _mm256_mul_ps(F(-2.0f), ax));
    const __m256 huge_arg = _mm256_castsi256_ps(_mm256_cmpgt_epi32(ix, I(0x41afffff))); /* |x| ≥ 22 */
    /* keep expm1f's argument in its range on the lanes that do not use it */
    const __m256 t = expm1f8(vsel(huge_arg, F(2.0f), arg));
    const __m256 tp2 = _mm256_add_ps(t, F(2.0f));
    const __m256 z_ge1 = _mm256_sub_ps(F(1.0f), _mm256_div_ps(F(2.0f), tp2));
    const __m256 z_lt1 = _mm256_div_ps(_mm256_xor_ps(t, signmask), tp2); /* −t/(t + 2) */
    __m256 z = vsel(ge1, z_ge1, z_lt1);
    z = vsel(huge_arg, _mm256_sub_ps(F(1.0f), F(1.0e-30f)), z);
    z = _mm256_or_ps(z, _mm256_and_ps(signmask, x)); /* z ≥ 0 here: −z for negative x */
    /* |x| < 2^−55 (0 and denormals included): x·(1 + x) */
    const __m256 small = _mm256_castsi256_ps(_mm256_cmpgt_epi32(I(0x24000000), ix));
    *out = vsel(small, _mm256_mul_ps(x, _mm256_add_ps(F(1.0f), x)), z);
    return 1;
}

/* act_sigmoid of eight floats; 0 when expf8 declines (|x| ≥ 88 or NaN). */
VM_TARGET static inline int sigmoid8(__m256 x, __m256 *out) {
    const __m256 nonneg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    const __m256 a = vsel(nonneg, _mm256_xor_ps(x, _mm256_castsi256_ps(I((int)0x80000000))), x);
    __m256 e;
    if (!expf8(a, &e)) return 0;
    const __m256 num = vsel(nonneg, F(1.0f), e);
    *out = _mm256_div_ps(num, _mm256_add_ps(F(1.0f), e));
    return 1;
}

#undef F
#undef I

/* The array loops: eight at a time; a block the vector code declines, and the tail, go through the
 * scalar function. */
#define VM_ARRAY_LOOP(name, fn8, scalar)                                                              \
    VM_TARGET void name(const float *x, float *y, int64_t n) {                                        \
        int64_t i = 0;                                                                                \
        for (; i + 8 <= n; i += 8) {                                                                  \
            __m256 v;                                                                                 \
            if (fn8(_mm256_loadu_ps(x + i), &v)) _mm256_storeu_ps(y + i, v);                          \
            else scalar(x + i, y + i, 8);                                                             \
        }                                                                                             \
        if (i < n) scalar(x + i, y + i, n - i);                                                       \
    }
VM_ARRAY_LOOP(vm_expf_vector, expf8, scalar_expf)
VM_ARRAY_LOOP(vm_tanhf_vector, tanhf8, scalar_tanhf)
VM_ARRAY_LOOP(vm_sigmoid_vector, sigmoid8, scalar_sigmoid)

static int cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#else /* no AVX2 code in this build */

static int cpu_has_avx2_fma(void) { return 0; }
static void exp2_table_init(void) {}
void vm_expf_vector(const float *x, float *y, int64_t n) { scalar_expf(x, y, n); }
void vm_tanhf_vector(const float *x, float *y, int64_t n) { scalar_tanhf(x, y, n); }
void vm_sigmoid_vector(const float *x, float *y, int64_t n) { scalar_sigmoid(x, y, n); }

#endif

static int vm_available;

static void vm_available_init(void) {
    exp2_table_init();
    vm_available = cpu_has_avx2_fma();
}

int vm_vector_available(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, vm_available_init);
    return vm_available;
}

/* ---- the start-up check and the dispatch ------------------------------------------------------ */

static int vm_use_vector;
static char vm_path_text[128];

/* The glibc versions on which `make test-vecmath-all` found every one of the 2^32 floats the same in
 * both denormal modes (Debian 12's 2.36; expf is unchanged since 2.27 and fdlibm's tanhf/expm1f since
 * long before, but a version is listed only once it has been checked). On any other glibc the start-up
 * sample alone could miss a difference in a few floats per million, so the scalar path is taken. */
static const char *const vm_verified_glibc[] = {"2.36"};

const char *vm_libc_version(void) {
#ifdef __GLIBC__
    return gnu_get_libc_version();
#else
    return "none (not glibc)";
#endif
}

int vm_glibc_verified(void) {
    const char *v = vm_libc_version();
    for (size_t i = 0; i < sizeof vm_verified_glibc / sizeof vm_verified_glibc[0]; i++)
        if (strcmp(v, vm_verified_glibc[i]) == 0) return 1;
    return 0;
}

/* The check's arguments: 2^16 bit patterns spread evenly over all 2^32 (every sign and exponent), and
 * for each of the 512 sign-exponent pairs the mantissas 0, 1, ½, the largest, and those of the
 * thresholds in expm1f's and tanhf's branches (and their neighbours). */
static int check_args(float *xs, int cap) {
    static const uint32_t mant[] = {0x000000, 0x000001, 0x400000, 0x7fffff, 0x317218, 0x317217, 0x317219,
                                    0x051592, 0x051591, 0x35b844, 0x35b843, 0x31717f, 0x2e42ff, 0x300000};
    int n = 0;
    for (uint32_t i = 0; i < 65536 && n < cap; i++) {
        uint32_t u = (i << 16) | ((i * 2654435761u) >> 16);
        memcpy(&xs[n++], &u, sizeof u);
    }
    for (uint32_t se = 0; se < 512; se++)
        for (size_t m = 0; m < sizeof mant / sizeof mant[0] && n < cap; m++) {
            uint32_t u = (se << 23) | mant[m];
            memcpy(&xs[n++], &u, sizeof u);
        }
    return n;
}

static int same_bits(void (*vec)(const float *, float *, int64_t), void (*ref)(const float *, float *, int64_t),
                     const float *xs, float *a, float *b, int n) {
    vec(xs, a, n);
    ref(xs, b, n);
    return memcmp(a, b, sizeof(float) * (size_t)n) == 0;
}

static void vm_init(void) {
    const char *env = getenv("RR_VECTOR_MATH");
    if (env && strcmp(env, "0") == 0) {
        snprintf(vm_path_text, sizeof vm_path_text, "scalar (RR_VECTOR_MATH=0)");
        return;
    }
    if (!vm_vector_available()) {
#ifdef RR_PORTABLE_MATH
        snprintf(vm_path_text, sizeof vm_path_text, "scalar (the portable build's own expf and tanhf)");
#else
        snprintf(vm_path_text, sizeof vm_path_text, "scalar (%s)",
                 VM_HAVE_AVX2 ? "this CPU has no AVX2 + FMA" : "no AVX2 code for this CPU architecture");
#endif
        return;
    }
    if (!vm_glibc_verified()) {
        snprintf(vm_path_text, sizeof vm_path_text, "scalar (glibc %s: the vector functions are not checked against it)",
                 vm_libc_version());
        return;
    }
    enum { CAP = 65536 + 512 * 14 };
    float *xs = malloc(3 * sizeof(float) * CAP);
    if (!xs) {
        snprintf(vm_path_text, sizeof vm_path_text, "scalar (no memory for the start-up check)");
        return;
    }
    const int n = check_args(xs, CAP);
    float *a = xs + CAP, *b = a + CAP;
    const char *bad = !same_bits(vm_expf_vector, scalar_expf, xs, a, b, n)       ? "expf"
                      : !same_bits(vm_tanhf_vector, scalar_tanhf, xs, a, b, n)   ? "tanhf"
                      : !same_bits(vm_sigmoid_vector, scalar_sigmoid, xs, a, b, n) ? "sigmoid"
                                                                                  : NULL;
    free(xs);
    if (bad)
        snprintf(vm_path_text, sizeof vm_path_text, "scalar (this libm's %s differs from the vector one)", bad);
    else
        snprintf(vm_path_text, sizeof vm_path_text, "avx2-fma");
    vm_use_vector = !bad;
}

static pthread_once_t vm_once = PTHREAD_ONCE_INIT;

const char *vm_path(void) {
    pthread_once(&vm_once, vm_init);
    return vm_path_text;
}

void vm_tanhf(const float *x, float *y, int64_t n) {
    pthread_once(&vm_once, vm_init);
    (vm_use_vector ? vm_tanhf_vector : scalar_tanhf)(x, y, n);
}

void vm_sigmoid(const float *x, float *y, int64_t n) {
    pthread_once(&vm_once, vm_init);
    (vm_use_vector ? vm_sigmoid_vector : scalar_sigmoid)(x, y, n);
}

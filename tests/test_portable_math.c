/* test_portable_math.c — the portable build's own math (src/portable_math.c) against long double
 * libm (expl, tanhl, log10l, powl, sinl, cosl: 64-bit mantissas, an independent implementation): the
 * float functions within 1 ulp of the true value over dense sweeps and random arguments, the double
 * ones within 4 ulp, the special values (±0, ±inf, NaN, overflow, underflow) as C99 Annex F says. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "portable_math.h"
#include "test.h"

/* ulps between float got and the long double truth, measured in float ulps at the truth */
static double ulps_f(float got, long double truth) {
    float t = (float)truth;
    if (isinf(t)) return isinf(got) && (got > 0) == (t > 0) ? 0 : 1e30;
    double ulp = (double)nextafterf(fabsf(t), INFINITY) - (double)fabsf(t);
    if (fabsf(t) < FLT_MIN) ulp = (double)FLT_TRUE_MIN;
    return (double)fabsl((long double)got - truth) / ulp;
}
static double ulps_d(double got, long double truth) {
    double t = (double)truth;
    if (isinf(t)) return isinf(got) && (got > 0) == (t > 0) ? 0 : 1e30;
    double ulp = nextafter(fabs(t), INFINITY) - fabs(t);
    if (fabs(t) < DBL_MIN) ulp = 4.9406564584124654e-324;
    return (double)(fabsl((long double)got - truth) / (long double)ulp);
}

static uint64_t lcg = 0x9E3779B97F4A7C15ull;
static double uniform(double lo, double hi) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * ((double)(lcg >> 11) * 0x1.0p-53);
}

typedef float (*FloatFn)(float);
typedef long double (*LongFn)(long double);

/* worst ulp error of f over n evenly spaced and n random points of [lo, hi] */
static double worst_f(FloatFn f, LongFn ref, double lo, double hi, long n, float *where) {
    double worst = 0;
    for (long i = 0; i < 2 * n; i++) {
        float x = i < n ? (float)(lo + (hi - lo) * (double)i / (double)(n - 1)) : (float)uniform(lo, hi);
        double u = ulps_f(f(x), ref((long double)x));
        if (!(u <= worst)) worst = u, *where = x;
    }
    return worst;
}

static double worst_d(double (*f)(double), LongFn ref, double lo, double hi, long n, double *where) {
    double worst = 0;
    for (long i = 0; i < 2 * n; i++) {
        double x = i < n ? lo + (hi - lo) * (double)i / (double)(n - 1) : uniform(lo, hi);
        double u = ulps_d(f(x), ref((long double)x));
        if (!(u <= worst)) worst = u, *where = x;
    }
    return worst;
}

static long double tanh_l(long double x) { return tanhl(x); }
static long double exp_l(long double x) { return expl(x); }
static long double log10_l(long double x) { return log10l(x); }
static long double sin_l(long double x) { return sinl(x); }
static long double cos_l(long double x) { return cosl(x); }
static long double log10_of_pow10(long double e) { return log10l((long double)(double)powl(10.0L, e)); }
static double log10_pow10(double e) { return portable_log10((double)powl(10.0L, (long double)e)); }

int main(void) {
    TEST_BEGIN("portable_math");
    const long N = 1L << 20;
    float wf;
    double wd, u;

    u = worst_f(portable_expf, exp_l, -103.0, 88.72, N, &wf);
    CHECK(u <= 1.0, "expf within 1 ulp of expl on [-103, 88.72] (%ld points; worst %.3f ulp at %.9g)", 2 * N, u, wf);
    u = worst_f(portable_expf, exp_l, -1.0, 1.0, N, &wf);
    CHECK(u <= 1.0, "expf within 1 ulp on [-1, 1] (worst %.3f ulp at %.9g)", u, wf);
    u = worst_f(portable_tanhf, tanh_l, -11.0, 11.0, N, &wf);
    CHECK(u <= 1.0, "tanhf within 1 ulp of tanhl on [-11, 11] (worst %.3f ulp at %.9g)", u, wf);
    u = worst_f(portable_tanhf, tanh_l, -0.4, 0.4, N, &wf);
    CHECK(u <= 1.0, "tanhf within 1 ulp on [-0.4, 0.4], across the series/exp switch at 0.35 (worst %.3f ulp at %.9g)", u, wf);
    u = worst_f(portable_tanhf, tanh_l, 1e-30, 1e-3, N, &wf);
    CHECK(u <= 1.0, "tanhf within 1 ulp for tiny arguments [1e-30, 1e-3] (worst %.3f ulp at %.9g)", u, wf);

    u = worst_d(portable_exp, exp_l, -745.0, 709.7, N, &wd);
    CHECK(u <= 4.0, "exp within 4 ulp of expl on [-745, 709.7], subnormal results included (worst %.3f ulp at %.17g)", u, wd);
    u = worst_d(portable_exp, exp_l, -0.02, 0.02, N, &wd);
    CHECK(u <= 4.0, "exp within 4 ulp near 0 (worst %.3f ulp at %.17g)", u, wd);
    u = worst_d(portable_log10, log10_l, 1e-6, 1e6, N, &wd);
    CHECK(u <= 4.0, "log10 within 4 ulp of log10l on [1e-6, 1e6] (worst %.3f ulp at %.17g)", u, wd);
    u = worst_d(portable_log10, log10_l, 0.5, 2.0, N, &wd);
    CHECK(u <= 4.0, "log10 within 4 ulp on [0.5, 2], around 1 (worst %.3f ulp at %.17g)", u, wd);
    u = worst_d(log10_pow10, log10_of_pow10, -300.0, 300.0, N / 8, &wd);
    CHECK(u <= 4.0, "log10 within 4 ulp over 600 decades (worst %.3f ulp at 10^%.6g)", u, wd);
    u = worst_d(portable_sin, sin_l, 0.0, 2.0 * M_PI, N, &wd);
    CHECK(u <= 4.0, "sin within 4 ulp of sinl on [0, 2pi], the angles of rnnreg mmnist (worst %.3f ulp at %.17g)", u, wd);
    u = worst_d(portable_cos, cos_l, 0.0, 2.0 * M_PI, N, &wd);
    CHECK(u <= 4.0, "cos within 4 ulp of cosl on [0, 2pi] (worst %.3f ulp at %.17g)", u, wd);
    u = worst_d(portable_sin, sin_l, -1000.0, 1000.0, N, &wd);
    double u2 = worst_d(portable_cos, cos_l, -1000.0, 1000.0, N, &wd);
    CHECK(u <= 4.0 && u2 <= 4.0, "sin and cos within 4 ulp on [-1000, 1000] (worst %.3f / %.3f ulp)", u, u2);
    /* the doubles nearest the zeros of cos and sin: the reduction's 118 bits of pi/2 at work */
    double z1 = M_PI_2, z2 = M_PI, z3 = 3 * M_PI_2, z4 = 100 * M_PI;
    u = fmax(fmax(ulps_d(portable_cos(z1), cosl(z1)), ulps_d(portable_sin(z2), sinl(z2))),
             fmax(ulps_d(portable_cos(z3), cosl(z3)), ulps_d(portable_sin(z4), sinl(z4))));
    CHECK(u <= 4.0, "cos(pi/2), sin(pi), cos(3pi/2), sin(100pi) of the nearest doubles within 4 ulp (worst %.3f; cos(pi/2) = %.17g)", u, portable_cos(z1));

    /* Adam's bias correction 1 - beta^step (optim_update.c): what the integer power is for */
    double worst_bc = 0, worst_beta = 0;
    int64_t worst_step = 0;
    const double betas[] = {0.9, 0.99, 0.999, 0.9999};
    for (int b = 0; b < 4; b++)
        for (int64_t n = 1; n <= 1000000; n += (n < 1000 ? 1 : 997)) {
            long double truth = 1.0L - powl((long double)betas[b], (long double)n);
            double e = (double)fabsl(((long double)(1.0 - portable_pow_int(betas[b], n)) - truth) / truth);
            if (e > worst_bc) worst_bc = e, worst_beta = betas[b], worst_step = n;
        }
    CHECK(worst_bc <= 1e-12, "1 - pow_int(beta, step), Adam's bias correction, within 1e-12 relative of powl's for beta "
          "0.9 ... 0.9999 and steps 1 ... 1e6 (worst %.2g at beta %g, step %lld)", worst_bc, worst_beta, (long long)worst_step);
    CHECK(portable_pow_int(0.5, 0) == 1.0 && portable_pow_int(2.0, 10) == 1024.0 && portable_pow_int(0.999, 1) == 0.999,
          "pow_int: x^0 = 1, 2^10 = 1024, x^1 = x exactly");

    /* special values (C99 Annex F) */
    CHECK(isnan(portable_expf(NAN)) && portable_expf(INFINITY) == INFINITY && portable_expf(-INFINITY) == 0.0f &&
              portable_expf(89.0f) == INFINITY && portable_expf(-104.0f) == 0.0f && portable_expf(0.0f) == 1.0f,
          "expf: NaN, +inf, -inf -> 0, overflow to inf, underflow to 0, exp(0) = 1");
    CHECK(isnan(portable_tanhf(NAN)) && portable_tanhf(INFINITY) == 1.0f && portable_tanhf(-INFINITY) == -1.0f &&
              portable_tanhf(10.0f) == 1.0f && portable_tanhf(-9.5f) == (float)tanhl(-9.5L) &&
              signbit(portable_tanhf(-0.0f)) && portable_tanhf(0.0f) == 0.0f,
          "tanhf: NaN, +-inf -> +-1, tanh(10) rounds to 1, tanh(-0) = -0");
    CHECK(isnan(portable_log10(-1.0)) && portable_log10(0.0) == -INFINITY && portable_log10(INFINITY) == INFINITY &&
              portable_log10(1.0) == 0.0 && portable_log10(1000.0) == 3.0 && portable_log10(255.0) == (double)log10l(255.0L),
          "log10: -1 -> NaN, 0 -> -inf, inf, log10(1) = 0, log10(1000) = 3, log10(255) correctly rounded");
    CHECK(signbit(portable_sin(-0.0)) && portable_cos(0.0) == 1.0 && isnan(portable_sin(INFINITY)) && isnan(portable_cos(NAN)),
          "sin(-0) = -0, cos(0) = 1, sin(inf) and cos(NaN) are NaN");
    CHECK(portable_math_enabled() ==
#ifdef RR_PORTABLE_MATH
              1,
#else
              0,
#endif
          "portable_math_enabled() says what this build computes with (%s)", portable_math_enabled() ? "portable" : "glibc libm");
    return tests_exit();
}

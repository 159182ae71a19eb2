/* portable_math.c — exp, expf, tanhf, log10, an integer power, sin and cos in plain IEEE double
 * arithmetic (additions, multiplications, divisions, exact scalings; no fused multiply-add, no
 * lookup tables, no CPU dispatch), so they return the same bits on every x86-64 CPU: the math of the
 * portable build (`make PORTABLE=1`, portable_math.h, docs/portable.md).
 *
 * The methods are the textbook ones of fdlibm (Sun Microsystems, 1993; its e_exp.c, e_log.c,
 * k_sin.c, k_cos.c and e_rem_pio2.c, in netlib's fdlibm and in every libm descended from it):
 * Cody–Waite reduction by a multiple of ln 2 or π/2 with the constant split in two or three parts,
 * then a polynomial on the reduced argument (here plain Taylor series, long enough that truncation
 * is far below one double ulp), then an exact scaling. log uses log m = 2 atanh((m−1)/(m+1)) on the
 * mantissa m ∈ [√½, √2). The float functions are the double ones rounded once to float. */
#include "portable_math.h"

#include <stdint.h>
#include <string.h>

/* ln 2 split so that k·LN2_HI is exact for |k| < 2^21 (LN2_HI has 32 significant bits): fdlibm e_exp.c */
static const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;
static const double INV_LN10 = 4.34294481903251827651e-01; /* 1 / ln 10 */
/* π/2 = PIO2_1 + PIO2_2 + PIO2_2T to 118 bits (33 + 33 + 53): fdlibm e_rem_pio2.c's pio2_1, pio2_2, pio2_2t */
static const double PIO2_1 = 1.57079632673412561417e+00;
static const double PIO2_2 = 6.07710050630396597660e-11, PIO2_2T = 2.02226624879595063154e-21;
static const double INV_PIO2 = 6.36619772367581382433e-01; /* 2 / π */

int portable_math_enabled(void) {
#ifdef RR_PORTABLE_MATH
    return 1;
#else
    return 0;
#endif
}

/* Nearest integer to t, ties away from zero, as a double (exact: floor and ceil round nothing). */
static double round_half_away(double t) { return t < 0.0 ? ceil(t - 0.5) : floor(t + 0.5); }

/* 2^k for −1022 ≤ k ≤ 1023, built from its bits. */
static double pow2(int k) {
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* y · 2^k for any k in [−1100, 1100]: one or two exact scalings (the last may round into a
 * subnormal or overflow, as IEEE multiplication does everywhere). */
static double scale2(double y, int k) {
    if (k > 1023) return y * pow2(1023) * pow2(k - 1023);
    if (k < -1022) return y * pow2(-1022) * pow2(k + 1022);
    return y * pow2(k);
}

/* exp(r) − 1 for |r| ≤ 0.35 (Taylor to r^15/15!; the next term is below 3e-20 of the sum). */
static double expm1_small(double r) {
    double p = 1.0 / 1307674368000.0; /* 1/15! */
    static const double inv_fact[14] = {1.0 / 87178291200.0, 1.0 / 6227020800.0, 1.0 / 479001600.0,
                                        1.0 / 39916800.0,    1.0 / 3628800.0,    1.0 / 362880.0,
                                        1.0 / 40320.0,       1.0 / 5040.0,       1.0 / 720.0,
                                        1.0 / 120.0,         1.0 / 24.0,         1.0 / 6.0,
                                        1.0 / 2.0,           1.0};
    for (int i = 0; i < 14; i++) p = p * r + inv_fact[i];
    return p * r;
}

double portable_exp(double x) {
    if (x != x) return x;
    if (x > 709.782712893383973096) return HUGE_VAL;   /* above ln(DBL_MAX) */
    if (x < -745.133219101941108420) return 0.0;       /* below ln of the least subnormal */
    const double kd = round_half_away(x * INV_LN2);
    const double r = (x - kd * LN2_HI) - kd * LN2_LO; /* |r| ≤ ½ ln 2 (+ rounding) */
    return scale2(1.0 + expm1_small(r), (int)kd);
}

float portable_expf(float x) { return (float)portable_exp((double)x); }

/* tanh x = expm1(2|x|) / (expm1(2|x|) + 2), with the sign of x. While |x| ≤ 0.35, expm1 comes from the
 * series (nothing cancels); above, from exp − 1 (≥ 1.01). From |x| ≥ 10, tanh rounds to ±1 in float. */
float portable_tanhf(float xf) {
    if (xf != xf) return xf;
    const double x = (double)xf, ax = fabs(x);
    if (ax >= 10.0) return x > 0.0 ? 1.0f : -1.0f;
    double em1; /* e^(2|x|) − 1 */
    if (ax <= 0.35) {
        const double u = expm1_small(ax); /* e^|x| − 1, then e^(2|x|) − 1 = u (u + 2) */
        em1 = u * (u + 2.0);
    } else {
        em1 = portable_exp(2.0 * ax) - 1.0;
    }
    const double t = em1 / (em1 + 2.0);
    return (float)copysign(t, x); /* tanh(−0) = −0 */
}

double portable_log10(double x) {
    if (x != x) return x;
    if (x < 0.0) return NAN;
    if (x == 0.0) return -HUGE_VAL;
    if (isinf(x)) return x;
    int e;
    double m = frexp(x, &e); /* x = m · 2^e, m ∈ [½, 1): exact */
    if (m < M_SQRT1_2) {
        m *= 2.0;
        e -= 1;
    }
    /* log m = 2 atanh s, s = (m − 1)/(m + 1), |s| ≤ 0.1716: 2s + 2s·s²·Σ s^(2j)/(2j+3), j ≤ 13 (the
     * leading term kept apart, so the series' rounding stays in its small correction) */
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double q = 1.0 / 29.0;
    for (int k = 27; k >= 3; k -= 2) q = q * s2 + 1.0 / (double)k;
    const double log_m = 2.0 * s + 2.0 * s * (s2 * q);
    const double ln_x = (double)e * LN2_HI + ((double)e * LN2_LO + log_m);
    return ln_x * INV_LN10;
}

double portable_pow_int(double base, int64_t n) {
    double result = 1.0, b = base;
    for (int64_t k = n < 0 ? 0 : n; k > 0; k >>= 1) {
        if (k & 1) result *= b;
        b *= b;
    }
    return result;
}

/* x − k·π/2 as r (and k), in the two stages of fdlibm's medium case: 33 + 33 bits of π/2 and a
 * 53-bit tail, exact enough near the zeros of sin and cos for |x| ≤ 2^19·π/2. */
static double reduce_pio2(double x, int *k) {
    const double fn = round_half_away(x * INV_PIO2);
    double r = x - fn * PIO2_1; /* exact: fn·PIO2_1 has ≤ 53 bits and cancels x's leading ones */
    const double t = r;
    double w = fn * PIO2_2;
    r = t - w;
    w = fn * PIO2_2T - ((t - r) - w);
    *k = (int)fn;
    return r - w;
}

/* sin r and cos r for |r| ≤ π/4 (+ rounding): Taylor to r^23 and r^22, Horner in r², highest first. */
static const double SIN_COEF[11] = {
    -1.0 / 25852016738884976640000.0, 1.0 / 51090942171709440000.0, -1.0 / 121645100408832000.0,
    1.0 / 355687428096000.0,          -1.0 / 1307674368000.0,       1.0 / 6227020800.0,
    -1.0 / 39916800.0,                1.0 / 362880.0,               -1.0 / 5040.0,
    1.0 / 120.0,                      -1.0 / 6.0};
static const double COS_COEF[11] = {
    -1.0 / 1124000727777607680000.0, 1.0 / 2432902008176640000.0, -1.0 / 6402373705728000.0,
    1.0 / 20922789888000.0,          -1.0 / 87178291200.0,        1.0 / 479001600.0,
    -1.0 / 3628800.0,                1.0 / 40320.0,               -1.0 / 720.0,
    1.0 / 24.0,                      -1.0 / 2.0};

static double sin_small(double r) {
    const double r2 = r * r;
    double p = SIN_COEF[0];
    for (int i = 1; i < 11; i++) p = p * r2 + SIN_COEF[i];
    return r + r * r2 * p;
}
static double cos_small(double r) {
    const double r2 = r * r;
    double p = COS_COEF[0];
    for (int i = 1; i < 11; i++) p = p * r2 + COS_COEF[i];
    return 1.0 + r2 * p;
}

/* Arguments beyond 2^19·π/2 would need Payne–Hanek reduction; rnnreg's angles are in [0, 2π)
 * (mmnist.c), so those go to libm, where the portable guarantee does not hold. */
#define PORTABLE_TRIG_MAX 823549.6618475429

/* sin x for shift 0, cos x = sin(x + π/2) for shift 1: the quadrant k of the reduction, moved by shift,
 * picks ±sin r or ±cos r. */
static double sin_shifted(double x, int shift) {
    if (x != x || isinf(x)) return x - x;
    if (fabs(x) > PORTABLE_TRIG_MAX) return shift ? cos(x) : sin(x);
    int k;
    const double r = reduce_pio2(x, &k);
    switch ((k + shift) & 3) {
    case 0: return sin_small(r);
    case 1: return cos_small(r);
    case 2: return -sin_small(r);
    default: return -cos_small(r);
    }
}

double portable_sin(double x) { return x == 0.0 ? x : sin_shifted(x, 0); } /* sin(±0) = ±0 */
double portable_cos(double x) { return sin_shifted(x, 1); }

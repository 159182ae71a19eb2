/* portable_math.h — the libm functions rnnreg's results depend on (expf, tanhf, exp, log10, an integer
 * power, sin, cos) under rr_* names. By default they are glibc's own, so the default build's numbers
 * stay what they were. With RR_PORTABLE_MATH (`make PORTABLE=1`, docs/portable.md) they are ours, in
 * plain IEEE double arithmetic with no fused multiply-add: glibc chooses among FMA and SSE2 builds of
 * expf, exp, pow, sin and cos by the CPU it finds at load time (its x86-64 ifuncs), and where those
 * round differently by one unit, a training run that meets the difference goes elsewhere from there.
 *
 * The portable_* functions exist in every build, so tests check them against long double libm
 * wherever they run. Accuracy (tests/test_portable_math.c): the float functions within 1 ulp of the
 * true value, the double ones within 4 ulp. */
#ifndef RR_PORTABLE_MATH_H
#define RR_PORTABLE_MATH_H

#include <math.h>
#include <stdint.h>

float portable_expf(float x);
float portable_tanhf(float x);
double portable_exp(double x);
double portable_log10(double x);
double portable_pow_int(double base, int64_t n); /* base^n, n ≥ 0, by repeated squaring */
double portable_sin(double x);
double portable_cos(double x);

/* 1 when this build computes with the portable_* functions (`rnnreg info`, setup.json). */
int portable_math_enabled(void);

#ifdef RR_PORTABLE_MATH
static inline float rr_expf(float x) { return portable_expf(x); }
static inline float rr_tanhf(float x) { return portable_tanhf(x); }
static inline double rr_exp(double x) { return portable_exp(x); }
static inline double rr_log10(double x) { return portable_log10(x); }
static inline double rr_pow_int(double base, int64_t n) { return portable_pow_int(base, n); }
static inline double rr_sin(double x) { return portable_sin(x); }
static inline double rr_cos(double x) { return portable_cos(x); }
#else
static inline float rr_expf(float x) { return expf(x); }
static inline float rr_tanhf(float x) { return tanhf(x); }
static inline double rr_exp(double x) { return exp(x); }
static inline double rr_log10(double x) { return log10(x); }
static inline double rr_pow_int(double base, int64_t n) { return pow(base, (double)n); }
static inline double rr_sin(double x) { return sin(x); }
static inline double rr_cos(double x) { return cos(x); }
#endif

#endif

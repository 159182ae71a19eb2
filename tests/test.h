/* test.h — the tiny assertion layer every C test uses.
 *
 * Protocol read by tests/run.sh: each check prints one line
 *   "ok <test>: <what>"        a passed check
 *   "FAIL <test>: <what>: ..."  a failed check (with the values)
 *   "skip <test>: <what>: why"  a check that needs a GPU or a missing tool
 * and the program returns tests_exit(): non-zero when any check failed. A test program that
 * crashes is counted as one failure by the runner. */
#ifndef RNNREG_TEST_H
#define RNNREG_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int tests_failed_count = 0;
static const char *tests_name = "test";

#define TEST_BEGIN(name) (tests_name = (name))

/* A check passes or fails; msg says what it checks. */
#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            printf("ok %s: ", tests_name);                                \
            printf(__VA_ARGS__);                                          \
            printf("\n");                                                 \
        } else {                                                          \
            tests_failed_count++;                                         \
            printf("FAIL %s: ", tests_name);                              \
            printf(__VA_ARGS__);                                          \
            printf("  [%s:%d: %s]\n", __FILE__, __LINE__, #cond);         \
        }                                                                 \
        fflush(stdout);                                                   \
    } while (0)

#define SKIP(...)                                  \
    do {                                           \
        printf("skip %s: ", tests_name);           \
        printf(__VA_ARGS__);                       \
        printf("\n");                              \
        fflush(stdout);                            \
    } while (0)

/* |got - want| <= atol + rtol*|want| elementwise over n floats; prints the worst element. */
static inline int check_close_f32(const char *what, const float *got, const float *want, long n,
                                  double atol, double rtol) {
    long worst = -1;
    double worst_excess = 0, max_abs = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        double lim = atol + rtol * fabs((double)want[i]);
        if (d > max_abs || isnan(d)) max_abs = d;
        if (!(d <= lim) && (worst < 0 || d - lim > worst_excess || isnan(d))) {
            worst = i;
            worst_excess = d - lim;
        }
    }
    if (worst < 0) {
        printf("ok %s: %s (n=%ld, max abs diff %.3g, atol %.1g rtol %.1g)\n", tests_name, what, n,
               max_abs, atol, rtol);
        fflush(stdout);
        return 1;
    }
    tests_failed_count++;
    printf("FAIL %s: %s: element %ld got %.9g want %.9g (max abs diff %.3g, atol %.1g rtol %.1g)\n",
           tests_name, what, worst, (double)got[worst], (double)want[worst], max_abs, atol, rtol);
    fflush(stdout);
    return 0;
}

#define CHECK_NEAR(got, want, atol, rtol, ...)                                               \
    do {                                                                                     \
        double g_ = (double)(got), w_ = (double)(want);                                      \
        int ok_ = fabs(g_ - w_) <= (atol) + (rtol) * fabs(w_);                               \
        CHECK(ok_, __VA_ARGS__);                                                             \
        if (!ok_) printf("    got %.10g want %.10g\n", g_, w_);                              \
    } while (0)

/* The error message contains the given substring. */
#define CHECK_ERR_CONTAINS(msg, sub, ...)                                                    \
    do {                                                                                     \
        const char *m_ = (msg);                                                              \
        int ok_ = m_ && strstr(m_, (sub)) != NULL;                                           \
        CHECK(ok_, __VA_ARGS__);                                                             \
        if (!ok_) printf("    message was: \"%s\", expected to contain \"%s\"\n", m_ ? m_ : "(null)", (sub)); \
    } while (0)

static inline int tests_exit(void) { return tests_failed_count ? 1 : 0; }

#endif

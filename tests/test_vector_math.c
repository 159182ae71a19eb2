/* test_vector_math.c — the vector expf, tanhf and sigmoid (src/vector_math.c) against the scalar
 * functions they replace — glibc's expf and tanhf, and act_sigmoid on glibc's expf — bit for bit, on
 * every 61st float of all 2^32 (`make test`) or on every float (`test_vector_math all`, the target
 * `make test-vecmath-all`), each with denormals kept (IEEE) and flushed (FTZ + DAZ, as the trainer
 * runs), in place and out of place; and that the dispatch takes the vector path on a CPU that has
 * AVX2 and FMA under a glibc listed as checked (vector_math.c), the scalar path under any other. NaNs
 * must match in their bits too. Run under an unlisted glibc, `test_vector_math all` says whether that
 * glibc can be added to the list. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "ops_internal.h"
#include "test.h"
#include "vector_math.h"

static void ref_expf(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = rr_expf(x[i]);
}
static void ref_tanhf(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = rr_tanhf(x[i]);
}
static void ref_sigmoid(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = act_sigmoid(x[i]);
}

typedef void (*ArrayFn)(const float *, float *, int64_t);

/* Compare vec with ref on the floats with bit pattern k·stride (k = 0, 1, ...; the last pattern
 * 0xffffffff too), in blocks of 1021 (so the blocks start at every lane offset and end in a tail);
 * every 7th block in place. Returns the mismatches and the first one's argument. */
static uint64_t compare(ArrayFn vec, ArrayFn ref, uint32_t stride, uint64_t *checked, float *first_x,
                        float *first_got, float *first_want) {
    enum { BLOCK = 1021 };
    static float xs[BLOCK], got[BLOCK], want[BLOCK], inplace[BLOCK];
    uint64_t bad = 0, count = 0, blocks = 0;
    uint64_t u = 0;
    while (u <= 0xffffffffull) {
        int n = 0;
        for (; n < BLOCK && u <= 0xffffffffull; n++, u += stride) {
            uint32_t b = (uint32_t)u;
            memcpy(&xs[n], &b, sizeof b);
        }
        if (u > 0xffffffffull && (uint32_t)(u - stride) != 0xffffffffu && n < BLOCK) {
            uint32_t b = 0xffffffffu;
            memcpy(&xs[n++], &b, sizeof b);
        }
        ref(xs, want, n);
        float *out = got;
        if (blocks++ % 7 == 0) {
            memcpy(inplace, xs, sizeof(float) * (size_t)n);
            vec(inplace, inplace, n);
            out = inplace;
        } else {
            vec(xs, got, n);
        }
        for (int i = 0; i < n; i++)
            if (memcmp(&out[i], &want[i], sizeof(float)) != 0) {
                if (bad++ == 0) *first_x = xs[i], *first_got = out[i], *first_want = want[i];
            }
        count += (uint64_t)n;
    }
    *checked = count;
    return bad;
}

static void set_flush(int on) {
#if defined(__x86_64__)
    _mm_setcsr(on ? (_mm_getcsr() | 0x8040u) : (_mm_getcsr() & ~0x8040u));
#else
    (void)on;
#endif
}

int main(int argc, char **argv) {
    const int all = argc > 1 && strcmp(argv[1], "all") == 0;
    const uint32_t stride = all ? 1 : 61;
    TEST_BEGIN("vector_math");

    if (!vm_vector_available()) {
        SKIP("no vector path in this build or on this CPU (%s): every array takes the scalar functions",
             vm_path());
        /* the dispatching functions must still give the scalar bits */
        uint64_t checked;
        float fx = 0, fg = 0, fw = 0;
        uint64_t bad = compare(vm_tanhf, ref_tanhf, 4099, &checked, &fx, &fg, &fw);
        CHECK(bad == 0, "vm_tanhf (scalar path) = tanhf on %llu floats", (unsigned long long)checked);
        return tests_exit();
    }

    const char *path = vm_path();
    const int verified = vm_glibc_verified();
    if (verified)
        CHECK(strcmp(path, "avx2-fma") == 0, "the dispatch takes the vector path on this AVX2 + FMA CPU under glibc %s (%s)",
              vm_libc_version(), path);
    else
        CHECK(strncmp(path, "scalar", 6) == 0, "the dispatch takes the scalar path under glibc %s, not yet checked on all "
              "floats (%s)", vm_libc_version(), path);

    static const struct {
        const char *name;
        ArrayFn vec, ref;
    } fns[] = {
        {"expf", vm_expf_vector, ref_expf},
        {"tanhf", vm_tanhf_vector, ref_tanhf},
        {"sigmoid", vm_sigmoid_vector, ref_sigmoid},
    };
    for (int flush = 0; flush <= 1; flush++) {
        set_flush(flush);
        for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
            uint64_t checked = 0;
            float fx = 0, fg = 0, fw = 0;
            uint64_t bad = compare(fns[f].vec, fns[f].ref, stride, &checked, &fx, &fg, &fw);
            uint32_t bx, bg, bw;
            memcpy(&bx, &fx, 4), memcpy(&bg, &fg, 4), memcpy(&bw, &fw, 4);
            char first[160] = "";
            if (bad)
                snprintf(first, sizeof first, "; %llu differ, first x %a [0x%08x]: %a [0x%08x], want %a [0x%08x]",
                         (unsigned long long)bad, (double)fx, bx, (double)fg, bg, (double)fw, bw);
            if (verified || bad == 0)
                CHECK(bad == 0, "vector %s = scalar %s bit for bit on %llu floats (%s), denormals %s, glibc %s%s",
                      fns[f].name, fns[f].name, (unsigned long long)checked, all ? "all of them" : "every 61st",
                      flush ? "flushed (FTZ + DAZ)" : "kept (IEEE)", vm_libc_version(), first);
            else /* not used under this glibc (the dispatch checked above), so a difference is news, not a failure */
                SKIP("vector %s differs from this glibc's (%s) %s, which the trainer therefore does not replace%s",
                     fns[f].name, vm_libc_version(), fns[f].name, first);
        }
    }
    set_flush(0);

    return tests_exit();
}

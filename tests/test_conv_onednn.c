/* test_conv_onednn.c — the oneDNN convolution engine (src/conv_onednn.c) against the im2col reference
 * (src/conv.c, conv2d_forward_im2col / conv2d_backward_im2col) in one binary.
 *
 * (1) fp32, both memory layouts (plain nchw/oihw and oneDNN's choice "any"): y, dx, dw, db of the
 *     entries conv2d_forward / conv2d_backward vs im2col, with outputs prefilled with random values
 *     (accumulate and "+="), bias and no bias, and every NULL combination of dx, dw, db. Bound, per
 *     element: |got - ref| <= 1e-5 · (mag + |prefill|) + 1e-7, mag = conv(|x|, |w|) (resp. convᵀ(|dy|,
 *     |w|), Σ|dy|⋆|x|): both engines sum the same n = Cin·k·k (resp. Cout·k·k, B·H·W) products in
 *     different orders, each with error <= n·2^-24·mag in the worst case and ~√n·2^-24·mag typically
 *     (n <= 3200: ~3.4e-6·mag); an indexing error is O(mag).
 * (2) bf16 (x, w, dy rounded to bf16, fp32 accumulation and results) vs the fp32 im2col reference with
 *     the closed-form bound: bf16 keeps 8 significant bits, so round-to-nearest has relative error
 *     |d| <= 2^-8 (the unit roundoff 2^-p, p = 8; fp32's is 2^-24); a product of two rounded factors
 *     is x·w·(1+d1)(1+d2), so |Δ| <= (2·2^-8 + 2^-16)·|x·w|; summed, |y_bf16 - y_fp32| <=
 *     (2^-7 + 2^-16)·conv(|x|, |w|) plus the fp32 accumulation slack of both sums
 *     (2·n·2^-24·mag·(1 + 2^-7)) and the rounding of the final "+=" (2^-23·(|prefill| + |b| + mag));
 *     likewise dx with convᵀ(|dy|, |w|) and dw with Σ|dy|⋆|x|. (Measured: up to 0.55·2^-7·mag on
 *     one-product sums, ~2^-12·mag on the model's sums where the roundings partly cancel.)
 *     And bf16 must differ from fp32: its largest deviation from the reference is at least 8 times
 *     the fp32 engine's (so the test fails if bf16 silently ran fp32). Skipped, with a count, where
 *     device_cpu_bf16_isa() is NULL (RNNREG_TEST_NO_BF16=1 forces that).
 * (3) Determinism: the same calls twice give identical bits, in each precision and layout, with 1 and
 *     with 2 threads. (4) A repeated shape reuses its plan (no new primitive, no allocation).
 * (5) dy converted once: where dx and dw are both asked for, dw takes the bf16 / blocked copy of dy that
 *     the dx product made; dw must then be the same bits as dw asked for alone (its own conversion),
 *     in each precision and layout, on the model's shapes.
 * db is the same fixed-order double sum in both engines: compared bit for bit.
 * Built with CONV=im2col, every check is skipped (there is no second engine). */
#include <stdint.h>
#include <stdlib.h>

#include "common.h"
#include "device.h"
#include "ops.h"
#include "ops_internal.h"
#include "rng.h"
#include "test.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef RR_USE_ONEDNN

static void *pool[1024];
static int pool_n;
static float *fbuf(int64_t n) {
    float *p = rr_aligned_alloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (pool_n < 1024) pool[pool_n++] = p;
    return p;
}
static void pool_free(void) {
    for (int i = 0; i < pool_n; i++) free(pool[i]);
    pool_n = 0;
}
static uint32_t stream_id = 1;
static float *frand(int64_t n, float lo, float hi) {
    float *p = fbuf(n);
    uint64_t st = rr_stream(RR_TAG_TEST, stream_id++, 11, 0);
    for (int64_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * rr_rand_uniform(7, st, (uint64_t)i);
    return p;
}
static float *fcopy(const float *x, int64_t n) {
    float *p = fbuf(n);
    memcpy(p, x, sizeof(float) * (size_t)n);
    return p;
}
static float *fabs_copy(const float *x, int64_t n) {
    float *p = fbuf(n);
    for (int64_t i = 0; i < n; i++) p[i] = fabsf(x[i]);
    return p;
}
static float *fzero(int64_t n) {
    float *p = fbuf(n);
    memset(p, 0, sizeof(float) * (size_t)n);
    return p;
}

static int bf16_skipped;

/* got vs ref elementwise: |got - ref| <= rel_mag·mag + rel_pre·|pre| + atol, mag >= 0 the magnitude
 * array and pre the prefill (NULL: none). Returns the largest |got - ref| / (mag + 1e-30) seen in
 * *worst_rel. */
static int check_bound(const char *what, const float *got, const float *ref, const float *mag, const float *pre,
                       int64_t n, double rel_mag, double rel_pre, double atol, double *worst_rel) {
    int64_t bad = -1;
    double max_d = 0, wr = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        double lim = rel_mag * mag[i] + (pre ? rel_pre * fabs((double)pre[i]) : 0) + atol;
        if (!(d <= lim) && bad < 0) bad = i;
        if (d > max_d) max_d = d;
        double r = d / (mag[i] + 1e-30);
        if (r > wr) wr = r;
    }
    if (worst_rel) *worst_rel = wr;
    if (bad < 0) {
        printf("ok %s: %s (n=%lld, max abs diff %.3g, largest diff/bound-magnitude %.3g)\n", tests_name, what,
               (long long)n, max_d, wr);
        fflush(stdout);
        return 1;
    }
    tests_failed_count++;
    printf("FAIL %s: %s: element %lld got %.9g want %.9g (magnitude %.6g, max abs diff %.3g)\n", tests_name, what,
           (long long)bad, got[bad], ref[bad], mag[bad], max_d);
    fflush(stdout);
    return 0;
}

typedef struct {
    int B, Cin, Cout, H, W, k;
} Shape;

/* What one engine call set writes: y after the forward (prefilled when accumulate), dx, dw, db after
 * the backward (prefilled: "+="). */
typedef struct {
    float *y, *dx, *dw, *db;
} Outs;

typedef struct {
    Shape s;
    int64_t nx, nw, ny;
    float *x, *w, *b, *dy;             /* inputs */
    float *y0, *dx0, *dw0, *db0;       /* prefills */
    float *ymag, *dxmag, *dwmag;       /* conv(|x|,|w|), convᵀ(|dy|,|w|), Σ|dy|⋆|x| (im2col, fp32) */
    float *scratch;
} Case;

static Case case_make(Shape s) {
    Case c;
    c.s = s;
    c.nx = (int64_t)s.B * s.Cin * s.H * s.W;
    c.nw = (int64_t)s.Cout * s.Cin * s.k * s.k;
    c.ny = (int64_t)s.B * s.Cout * s.H * s.W;
    c.x = frand(c.nx, -1, 1);
    c.w = frand(c.nw, -0.5f, 0.5f);
    c.b = frand(s.Cout, -1, 1);
    c.dy = frand(c.ny, -1, 1);
    c.y0 = frand(c.ny, -2, 2);
    c.dx0 = frand(c.nx, -2, 2);
    c.dw0 = frand(c.nw, -2, 2);
    c.db0 = frand(s.Cout, -2, 2);
    Tensor tx = tensor4(c.x, RR_CPU, s.B, s.Cin, s.H, s.W);
    c.scratch = fbuf(conv2d_scratch_floats(&tx, s.k));
    /* the magnitudes: the same convolutions of the absolute values */
    float *ax = fabs_copy(c.x, c.nx), *aw = fabs_copy(c.w, c.nw), *ady = fabs_copy(c.dy, c.ny);
    c.ymag = fzero(c.ny);
    c.dxmag = fzero(c.nx);
    c.dwmag = fzero(c.nw);
    Tensor tax = tensor4(ax, RR_CPU, s.B, s.Cin, s.H, s.W), taw = tensor4(aw, RR_CPU, s.Cout, s.Cin, s.k, s.k);
    Tensor tady = tensor4(ady, RR_CPU, s.B, s.Cout, s.H, s.W), tym = tensor4(c.ymag, RR_CPU, s.B, s.Cout, s.H, s.W);
    Tensor tdxm = tensor4(c.dxmag, RR_CPU, s.B, s.Cin, s.H, s.W), tdwm = tensor4(c.dwmag, RR_CPU, s.Cout, s.Cin, s.k, s.k);
    conv2d_forward_im2col(&tax, &taw, NULL, &tym, 0, c.scratch);
    conv2d_backward_im2col(&tax, &taw, &tady, &tdxm, &tdwm, NULL, c.scratch);
    return c;
}

/* Run forward + backward with either engine (oneDNN through the public entries, or im2col directly);
 * want_dx/dw/db choose the non-NULL gradients. */
static Outs run(const Case *c, int onednn, int bias, int accumulate, int want_dx, int want_dw, int want_db) {
    const Shape s = c->s;
    Outs o;
    o.y = accumulate ? fcopy(c->y0, c->ny) : frand(c->ny, 5, 6); /* "=" must overwrite garbage */
    o.dx = fcopy(c->dx0, c->nx);
    o.dw = fcopy(c->dw0, c->nw);
    o.db = fcopy(c->db0, s.Cout);
    Tensor x = tensor4(c->x, RR_CPU, s.B, s.Cin, s.H, s.W), w = tensor4(c->w, RR_CPU, s.Cout, s.Cin, s.k, s.k);
    Tensor b = tensor1(c->b, RR_CPU, s.Cout), dy = tensor4(c->dy, RR_CPU, s.B, s.Cout, s.H, s.W);
    Tensor y = tensor4(o.y, RR_CPU, s.B, s.Cout, s.H, s.W), dx = tensor4(o.dx, RR_CPU, s.B, s.Cin, s.H, s.W);
    Tensor dw = tensor4(o.dw, RR_CPU, s.Cout, s.Cin, s.k, s.k), db = tensor1(o.db, RR_CPU, s.Cout);
    Tensor *pdx = want_dx ? &dx : NULL, *pdw = want_dw ? &dw : NULL, *pdb = want_db ? &db : NULL;
    if (onednn) {
        conv2d_forward(&x, &w, bias ? &b : NULL, &y, accumulate, c->scratch);
        conv2d_backward(&x, &w, &dy, pdx, pdw, pdb, c->scratch);
    } else {
        conv2d_forward_im2col(&x, &w, bias ? &b : NULL, &y, accumulate, c->scratch);
        conv2d_backward_im2col(&x, &w, &dy, pdx, pdw, pdb, c->scratch);
    }
    return o;
}

static const char *layout_name(ConvLayout l) { return l == CONV_LAYOUT_ANY ? "any" : l == CONV_LAYOUT_PLAIN ? "plain" : "auto"; }

/* The magnitude arrays of the "+=" outputs: mag + |b| (forward with bias). */
static float *y_mag(const Case *c, int bias) {
    float *m = fcopy(c->ymag, c->ny);
    if (bias) {
        const int HW = c->s.H * c->s.W;
        for (int64_t i = 0; i < c->ny; i++) m[i] += fabsf(c->b[(i / HW) % c->s.Cout]);
    }
    return m;
}

/* One shape, flags and layout: fp32 vs im2col; bf16 vs the fp32 reference; determinism. */
static void check_case(Shape s, int bias, int accumulate, int want_dx, int want_dw, int want_db, ConvLayout layout) {
    Case c = case_make(s);
    char tag[160];
    snprintf(tag, sizeof tag, "B=%d Cin=%d Cout=%d %dx%d k=%d bias=%d acc=%d dx=%d dw=%d db=%d layout %s", s.B, s.Cin,
             s.Cout, s.H, s.W, s.k, bias, accumulate, want_dx, want_dw, want_db, layout_name(layout));
    conv_onednn_set_layout(layout);
    device_set_precision(RR_FP32);
    Outs ref = run(&c, 0, bias, accumulate, want_dx, want_dw, want_db);
    Outs f32 = run(&c, 1, bias, accumulate, want_dx, want_dw, want_db);
    const char *impl = conv_onednn_last_impl();
    float *ym = y_mag(&c, bias);
    const float *ypre = accumulate ? c.y0 : NULL;
    char what[320];
    double r32[3] = {0, 0, 0};
    snprintf(what, sizeof what, "fp32 y vs im2col, %s", tag);
    check_bound(what, f32.y, ref.y, ym, ypre, c.ny, 1e-5, 1e-5, 1e-7, &r32[0]);
    if (want_dx) {
        snprintf(what, sizeof what, "fp32 dx += vs im2col, %s", tag);
        check_bound(what, f32.dx, ref.dx, c.dxmag, c.dx0, c.nx, 1e-5, 1e-5, 1e-7, &r32[1]);
    } else
        CHECK(!memcmp(f32.dx, c.dx0, sizeof(float) * (size_t)c.nx), "dx untouched when not asked for, %s", tag);
    if (want_dw) {
        snprintf(what, sizeof what, "fp32 dw += vs im2col, %s (%s)", tag, impl);
        check_bound(what, f32.dw, ref.dw, c.dwmag, c.dw0, c.nw, 1e-5, 1e-5, 1e-7, &r32[2]);
    } else
        CHECK(!memcmp(f32.dw, c.dw0, sizeof(float) * (size_t)c.nw), "dw untouched when not asked for, %s", tag);
    CHECK(!memcmp(f32.db, ref.db, sizeof(float) * (size_t)s.Cout), "db += bit-identical to im2col's, %s", tag);
    Outs again = run(&c, 1, bias, accumulate, want_dx, want_dw, want_db);
    CHECK(!memcmp(again.y, f32.y, sizeof(float) * (size_t)c.ny) && !memcmp(again.dx, f32.dx, sizeof(float) * (size_t)c.nx) &&
              !memcmp(again.dw, f32.dw, sizeof(float) * (size_t)c.nw),
          "fp32 y, dx, dw bit-identical in a second call, %s", tag);

    if (!device_cpu_bf16_isa()) {
        bf16_skipped++;
        device_set_precision(RR_FP32);
        return;
    }
    device_set_precision(RR_BF16);
    Outs h = run(&c, 1, bias, accumulate, want_dx, want_dw, want_db);
    const char *impl16 = conv_onednn_last_impl();
    Outs h2 = run(&c, 1, bias, accumulate, want_dx, want_dw, want_db);
    device_set_precision(RR_FP32);
    /* the bound of (2): rel_mag = 2^-7 + 2^-16 + 2·n·2^-24·(1 + 2^-7) + 2^-23, rel_pre = 2^-23 */
    const double u = ldexp(1.0, -24), brel = ldexp(1.0, -7) + ldexp(1.0, -16) + 2 * u;
    const int64_t n_y = (int64_t)s.Cin * s.k * s.k, n_dx = (int64_t)s.Cout * s.k * s.k, n_dw = (int64_t)s.B * s.H * s.W;
    double r16[3] = {0, 0, 0};
    snprintf(what, sizeof what, "bf16 y vs fp32 im2col within the bf16 bound, %s (%s)", tag, impl16);
    check_bound(what, h.y, ref.y, ym, ypre, c.ny, brel + 2.0 * n_y * u * (1 + ldexp(1.0, -7)), 2 * u, 1e-7, &r16[0]);
    if (want_dx) {
        snprintf(what, sizeof what, "bf16 dx += vs fp32 im2col within the bf16 bound, %s", tag);
        check_bound(what, h.dx, ref.dx, c.dxmag, c.dx0, c.nx, brel + 2.0 * n_dx * u * (1 + ldexp(1.0, -7)), 2 * u,
                    1e-7, &r16[1]);
    }
    if (want_dw) {
        snprintf(what, sizeof what, "bf16 dw += vs fp32 im2col within the bf16 bound, %s", tag);
        check_bound(what, h.dw, ref.dw, c.dwmag, c.dw0, c.nw, brel + 2.0 * n_dw * u * (1 + ldexp(1.0, -7)), 2 * u,
                    1e-7, &r16[2]);
    }
    const char *names[3] = {"y", "dx", "dw"};
    const int asked[3] = {1, want_dx, want_dw};
    for (int j = 0; j < 3; j++)
        if (asked[j])
            CHECK(r16[j] > 8 * r32[j] && r16[j] > 1e-6,
                  "bf16 %s differs from fp32 (largest deviation/magnitude %.3g vs fp32's %.3g), %s", names[j], r16[j],
                  r32[j], tag);
    CHECK(!memcmp(h.y, h2.y, sizeof(float) * (size_t)c.ny) && !memcmp(h.dx, h2.dx, sizeof(float) * (size_t)c.nx) &&
              !memcmp(h.dw, h2.dw, sizeof(float) * (size_t)c.nw) && !memcmp(h.db, ref.db, sizeof(float) * (size_t)s.Cout),
          "bf16 y, dx, dw bit-identical in a second call (db = im2col's), %s", tag);
}

/* (3) with 1 and 2 threads: two calls each give identical bits (per precision). */
static void check_threads(Shape s) {
    Case c = case_make(s);
    for (int prec = 0; prec < 2; prec++) {
        if (prec == RR_BF16 && !device_cpu_bf16_isa()) {
            bf16_skipped++;
            continue;
        }
        device_set_precision((RRPrecision)prec);
        for (int nt = 1; nt <= 2; nt++) {
#ifdef _OPENMP
            omp_set_num_threads(nt);
#endif
            Outs a = run(&c, 1, 1, 1, 1, 1, 1), b = run(&c, 1, 1, 1, 1, 1, 1);
            CHECK(!memcmp(a.y, b.y, sizeof(float) * (size_t)c.ny) && !memcmp(a.dx, b.dx, sizeof(float) * (size_t)c.nx) &&
                      !memcmp(a.dw, b.dw, sizeof(float) * (size_t)c.nw),
                  "%s with %d thread(s): two calls bit-identical (B=%d Cin=%d Cout=%d %dx%d k=%d, %s)",
                  precision_name((RRPrecision)prec), nt, s.B, s.Cin, s.Cout, s.H, s.W, s.k, conv_onednn_last_impl());
        }
    }
    device_set_precision(RR_FP32);
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
}

int main(void) {
    TEST_BEGIN("conv_onednn");
    CHECK(!strcmp(conv_cpu_engine(), "onednn"), "the CPU engine is oneDNN's (%s)", conv_cpu_engine());
    const char *isa = device_cpu_bf16_isa();
    printf("# bf16 instructions: %s\n", isa ? isa : "none");
    const ConvLayout layouts[2] = {CONV_LAYOUT_PLAIN, CONV_LAYOUT_ANY};
    /* rnnreg's shapes (16x16 maps, 32-128 channels, batch 8), a Keras-size 64x64 map, and odd ones */
    const Shape model[] = {{8, 32, 128, 16, 16, 5}, {8, 64, 64, 16, 16, 3}, {8, 128, 64, 16, 16, 1},
                           {2, 16, 64, 64, 64, 5}, {2, 1, 32, 64, 64, 3}};
    const Shape odd[] = {{1, 1, 3, 5, 7, 1}, {5, 3, 4, 6, 5, 3}, {1, 3, 1, 4, 4, 5}, {5, 1, 2, 3, 3, 5},
                         {1, 2, 5, 2, 3, 3}, {5, 3, 3, 7, 7, 1}};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < sizeof model / sizeof model[0]; i++) check_case(model[i], 1, (int)(i % 2), 1, 1, 1, layouts[l]);
        for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
            const int combos[5][3] = {{1, 1, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 1}};
            const int *cb = combos[i % 5];
            check_case(odd[i], (int)(i % 2), (int)((i / 2) % 2), cb[0], cb[1], cb[2], layouts[l]);
            check_case(odd[i], (int)((i + 1) % 2), (int)((i / 2 + 1) % 2), 1, 1, 1, layouts[l]);
        }
        pool_free();
    }
    /* the default (auto) layout too, on a model shape and an odd one */
    check_case(model[0], 1, 1, 1, 1, 1, CONV_LAYOUT_AUTO);
    check_case(odd[1], 0, 0, 1, 1, 1, CONV_LAYOUT_AUTO);
    pool_free();

    check_threads((Shape){8, 32, 64, 16, 16, 5});
    check_threads((Shape){3, 12, 32, 16, 16, 3});
    pool_free();

    /* (5) dw with dx (dy converted once) = dw alone */
    for (int prec = 0; prec < 2; prec++) {
        if (prec == RR_BF16 && !device_cpu_bf16_isa()) {
            bf16_skipped++;
            continue;
        }
        device_set_precision((RRPrecision)prec);
        for (int l = 0; l < 3; l++) {
            const ConvLayout lay = l == 2 ? CONV_LAYOUT_AUTO : layouts[l];
            conv_onednn_set_layout(lay);
            for (size_t i = 0; i < 3; i++) {
                Case c = case_make(model[i]);
                Outs both = run(&c, 1, 1, 1, 1, 1, 0), alone = run(&c, 1, 1, 1, 0, 1, 0);
                const Shape s = model[i];
                CHECK(!memcmp(both.dw, alone.dw, sizeof(float) * (size_t)c.nw),
                      "%s dw with dx (dy converted once) bit-identical to dw alone (B=%d Cin=%d Cout=%d %dx%d k=%d, "
                      "layout %s)",
                      precision_name((RRPrecision)prec), s.B, s.Cin, s.Cout, s.H, s.W, s.k, layout_name(lay));
            }
            pool_free();
        }
    }
    device_set_precision(RR_FP32);
    conv_onednn_set_layout(CONV_LAYOUT_AUTO);

    /* (4) a repeated shape reuses its plans */
    {
        Case c = case_make((Shape){2, 4, 8, 6, 6, 3});
        (void)run(&c, 1, 1, 0, 1, 1, 1);
        int n = conv_onednn_plan_count();
        (void)run(&c, 1, 1, 0, 1, 1, 1);
        CHECK(conv_onednn_plan_count() == n && n > 0, "a repeated shape reuses its %d plans (now %d)", n,
              conv_onednn_plan_count());
        pool_free();
    }
    if (bf16_skipped)
        SKIP("%d bf16 case(s): this CPU has no bf16 instructions (device_cpu_bf16_isa() is NULL%s)", bf16_skipped,
             getenv("RNNREG_TEST_NO_BF16") ? ", RNNREG_TEST_NO_BF16 set" : "");
    conv_onednn_set_layout(CONV_LAYOUT_AUTO);
    return tests_exit();
}

#else

int main(void) {
    TEST_BEGIN("conv_onednn");
    SKIP("built with CONV=im2col: no oneDNN engine to compare (conv_cpu_engine() = %s)", conv_cpu_engine());
    return tests_exit();
}

#endif

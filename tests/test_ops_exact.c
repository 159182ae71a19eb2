/* test_ops_exact.c — the reworked CPU loops of layernorm.c (side-by-side double chains, SSE2 4x4
 * tiles, vector passes), causal_lstm_cell.c (chunked vector backward loops; forward stages through
 * the vector sigmoid and tanh of vector_math.c), lstm_cell.c, regularize.c's split cell and
 * activation.c (vector sigmoid and tanh) and elementwise.c (op_fill) against plain scalar loops of the
 * same formulas written here, with glibc's expf and tanhf one element at a time, one chain at a time: the results must be equal bit for bit (memcmp), since committed results depend on the
 * rounding. Shapes cover 1..9 samples, channel counts that are and are not multiples of 4 and 8,
 * H·W that is and is not a multiple of 4, the optional arguments present and absent, and 1 and 2
 * threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "causal_lstm_cell.h"
#include "common.h"
#include "layernorm.h"
#include "ops_internal.h"
#include "regularize.h"
#include "ops.h"
#include "rng.h"
#include "test.h"
#include "vector_math.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static float *falloc(int64_t n) { return rr_calloc((size_t)(n > 0 ? n : 1), sizeof(float)); }

static Tensor new4(int B, int C, int H, int W) { return tensor4(falloc((int64_t)B * C * H * W), RR_CPU, B, C, H, W); }

static void fill(Tensor *t, float lo, float hi, uint64_t seed) {
    for (int64_t i = 0; i < t->count; i++) t->data[i] = lo + (hi - lo) * rr_rand_uniform(seed, RR_TAG_TEST, (uint64_t)i);
}

static int same_bits(const float *a, const float *b, int64_t n) { return !memcmp(a, b, sizeof(float) * (size_t)n); }


/* ---- layer norm: the scalar loops (per sample, then per channel; one chain each) ---- */
static void ref_ln_forward(const Tensor *x, const float *g, const float *be, float *y, float *mean_o, float *inv_o,
                           float eps) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    for (int b = 0; b < B; b++) {
        const float *xb = x->data + b * N;
        double s = 0.0, q = 0.0;
        for (int64_t i = 0; i < N; i++) s += xb[i];
        const double mean = s / (double)N;
        for (int64_t i = 0; i < N; i++) {
            double d = xb[i] - mean;
            q += d * d;
        }
        mean_o[b] = (float)mean;
        inv_o[b] = (float)(1.0 / sqrt(q / (double)N + (double)eps));
        for (int c = 0; c < C; c++)
            for (int64_t p = 0; p < HW; p++)
                y[b * N + c * HW + p] = (xb[c * HW + p] - mean_o[b]) * inv_o[b] * g[c] + be[c];
    }
}

static void ref_ln_backward(const Tensor *x, const float *g, const float *mean, const float *inv, const float *dy,
                            float *dx, float *dg, float *db) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    for (int c = 0; c < C && (dg || db); c++) {
        double sg = 0.0, sb = 0.0;
        for (int b = 0; b < B; b++)
            for (int64_t p = 0; p < HW; p++) {
                const float xv = x->data[b * N + c * HW + p], dv = dy[b * N + c * HW + p];
                sg += (double)dv * ((xv - mean[b]) * inv[b]);
                sb += dv;
            }
        if (dg) dg[c] += (float)sg;
        if (db) db[c] += (float)sb;
    }
    for (int b = 0; b < B && dx; b++) {
        double s1 = 0.0, s2 = 0.0;
        for (int64_t i = 0; i < N; i++) {
            const double gv = (double)g[i / HW] * dy[b * N + i];
            s1 += gv;
            s2 += gv * ((x->data[b * N + i] - mean[b]) * inv[b]);
        }
        const float m1 = (float)(s1 / (double)N), m2 = (float)(s2 / (double)N);
        for (int64_t i = 0; i < N; i++) {
            const float xhat = (x->data[b * N + i] - mean[b]) * inv[b];
            dx[b * N + i] += inv[b] * (g[i / HW] * dy[b * N + i] - m1 - xhat * m2);
        }
    }
}

static void test_layernorm_exact(int threads) {
    static const int Bs[] = {1, 3, 5, 8, 9}, Cs[] = {1, 3, 7, 16, 28}, HWs[][2] = {{4, 4}, {3, 5}, {16, 16}};
    int cases = 0, bad_fwd = 0, bad_bwd = 0;
    char first[160] = "";
    for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++)
        for (size_t ci = 0; ci < sizeof Cs / sizeof *Cs; ci++)
            for (size_t hi = 0; hi < sizeof HWs / sizeof *HWs; hi++)
                for (int opt = 0; opt < 3; opt++) { /* all outputs; no dx; dx only */
                    const int B = Bs[bi], C = Cs[ci], H = HWs[hi][0], W = HWs[hi][1];
                    const uint64_t seed = 100 + (uint64_t)cases;
                    Tensor x = new4(B, C, H, W), y = new4(B, C, H, W), dy = new4(B, C, H, W), dx = new4(B, C, H, W);
                    Tensor g = tensor1(falloc(C), RR_CPU, C), be = tensor1(falloc(C), RR_CPU, C);
                    Tensor mean = tensor1(falloc(B), RR_CPU, B), inv = tensor1(falloc(B), RR_CPU, B);
                    Tensor dg = tensor1(falloc(C), RR_CPU, C), db = tensor1(falloc(C), RR_CPU, C);
                    fill(&x, -2.0f, 3.0f, seed);
                    fill(&dy, -1.0f, 1.0f, seed + 1000);
                    fill(&g, 0.5f, 1.5f, seed + 2000);
                    fill(&be, -0.3f, 0.3f, seed + 3000);
                    fill(&dx, -0.1f, 0.1f, seed + 4000); /* the op adds onto what is there */
                    fill(&dg, -0.1f, 0.1f, seed + 5000);
                    fill(&db, -0.1f, 0.1f, seed + 6000);
                    if (cases % 2) /* a spike of ±2^40 early and late in each sample and channel: double sums
                                    * in another order round differently, and the cancellation shows it */
                        for (int b = 0; b < B; b++)
                            for (int c = 0; c < C; c++) {
                                float *xr = x.data + ((int64_t)b * C + c) * H * W, *dr = dy.data + ((int64_t)b * C + c) * H * W;
                                const float big = ldexpf(1.0f, 40) * (c % 2 ? 1.0f : -1.0f);
                                xr[0] += big, dr[0] += big / 1024;
                                xr[H * W / 2] -= big, dr[H * W / 2] -= big / 1024;
                            }
                    const int64_t n = x.count;
                    float *ry = falloc(n), *rm = falloc(B), *ri = falloc(B), *rdx = falloc(n), *rdg = falloc(C),
                          *rdb = falloc(C);
                    memcpy(rdx, dx.data, sizeof(float) * (size_t)n);
                    memcpy(rdg, dg.data, sizeof(float) * (size_t)C);
                    memcpy(rdb, db.data, sizeof(float) * (size_t)C);
                    tensor_layernorm_forward(&x, &g, &be, &y, &mean, &inv, TENSOR_LN_EPS);
                    ref_ln_forward(&x, g.data, be.data, ry, rm, ri, TENSOR_LN_EPS);
                    const int want_dx = opt != 1, want_p = opt != 2;
                    tensor_layernorm_backward(&x, &g, &mean, &inv, &dy, want_dx ? &dx : NULL, want_p ? &dg : NULL,
                                              want_p ? &db : NULL);
                    ref_ln_backward(&x, g.data, rm, ri, dy.data, want_dx ? rdx : NULL, want_p ? rdg : NULL,
                                    want_p ? rdb : NULL);
                    const int fwd_ok = same_bits(y.data, ry, n) && same_bits(mean.data, rm, B) && same_bits(inv.data, ri, B);
                    const int bwd_ok = same_bits(dx.data, rdx, n) && same_bits(dg.data, rdg, C) && same_bits(db.data, rdb, C);
                    if ((!fwd_ok || !bwd_ok) && !first[0])
                        snprintf(first, sizeof first, "first mismatch: B %d C %d H %d W %d outputs %d (%s)", B, C, H, W,
                                 opt, fwd_ok ? "backward" : "forward");
                    bad_fwd += !fwd_ok;
                    bad_bwd += !bwd_ok;
                    cases++;
                    free(x.data), free(y.data), free(dy.data), free(dx.data), free(g.data), free(be.data);
                    free(mean.data), free(inv.data), free(dg.data), free(db.data);
                    free(ry), free(rm), free(ri), free(rdx), free(rdg), free(rdb);
                }
    CHECK(bad_fwd == 0 && bad_bwd == 0,
          "%d threads: tensor_layernorm_forward / _backward equal the one-chain scalar loops bit for bit in %d cases "
          "(B 1..9, C 1..28, H·W 15/16/256, with and without dx / dgamma+dbeta): %d forward, %d backward differ %s",
          threads, cases, bad_fwd, bad_bwd, first);
}

/* ---- causal LSTM backward stages and the GHU: the scalar loops, element by element ---- */
static void test_cell_backward_exact(int threads) {
    static const int shapes[][4] = {{1, 1, 3, 5}, {3, 4, 4, 4}, {5, 16, 16, 16}, {2, 3, 23, 23}};
    int cases = 0, bad = 0;
    char first[128] = "";
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
        for (int variant = 0; variant < 4; variant++) { /* bit 0: previous state given, bit 1: mask given */
            const int B = shapes[si][0], n = shapes[si][1], H = shapes[si][2], W = shapes[si][3];
            const int has_prev = variant & 1, has_mask = variant >> 1 & 1;
            const uint64_t seed = 7000 + 10 * (uint64_t)cases;
            const int64_t HW = (int64_t)H * W, nhw = n * HW, cnt = B * nhw;
            Tensor g1 = new4(B, 3 * n, H, W), g2 = new4(B, 4 * n, H, W), g3 = new4(B, 2 * n, H, W);
            Tensor gg = new4(B, 2 * n, H, W), cp = new4(B, n, H, W), mk = new4(B, n, H, W), d = new4(B, n, H, W);
            fill(&g1, 0.01f, 0.99f, seed), fill(&g2, -0.99f, 0.99f, seed + 1), fill(&g3, -0.99f, 0.99f, seed + 2);
            fill(&gg, 0.01f, 0.99f, seed + 3), fill(&cp, -1.0f, 1.0f, seed + 4), fill(&d, -1.0f, 1.0f, seed + 5);
            for (int64_t i = 0; i < cnt; i++) mk.data[i] = rr_rand_uniform(seed + 6, RR_TAG_TEST, (uint64_t)i) < 0.3f ? 0.0f : 1.0f / 0.7f;
            Tensor dx = new4(B, 7 * n, H, W), dh = new4(B, 4 * n, H, W), dcc = new4(B, 3 * n, H, W), dcp = new4(B, n, H, W);
            Tensor dc2m = new4(B, 4 * n, H, W), dom = new4(B, n, H, W), dcell = new4(B, n, H, W), dpre = new4(B, 2 * n, H, W);
            fill(&dcp, -0.5f, 0.5f, seed + 7);
            float *rx = falloc(dx.count), *rh = falloc(dh.count), *rc = falloc(dcc.count), *rcp = falloc(cnt);
            float *rc2m = falloc(dc2m.count), *rom = falloc(cnt), *rcell = falloc(cnt), *rpre = falloc(dpre.count);
            memcpy(rcp, dcp.data, sizeof(float) * (size_t)cnt);
            const Tensor *cpp = has_prev ? &cp : NULL, *mkp = has_mask ? &mk : NULL;
            causal_lstm_stage1_backward_masked(&g1, cpp, mkp, &d, &dx, &dh, &dcc, has_prev ? &dcp : NULL);
            causal_lstm_stage2_backward_masked(&g2, mkp, &d, &dx, &dc2m, &dcc);
            causal_lstm_stage3_backward(&g3, &d, &dx, &dh, &dc2m, &dom, &dcell);
            ghu_backward(&gg, cpp, &d, &dpre, has_prev ? &dcp : NULL);
            /* the references, in the same call order (stage 2 overwrites stage 1's blocks of dcc) */
            for (int b = 0; b < B; b++)
                for (int j = 0; j < n; j++)
                    for (int64_t p = 0; p < HW; p++) {
                        const int64_t e = b * nhw + j * HW + p;
#define AT(t, K, k) (t)[((int64_t)b * (K) + (k)) * nhw + j * HW + p]
                        const float dv = d.data[e], m = has_mask ? mk.data[e] : 1.0f, c0 = has_prev ? cp.data[e] : 0.0f;
                        { /* stage 1 */
                            const float i = AT(g1.data, 3, 0), f = AT(g1.data, 3, 1), g = AT(g1.data, 3, 2);
                            const float dcg = has_mask ? dv * g * m : dv * g, dci = has_mask ? dv * i * m : dv * i;
                            const float di = dcg * i * (1.0f - i), df = dv * c0 * f * (1.0f - f), dg = dci * (1.0f - g * g);
                            AT(rx, 7, 0) = AT(rh, 4, 0) = AT(rc, 3, 0) = di;
                            AT(rx, 7, 1) = AT(rh, 4, 1) = AT(rc, 3, 1) = dg;
                            AT(rx, 7, 2) = AT(rh, 4, 2) = AT(rc, 3, 2) = df;
                            if (has_prev) rcp[e] += f * dv;
                        }
                        { /* stage 2 */
                            const float ii = AT(g2.data, 4, 0), ff = AT(g2.data, 4, 1), g = AT(g2.data, 4, 2), tm = AT(g2.data, 4, 3);
                            const float dmg = has_mask ? dv * g * m : dv * g, dmi = has_mask ? dv * ii * m : dv * ii;
                            const float dii = dmg * ii * (1.0f - ii), dff = dv * tm * ff * (1.0f - ff);
                            const float dgg = dmi * (1.0f - g * g), dmm = dv * ff * (1.0f - tm * tm);
                            AT(rx, 7, 4) = AT(rc2m, 4, 0) = AT(rc, 3, 0) = dii;
                            AT(rx, 7, 5) = AT(rc2m, 4, 1) = dgg;
                            AT(rx, 7, 6) = AT(rc2m, 4, 2) = AT(rc, 3, 1) = dff;
                            AT(rc, 3, 2) = dmm;
                        }
                        { /* stage 3 */
                            const float o = AT(g3.data, 2, 0), tc = AT(g3.data, 2, 1);
                            const float dp = dv * tc * (1.0f - o * o);
                            AT(rx, 7, 3) = AT(rh, 4, 3) = AT(rc2m, 4, 3) = rom[e] = dp;
                            rcell[e] = dv * o * (1.0f - tc * tc);
                        }
                        { /* GHU */
                            const float pv = AT(gg.data, 2, 0), u = AT(gg.data, 2, 1);
                            AT(rpre, 2, 0) = dv * u * (1.0f - pv * pv);
                            AT(rpre, 2, 1) = dv * (pv - c0) * u * (1.0f - u);
                            if (has_prev) rcp[e] += (1.0f - u) * dv;
                        }
#undef AT
                    }
            const int ok = same_bits(dx.data, rx, dx.count) && same_bits(dh.data, rh, dh.count) &&
                           same_bits(dcc.data, rc, dcc.count) && same_bits(dcp.data, rcp, cnt) &&
                           same_bits(dc2m.data, rc2m, dc2m.count) && same_bits(dom.data, rom, cnt) &&
                           same_bits(dcell.data, rcell, cnt) && same_bits(dpre.data, rpre, dpre.count);
            if (!ok && !first[0])
                snprintf(first, sizeof first, "first mismatch: B %d n %d H %d W %d prev %d mask %d", B, n, H, W, has_prev,
                         has_mask);
            bad += !ok;
            cases++;
            Tensor *all[] = {&g1, &g2, &g3, &gg, &cp, &mk, &d, &dx, &dh, &dcc, &dcp, &dc2m, &dom, &dcell, &dpre};
            for (size_t k = 0; k < sizeof all / sizeof *all; k++) free(all[k]->data);
            free(rx), free(rh), free(rc), free(rcp), free(rc2m), free(rom), free(rcell), free(rpre);
        }
    CHECK(bad == 0,
          "%d threads: causal_lstm_stage1/2/3_backward and ghu_backward equal the scalar formulas bit for bit in %d "
          "cases (with and without previous state and mask, H·W 15 .. 529) %s", threads, cases, first);
}

/* ---- the forward cells and activations: vector sigmoid / tanh against act_sigmoid and tanhf ---- */
/* Inputs spread over [-lo, lo] with every 97th element set to a value the vector code hands back to
 * the scalar functions (|x| >= 88 for expf, ±inf and NaN for tanhf, a denormal). */
static void fill_wide(Tensor *t, float lo, uint64_t seed) {
    static const float odd[] = {95.0f, -120.0f, 30.0f, -25.0f, 1e-40f, -0.0f, 3e-30f};
    fill(t, -lo, lo, seed);
    for (int64_t i = 0; i < t->count; i += 97) t->data[i] = odd[(i / 97) % 7];
}
#define SIG(v) act_sigmoid(v)
#define TANH(v) rr_tanhf(v)

static void test_cell_forward_exact(int threads) {
    static const int shapes[][4] = {{1, 1, 3, 5}, {3, 4, 4, 4}, {5, 16, 16, 16}, {2, 3, 23, 23}};
    static const Activation acts[][2] = {{ACT_SIGMOID, ACT_TANH}, {ACT_HARD_SIGMOID, ACT_RELU}, {ACT_SIGMOID, ACT_RELU}};
    int cases = 0, bad = 0;
    char first[160] = "";
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
        for (int variant = 0; variant < 4; variant++) { /* bit 0: previous state given, bit 1: mask given */
            const int B = shapes[si][0], n = shapes[si][1], H = shapes[si][2], W = shapes[si][3];
            const int has_prev = variant & 1, has_mask = variant >> 1 & 1;
            const uint64_t seed = 9000 + 20 * (uint64_t)cases;
            const int64_t HW = (int64_t)H * W, nhw = n * HW, cnt = B * nhw;
            Tensor xcc = new4(B, 7 * n, H, W), hcc = new4(B, 4 * n, H, W), ccc = new4(B, 3 * n, H, W);
            Tensor c2m = new4(B, 4 * n, H, W), mcc = new4(B, 3 * n, H, W), om = new4(B, n, H, W), cp = new4(B, n, H, W);
            Tensor mk = new4(B, n, H, W), zz = new4(B, 2 * n, H, W), zx = new4(B, 2 * n, H, W);
            fill_wide(&xcc, 6.0f, seed), fill_wide(&hcc, 6.0f, seed + 1), fill_wide(&ccc, 6.0f, seed + 2);
            fill_wide(&c2m, 6.0f, seed + 3), fill_wide(&mcc, 6.0f, seed + 4), fill_wide(&om, 6.0f, seed + 5);
            fill(&cp, -2.0f, 2.0f, seed + 6), fill_wide(&zz, 6.0f, seed + 7), fill_wide(&zx, 6.0f, seed + 8);
            for (int64_t i = 0; i < cnt; i++) mk.data[i] = rr_rand_uniform(seed + 9, RR_TAG_TEST, (uint64_t)i) < 0.3f ? 0.0f : 1.0f / 0.7f;
            const Tensor *cpp = has_prev ? &cp : NULL, *mkp = has_mask ? &mk : NULL;
            Tensor g1 = new4(B, 3 * n, H, W), c1 = new4(B, n, H, W), g2 = new4(B, 4 * n, H, W), m2 = new4(B, n, H, W);
            Tensor g3 = new4(B, 2 * n, H, W), h3 = new4(B, n, H, W), gg = new4(B, 2 * n, H, W), z = new4(B, n, H, W);
            causal_lstm_stage1_forward_masked(&xcc, &hcc, &ccc, cpp, mkp, &g1, &c1);
            causal_lstm_stage2_forward_masked(&xcc, &c2m, &mcc, mkp, &g2, &m2);
            causal_lstm_stage3_forward(&xcc, &hcc, &c2m, &om, &c1, &g3, &h3);
            ghu_forward(&zz, &zx, cpp, &gg, &z);
            float *r1 = falloc(g1.count), *rc1 = falloc(cnt), *r2 = falloc(g2.count), *rm2 = falloc(cnt);
            float *r3 = falloc(g3.count), *rh3 = falloc(cnt), *rg = falloc(gg.count), *rz = falloc(cnt);
            for (int b = 0; b < B; b++)
                for (int j = 0; j < n; j++)
                    for (int64_t p = 0; p < HW; p++) {
                        const int64_t e = b * nhw + j * HW + p;
#define AT(t, K, k) (t)[((int64_t)b * (K) + (k)) * nhw + j * HW + p]
                        const float m = has_mask ? mk.data[e] : 1.0f, c0 = has_prev ? cp.data[e] : 0.0f;
                        { /* stage 1 (causal_lstm_cell.h: i, g, f from x, h, c) */
                            const float i = SIG(AT(xcc.data, 7, 0) + AT(hcc.data, 4, 0) + AT(ccc.data, 3, 0));
                            const float f = SIG(AT(xcc.data, 7, 2) + AT(hcc.data, 4, 2) + AT(ccc.data, 3, 2) + CAUSAL_LSTM_FORGET_BIAS);
                            const float g = TANH(AT(xcc.data, 7, 1) + AT(hcc.data, 4, 1) + AT(ccc.data, 3, 1));
                            AT(r1, 3, 0) = i, AT(r1, 3, 1) = f, AT(r1, 3, 2) = g;
                            rc1[e] = (has_prev ? f * c0 : 0.0f) + i * (has_mask ? g * m : g);
                        }
                        { /* stage 2 */
                            const float ii = SIG(AT(c2m.data, 4, 0) + AT(xcc.data, 7, 4) + AT(mcc.data, 3, 0));
                            const float ff = SIG(AT(c2m.data, 4, 2) + AT(xcc.data, 7, 6) + AT(mcc.data, 3, 1) + CAUSAL_LSTM_FORGET_BIAS);
                            const float g = TANH(AT(c2m.data, 4, 1) + AT(xcc.data, 7, 5)), tm = TANH(AT(mcc.data, 3, 2));
                            AT(r2, 4, 0) = ii, AT(r2, 4, 1) = ff, AT(r2, 4, 2) = g, AT(r2, 4, 3) = tm;
                            rm2[e] = ff * tm + ii * (has_mask ? g * m : g);
                        }
                        { /* stage 3 (o from x, h, c2m, o_m; tanh of the cell c1) */
                            const float o = TANH(AT(xcc.data, 7, 3) + AT(hcc.data, 4, 3) + AT(c2m.data, 4, 3) + om.data[e]);
                            const float tc = TANH(c1.data[e]);
                            AT(r3, 2, 0) = o, AT(r3, 2, 1) = tc, rh3[e] = o * tc;
                        }
                        { /* GHU */
                            const float pv = TANH(AT(zz.data, 2, 0) + AT(zx.data, 2, 0)), u = SIG(AT(zz.data, 2, 1) + AT(zx.data, 2, 1));
                            AT(rg, 2, 0) = pv, AT(rg, 2, 1) = u, rz[e] = u * pv + (1.0f - u) * c0;
                        }
#undef AT
                    }
            int ok = same_bits(g1.data, r1, g1.count) && same_bits(c1.data, rc1, cnt) && same_bits(g2.data, r2, g2.count) &&
                     same_bits(m2.data, rm2, cnt) && same_bits(g3.data, r3, g3.count) && same_bits(h3.data, rh3, cnt) &&
                     same_bits(gg.data, rg, gg.count) && same_bits(z.data, rz, cnt);
            /* the ConvLSTM cell (lstm_cell.c) and the split cell of regularize.c, three activation pairs */
            for (size_t a = 0; a < sizeof acts / sizeof *acts; a++) {
                const Activation ga = acts[a][0], ca = acts[a][1];
                Tensor pre = new4(B, 4 * n, H, W), gates = new4(B, 4 * n, H, W), c = new4(B, n, H, W), h = new4(B, n, H, W);
                Tensor gates2 = new4(B, 4 * n, H, W), cr = new4(B, n, H, W), hr = new4(B, n, H, W), dh = new4(B, n, H, W);
                Tensor dc = new4(B, n, H, W), dpre = new4(B, 4 * n, H, W), dcp = new4(B, n, H, W), dpre2 = new4(B, 4 * n, H, W);
                Tensor dcs2 = new4(B, n, H, W);
                fill_wide(&pre, 6.0f, seed + 10 + a), fill(&dh, -1.0f, 1.0f, seed + 13 + a), fill(&dc, -1.0f, 1.0f, seed + 16 + a);
                lstm_cell_forward(&pre, cpp, &gates, &c, &h, ga, ca);
                lstm_cell_backward(&gates, cpp, &c, &dh, &dc, &dpre, &dcp, ga, ca);
                reg_lstm_state_forward(&pre, cpp, mkp, &gates2, &cr, ga, ca);
                reg_lstm_output_forward(&gates2, &cr, &hr, ca);
                reg_lstm_output_backward(&gates2, &cr, &dh, &dpre2, &dcs2, ga, ca);
                float *rgt = falloc(gates.count), *rcv = falloc(cnt), *rh = falloc(cnt), *rdp = falloc(dpre.count), *rdcp = falloc(cnt);
                float *rcr = falloc(cnt), *rhr = falloc(cnt), *rdo2 = falloc(cnt), *rdc2 = falloc(cnt);
                for (int b = 0; b < B; b++)
                    for (int j = 0; j < n; j++)
                        for (int64_t p = 0; p < HW; p++) {
                            const int64_t e = b * nhw + j * HW + p;
#define AT(t, k) (t)[((int64_t)b * 4 + (k)) * nhw + j * HW + p]
                            const float m = has_mask ? mk.data[e] : 1.0f, c0 = has_prev ? cp.data[e] : 0.0f;
                            const float i = act_apply(ga, AT(pre.data, 0)), f = act_apply(ga, AT(pre.data, 1));
                            const float g = act_apply(ca, AT(pre.data, 2)), o = act_apply(ga, AT(pre.data, 3));
                            AT(rgt, 0) = i, AT(rgt, 1) = f, AT(rgt, 2) = g, AT(rgt, 3) = o;
                            const float cv = (has_prev ? f * c0 : 0.0f) + i * g;
                            rcv[e] = cv, rh[e] = o * act_apply(ca, cv);
                            const float tc = act_apply(ca, cv);
                            const float dtot = dc.data[e] + dh.data[e] * o * act_grad_from_output(ca, tc);
                            AT(rdp, 3) = dh.data[e] * tc * act_grad_from_output(ga, o);
                            AT(rdp, 0) = dtot * g * act_grad_from_output(ga, i);
                            AT(rdp, 1) = has_prev ? dtot * c0 * act_grad_from_output(ga, f) : 0.0f;
                            AT(rdp, 2) = dtot * i * act_grad_from_output(ca, g);
                            rdcp[e] = dtot * f;
                            const float cr_v = (has_prev ? f * c0 : 0.0f) + i * (has_mask ? g * m : g);
                            rcr[e] = cr_v, rhr[e] = o * act_apply(ca, cr_v);
                            const float tcr = act_apply(ca, cr_v);
                            rdo2[e] = dh.data[e] * tcr * act_grad_from_output(ga, o);
                            rdc2[e] = 0.0f + dh.data[e] * o * act_grad_from_output(ca, tcr); /* += into zeros */
#undef AT
                        }
                float *do2 = falloc(cnt);
                for (int b = 0; b < B; b++) memcpy(do2 + b * nhw, dpre2.data + (b * 4 + 3) * nhw, sizeof(float) * (size_t)nhw);
                ok = ok && same_bits(gates.data, rgt, gates.count) && same_bits(c.data, rcv, cnt) && same_bits(h.data, rh, cnt) &&
                     same_bits(dpre.data, rdp, dpre.count) && same_bits(dcp.data, rdcp, cnt) &&
                     same_bits(cr.data, rcr, cnt) && same_bits(hr.data, rhr, cnt) && same_bits(do2, rdo2, cnt) &&
                     same_bits(dcs2.data, rdc2, cnt);
                /* activation_forward over the whole tensor, both vector activations */
                Tensor y = new4(B, 4 * n, H, W);
                for (int k = 0; k < 2; k++) {
                    activation_forward(k ? ACT_TANH : ACT_SIGMOID, &pre, &y);
                    for (int64_t q = 0; q < pre.count && ok; q++) {
                        const float want = k ? TANH(pre.data[q]) : SIG(pre.data[q]);
                        ok = !memcmp(&want, &y.data[q], sizeof want);
                    }
                }
                Tensor *all[] = {&pre, &gates, &c, &h, &gates2, &cr, &hr, &dh, &dc, &dpre, &dcp, &dpre2, &dcs2, &y};
                for (size_t k = 0; k < sizeof all / sizeof *all; k++) free(all[k]->data);
                free(rgt), free(rcv), free(rh), free(rdp), free(rdcp), free(rcr), free(rhr), free(rdo2), free(rdc2), free(do2);
            }
            if (!ok && !first[0])
                snprintf(first, sizeof first, "first mismatch: B %d n %d H %d W %d prev %d mask %d", B, n, H, W, has_prev,
                         has_mask);
            bad += !ok;
            cases++;
            Tensor *all[] = {&xcc, &hcc, &ccc, &c2m, &mcc, &om, &cp, &mk, &zz, &zx, &g1, &c1, &g2, &m2, &g3, &h3, &gg, &z};
            for (size_t k = 0; k < sizeof all / sizeof *all; k++) free(all[k]->data);
            free(r1), free(rc1), free(r2), free(rm2), free(r3), free(rh3), free(rg), free(rz);
        }
    CHECK(bad == 0,
          "%d threads: causal_lstm_stage1/2/3_forward, ghu_forward, lstm_cell_forward/backward, reg_lstm_state/"
          "output_forward, reg_lstm_output_backward and activation_forward (vector sigmoid and tanh: %s) equal the "
          "scalar formulas with glibc's expf and tanhf bit for bit in %d cases (H·W 15 .. 529, odd values every 97th) %s",
          threads, vm_path(), cases, first);
}

/* ---- op_fill: zero (memset path), -0, other values, sizes around the parallel block ---- */
static void test_fill_exact(void) {
    static const int64_t sizes[] = {0, 1, 7, 65536, 65537, 200003};
    static const float values[] = {0.0f, -0.0f, 1.5f, -3.25e-20f};
    int bad = 0, cases = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (size_t vi = 0; vi < sizeof values / sizeof *values; vi++) {
            const int64_t n = sizes[si];
            float *buf = falloc(n + 2), *want = falloc(n + 2);
            for (int64_t i = 0; i < n + 2; i++) buf[i] = want[i] = 9.0f;
            for (int64_t i = 1; i <= n; i++) want[i] = values[vi];
            Tensor t = tensor1(buf + 1, RR_CPU, (int)n);
            op_fill(&t, values[vi]);
            bad += !same_bits(buf, want, n + 2);
            cases++;
            free(buf), free(want);
        }
    CHECK(bad == 0, "op_fill writes exactly the value's bits (+0 by memset, -0, others) and nothing around it, %d cases",
          cases);
}

int main(void) {
    TEST_BEGIN("test_ops_exact");
    for (int threads = 1; threads <= 2; threads++) {
        rr_set_threads(threads);
        test_layernorm_exact(threads);
        test_cell_backward_exact(threads);
        test_cell_forward_exact(threads);
    }
    rr_set_threads(1);
    test_fill_exact();
    return tests_exit();
}

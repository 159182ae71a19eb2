/* test_predrnn_pp.c — PredRNN++ (src/predrnn_pp.c) and its ops (src/layernorm.c,
 * src/causal_lstm_cell.c):
 *   1. central finite differences of every new op's backward (tensor layer norm, the three Causal LSTM
 *      stages, the GHU, channel concat), including the "writes exactly its blocks" contract;
 *   2. tensor-by-tensor comparison with PyTorch fixtures (tests/reference/make_predrnn_pp_fixture.py:
 *      outputs, loss, every gradient, weights after 3 Adam steps, evaluation rollout) for five
 *      configurations (GHU + LN with unequal widths; no LN; no GHU; head_act sigmoid; head_act relu);
 *   3. finite differences of the model loss on a few weights, through the zig-zag memory, the GHU and
 *      scheduled sampling;
 *   4. initialisation (official distributions, Philox streams), parameter names/order, parameter and
 *      FLOP counts from closed forms, configuration errors (and the kind registry's unknown-model error),
 *      BN num_batches_tracked (+1 per training step and BN layer, as PyTorch's BatchNorm2d called once
 *      per step; names bns.L.num_batches_tracked).
 * The model is driven through model.h (model_create with model = "predrnn_pp"), as the trainer does.
 * `build/tests/test_predrnn_pp --bench B [threads]` times one training step of the official size
 * (128,64,64,64, k 5, GHU, LN, 16×16×16 patches, 20 frames) instead. Run it with
 * OMP_WAIT_POLICY=passive: otherwise idle OpenMP threads spin while OpenBLAS's own threads run the
 * matrix products, which made a step ~8x slower on a 2-core machine. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "blas.h"
#include "causal_lstm_cell.h"
#include "common.h"
#include "layernorm.h"
#include "ops.h"
#include "model.h"
#include "rng.h"
#include "safetensors.h"
#include "test.h"

#define FIXTURE_DIR "tests/fixtures/"

/* ------------------------------------------------------------------------------------------------ */
/* Helpers */

static float *falloc(int64_t n) { return rr_calloc((size_t)(n > 0 ? n : 1), sizeof(float)); }

static Tensor new4(int b, int c, int h, int w) { return tensor4(falloc((int64_t)b * c * h * w), RR_CPU, b, c, h, w); }

static void fill_uniform(Tensor *t, float lo, float hi, uint32_t stream_id) {
    for (int64_t i = 0; i < t->count; i++)
        t->data[i] = lo + (hi - lo) * rr_rand_uniform(99, rr_stream(RR_TAG_TEST, stream_id, 0, 0), (uint64_t)i);
}

static double max_abs(const float *x, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

/* ------------------------------------------------------------------------------------------------ */
/* 1. Finite differences of the ops. Each op gets a loss L = Σ r ⊙ y (r fixed random weights, sum in
 * double) over the output that carries a gradient; numeric dL/dx by central differences with step
 * h = 1e-2 (the actual step is the float difference of the perturbed values). */

static double (*fd_loss)(void);

/* numeric gradient of fd_loss with respect to every element of x */
static void numeric_grad(float *x, int64_t n, float *out, double h) {
    for (int64_t i = 0; i < n; i++) {
        const float x0 = x[i];
        const float xp = x0 + (float)h, xm = x0 - (float)h;
        x[i] = xp;
        const double lp = fd_loss();
        x[i] = xm;
        const double lm = fd_loss();
        x[i] = x0;
        out[i] = (float)((lp - lm) / ((double)xp - (double)xm));
    }
}

/* Tolerance of the op checks. Float32 outputs carry a relative rounding error ~6e-8; divided by the
 * step 2h = 2e-2 that gives ~1e-5·|r·y| of noise per changed output (the layer norm changes all
 * C·H·W outputs of a sample: ~sqrt(64)·that), and the O(h²) truncation error of the central difference
 * on these smooth functions is ~h²/6·|f'''| ~ 2e-5. Gradients are O(0.1..1), so atol 3e-4 plus rtol
 * 3e-3 leaves a factor ~10 margin while a wrong term (e.g. a missing factor or swapped block) is off by
 * O(0.1). */
#define OP_ATOL 3e-4
#define OP_RTOL 3e-3
#define OP_H 1e-2

static void fd_compare(const char *what, float *x, int64_t n, const float *analytic) {
    float *num = falloc(n);
    numeric_grad(x, n, num, OP_H);
    check_close_f32(what, analytic, num, n, OP_ATOL, OP_RTOL);
    free(num);
}

static double dot_r(const Tensor *y, const Tensor *r) {
    double s = 0;
    for (int64_t i = 0; i < y->count; i++) s += (double)y->data[i] * r->data[i];
    return s;
}

/* ---- layer norm ---- */
static Tensor ln_x, ln_g, ln_b, ln_y, ln_mean, ln_inv, ln_r;
static double ln_loss(void) {
    tensor_layernorm_forward(&ln_x, &ln_g, &ln_b, &ln_y, &ln_mean, &ln_inv, TENSOR_LN_EPS);
    return dot_r(&ln_y, &ln_r);
}

static void test_layernorm(void) {
    const int B = 2, C = 3, H = 4, W = 5;
    ln_x = new4(B, C, H, W);
    ln_y = new4(B, C, H, W);
    ln_r = new4(B, C, H, W);
    ln_g = tensor1(falloc(C), RR_CPU, C);
    ln_b = tensor1(falloc(C), RR_CPU, C);
    ln_mean = tensor1(falloc(B), RR_CPU, B);
    ln_inv = tensor1(falloc(B), RR_CPU, B);
    fill_uniform(&ln_x, -1.0f, 2.0f, 1);
    for (int i = 0; i < W * H; i++) ln_x.data[i] *= 3.0f; /* sample 0, channel 0: a wider spread */
    fill_uniform(&ln_g, 0.5f, 1.5f, 2);
    fill_uniform(&ln_b, -0.3f, 0.3f, 3);
    fill_uniform(&ln_r, -1.0f, 1.0f, 4);

    /* forward against the definition, in double */
    ln_loss();
    const int N = C * H * W;
    double worst = 0;
    for (int b = 0; b < B; b++) {
        double s = 0, q = 0;
        for (int i = 0; i < N; i++) s += ln_x.data[b * N + i];
        const double mean = s / N;
        for (int i = 0; i < N; i++) q += (ln_x.data[b * N + i] - mean) * (ln_x.data[b * N + i] - mean);
        const double inv = 1.0 / sqrt(q / N + 1e-5);
        for (int i = 0; i < N; i++) {
            const int c = i / (H * W);
            const double y = (ln_x.data[b * N + i] - mean) * inv * ln_g.data[c] + ln_b.data[c];
            if (fabs(y - ln_y.data[b * N + i]) > worst) worst = fabs(y - ln_y.data[b * N + i]);
        }
    }
    /* |y| ≤ ~4: float32 rounding of (x - mean)·invstd·g + b is a few ulps, ~1e-6 */
    CHECK(worst < 5e-6, "layer norm forward = (x - mean)/sqrt(biased var + 1e-5)·g[c] + b[c] per sample "
          "(max diff %.2g)", worst);

    /* backward: dx, dgamma, dbeta accumulate onto existing values */
    Tensor dx = new4(B, C, H, W), dg = tensor1(falloc(C), RR_CPU, C), db = tensor1(falloc(C), RR_CPU, C);
    for (int64_t i = 0; i < dx.count; i++) dx.data[i] = 0.25f;
    for (int c = 0; c < C; c++) dg.data[c] = db.data[c] = -0.5f;
    tensor_layernorm_backward(&ln_x, &ln_g, &ln_mean, &ln_inv, &ln_r, &dx, &dg, &db);
    for (int64_t i = 0; i < dx.count; i++) dx.data[i] -= 0.25f;
    for (int c = 0; c < C; c++) {
        dg.data[c] += 0.5f;
        db.data[c] += 0.5f;
    }
    fd_loss = ln_loss;
    fd_compare("layer norm dx (finite differences, accumulated)", ln_x.data, ln_x.count, dx.data);
    fd_compare("layer norm dgamma (finite differences, accumulated)", ln_g.data, C, dg.data);
    fd_compare("layer norm dbeta (finite differences, accumulated)", ln_b.data, C, db.data);

    /* a constant sample (what a conv of a zero state with a constant bias gives): y = beta, finite */
    for (int64_t i = 0; i < N; i++) ln_x.data[i] = 0.7f;
    ln_loss();
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= fabsf(ln_y.data[i] - ln_b.data[i / (H * W)]) < 1e-6f;
    CHECK(ok, "layer norm of a constant sample gives the offsets (eps keeps it finite)");
    free(dx.data), free(dg.data), free(db.data);
    free(ln_x.data), free(ln_y.data), free(ln_r.data), free(ln_g.data), free(ln_b.data);
    free(ln_mean.data), free(ln_inv.data);
}

/* ---- Causal LSTM stages, GHU, concat ---- */
enum { QB = 2, QN = 3, QH = 4, QW = 4 };
static Tensor q_xcc, q_hcc, q_ccc, q_mcc, q_c2m, q_om, q_cell, q_cprev, q_zz, q_zx, q_zprev;
static Tensor q_g1, q_g2, q_g3, q_gz, q_out, q_r, q_cat, q_rcat;

static double stage1_loss(void) {
    causal_lstm_stage1_forward(&q_xcc, &q_hcc, &q_ccc, &q_cprev, &q_g1, &q_out);
    return dot_r(&q_out, &q_r);
}
static double stage2_loss(void) {
    causal_lstm_stage2_forward(&q_xcc, &q_c2m, &q_mcc, &q_g2, &q_out);
    return dot_r(&q_out, &q_r);
}
static double stage3_loss(void) {
    causal_lstm_stage3_forward(&q_xcc, &q_hcc, &q_c2m, &q_om, &q_cell, &q_g3, &q_out);
    return dot_r(&q_out, &q_r);
}
static double ghu_loss(void) {
    ghu_forward(&q_zz, &q_zx, &q_zprev, &q_gz, &q_out);
    return dot_r(&q_out, &q_r);
}
static double concat_loss(void) {
    concat_channels_forward(&q_cprev, &q_mcc, &q_cat);
    return dot_r(&q_cat, &q_rcat);
}

#define SENTINEL 1234.5f

/* A gradient buffer of k·n channels pre-filled with SENTINEL. */
static Tensor sentinel4(int k) {
    Tensor t = new4(QB, k * QN, QH, QW);
    for (int64_t i = 0; i < t.count; i++) t.data[i] = SENTINEL;
    return t;
}

/* Blocks (k of K) of t: those in `written` hold the analytic values, compared with finite differences
 * of `x`; the others must still hold SENTINEL (the op must not touch them). */
static void check_blocks(const char *what, const Tensor *grad, Tensor *x, int K, unsigned written) {
    const int64_t nhw = (int64_t)QN * QH * QW;
    float *num = falloc(x->count);
    numeric_grad(x->data, x->count, num, OP_H);
    float *got = falloc(x->count);
    int untouched = 1, fd_zero = 1;
    for (int b = 0; b < QB; b++)
        for (int k = 0; k < K; k++)
            for (int64_t i = 0; i < nhw; i++) {
                const int64_t at = ((int64_t)b * K + k) * nhw + i;
                if (written >> k & 1) {
                    got[at] = grad->data[at];
                } else {
                    untouched &= grad->data[at] == SENTINEL;
                    fd_zero &= num[at] == 0.0f;
                    got[at] = num[at];
                }
            }
    char msg[160];
    snprintf(msg, sizeof msg, "%s (finite differences)", what);
    check_close_f32(msg, got, num, x->count, OP_ATOL, OP_RTOL);
    CHECK(untouched && fd_zero, "%s: blocks outside the stage are left alone (and do not affect it)", what);
    free(num);
    free(got);
}

static void test_cell_ops(void) {
    q_xcc = new4(QB, 7 * QN, QH, QW), q_hcc = new4(QB, 4 * QN, QH, QW), q_ccc = new4(QB, 3 * QN, QH, QW);
    q_mcc = new4(QB, 3 * QN, QH, QW), q_c2m = new4(QB, 4 * QN, QH, QW), q_om = new4(QB, QN, QH, QW);
    q_cell = new4(QB, QN, QH, QW), q_cprev = new4(QB, QN, QH, QW), q_zz = new4(QB, 2 * QN, QH, QW);
    q_zx = new4(QB, 2 * QN, QH, QW), q_zprev = new4(QB, QN, QH, QW);
    q_g1 = new4(QB, 3 * QN, QH, QW), q_g2 = new4(QB, 4 * QN, QH, QW), q_g3 = new4(QB, 2 * QN, QH, QW);
    q_gz = new4(QB, 2 * QN, QH, QW), q_out = new4(QB, QN, QH, QW), q_r = new4(QB, QN, QH, QW);
    q_cat = new4(QB, 4 * QN, QH, QW), q_rcat = new4(QB, 4 * QN, QH, QW);
    Tensor *ins[] = {&q_xcc, &q_hcc, &q_ccc, &q_mcc, &q_c2m, &q_om, &q_cell, &q_cprev, &q_zz, &q_zx, &q_zprev};
    for (int i = 0; i < 11; i++) fill_uniform(ins[i], -1.5f, 1.5f, 10 + i);
    fill_uniform(&q_r, -1.0f, 1.0f, 30);
    fill_uniform(&q_rcat, -1.0f, 1.0f, 31);

    /* forward values against the equations at one element (b=1, channel 2, pixel 5) */
    {
        const int64_t HW = QH * QW, nhw = QN * HW;
        const int b = 1, j = 2, p = 5;
#define AT(t, K, k) ((double)(t).data[((int64_t)b * (K) + (k)) * nhw + j * HW + p])
        const double sg = 1.0;
#define SIG(v) (1.0 / (1.0 + exp(-(v))))
        stage1_loss();
        double i = SIG(AT(q_xcc, 7, 0) + AT(q_hcc, 4, 0) + AT(q_ccc, 3, 0));
        double g = tanh(AT(q_xcc, 7, 1) + AT(q_hcc, 4, 1) + AT(q_ccc, 3, 1));
        double f = SIG(AT(q_xcc, 7, 2) + AT(q_hcc, 4, 2) + AT(q_ccc, 3, 2) + sg);
        double c = f * AT(q_cprev, 1, 0) + i * g;
        CHECK_NEAR(AT(q_out, 1, 0), c, 1e-6, 1e-6, "stage 1: c = σ(f_x+f_h+f_c+1)·c_prev + σ(i_·)·tanh(g_·), "
                   "blocks i, g, f");
        stage2_loss();
        double ii = SIG(AT(q_c2m, 4, 0) + AT(q_xcc, 7, 4) + AT(q_mcc, 3, 0));
        double gg = tanh(AT(q_c2m, 4, 1) + AT(q_xcc, 7, 5));
        double ff = SIG(AT(q_c2m, 4, 2) + AT(q_xcc, 7, 6) + AT(q_mcc, 3, 1) + sg);
        double mm = ff * tanh(AT(q_mcc, 3, 2)) + ii * gg;
        CHECK_NEAR(AT(q_out, 1, 0), mm, 1e-6, 1e-6, "stage 2: m = ff·tanh(m_m) + ii·gg (gg without memory term)");
        stage3_loss();
        double o = tanh(AT(q_xcc, 7, 3) + AT(q_hcc, 4, 3) + AT(q_c2m, 4, 3) + AT(q_om, 1, 0));
        CHECK_NEAR(AT(q_out, 1, 0), o * tanh(AT(q_cell, 1, 0)), 1e-6, 1e-6,
                   "stage 3: h = tanh(o_x+o_h+o_c+o_m)·tanh(cell) (tanh output gate)");
        ghu_loss();
        double pp = tanh(AT(q_zz, 2, 0) + AT(q_zx, 2, 0)), u = SIG(AT(q_zz, 2, 1) + AT(q_zx, 2, 1));
        CHECK_NEAR(AT(q_out, 1, 0), u * pp + (1 - u) * AT(q_zprev, 1, 0), 1e-6, 1e-6,
                   "GHU: z = σ(u)·tanh(p) + (1-σ(u))·z_prev, p first");
#undef AT
#undef SIG
    }

    /* stage 1 */
    {
        Tensor dx = sentinel4(7), dh = sentinel4(4), dc = sentinel4(3), dcp = new4(QB, QN, QH, QW);
        for (int64_t i = 0; i < dcp.count; i++) dcp.data[i] = 0.5f;
        stage1_loss();
        causal_lstm_stage1_backward(&q_g1, &q_cprev, &q_r, &dx, &dh, &dc, &dcp);
        for (int64_t i = 0; i < dcp.count; i++) dcp.data[i] -= 0.5f;
        fd_loss = stage1_loss;
        check_blocks("stage 1 dx_cc", &dx, &q_xcc, 7, 0x07);
        check_blocks("stage 1 dh_cc", &dh, &q_hcc, 4, 0x07);
        check_blocks("stage 1 dc_cc", &dc, &q_ccc, 3, 0x07);
        fd_compare("stage 1 dc_prev (accumulated)", q_cprev.data, q_cprev.count, dcp.data);
        /* c_prev NULL = zeros */
        Tensor c0 = new4(QB, QN, QH, QW), zero = new4(QB, QN, QH, QW);
        causal_lstm_stage1_forward(&q_xcc, &q_hcc, &q_ccc, NULL, &q_g1, &c0);
        causal_lstm_stage1_forward(&q_xcc, &q_hcc, &q_ccc, &zero, &q_g1, &q_out);
        CHECK(memcmp(c0.data, q_out.data, sizeof(float) * (size_t)c0.count) == 0, "stage 1: c_prev NULL = zeros");
        free(dx.data), free(dh.data), free(dc.data), free(dcp.data), free(c0.data), free(zero.data);
    }
    /* stage 2 */
    {
        Tensor dx = sentinel4(7), dc2m = sentinel4(4), dm = sentinel4(3);
        stage2_loss();
        causal_lstm_stage2_backward(&q_g2, &q_r, &dx, &dc2m, &dm);
        fd_loss = stage2_loss;
        check_blocks("stage 2 dx_cc", &dx, &q_xcc, 7, 0x70);
        check_blocks("stage 2 dc2m", &dc2m, &q_c2m, 4, 0x07);
        check_blocks("stage 2 dm_cc", &dm, &q_mcc, 3, 0x07);
        free(dx.data), free(dc2m.data), free(dm.data);
    }
    /* stage 3 */
    {
        Tensor dx = sentinel4(7), dh = sentinel4(4), dc2m = sentinel4(4), dom = sentinel4(1), dcell = sentinel4(1);
        stage3_loss();
        causal_lstm_stage3_backward(&q_g3, &q_r, &dx, &dh, &dc2m, &dom, &dcell);
        fd_loss = stage3_loss;
        check_blocks("stage 3 dx_cc", &dx, &q_xcc, 7, 0x08);
        check_blocks("stage 3 dh_cc", &dh, &q_hcc, 4, 0x08);
        check_blocks("stage 3 dc2m", &dc2m, &q_c2m, 4, 0x08);
        check_blocks("stage 3 do_m", &dom, &q_om, 1, 0x01);
        check_blocks("stage 3 dcell", &dcell, &q_cell, 1, 0x01);
        free(dx.data), free(dh.data), free(dc2m.data), free(dom.data), free(dcell.data);
    }
    /* GHU: dpre is the gradient of both summands */
    {
        Tensor dpre = sentinel4(2), dzp = new4(QB, QN, QH, QW);
        for (int64_t i = 0; i < dzp.count; i++) dzp.data[i] = -0.25f;
        ghu_loss();
        ghu_backward(&q_gz, &q_zprev, &q_r, &dpre, &dzp);
        for (int64_t i = 0; i < dzp.count; i++) dzp.data[i] += 0.25f;
        fd_loss = ghu_loss;
        check_blocks("GHU dpre vs d/d(zz)", &dpre, &q_zz, 2, 0x03);
        check_blocks("GHU dpre vs d/d(zx)", &dpre, &q_zx, 2, 0x03);
        fd_compare("GHU dz_prev (accumulated)", q_zprev.data, q_zprev.count, dzp.data);
        Tensor z0 = new4(QB, QN, QH, QW), zero = new4(QB, QN, QH, QW);
        ghu_forward(&q_zz, &q_zx, NULL, &q_gz, &z0);
        ghu_forward(&q_zz, &q_zx, &zero, &q_gz, &q_out);
        CHECK(memcmp(z0.data, q_out.data, sizeof(float) * (size_t)z0.count) == 0, "GHU: z_prev NULL = zeros");
        free(dpre.data), free(dzp.data), free(z0.data), free(zero.data);
    }
    /* concat [c_prev (n), m_cc (3n)] */
    {
        Tensor da = new4(QB, QN, QH, QW), db = new4(QB, 3 * QN, QH, QW);
        concat_loss();
        concat_channels_backward(&q_rcat, &da, &db);
        fd_loss = concat_loss;
        fd_compare("concat da", q_cprev.data, q_cprev.count, da.data);
        fd_compare("concat db", q_mcc.data, q_mcc.count, db.data);
        const int64_t per = 4 * QN * QH * QW;
        CHECK(q_cat.data[per + 5] == q_cprev.data[QN * QH * QW + 5] &&
              q_cat.data[per + QN * QH * QW + 7] == q_mcc.data[3 * QN * QH * QW + 7],
              "concat puts a then b per sample");
        free(da.data), free(db.data);
    }
    for (int i = 0; i < 11; i++) free(ins[i]->data);
    Tensor *outs[] = {&q_g1, &q_g2, &q_g3, &q_gz, &q_out, &q_r, &q_cat, &q_rcat};
    for (int i = 0; i < 8; i++) free(outs[i]->data);
}

/* ------------------------------------------------------------------------------------------------ */
/* 2. PyTorch fixtures */

static int parse_list(const char *s, int *v, int max) {
    int n = 0;
    while (s && *s && n < max) {
        v[n++] = (int)strtol(s, (char **)&s, 10);
        if (*s == ',') s++;
    }
    return n;
}

static int meta_int(const StFile *f, const char *key) {
    const char *v = st_meta(f, key);
    return v ? atoi(v) : -1;
}

static void config_from_meta(const StFile *f, ModelConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->model, sizeof cfg->model, "predrnn_pp");
    cfg->num_layers = parse_list(st_meta(f, "hidden"), cfg->hidden, MODEL_MAX_LAYERS);
    parse_list(st_meta(f, "kernels"), cfg->kernel, MODEL_MAX_LAYERS);
    cfg->layer_norm = meta_int(f, "layer_norm");
    cfg->ghu = meta_int(f, "ghu");
    cfg->patch = meta_int(f, "patch");
    cfg->image_size = meta_int(f, "image_size");
    cfg->img_channels = meta_int(f, "img_channels");
    cfg->head = HEAD_LINEAR;
    cfg->head_kernel = 1;
    cfg->head_act = ACT_IDENTITY; /* the official linear head, unless the fixture names head_act */
    if (st_meta(f, "head_act") && activation_parse(st_meta(f, "head_act"), &cfg->head_act))
        CHECK(0, "fixture head_act '%s' is an activation", st_meta(f, "head_act"));
    cfg->cell_act = ACT_TANH;
    cfg->gate_act = ACT_SIGMOID;
}

static const StTensor *need(const StFile *f, const char *name) {
    const StTensor *t = st_find(f, name);
    if (!t) {
        CHECK(0, "fixture has tensor %s", name);
        return NULL;
    }
    return t;
}

/* Tolerances (|got - want| <= atol + rtol·|want|, atol relative to the tensor's largest magnitude).
 * The stored results are float64 computations; PyTorch's own float32 run deviates from them by at most
 * 2.5e-6·max|out| on the outputs and 4.7e-6·max|grad| on the worst gradient tensor (dev32.* in the
 * fixture metadata: the layer norms divide by small standard deviations and 5 recurrent steps amplify
 * rounding). A correct float32 implementation has the same kind of error (ours is printed as a "#"
 * line per fixture), so we allow 10-60x that: outputs/loss 5e-5·max, gradients 3e-4·max, plus rtol
 * 1e-3. A wrong equation, block order or missing gradient path is off by O(1)·max. */
#define OUT_TOL 5e-5
#define GRAD_TOL 3e-4
#define REL_TOL 1e-3
/* Adam: the first update is lr·g/(|g| + 1e-8) per element, so an element's update is sensitive to
 * the gradient's relative error; the smallest fixture gradients are ~2e-8 and ours agree there to
 * ~1e-10, i.e. ~1e-2 relative -> ~1e-5·lr. After 3 steps the weights agree to ~1e-7 in practice;
 * allow 1e-5 absolute (1% of one lr = 1e-3 step) on O(1) weights. */
#define ADAM_ATOL 1e-5

static double worst_rel; /* max over compared tensors of max|got - want| / max|want| */

static void compare_tensor(const char *what, const float *got, const StTensor *want, double tol_rel) {
    const double scale = max_abs(want->data, want->count);
    double d = 0;
    for (int64_t i = 0; i < want->count; i++)
        if (fabs((double)got[i] - want->data[i]) > d) d = fabs((double)got[i] - want->data[i]);
    if (scale > 0 && d / scale > worst_rel) worst_rel = d / scale;
    check_close_f32(what, got, want->data, want->count, tol_rel * (scale > 0 ? scale : 1.0) + 1e-12, REL_TOL);
}

static void host_of(Tensor *t, float *buf) { op_to_host(t, buf); }

static void test_fixture(const char *tag) {
    char path[256];
    snprintf(path, sizeof path, FIXTURE_DIR "predrnn_pp_%s.safetensors", tag);
    StFile f;
    if (st_load(path, &f)) {
        CHECK(0, "load %s: %s", path, rr_last_error());
        return;
    }
    ModelConfig cfg;
    config_from_meta(&f, &cfg);
    const int B = meta_int(&f, "batch"), T = meta_int(&f, "seq_len"), n_in = meta_int(&f, "n_in");
    Model *m = NULL;
    if (model_create(&cfg, B, T, RR_CPU, &m)) {
        CHECK(0, "[%s] create: %s", tag, rr_last_error());
        st_free(&f);
        return;
    }
    const int np = model_num_params(m);

    /* names, order and shapes against the PyTorch module (strict both ways) */
    {
        char order[8192];
        snprintf(order, sizeof order, "%s", st_meta(&f, "param_order") ? st_meta(&f, "param_order") : "");
        int idx = 0, order_ok = 1, shapes_ok = 1, count = 0;
        for (char *tok = strtok(order, ","); tok; tok = strtok(NULL, ","), idx++) {
            const char *mine = model_param_name(m, idx);
            if (!mine || strcmp(mine, tok) != 0) {
                if (order_ok) printf("    param %d: ours %s, PyTorch %s\n", idx, mine ? mine : "(none)", tok);
                order_ok = 0;
            }
        }
        for (int i = 0; i < f.n; i++) count += strncmp(f.tensors[i].name, "init.", 5) == 0;
        for (int i = 0; i < np; i++) {
            char key[96];
            snprintf(key, sizeof key, "init.%s", model_param_name(m, i));
            const StTensor *t = st_find(&f, key);
            const Tensor *p = model_param(m, i);
            int same = t && t->ndim == p->ndim;
            for (int d = 0; same && d < p->ndim; d++) same = t->shape[d] == p->shape[d];
            if (!same && shapes_ok) printf("    %s: missing or shape differs\n", key);
            shapes_ok &= same;
        }
        CHECK(order_ok && idx == np, "[%s] %d parameters, names and order = PyTorch state_dict", tag, np);
        CHECK(shapes_ok && count == np, "[%s] every parameter has the PyTorch shape (strict load both ways)", tag);
        int64_t total = 0;
        for (int i = 0; i < f.n; i++)
            if (strncmp(f.tensors[i].name, "init.", 5) == 0) total += f.tensors[i].count;
        CHECK(model_param_count(m) == total, "[%s] param_count %lld = PyTorch %lld", tag,
              (long long)model_param_count(m), (long long)total);
        CHECK(model_num_buffers(m) == 0, "[%s] no buffers", tag);
    }

    /* load weights, frames, use_truth */
    for (int i = 0; i < np; i++) {
        char key[96];
        snprintf(key, sizeof key, "init.%s", model_param_name(m, i));
        const StTensor *t = st_find(&f, key);
        if (t) op_from_host(t->data, model_param(m, i));
    }
    const StTensor *fr = need(&f, "frames"), *ut = need(&f, "use_truth");
    if (!fr || !ut) goto done;
    int shape5[5] = {(int)fr->shape[0], (int)fr->shape[1], (int)fr->shape[2], (int)fr->shape[3], (int)fr->shape[4]};
    Tensor frames = tensor_make(fr->data, RR_CPU, 5, shape5);
    unsigned char *use = rr_malloc((size_t)B * T);
    for (int i = 0; i < B * T; i++) use[i] = ut->data[i] != 0.0f;
    const int64_t out_count = frames.count / T * (T - 1);
    float *pred = falloc(out_count);

    /* one training step */
    double loss = model_train_step(m, &frames, use, pred);
    char what[160];
    snprintf(what, sizeof what, "[%s] outputs of the training step", tag);
    const StTensor *w = need(&f, "out");
    if (w) compare_tensor(what, pred, w, OUT_TOL);
    w = need(&f, "loss");
    if (w) CHECK_NEAR(loss, w->data[0], 5e-5 * w->data[0], 0, "[%s] loss %.8f = PyTorch %.8f", tag, loss, w->data[0]);
    float *buf = falloc(model_param_count(m));
    worst_rel = 0;
    for (int i = 0; i < np; i++) {
        char key[96];
        snprintf(key, sizeof key, "grad.%s", model_param_name(m, i));
        w = need(&f, key);
        if (!w) continue;
        host_of(model_grad(m, i), buf);
        snprintf(what, sizeof what, "[%s] %s", tag, key);
        compare_tensor(what, buf, w, GRAD_TOL);
    }

    printf("# [%s] worst gradient tensor: max|ours - float64| / max|float64| = %.3g (PyTorch float32: %s)\n",
           tag, worst_rel, st_meta(&f, "dev32.grad_rel_worst") ? st_meta(&f, "dev32.grad_rel_worst") : "?");

    /* determinism: a second identical step gives bit-identical gradients */
    {
        float *g1 = falloc(model_param_count(m));
        int64_t off = 0;
        for (int i = 0; i < np; i++) {
            host_of(model_grad(m, i), g1 + off);
            off += model_grad(m, i)->count;
        }
        double loss2 = model_train_step(m, &frames, use, NULL);
        int same = loss2 == loss;
        off = 0;
        for (int i = 0; i < np; i++) {
            host_of(model_grad(m, i), buf);
            same &= memcmp(buf, g1 + off, sizeof(float) * (size_t)model_grad(m, i)->count) == 0;
            off += model_grad(m, i)->count;
        }
        CHECK(same, "[%s] a repeated step gives bit-identical loss and gradients (grads are zeroed first)", tag);
        free(g1);
    }

    /* a smaller batch and a shorter sequence (model.h: T <= seq_len, B <= batch): samples are
     * independent (per-sample layer norm) and the model is causal, so sample 0's first T'-1 outputs
     * must equal those of the full run */
    {
        const int Tp = T - 2 >= 2 ? T - 2 : 2;
        const int64_t fe = frames.count / ((int64_t)T * B); /* one frame of one sample */
        float *sub = falloc((int64_t)Tp * fe), *subpred = falloc((int64_t)(Tp - 1) * fe);
        unsigned char *subuse = rr_malloc((size_t)Tp);
        for (int t = 0; t < Tp; t++) {
            memcpy(sub + t * fe, frames.data + (int64_t)t * B * fe, sizeof(float) * (size_t)fe);
            subuse[t] = use[t];
        }
        Tensor subf = tensor_make(sub, RR_CPU, 5, (int[]){Tp, 1, shape5[2], shape5[3], shape5[4]});
        model_train_step(m, &subf, subuse, subpred);
        w = st_find(&f, "out");
        double d = 0;
        for (int t = 0; w && t < Tp - 1; t++)
            for (int64_t i = 0; i < fe; i++)
                d = fmax(d, fabs(subpred[t * fe + i] - w->data[(int64_t)t * B * fe + i]));
        CHECK(w && d < OUT_TOL * max_abs(w->data, w->count), "[%s] batch 1, %d frames: outputs = the full run's "
              "sample 0, steps < %d (max diff %.2g)", tag, Tp, Tp - 1, d);
        double bad = model_train_step(m, &frames, NULL, NULL);
        CHECK(bad == -1.0 && strstr(rr_last_error(), "use_truth"), "[%s] use_truth NULL is an error", tag);
        Tensor big = frames;
        big.shape[1] = B + 1;
        bad = model_evaluate(m, &big, 1, NULL);
        CHECK(bad == -1.0 && strstr(rr_last_error(), "frames"), "[%s] a batch above the planned one is an error "
              "naming frames", tag);
        bad = model_evaluate(m, &frames, 0, NULL);
        CHECK(bad == -1.0 && strstr(rr_last_error(), "n_in"), "[%s] evaluate with n_in 0 is an error", tag);
        bad = model_evaluate(m, &frames, T, NULL);
        CHECK(bad == -1.0 && strstr(rr_last_error(), "n_in"), "[%s] evaluate with n_in = T is an error", tag);
        free(sub), free(subpred), free(subuse);
    }

    /* 3 Adam steps (ops.h adam_update = torch.optim.Adam) on the same batch */
    {
        AdamHyper h = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f, .decoupled = 0};
        Tensor *mom = rr_calloc((size_t)np, sizeof *mom), *var = rr_calloc((size_t)np, sizeof *var);
        for (int i = 0; i < np; i++) {
            const Tensor *p = model_param(m, i);
            mom[i] = tensor_make(falloc(p->count), RR_CPU, p->ndim, p->shape);
            var[i] = tensor_make(falloc(p->count), RR_CPU, p->ndim, p->shape);
        }
        const StTensor *losses = need(&f, "losses");
        int losses_ok = 1;
        for (int step = 1; step <= 3; step++) {
            double l = model_train_step(m, &frames, use, NULL);
            if (losses && fabs(l - losses->data[step - 1]) > 5e-5 * losses->data[step - 1]) {
                losses_ok = 0;
                printf("    step %d loss %.9g want %.9g\n", step, l, losses->data[step - 1]);
            }
            for (int i = 0; i < np; i++) adam_update(model_param(m, i), model_grad(m, i), &mom[i], &var[i], &h, step);
        }
        CHECK(losses_ok, "[%s] losses of the 3 Adam steps = PyTorch", tag);
        for (int i = 0; i < np; i++) {
            char key[96];
            snprintf(key, sizeof key, "adam3.%s", model_param_name(m, i));
            w = need(&f, key);
            if (!w) continue;
            host_of(model_param(m, i), buf);
            snprintf(what, sizeof what, "[%s] %s", tag, key);
            check_close_f32(what, buf, w->data, w->count, ADAM_ATOL, 0);
        }
        for (int i = 0; i < np; i++) free(mom[i].data), free(var[i].data);
        free(mom), free(var);
    }

    /* evaluation rollout from the adam3 weights */
    {
        double el = model_evaluate(m, &frames, n_in, pred);
        snprintf(what, sizeof what, "[%s] evaluation outputs (frames < %d true, then own predictions)", tag, n_in);
        w = need(&f, "eval.out");
        if (w) compare_tensor(what, pred, w, OUT_TOL);
        w = need(&f, "eval.loss");
        if (w) CHECK_NEAR(el, w->data[0], 5e-5 * w->data[0], 0, "[%s] evaluation loss %.8f = PyTorch %.8f", tag, el, w->data[0]);
    }
    free(buf);
    free(pred);
    free(use);
done:
    model_free(m);
    st_free(&f);
}

/* ------------------------------------------------------------------------------------------------ */
/* 3. Finite differences of the model loss (fixture "ln", initial weights, its use_truth). */

static void test_model_fd(void) {
    StFile f;
    if (st_load(FIXTURE_DIR "predrnn_pp_ln.safetensors", &f)) {
        CHECK(0, "load: %s", rr_last_error());
        return;
    }
    ModelConfig cfg;
    config_from_meta(&f, &cfg);
    const int B = meta_int(&f, "batch"), T = meta_int(&f, "seq_len");
    Model *m = NULL;
    if (model_create(&cfg, B, T, RR_CPU, &m)) {
        CHECK(0, "create: %s", rr_last_error());
        st_free(&f);
        return;
    }
    const int np = model_num_params(m);
    for (int i = 0; i < np; i++) {
        char key[96];
        snprintf(key, sizeof key, "init.%s", model_param_name(m, i));
        const StTensor *t = st_find(&f, key);
        if (t) op_from_host(t->data, model_param(m, i));
    }
    const StTensor *fr = st_find(&f, "frames"), *ut = st_find(&f, "use_truth");
    int shape5[5] = {(int)fr->shape[0], (int)fr->shape[1], (int)fr->shape[2], (int)fr->shape[3], (int)fr->shape[4]};
    Tensor frames = tensor_make(fr->data, RR_CPU, 5, shape5);
    unsigned char *use = rr_malloc((size_t)B * T);
    for (int i = 0; i < B * T; i++) use[i] = ut->data[i] != 0.0f;

    /* the weights: memory entering layer 0 from the top layer (zig-zag), a GHU kernel, an LN gain, the
     * memory_reduce bias, the head bias, the input conv of layer 2 (fed by h^1), c→c of layer 1 */
    const char *names[] = {"cells.0.conv_m.weight", "ghu.conv_z.weight",     "cells.1.ln_c2m.weight",
                           "cells.0.memory_reduce.bias", "head.bias",        "cells.2.conv_x.weight",
                           "cells.1.conv_c.weight", "ghu.ln_x.bias"};
    for (size_t q = 0; q < sizeof names / sizeof *names; q++) {
        int i = -1;
        for (int j = 0; j < np; j++)
            if (strcmp(model_param_name(m, j), names[q]) == 0) i = j;
        if (i < 0) {
            CHECK(0, "model FD: parameter %s exists", names[q]);
            continue;
        }
        Tensor *p = model_param(m, i);
        float *g = falloc(p->count), *v = falloc(p->count);
        model_train_step(m, &frames, use, NULL); /* gradients at the unperturbed weights */
        op_to_host(model_grad(m, i), g);
        op_to_host(p, v);
        int64_t k = 0; /* the element with the largest gradient */
        for (int64_t j = 0; j < p->count; j++)
            if (fabsf(g[j]) > fabsf(g[k])) k = j;
        const float v0 = v[k], h = 3e-3f;
        v[k] = v0 + h;
        op_from_host(v, p);
        const double lp = model_train_step(m, &frames, use, NULL);
        const float vp = v[k];
        v[k] = v0 - h;
        op_from_host(v, p);
        const double lm = model_train_step(m, &frames, use, NULL);
        const float vm = v[k];
        v[k] = v0;
        op_from_host(v, p);
        const double num = (lp - lm) / ((double)vp - (double)vm);
        /* the loss (~0.3) comes from float32 activations through 5 steps of layer norms: its rounding
         * noise is ~1e-7, i.e. ~2e-5 on the quotient over 2h = 6e-3; the O(h^2) truncation error is
         * ~1e-4 relative here (measured: h = 1e-3 and 3e-3 agree with the analytic gradient to < 4e-4
         * relative, h = 1e-4 is noise dominated). The gradients tested are >= 6e-3, so atol 2e-5 + rtol
         * 2e-3 separates rounding from a missing or wrong path (the PyTorch fixtures are the tight check). */
        CHECK_NEAR(g[k], num, 2e-5, 2e-3, "model FD: dL/d %s[%lld] = %.6g, central difference %.6g", names[q],
                   (long long)k, g[k], num);
        free(g), free(v);
    }
    free(use);
    model_free(m);
    st_free(&f);
}

/* ------------------------------------------------------------------------------------------------ */
/* 4. Initialisation, counts, configuration errors */

static ModelConfig small_config(void) {
    ModelConfig c;
    memset(&c, 0, sizeof c);
    snprintf(c.model, sizeof c.model, "predrnn_pp");
    c.num_layers = 3;
    c.hidden[0] = 16, c.hidden[1] = 8, c.hidden[2] = 12;
    c.kernel[0] = 5, c.kernel[1] = 3, c.kernel[2] = 3;
    c.layer_norm = 1;
    c.ghu = 1;
    c.patch = 4;
    c.image_size = 32;
    c.img_channels = 1;
    c.head = HEAD_LINEAR;
    c.head_kernel = 1;
    c.head_act = ACT_IDENTITY;
    return c;
}

static void test_init_and_counts(void) {
    ModelConfig c = small_config();
    Model *m = NULL;
    if (model_create(&c, 2, 7, RR_CPU, &m)) {
        CHECK(0, "create small: %s", rr_last_error());
        return;
    }
    const uint64_t seed = 20240611;
    model_init(m, seed);
    const int np = model_num_params(m);
    int ok_small = 1, ok_glorot = 1, ok_zero = 1, ok_one = 1, ok_stats = 1, ok_stream = 1, n_small = 0, n_glorot = 0;
    for (int i = 0; i < np; i++) {
        const char *name = model_param_name(m, i);
        Tensor *p = model_param(m, i);
        float *v = falloc(p->count);
        op_to_host(p, v);
        const int is_w = strstr(name, ".weight") != NULL, is_ln = strstr(name, ".ln_") != NULL;
        const int glorot = strstr(name, "memory_reduce") || strncmp(name, "head", 4) == 0;
        if (is_ln && is_w) {
            for (int64_t j = 0; j < p->count; j++) ok_one &= v[j] == 1.0f;
        } else if (!is_w || is_ln) {
            for (int64_t j = 0; j < p->count; j++) ok_zero &= v[j] == 0.0f;
        } else {
            /* uniform(-a, a): a = 0.001 (TF initializer of the cells and GHU) or Glorot
             * sqrt(6 / (fan_in + fan_out)) with fans Cin·k·k and Cout·k·k */
            const double fan = (double)(p->shape[0] + p->shape[1]) * p->shape[2] * p->shape[3];
            const double a = glorot ? sqrt(6.0 / fan) : 0.001;
            double s = 0, q = 0, mx = 0;
            for (int64_t j = 0; j < p->count; j++) {
                s += v[j];
                q += (double)v[j] * v[j];
                if (fabs(v[j]) > mx) mx = fabs(v[j]);
            }
            const double mean = s / p->count, var = q / p->count, N = (double)p->count;
            int in_range = mx <= a * (1 + 1e-6);
            if (glorot) ok_glorot &= in_range, n_glorot++;
            else ok_small &= in_range, n_small++;
            /* mean ~ N(0, a²/(3N)), E[x²] = a²/3 with sd a²·sqrt(4/45/N): 5-sigma bands */
            if (N >= 200) {
                ok_stats &= fabs(mean) < 5 * a / sqrt(3 * N) && fabs(var - a * a / 3) < 5 * a * a * sqrt(4.0 / 45 / N);
            }
            const uint64_t stream = rr_stream(RR_TAG_INIT, (uint32_t)i, 0, 0);
            const int64_t j = p->count / 2;
            const double want = -a + 2 * a * rr_rand_uniform(seed, stream, (uint64_t)j);
            ok_stream &= fabs(v[j] - want) <= 1e-6 * a; /* float vs double arithmetic of the bound */
        }
        free(v);
    }
    CHECK(ok_small && n_small == 3 * 6 + 2, "init: %d cell/GHU kernels within ±0.001", n_small);
    CHECK(ok_glorot && n_glorot == 3 + 1, "init: memory_reduce and head kernels within the Glorot bound");
    CHECK(ok_stats, "init: kernel means and variances match uniform(-a, a) (5 sigma)");
    CHECK(ok_zero && ok_one, "init: biases and LN offsets 0, LN gains 1");
    CHECK(ok_stream, "init: parameter i draws from Philox stream (RR_TAG_INIT, i)");

    /* same seed → same weights, other seed → different */
    {
        Tensor *p = model_param(m, 0);
        float *a = falloc(p->count), *b = falloc(p->count);
        op_to_host(p, a);
        model_init(m, seed);
        op_to_host(p, b);
        int same = memcmp(a, b, sizeof(float) * (size_t)p->count) == 0;
        model_init(m, seed + 1);
        op_to_host(p, b);
        int differ = memcmp(a, b, sizeof(float) * (size_t)p->count) != 0;
        CHECK(same && differ, "init is a function of the seed");
        free(a), free(b);
    }

    /* parameter count and FLOPs from the closed form (docs/models.md §2.1: 6 k×k convs + a 1×1 per cell) */
    {
        const int L = 3, C = 16, S = 8, T = 7;
        int64_t params = 0;
        double macs = 0;
        for (int l = 0; l < L; l++) {
            const int64_t n = c.hidden[l], k2 = (int64_t)c.kernel[l] * c.kernel[l];
            const int64_t cx = l == 0 ? C : c.hidden[l - 1], nin = l == 0 ? c.hidden[L - 1] : c.hidden[l - 1];
            const int64_t kk = (7 * n * cx + 4 * n * n + 3 * n * n + 3 * n * nin + 4 * n * n + n * n) * k2;
            params += kk + 2 * n * n + (7 + 4 + 3 + 3 + 4 + 1 + 1) * n /* biases */ + 2 * (7 + 4 + 3 + 3 + 4 + 1) * n;
            macs += (double)(kk + 2 * n * n);
        }
        const int64_t n0 = c.hidden[0], g = 2 * (2 * n0 * n0 * c.kernel[0] * c.kernel[0]);
        params += g + 2 * 2 * n0 + 2 * 2 * 2 * n0;
        macs += (double)g;
        params += (int64_t)C * c.hidden[L - 1] + C;
        macs += (double)C * c.hidden[L - 1];
        CHECK(model_param_count(m) == params, "param_count %lld = closed form %lld",
              (long long)model_param_count(m), (long long)params);
        const double flops = 2 * macs * S * S * (T - 1);
        CHECK_NEAR(model_flops_per_sequence(m), flops, 0, 1e-12, "flops_per_sequence = 2·conv MACs·S²·(T-1)");
    }
    model_free(m);

    /* the official size: 128,64,64,64, k 5, patch 4 on 64×64 */
    {
        ModelConfig o = small_config();
        o.num_layers = 4;
        o.hidden[0] = 128, o.hidden[1] = o.hidden[2] = o.hidden[3] = 64;
        for (int l = 0; l < 4; l++) o.kernel[l] = 5;
        o.image_size = 64;
        Model *om = NULL;
        if (model_create(&o, 1, 2, RR_CPU, &om) == 0) {
            printf("# official size: %lld parameters, %.3g GFLOP per 20-frame sequence forward\n",
                   (long long)model_param_count(om), model_flops_per_sequence(om) * 19 / 1e9);
            CHECK(model_param_count(om) > 0, "official size builds");
            model_free(om);
        } else {
            CHECK(0, "official size builds: %s", rr_last_error());
        }
    }
}

static void expect_error(ModelConfig c, const char *key, const char *what) {
    Model *m = (Model *)1;
    int rc = model_create(&c, 2, 5, RR_CPU, &m);
    CHECK(rc == -1 && m == NULL, "create rejects %s", what);
    CHECK_ERR_CONTAINS(rr_last_error(), key, "error for %s names '%s'", what, key);
}

static void test_errors(void) {
    ModelConfig c = small_config();
    c.num_layers = 1;
    expect_error(c, "ghu", "a GHU with one layer");
    c = small_config();
    c.head = HEAD_CONV2D;
    expect_error(c, "head", "a non-linear head kind");
    c = small_config();
    c.head_act = ACT_TANH; /* identity, sigmoid and relu are accepted (the fixtures test them) */
    expect_error(c, "head_act", "a tanh head");
    c = small_config();
    c.head_act = ACT_HARD_SIGMOID;
    expect_error(c, "head_act", "a hard_sigmoid head");
    c = small_config();
    c.kernel[1] = 4;
    expect_error(c, "kernels", "an even kernel");
    c = small_config();
    c.image_size = 30;
    expect_error(c, "patch", "an image size that is not a multiple of the patch");
    c = small_config();
    c.batchnorm = 1;
    c.bn_eps = 0; /* batch norm between layers is supported; its epsilon must be positive */
    expect_error(c, "batchnorm", "batch norm with eps 0");
    c = small_config();
    c.hidden[2] = 0;
    expect_error(c, "layers", "a zero-width layer");
    c = small_config();
    snprintf(c.model, sizeof c.model, "mim"); /* not registered: the error lists the registry's kinds */
    expect_error(c, "model: 'mim' is unknown (convlstm, predrnn_pp)", "an unregistered model kind");
    c = small_config();
    Model *m = NULL;
    CHECK(model_create(&c, 2, 1, RR_CPU, &m) == -1 && strstr(rr_last_error(), "seq_len"),
          "create rejects a 1-frame sequence (seq_len)");
}

/* ------------------------------------------------------------------------------------------------ */

/* user + system CPU time of the process (all threads) */
static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int bench(int B, int threads) {
    rr_set_threads(threads);
    ModelConfig o;
    memset(&o, 0, sizeof o);
    snprintf(o.model, sizeof o.model, "predrnn_pp");
    o.num_layers = 4;
    o.hidden[0] = 128, o.hidden[1] = o.hidden[2] = o.hidden[3] = 64;
    for (int l = 0; l < 4; l++) o.kernel[l] = 5;
    o.layer_norm = o.ghu = 1;
    o.patch = 4, o.image_size = 64, o.img_channels = 1;
    o.head = HEAD_LINEAR, o.head_kernel = 1, o.head_act = ACT_IDENTITY;
    const int T = 20;
    Model *m = NULL;
    if (model_create(&o, B, T, RR_CPU, &m)) {
        fprintf(stderr, "bench: %s\n", rr_last_error());
        return 1;
    }
    model_init(m, 1);
    Tensor frames = tensor_make(falloc((int64_t)T * B * 16 * 16 * 16), RR_CPU, 5, (int[]){T, B, 16, 16, 16});
    fill_uniform(&frames, 0.0f, 1.0f, 77);
    unsigned char *use = rr_malloc((size_t)B * T);
    for (int i = 0; i < B * T; i++) use[i] = (i % T) < 10 || (i % 3 == 0);
    printf("bench: PredRNN++ 128,64,64,64 k5 GHU LN, B=%d, T=%d, 16x16x16, %d threads (%s), arena %.2f GB, "
           "%lld params\n", B, T, threads, rr_blas_name(), model_arena_bytes(m) / 1e9,
           (long long)model_param_count(m));
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = rr_now(), c0 = cpu_seconds();
        double loss = model_train_step(m, &frames, use, NULL);
        double dt = rr_now() - t0, dc = cpu_seconds() - c0;
        if (dt < best) best = dt;
        printf("bench: train step %d: %.3f s wall, %.3f s CPU (loss %.5f)\n", rep, dt, dc, loss);
        fflush(stdout);
    }
    double t0 = rr_now();
    model_evaluate(m, &frames, 10, NULL);
    double de = rr_now() - t0;
    const double fl = model_flops_per_sequence(m) * B;
    printf("bench: best train step %.3f s (%.1f GFLOP/s counting forward+backward as 3x forward); "
           "evaluate %.3f s\n", best, 3 * fl / best / 1e9, de);
    free(frames.data);
    free(use);
    model_free(m);
    return 0;
}

/* BN num_batches_tracked: one counter per BN layer (every layer but the last), +1 per training-mode BN
 * call = per time step; evaluation does not count; model_init resets it. */
static void test_bn_counter(void) {
    ModelConfig c = small_config(); /* 3 layers: BN after layers 0 and 1 */
    c.batchnorm = 1, c.bn_momentum = 0.1f, c.bn_eps = 1e-5f;
    Model *m = NULL;
    if (model_create(&c, 2, 4, RR_CPU, &m)) {
        CHECK(0, "bn counter: create: %s", rr_last_error());
        return;
    }
    model_init(m, 3);
    const int64_t n = 4 * 2 * 16 * 8 * 8;
    float *data = falloc(n), *out = falloc(n);
    for (int64_t j = 0; j < n; j++) data[j] = rr_rand_uniform(6, rr_stream(RR_TAG_TEST, 11, 0, 0), (uint64_t)j);
    Tensor frames = tensor_make(data, RR_CPU, 5, (int[]){4, 2, 16, 8, 8});
    unsigned char ut[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    model_train_step(m, &frames, ut, NULL);
    model_train_step(m, &frames, ut, NULL);
    model_evaluate(m, &frames, 2, out);
    const char *n0 = model_counter_name(m, 0), *n1 = model_counter_name(m, 1);
    CHECK(model_num_counters(m) == 2 && n0 && n1 && !strcmp(n0, "bns.0.num_batches_tracked") &&
              !strcmp(n1, "bns.1.num_batches_tracked"),
          "bn counter: bns.0 / bns.1.num_batches_tracked");
    CHECK(*model_counter(m, 0) == 6 && *model_counter(m, 1) == 6,
          "bn counter: 2 training steps over 4 frames = 2 x 3 BN calls per layer, evaluation none (got %lld, %lld)",
          (long long)*model_counter(m, 0), (long long)*model_counter(m, 1));
    model_init(m, 3);
    CHECK(*model_counter(m, 0) == 0 && *model_counter(m, 1) == 0, "bn counter: 0 after init");
    free(data);
    free(out);
    model_free(m);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--bench") == 0)
        return bench(argc >= 3 ? atoi(argv[2]) : 8, argc >= 4 ? atoi(argv[3]) : 2);
    TEST_BEGIN("predrnn_pp");
    test_layernorm();
    test_cell_ops();
    test_fixture("ln");
    test_fixture("noln");
    test_fixture("noghu");
    test_fixture("sigmoid");
    test_fixture("relu");
    test_model_fd();
    test_init_and_counts();
    test_errors();
    test_bn_counter();
    return tests_exit();
}

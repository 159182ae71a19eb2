/* test_regularizers.c — the regularization plan (src/regularizers.h):
 * - every mask a hook applies equals the one drawn directly with reg_dropout_mask / reg_zoneout_mask
 *   from its stream reg_stream(iteration, layer, tensor, step), at the call's (smaller) batch, for both
 *   mask layouts (one shared variational mask, PredRNN++; one per gate, ConvLSTM), per-step and
 *   per-sequence candidates, zoneout, weight drop and the top output;
 * - outside a training call the hooks are identities and zoneout gives its expectation;
 * - every backward twin against central finite differences of L = Σ r ⊙ hook(x): input, recurrent,
 *   output, zoneout state (direct and deferred), weight-drop kernel, per-gate convolution;
 * - reg_l2_penalty on a model: λΣw² over the selected kernels and +2λw on their gradients only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model.h"
#include "ops.h"
#include "regularize.h"
#include "regularizers.h"
#include "test.h"

enum { L = 2, S = 3, B = 3, HW = 4, b = 2 }; /* planned layers, steps, batch, side; the call's batch */
static const int CIN[L] = {2, 5}, HID[L] = {5, 5}, KS = 3;
static const int64_t ITER = 5;
static const uint64_t SEED = 77;

static void fill(float *x, long n, unsigned seed) { /* uniform in [-1, 1), a fixed LCG */
    for (long i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 8) * (2.0 / 16777216.0) - 1.0);
    }
}

static ModelConfig rates(int gate_blocks) {
    ModelConfig c;
    memset(&c, 0, sizeof c);
    c.dropout = 0.3f, c.rec_dropout = 0.4f, c.var_dropout_x = 0.2f, c.var_dropout_h = gate_blocks > 1 ? 0.0f : 0.25f;
    c.zoneout_c = 0.3f, c.zoneout_h = 0.2f, c.zoneout_m = 0.5f, c.weight_drop = 0.35f, c.reg_seed = SEED;
    return c;
}

/* A plan for the sizes above; kernels w[l] (4n, n, k, k) with gradients g[l]. */
typedef struct {
    RegPlan *p;
    float *w[L], *g[L];
    Tensor wt[L], gt[L];
} Fixture;

static void make_plan(Fixture *f, const ModelConfig *c, int gate_blocks) { /* the plan keeps &f->wt[l] */
    RegPlanShape s = {.layers = L, .steps = S, .batch = B, .height = HW, .width = HW, .gate_blocks = gate_blocks,
                      .candidates = gate_blocks > 1 ? 1 : 2};
    for (int l = 0; l < L; l++) {
        const int shape[4] = {4 * HID[l], HID[l], KS, KS};
        const long n = 4L * HID[l] * HID[l] * KS * KS;
        f->w[l] = rr_malloc(sizeof(float) * n), f->g[l] = rr_calloc(n, sizeof(float));
        fill(f->w[l], n, 100 + l);
        f->wt[l] = tensor_make(f->w[l], RR_CPU, 4, shape), f->gt[l] = tensor_make(f->g[l], RR_CPU, 4, shape);
        s.in_channels[l] = CIN[l], s.hidden[l] = HID[l], s.kernel[l] = &f->wt[l], s.kernel_grad[l] = &f->gt[l];
    }
    f->p = reg_plan_create(c, &s, RR_CPU);
}

static void free_plan(Fixture *f) {
    reg_plan_free(f->p);
    for (int l = 0; l < L; l++) free(f->w[l]), free(f->g[l]);
}

/* The mask of (layer, tensor, step) at batch b, drawn directly; zone: a zoneout keep mask. */
static float *direct(int c, int l, int tensor, int step, float p, int zone) {
    float *m = rr_malloc(sizeof(float) * b * c * HW * HW);
    Tensor t = tensor4(m, RR_CPU, b, c, HW, HW);
    if (zone) reg_zoneout_mask(&t, SEED, reg_stream(ITER, l, tensor, step), p);
    else reg_dropout_mask(&t, SEED, reg_stream(ITER, l, tensor, step), p);
    return m;
}

static int same(const float *a, const float *x, long n) { return !memcmp(a, x, sizeof(float) * n); }

/* ------------------------------------------------------------------------------------------------ */
/* Masks: the hooks applied to ones (zeros for zoneout's update) give the masks themselves */

static void test_shared_masks(void) {
    TEST_BEGIN("plan_masks_shared");
    ModelConfig c = rates(1);
    Fixture f;
    make_plan(&f, &c, 1);
    reg_plan_begin(f.p, ITER, b, S);
    CHECK(reg_plan_training(f.p), "inside begin … end the plan trains");
    const int cmax = 5;
    float *ones = rr_malloc(sizeof(float) * b * cmax * HW * HW), *zeros = rr_calloc(b * cmax * HW * HW, sizeof(float));
    float *out = rr_malloc(sizeof(float) * b * cmax * HW * HW);
    for (int i = 0; i < b * cmax * HW * HW; i++) ones[i] = 1.0f;
    int in_ok = 1, rec_ok = 1, cand_ok = 1, zone_ok = 1, out_ok = 1;
    for (int t = 0; t < S; t++)
        for (int l = 0; l < L; l++) {
            const long nx = (long)b * CIN[l] * HW * HW, nh = (long)b * HID[l] * HW * HW;
            Tensor x = tensor4(ones, RR_CPU, b, CIN[l], HW, HW), h = tensor4(ones, RR_CPU, b, HID[l], HW, HW);
            float *dm = direct(CIN[l], l, REG_T_DROP_IN, t, c.dropout, 0), *vx = direct(CIN[l], l, REG_T_VAR_X, 0, c.var_dropout_x, 0);
            for (long i = 0; i < nx; i++) dm[i] *= vx[i];
            Tensor xr = reg_plan_input(f.p, l, t, &x), xv = reg_plan_input_value(f.p, l, t, &x);
            in_ok &= same(xr.data, dm, nx) && xv.data == xr.data && xr.shape[0] == b;
            Tensor hr = reg_plan_recurrent(f.p, l, t, &h);
            float *vh = direct(HID[l], l, REG_T_VAR_H, 0, c.var_dropout_h, 0);
            rec_ok &= t == 0 ? hr.data == h.data : same(hr.data, vh, nh);
            for (int k = 0; k < 2; k++) {
                float *g = direct(HID[l], l, k ? REG_T_REC_GG : REG_T_REC_G, t, c.rec_dropout, 0);
                const Tensor *gm = reg_plan_candidate(f.p, l, t, k);
                cand_ok &= gm && same(gm->data, g, nh);
                free(g);
            }
            for (int z = 0; z < 3; z++) {
                const float rate = z == 0 ? c.zoneout_c : z == 1 ? c.zoneout_h : c.zoneout_m;
                float *d = direct(HID[l], l, REG_T_ZONE_C + z, t, rate, 1);
                Tensor prev = tensor4(ones, RR_CPU, b, HID[l], HW, HW), upd = tensor4(zeros, RR_CPU, b, HID[l], HW, HW);
                Tensor o = tensor4(out, RR_CPU, b, HID[l], HW, HW);
                reg_plan_state(f.p, l, t, z, &prev, &upd, &o);
                zone_ok &= same(out, d, nh);
                free(d);
            }
            if (l == L - 1) {
                float *om = direct(HID[l], l, REG_T_DROP_OUT, t, c.dropout, 0);
                Tensor hv = reg_plan_output(f.p, t, &h);
                out_ok &= same(hv.data, om, nh) && reg_plan_output_value(f.p, t, &h).data == hv.data;
                free(om);
            }
            free(dm), free(vx), free(vh);
        }
    CHECK(in_ok, "input: x' = x ⊙ (dropout mask of step t ⊙ the sequence's variational x mask), at the call's batch");
    CHECK(rec_ok, "recurrent: h_{t-1} ⊙ the sequence's variational h mask (t = 0: h itself)");
    CHECK(cand_ok, "candidates g, gg: a fresh Semeniuta mask per step");
    CHECK(zone_ok, "zoneout of c, h, m: the keep masks of their streams");
    CHECK(out_ok, "top output: the dropout mask of layer L-1, step t");
    int wd_ok = 1;
    for (int l = 0; l < L; l++) {
        const long n = f.wt[l].count;
        float *m = rr_malloc(sizeof(float) * n);
        Tensor mt = tensor_make(m, RR_CPU, 4, f.wt[l].shape);
        reg_dropout_mask(&mt, SEED, reg_stream(ITER, l, REG_T_WDROP, 0), c.weight_drop);
        Tensor k = reg_plan_kernel(f.p, l, &f.wt[l]);
        for (long i = 0; i < n; i++) wd_ok &= k.data[i] == f.w[l][i] * m[i];
        for (long i = 0; i < n; i++) f.g[l][i] = 1.0f;
        reg_plan_end(f.p);
        for (long i = 0; i < n; i++) wd_ok &= f.g[l][i] == m[i];
        reg_plan_begin(f.p, ITER, b, S);
        free(m);
    }
    CHECK(wd_ok, "weight drop: W̃ = W ⊙ M of the call; reg_plan_end turns a gradient of ones into M");
    reg_plan_end(f.p);
    /* evaluation: identities, and zoneout's expectation z·prev + (1-z)·upd */
    Tensor x = tensor4(ones, RR_CPU, b, CIN[0], HW, HW), h = tensor4(ones, RR_CPU, b, HID[1], HW, HW);
    int id = reg_plan_input(f.p, 0, 1, &x).data == ones && reg_plan_recurrent(f.p, 1, 1, &h).data == ones &&
             reg_plan_output(f.p, 1, &h).data == ones && reg_plan_candidate(f.p, 0, 1, 0) == NULL &&
             reg_plan_kernel(f.p, 0, &f.wt[0]).data == f.w[0] && !reg_plan_training(f.p);
    CHECK(id, "outside a training call every mask hook is the identity");
    Tensor prev = tensor4(ones, RR_CPU, b, HID[0], HW, HW), upd = tensor4(zeros, RR_CPU, b, HID[0], HW, HW);
    Tensor o = tensor4(out, RR_CPU, b, HID[0], HW, HW);
    reg_plan_state(f.p, 0, 1, REG_STATE_C, &prev, &upd, &o);
    int ex = 1;
    for (long i = 0; i < o.count; i++) ex &= out[i] == c.zoneout_c;
    CHECK(ex, "evaluation: zoneout of c with prev 1, update 0 gives z_c = %g everywhere", (double)c.zoneout_c);
    free(ones), free(zeros), free(out);
    free_plan(&f);

    ModelConfig seq = rates(1);
    seq.rec_dropout_seq = 1;
    make_plan(&f, &seq, 1);
    reg_plan_begin(f.p, ITER, b, S);
    int seq_ok = 1;
    for (int l = 0; l < L; l++)
        for (int k = 0; k < 2; k++) {
            float *g = direct(HID[l], l, k ? REG_T_REC_GG : REG_T_REC_G, 0, seq.rec_dropout, 0);
            for (int t = 0; t < S; t++) seq_ok &= same(reg_plan_candidate(f.p, l, t, k)->data, g, (long)b * HID[l] * HW * HW);
            free(g);
        }
    CHECK(seq_ok, "rec_dropout_mask = sequence: every step uses the step-0 stream's mask");
    free_plan(&f);
}

/* Per-gate variational masks: gate j of the conv reads x ⊙ M_j (ConvLSTM, Keras). */
static void test_gate_masks(void) {
    TEST_BEGIN("plan_masks_per_gate");
    ModelConfig c = rates(4); /* var_dropout_h = 0: the h conv is still per gate, with masks of ones */
    Fixture f;
    make_plan(&f, &c, 4);
    reg_plan_begin(f.p, ITER, b, S);
    const int l = 1, cin = CIN[l], n = HID[l];
    const long nx = (long)b * cin * HW * HW, ny = (long)b * 4 * n * HW * HW;
    float *x = rr_malloc(sizeof(float) * nx), *w = rr_malloc(sizeof(float) * 4 * n * cin * KS * KS);
    float *bias = rr_malloc(sizeof(float) * 4 * n), *y = rr_malloc(sizeof(float) * ny), *want = rr_malloc(sizeof(float) * ny);
    float *xm = rr_malloc(sizeof(float) * nx), *yj = rr_malloc(sizeof(float) * ny / 4);
    float *scratch = rr_malloc(sizeof(float) * 4096);
    fill(x, nx, 3), fill(w, 4L * n * cin * KS * KS, 4), fill(bias, 4 * n, 5);
    Tensor xt = tensor4(x, RR_CPU, b, cin, HW, HW), wt = tensor4(w, RR_CPU, 4 * n, cin, KS, KS), bt = tensor1(bias, RR_CPU, 4 * n);
    Tensor yt = tensor4(y, RR_CPU, b, 4 * n, HW, HW);
    reg_plan_gate_conv(f.p, l, REG_CONV_X, &xt, &wt, &bt, &yt, 0, scratch);
    for (int j = 0; j < 4; j++) {
        float *m = direct(cin, l, REG_T_VAR_X, j, c.var_dropout_x, 0);
        for (long i = 0; i < nx; i++) xm[i] = x[i] * m[i];
        Tensor xmt = tensor4(xm, RR_CPU, b, cin, HW, HW), yjt = tensor4(yj, RR_CPU, b, n, HW, HW);
        Tensor wj = tensor_slice0(&wt, j * n, n), bj = tensor_slice0(&bt, j * n, n);
        conv2d_forward(&xmt, &wj, &bj, &yjt, 0, scratch);
        for (int s = 0; s < b; s++)
            memcpy(want + ((long)s * 4 + j) * n * HW * HW, yj + (long)s * n * HW * HW, sizeof(float) * n * HW * HW);
        free(m);
    }
    check_close_f32("conv_x gate j = conv(x ⊙ M_j (stream VAR_X, step j); W_j) + b_j", y, want, ny, 1e-6, 1e-6);
    float *ones = rr_malloc(sizeof(float) * b * n * HW * HW);
    for (int i = 0; i < b * n * HW * HW; i++) ones[i] = 1.0f;
    Tensor o = tensor4(ones, RR_CPU, b, n, HW, HW), dm = reg_plan_input(f.p, l, 1, &xt);
    float *d = direct(cin, l, REG_T_DROP_IN, 1, c.dropout, 0);
    int ok = 1;
    for (long i = 0; i < nx; i++) ok &= dm.data[i] == x[i] * d[i];
    CHECK(ok, "input with per-gate masks: dropout alone (the variational masks act in the gate conv)");
    CHECK(reg_plan_recurrent(f.p, l, 1, &o).data == ones, "recurrent hook: identity with per-gate masks");
    free(d), free(ones);
    free(x), free(w), free(bias), free(y), free(want), free(xm), free(yj), free(scratch);
    free_plan(&f);
}

/* ------------------------------------------------------------------------------------------------ */
/* Backward twins against central finite differences of L = Σ r ⊙ y */

typedef void (*Forward)(void *ctx, float *y);

static double loss_at(Forward fw, void *ctx, const float *r, float *y, long ny) {
    fw(ctx, y);
    double s = 0;
    for (long i = 0; i < ny; i++) s += (double)r[i] * y[i];
    return s;
}

/* dL/dx[i] by central differences (the hooks are linear or bilinear: exact up to rounding). */
static void fd(Forward fw, void *ctx, float *x, long nx, const float *r, float *y, long ny, float *g) {
    const float eps = 1e-2f;
    for (long i = 0; i < nx; i++) {
        const float keep = x[i];
        x[i] = keep + eps;
        const double lp = loss_at(fw, ctx, r, y, ny);
        x[i] = keep - eps;
        const double lm = loss_at(fw, ctx, r, y, ny);
        x[i] = keep;
        g[i] = (float)((lp - lm) / (2.0 * eps));
    }
}

typedef struct {
    RegPlan *p;
    int l, t, which, state;
    Tensor x, x2, w, bias;
    float *scratch;
} Ctx;

static void fw_input(void *c, float *y) {
    Ctx *k = c;
    Tensor r = reg_plan_input(k->p, k->l, k->t, &k->x);
    memcpy(y, r.data, sizeof(float) * r.count);
}
static void fw_recurrent(void *c, float *y) {
    Ctx *k = c;
    Tensor r = reg_plan_recurrent(k->p, k->l, k->t, &k->x);
    memcpy(y, r.data, sizeof(float) * r.count);
}
static void fw_output(void *c, float *y) {
    Ctx *k = c;
    Tensor r = reg_plan_output(k->p, k->t, &k->x);
    memcpy(y, r.data, sizeof(float) * r.count);
}
static void fw_state(void *c, float *y) { /* x = prev, x2 = update */
    Ctx *k = c;
    Tensor o = tensor4(y, RR_CPU, b, k->x.shape[1], HW, HW);
    reg_plan_state(k->p, k->l, k->t, k->state, &k->x, &k->x2, &o);
}
static void fw_kernel(void *c, float *y) { /* W̃ is made at the call's start */
    Ctx *k = c;
    reg_plan_begin(k->p, ITER, b, S);
    Tensor r = reg_plan_kernel(k->p, k->l, &k->w);
    memcpy(y, r.data, sizeof(float) * r.count);
}
static void fw_gate_conv(void *c, float *y) {
    Ctx *k = c;
    Tensor o = tensor4(y, RR_CPU, b, k->w.shape[0], HW, HW);
    reg_plan_gate_conv(k->p, k->l, k->which, &k->x, &k->w, &k->bias, &o, 0, k->scratch);
}

/* A masked-copy hook (input, recurrent, output): grad target, then backward, against finite
 * differences; also with a separately gathered dx' (the ConvLSTM's dh_top). */
static void check_copy_hook(const char *what, Ctx *k, Forward fw, int kind) {
    const long n = k->x.count;
    float *r = rr_malloc(sizeof(float) * n), *y = rr_malloc(sizeof(float) * n), *want = rr_malloc(sizeof(float) * n);
    float *dx = rr_calloc(n, sizeof(float));
    fill(r, n, 9);
    fd(fw, k, k->x.data, n, r, y, n, want);
    fw(k, y);
    Tensor dxt = tensor4(dx, RR_CPU, b, k->x.shape[1], HW, HW), rt = tensor4(r, RR_CPU, b, k->x.shape[1], HW, HW);
    Tensor *g = kind == 0 ? reg_plan_input_grad(k->p, k->l, k->t, &dxt)
              : kind == 1 ? reg_plan_recurrent_grad(k->p, k->l, k->t, &dxt) : reg_plan_output_grad(k->p, k->t, &dxt);
    op_axpy(1.0f, &rt, g); /* the model's backward writes dL/dx' there */
    if (kind == 0) reg_plan_input_backward(k->p, k->l, k->t, g, &dxt);
    else if (kind == 1) reg_plan_recurrent_backward(k->p, k->l, k->t, g, &dxt);
    else reg_plan_output_backward(k->p, k->t, g, &dxt);
    check_close_f32(what, dx, want, n, 1e-3, 1e-3);
    free(r), free(y), free(want), free(dx);
}

static void test_backward(void) {
    TEST_BEGIN("plan_backward");
    ModelConfig c = rates(1);
    Fixture f;
    make_plan(&f, &c, 1);
    reg_plan_begin(f.p, ITER, b, S);
    const int l = 1, t = 2, n = HID[l];
    const long nh = (long)b * n * HW * HW;
    float *x = rr_malloc(sizeof(float) * nh), *x2 = rr_malloc(sizeof(float) * nh);
    fill(x, nh, 21), fill(x2, nh, 22);
    Ctx k = {.p = f.p, .l = l, .t = t, .x = tensor4(x, RR_CPU, b, n, HW, HW), .x2 = tensor4(x2, RR_CPU, b, n, HW, HW)};
    check_copy_hook("input: dx += mask ⊙ dx' against finite differences", &k, fw_input, 0);
    check_copy_hook("recurrent: dh_prev += mask ⊙ dh' against finite differences", &k, fw_recurrent, 1);
    check_copy_hook("top output: dh += mask ⊙ dh' against finite differences", &k, fw_output, 2);
    { /* ConvLSTM's way: dL/dh' gathered apart, then added through the mask (or as it is, unmasked) */
        float *r = rr_malloc(sizeof(float) * nh), *y = rr_malloc(sizeof(float) * nh), *want = rr_malloc(sizeof(float) * nh);
        float *dh = rr_calloc(nh, sizeof(float));
        fill(r, nh, 23);
        fd(fw_output, &k, x, nh, r, y, nh, want);
        Tensor rt = tensor4(r, RR_CPU, b, n, HW, HW), dht = tensor4(dh, RR_CPU, b, n, HW, HW);
        reg_plan_output_backward(f.p, t, &rt, &dht);
        check_close_f32("top output, gradient gathered apart: against finite differences", dh, want, nh, 1e-3, 1e-3);
        free(r), free(y), free(want), free(dh);
    }
    for (int z = 0; z < 3; z++) { /* zoneout: d/dprev and d/dupd, direct and deferred */
        k.state = z;
        float *r = rr_malloc(sizeof(float) * nh), *y = rr_malloc(sizeof(float) * nh);
        float *wprev = rr_malloc(sizeof(float) * nh), *wupd = rr_malloc(sizeof(float) * nh);
        float *dout = rr_malloc(sizeof(float) * nh), *dprev = rr_calloc(nh, sizeof(float)), *dprev2 = rr_calloc(nh, sizeof(float));
        float *dout2 = rr_malloc(sizeof(float) * nh);
        fill(r, nh, 30 + z);
        fd(fw_state, &k, x, nh, r, y, nh, wprev);
        fd(fw_state, &k, x2, nh, r, y, nh, wupd);
        memcpy(dout, r, sizeof(float) * nh), memcpy(dout2, r, sizeof(float) * nh);
        Tensor dt = tensor4(dout, RR_CPU, b, n, HW, HW), dpt = tensor4(dprev, RR_CPU, b, n, HW, HW);
        Tensor dt2 = tensor4(dout2, RR_CPU, b, n, HW, HW), dpt2 = tensor4(dprev2, RR_CPU, b, n, HW, HW);
        reg_plan_state_backward(f.p, l, t, z, &dt, &dpt);
        reg_plan_state_backward_deferred(f.p, l, t, z, &dt2);
        reg_plan_state_carry(f.p, z, &dpt2);
        char what[96];
        snprintf(what, sizeof what, "zoneout state %d: dprev against finite differences", z);
        check_close_f32(what, dprev, wprev, nh, 1e-3, 1e-3);
        snprintf(what, sizeof what, "zoneout state %d: dupd (in place) against finite differences", z);
        check_close_f32(what, dout, wupd, nh, 1e-3, 1e-3);
        CHECK(same(dprev2, dprev, nh) && same(dout2, dout, nh), "zoneout state %d: deferred + carry = direct", z);
        free(r), free(y), free(wprev), free(wupd), free(dout), free(dprev), free(dprev2), free(dout2);
    }
    { /* weight drop: L = Σ r ⊙ W̃ → dW = r ⊙ M */
        const long nw = f.wt[l].count;
        float *r = rr_malloc(sizeof(float) * nw), *y = rr_malloc(sizeof(float) * nw), *want = rr_malloc(sizeof(float) * nw);
        fill(r, nw, 40);
        k.w = f.wt[l];
        fd(fw_kernel, &k, f.w[l], nw, r, y, nw, want);
        memcpy(f.g[l], r, sizeof(float) * nw);
        reg_plan_kernel_backward(f.p, l, &f.gt[l]);
        check_close_f32("weight drop: dW = dW̃ ⊙ M against finite differences", f.g[l], want, nw, 1e-3, 1e-3);
        free(r), free(y), free(want);
    }
    reg_plan_end(f.p);
    free(x), free(x2);
    free_plan(&f);

    ModelConfig cg = rates(4);
    cg.var_dropout_h = 0.3f;
    make_plan(&f, &cg, 4);
    reg_plan_begin(f.p, ITER, b, S);
    for (int which = 0; which < 2; which++) { /* per-gate conv: dx, dw, db */
        const int cin = which ? HID[l] : CIN[l];
        const long nx = (long)b * cin * HW * HW, nw = 4L * n * cin * KS * KS, ny = (long)b * 4 * n * HW * HW;
        float *xx = rr_malloc(sizeof(float) * nx), *w = rr_malloc(sizeof(float) * nw), *bias = rr_malloc(sizeof(float) * 4 * n);
        float *r = rr_malloc(sizeof(float) * ny), *y = rr_malloc(sizeof(float) * ny), *scratch = rr_malloc(sizeof(float) * 8192);
        float *wx = rr_malloc(sizeof(float) * nx), *ww = rr_malloc(sizeof(float) * nw), *wb = rr_malloc(sizeof(float) * 4 * n);
        float *dx = rr_calloc(nx, sizeof(float)), *dw = rr_calloc(nw, sizeof(float)), *db = rr_calloc(4 * n, sizeof(float));
        fill(xx, nx, 50), fill(w, nw, 51), fill(bias, 4 * n, 52), fill(r, ny, 53);
        Ctx g = {.p = f.p, .l = l, .which = which, .x = tensor4(xx, RR_CPU, b, cin, HW, HW),
                 .w = tensor4(w, RR_CPU, 4 * n, cin, KS, KS), .bias = tensor1(bias, RR_CPU, 4 * n), .scratch = scratch};
        fd(fw_gate_conv, &g, xx, nx, r, y, ny, wx);
        fd(fw_gate_conv, &g, w, nw, r, y, ny, ww);
        fd(fw_gate_conv, &g, bias, 4 * n, r, y, ny, wb);
        Tensor rt = tensor4(r, RR_CPU, b, 4 * n, HW, HW), dxt = tensor4(dx, RR_CPU, b, cin, HW, HW);
        Tensor dwt = tensor4(dw, RR_CPU, 4 * n, cin, KS, KS), dbt = tensor1(db, RR_CPU, 4 * n);
        reg_plan_gate_conv_backward(f.p, l, which, &g.x, &g.w, &rt, &dxt, &dwt, &dbt, scratch);
        char what[96];
        snprintf(what, sizeof what, "per-gate conv %s: dx against finite differences", which ? "h" : "x");
        check_close_f32(what, dx, wx, nx, 2e-3, 2e-3);
        snprintf(what, sizeof what, "per-gate conv %s: dW against finite differences", which ? "h" : "x");
        check_close_f32(what, dw, ww, nw, 2e-3, 2e-3);
        snprintf(what, sizeof what, "per-gate conv %s: db against finite differences", which ? "h" : "x");
        check_close_f32(what, db, wb, 4 * n, 2e-3, 2e-3);
        free(xx), free(w), free(bias), free(r), free(y), free(scratch), free(wx), free(ww), free(wb), free(dx), free(dw), free(db);
    }
    reg_plan_end(f.p);
    free_plan(&f);
}

/* ------------------------------------------------------------------------------------------------ */
/* L2 on a model's parameters */

static int ends_with(const char *s, const char *e) {
    size_t a = strlen(s), z = strlen(e);
    return a >= z && !strcmp(s + a - z, e);
}

static void test_l2_penalty(void) {
    TEST_BEGIN("plan_l2");
    ModelConfig cl;
    memset(&cl, 0, sizeof cl);
    snprintf(cl.model, sizeof cl.model, "convlstm");
    cl.num_layers = 2, cl.hidden[0] = 4, cl.hidden[1] = 3, cl.kernel[0] = cl.kernel[1] = 3;
    cl.patch = 2, cl.image_size = 8, cl.img_channels = 1, cl.head = HEAD_CONV2D, cl.head_kernel = 1;
    cl.cell_act = ACT_TANH, cl.gate_act = ACT_SIGMOID, cl.head_act = ACT_SIGMOID, cl.batchnorm = 1;
    cl.bn_momentum = 0.01f, cl.bn_eps = 1e-3f;
    Model *m;
    if (model_create(&cl, 2, 4, RR_CPU, &m)) {
        CHECK(0, "model_create: %s", rr_last_error());
        return;
    }
    model_init(m, 3);
    static const char *const which[3] = {"input", "recurrent", "all"};
    const double lambda = 0.01;
    for (int k = 0; k < 3; k++) {
        double want = 0;
        int grads_ok = 1, picked = 0;
        for (int i = 0; i < model_num_params(m); i++) op_fill(model_grad(m, i), 0.5f);
        const double pen = reg_l2_penalty(m, lambda, which[k]);
        for (int i = 0; i < model_num_params(m); i++) {
            const Tensor *w = model_param(m, i), *g = model_grad(m, i);
            const char *name = model_param_name(m, i);
            const int sel = k == 0 ? ends_with(name, ".conv_x.weight") : k == 1 ? ends_with(name, ".conv_h.weight") : w->ndim >= 2;
            picked += sel;
            for (long j = 0; j < w->count; j++) {
                if (sel) want += (double)w->data[j] * w->data[j];
                const float gw = sel ? 0.5f + (float)(2.0 * lambda) * w->data[j] : 0.5f;
                grads_ok &= g->data[j] == gw;
            }
        }
        CHECK_NEAR(pen, lambda * want, 0, 1e-12, "l2_on = %s: penalty λΣw² over %d kernels", which[k], picked);
        CHECK(grads_ok, "l2_on = %s: +2λw on the selected gradients, the others untouched", which[k]);
    }
    CHECK(reg_l2_penalty(m, 0.0, "all") == 0.0, "λ = 0: no penalty");
    model_free(m);
}

int main(void) {
    test_shared_masks();
    test_gate_masks();
    test_backward();
    test_l2_penalty();
    return tests_exit();
}

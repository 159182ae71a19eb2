/* regularize.c — the regularizer ops (regularize.h): Philox dropout and zoneout masks, mask
 * application, the split ConvLSTM cell, the per-gate masked convolution, channel bias, zoneout and the
 * L2 penalty. Each op's check (<op>_check) and CPU loop (cpu_<op>) are here; its entry
 * (ops_dispatch.c) picks this or the CUDA twin (kernels/regularize_kernels.cu). The masked Causal
 * LSTM stages are causal_lstm_cell.c's (one loop per stage). Every loop writes each output
 * element from one thread, so results do not depend on the thread count. */
#include "regularize.h"

#include <math.h>
#include <string.h>

#include "causal_lstm_cell.h"

#include "ops_internal.h"
#include "rng.h"

uint64_t reg_stream(int64_t iteration, int layer, int tensor, int step) {
    return rr_stream(RR_TAG_DROPOUT, (uint32_t)iteration, (uint32_t)(layer * 16 + tensor), (uint32_t)step);
}

int reg_dropout_mask_check(Tensor *mask, uint64_t seed, uint64_t stream, float p) {
    (void)seed, (void)stream; /* not checked */
    require_device("reg_dropout_mask", mask);
    if (!(p >= 0.0f && p < 1.0f)) rr_die("reg_dropout_mask: drop rate %g outside [0, 1)", (double)p);
    return ops_device("reg_dropout_mask", mask);
}

void cpu_reg_dropout_mask(Tensor *mask, uint64_t seed, uint64_t stream, float p) {
    const float scale = 1.0f / (1.0f - p);
    float *m = mask->data;
    const int64_t n = mask->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > 65536)
    for (int64_t i = 0; i < n; i++) m[i] = rr_keep(seed, stream, (uint64_t)i, p) ? scale : 0.0f;
}

void reg_mask_forward(const Tensor *x, const Tensor *mask, Tensor *y) { op_mul(x, mask, y); }

int reg_mask_backward_check(const Tensor *mask, const Tensor *dy, Tensor *dx) {
    require_device("reg_mask_backward", mask);
    require_device("reg_mask_backward", dy);
    require_device("reg_mask_backward", dx);
    require_same_count("reg_mask_backward (mask vs dy)", mask, dy);
    require_same_count("reg_mask_backward (dx vs dy)", dx, dy);
    return ops_device("reg_mask_backward", mask, dy, dx);
}

void cpu_reg_mask_backward(const Tensor *mask, const Tensor *dy, Tensor *dx) {
    const int64_t n = dy->count;
    for (int64_t i = 0; i < n; i++) dx->data[i] += dy->data[i] * mask->data[i];
}

/* ------------------------------------------------------------------------------------------------ */
/* Split ConvLSTM cell. Gate blocks i, f, g, o of n channels each, per sample. */

static void cell_check(const char *op, const Tensor *four, const Tensor *c) {
    require_4d(op, "gates/pre", four);
    require_4d(op, "c", c);
    require_device(op, four);
    require_device(op, c);
    if (four->shape[0] != c->shape[0] || four->shape[1] != 4 * c->shape[1] || four->shape[2] != c->shape[2] ||
        four->shape[3] != c->shape[3]) {
        char a[96], b[96];
        rr_die("%s: gates %s do not fit state %s (want (B, 4n, H, W) and (B, n, H, W))", op,
               tensor_shape_str(four, a, sizeof a), tensor_shape_str(c, b, sizeof b));
    }
}

#define ROWS_PAR(B, n, HW) if (ops_use_openmp() && (int64_t)(B) * (n) * (HW) > 16384)

int reg_lstm_state_forward_check(const Tensor *pre, const Tensor *c_prev, const Tensor *gmask, Tensor *gates,
                                 Tensor *c, Activation gate_act, Activation cell_act) {
    (void)gate_act, (void)cell_act; /* not checked */
    const char *op = "reg_lstm_state_forward";
    cell_check(op, pre, c);
    require_same_shape(op, gates, pre);
    if (c_prev) require_same_shape(op, c_prev, c);
    if (gmask) require_same_count(op, gmask, c);
    require_device(op, gates), require_device(op, c_prev), require_device(op, gmask);
    return ops_device(op, pre, c_prev, gmask, gates, c);
}

void cpu_reg_lstm_state_forward(const Tensor *pre, const Tensor *c_prev, const Tensor *gmask, Tensor *gates,
                                Tensor *c, Activation gate_act, Activation cell_act) {
    const int B = c->shape[0], n = c->shape[1];
    const int64_t HW = (int64_t)c->shape[2] * c->shape[3];
#pragma omp parallel for schedule(static) ROWS_PAR(B, n, HW)
    for (int64_t bj = 0; bj < (int64_t)B * n; bj++) {
        const int64_t s = bj / n, j = bj % n;
        const float *pi = pre->data + (s * 4 * n + j) * HW, *pf = pi + n * HW, *pg = pf + n * HW, *po = pg + n * HW;
        float *gi = gates->data + (s * 4 * n + j) * HW, *gf = gi + n * HW, *gg = gf + n * HW, *go = gg + n * HW;
        const float *cp = c_prev ? c_prev->data + bj * HW : NULL, *mk = gmask ? gmask->data + bj * HW : NULL;
        float *cs = c->data + bj * HW;
        act_apply_array(gate_act, pi, gi, HW);
        act_apply_array(gate_act, pf, gf, HW);
        act_apply_array(cell_act, pg, gg, HW);
        act_apply_array(gate_act, po, go, HW);
        for (int64_t p = 0; p < HW; p++) cs[p] = (cp ? gf[p] * cp[p] : 0.0f) + gi[p] * (mk ? gg[p] * mk[p] : gg[p]);
    }
}

int reg_lstm_output_forward_check(const Tensor *gates, const Tensor *cs, Tensor *h, Activation cell_act) {
    (void)cell_act; /* not checked */
    const char *op = "reg_lstm_output_forward";
    cell_check(op, gates, cs);
    require_same_shape(op, h, cs);
    require_device(op, h);
    return ops_device(op, gates, cs, h);
}

void cpu_reg_lstm_output_forward(const Tensor *gates, const Tensor *cs, Tensor *h, Activation cell_act) {
    const int B = cs->shape[0], n = cs->shape[1];
    const int64_t HW = (int64_t)cs->shape[2] * cs->shape[3];
#pragma omp parallel for schedule(static) ROWS_PAR(B, n, HW)
    for (int64_t bj = 0; bj < (int64_t)B * n; bj++) {
        const int64_t s = bj / n, j = bj % n;
        const float *go = gates->data + (s * 4 * n + 3 * n + j) * HW, *c = cs->data + bj * HW;
        float *hs = h->data + bj * HW;
        act_apply_array(cell_act, c, hs, HW);
        for (int64_t p = 0; p < HW; p++) hs[p] = go[p] * hs[p];
    }
}

int reg_lstm_output_backward_check(const Tensor *gates, const Tensor *cs, const Tensor *dh, Tensor *dpre,
                                   Tensor *dcs, Activation gate_act, Activation cell_act) {
    (void)gate_act, (void)cell_act; /* not checked */
    const char *op = "reg_lstm_output_backward";
    cell_check(op, gates, cs);
    require_same_shape(op, dpre, gates);
    require_same_shape(op, dh, cs);
    require_same_shape(op, dcs, cs);
    require_device(op, dh), require_device(op, dpre), require_device(op, dcs);
    return ops_device(op, gates, cs, dh, dpre, dcs);
}

void cpu_reg_lstm_output_backward(const Tensor *gates, const Tensor *cs, const Tensor *dh, Tensor *dpre,
                                  Tensor *dcs, Activation gate_act, Activation cell_act) {
    const int B = cs->shape[0], n = cs->shape[1];
    const int64_t HW = (int64_t)cs->shape[2] * cs->shape[3];
#pragma omp parallel for schedule(static) ROWS_PAR(B, n, HW)
    for (int64_t bj = 0; bj < (int64_t)B * n; bj++) {
        const int64_t s = bj / n, j = bj % n;
        const float *go = gates->data + (s * 4 * n + 3 * n + j) * HW, *c = cs->data + bj * HW;
        const float *d = dh->data + bj * HW;
        float *dop = dpre->data + (s * 4 * n + 3 * n + j) * HW, *dc = dcs->data + bj * HW;
        float tcs[ACT_CHUNK];
        for (int64_t p = 0; p < HW; p++) {
            if (p % ACT_CHUNK == 0) act_apply_array(cell_act, c + p, tcs, HW - p < ACT_CHUNK ? HW - p : ACT_CHUNK);
            const float tc = tcs[p % ACT_CHUNK];
            dop[p] = d[p] * tc * act_grad_from_output(gate_act, go[p]);
            dc[p] += d[p] * go[p] * act_grad_from_output(cell_act, tc);
        }
    }
}

int reg_lstm_state_backward_check(const Tensor *gates, const Tensor *c_prev, const Tensor *gmask,
                                  const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                                  Activation cell_act) {
    (void)gate_act, (void)cell_act; /* not checked */
    const char *op = "reg_lstm_state_backward";
    cell_check(op, gates, dc);
    require_same_shape(op, dpre, gates);
    if (c_prev) require_same_shape(op, c_prev, dc);
    if (dc_prev) require_same_shape(op, dc_prev, dc);
    if (gmask) require_same_count(op, gmask, dc);
    require_device(op, dpre), require_device(op, c_prev), require_device(op, gmask), require_device(op, dc_prev);
    return ops_device(op, gates, c_prev, gmask, dc, dpre, dc_prev);
}

void cpu_reg_lstm_state_backward(const Tensor *gates, const Tensor *c_prev, const Tensor *gmask,
                                 const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                                 Activation cell_act) {
    const int B = dc->shape[0], n = dc->shape[1];
    const int64_t HW = (int64_t)dc->shape[2] * dc->shape[3];
#pragma omp parallel for schedule(static) ROWS_PAR(B, n, HW)
    for (int64_t bj = 0; bj < (int64_t)B * n; bj++) {
        const int64_t s = bj / n, j = bj % n;
        const float *gi = gates->data + (s * 4 * n + j) * HW, *gf = gi + n * HW, *gg = gf + n * HW;
        float *di = dpre->data + (s * 4 * n + j) * HW, *df = di + n * HW, *dg = df + n * HW;
        const float *cp = c_prev ? c_prev->data + bj * HW : NULL, *mk = gmask ? gmask->data + bj * HW : NULL;
        const float *d = dc->data + bj * HW;
        float *dcp = dc_prev ? dc_prev->data + bj * HW : NULL;
        for (int64_t p = 0; p < HW; p++) {
            const float i = gi[p], f = gf[p], g = gg[p], m = mk ? mk[p] : 1.0f;
            di[p] = d[p] * g * m * act_grad_from_output(gate_act, i);
            df[p] = cp ? d[p] * cp[p] * act_grad_from_output(gate_act, f) : 0.0f;
            dg[p] = d[p] * i * m * act_grad_from_output(cell_act, g);
            if (dcp) dcp[p] = d[p] * f;
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Per-gate masked convolution */

/* reg_block_copy (ops_internal.h) */
int reg_block_copy_check(Tensor *big, Tensor *small, int j, int to_big, int add) {
    (void)j, (void)to_big, (void)add; /* not checked */
    require_device("reg_blocked_conv (block copy)", big);
    require_device("reg_blocked_conv (block copy)", small);
    return ops_device("reg_blocked_conv (block copy)", big, small);
}

void cpu_reg_block_copy(Tensor *big, Tensor *small, int j, int to_big, int add) {
    const int B = small->shape[0], n = small->shape[1], K = big->shape[1] / n;
    const int64_t nhw = (int64_t)n * small->shape[2] * small->shape[3];
    for (int b = 0; b < B; b++) {
        float *pb = big->data + ((int64_t)b * K + j) * nhw, *ps = small->data + (int64_t)b * nhw;
        if (!to_big)
            for (int64_t e = 0; e < nhw; e++) ps[e] = pb[e];
        else if (add)
            for (int64_t e = 0; e < nhw; e++) pb[e] += ps[e];
        else
            for (int64_t e = 0; e < nhw; e++) pb[e] = ps[e];
    }
}

static Tensor mask_of(const Tensor *masks, int j, const Tensor *x) {
    const int64_t per = masks->count / masks->shape[0];
    if (x->count > per) rr_die("reg_blocked_conv: masks hold %lld floats per gate, x needs %lld",
                               (long long)per, (long long)x->count);
    return tensor4(masks->data + j * per, x->device, x->shape[0], x->shape[1], x->shape[2], x->shape[3]);
}

void reg_blocked_conv_forward(const Tensor *x, const Tensor *masks, const Tensor *w, const Tensor *b,
                              Tensor *y, int accumulate, float *xm, float *yb, float *scratch) {
    const int K = masks->shape[0], n = w->shape[0] / K;
    if (w->shape[0] != K * n || y->shape[1] != K * n) rr_die("reg_blocked_conv_forward: %d gates do not divide "
                                                             "%d weight rows / %d output channels", K, w->shape[0], y->shape[1]);
    Tensor xmv = tensor4(xm, x->device, x->shape[0], x->shape[1], x->shape[2], x->shape[3]);
    Tensor ybv = tensor4(yb, x->device, x->shape[0], n, y->shape[2], y->shape[3]);
    for (int j = 0; j < K; j++) {
        Tensor mj = mask_of(masks, j, x), wj = tensor_slice0(w, j * n, n), bj;
        if (b) bj = tensor_slice0(b, j * n, n);
        op_mul(x, &mj, &xmv);
        conv2d_forward(&xmv, &wj, b ? &bj : NULL, &ybv, 0, scratch);
        reg_block_copy(y, &ybv, j, 1, accumulate);
    }
}

void reg_blocked_conv_backward(const Tensor *x, const Tensor *masks, const Tensor *w, const Tensor *dy,
                               Tensor *dx, Tensor *dw, Tensor *db, float *xm, float *yb, float *dxm,
                               float *scratch) {
    const int K = masks->shape[0], n = w->shape[0] / K;
    Tensor xmv = tensor4(xm, x->device, x->shape[0], x->shape[1], x->shape[2], x->shape[3]);
    Tensor dxmv = tensor4(dxm, x->device, x->shape[0], x->shape[1], x->shape[2], x->shape[3]);
    Tensor ybv = tensor4(yb, x->device, x->shape[0], n, dy->shape[2], dy->shape[3]);
    for (int j = 0; j < K; j++) {
        Tensor mj = mask_of(masks, j, x), wj = tensor_slice0(w, j * n, n), dwj = tensor_slice0(dw, j * n, n), dbj;
        if (db) dbj = tensor_slice0(db, j * n, n);
        op_mul(x, &mj, &xmv);
        reg_block_copy((Tensor *)dy, &ybv, j, 0, 0);
        if (dx) op_fill(&dxmv, 0.0f);
        conv2d_backward(&xmv, &wj, &ybv, dx ? &dxmv : NULL, &dwj, db ? &dbj : NULL, scratch);
        if (dx) reg_mask_backward(&mj, &dxmv, dx);
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Causal LSTM stages with masked candidates: the fused stages of causal_lstm_cell.c with a mask. */

void reg_causal_stage1_forward(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc, const Tensor *c_prev,
                               const Tensor *gmask, Tensor *gates1, Tensor *c) {
    causal_lstm_stage1_forward_masked(x_cc, h_cc, c_cc, c_prev, gmask, gates1, c);
}

void reg_causal_stage1_backward(const Tensor *gates1, const Tensor *c_prev, const Tensor *gmask, const Tensor *dc,
                                Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc, Tensor *dc_prev) {
    causal_lstm_stage1_backward_masked(gates1, c_prev, gmask, dc, dx_cc, dh_cc, dc_cc, dc_prev);
}

void reg_causal_stage2_forward(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc, const Tensor *ggmask,
                               Tensor *gates2, Tensor *m) {
    causal_lstm_stage2_forward_masked(x_cc, c2m, m_cc, ggmask, gates2, m);
}

void reg_causal_stage2_backward(const Tensor *gates2, const Tensor *ggmask, const Tensor *dm, Tensor *dx_cc,
                                Tensor *dc2m, Tensor *dm_cc) {
    causal_lstm_stage2_backward_masked(gates2, ggmask, dm, dx_cc, dc2m, dm_cc);
}

/* ------------------------------------------------------------------------------------------------ */
/* Zoneout */

int reg_zoneout_mask_check(Tensor *d, uint64_t seed, uint64_t stream, float p) {
    (void)seed, (void)stream; /* not checked */
    require_device("reg_zoneout_mask", d);
    if (!(p >= 0.0f && p <= 1.0f)) rr_die("reg_zoneout_mask: zoneout rate %g outside [0, 1]", (double)p);
    return ops_device("reg_zoneout_mask", d);
}

void cpu_reg_zoneout_mask(Tensor *d, uint64_t seed, uint64_t stream, float p) {
    float *m = d->data;
    const int64_t n = d->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > 65536)
    for (int64_t i = 0; i < n; i++) m[i] = rr_rand_uniform(seed, stream, (uint64_t)i) < p ? 1.0f : 0.0f;
}

int reg_zoneout_forward_check(const Tensor *prev, const Tensor *upd, const Tensor *d, float p, Tensor *out) {
    (void)p; /* not checked */
    const char *op = "reg_zoneout_forward";
    require_device(op, out), require_device(op, upd), require_device(op, prev), require_device(op, d);
    require_same_count(op, upd, out);
    if (prev) require_same_count(op, prev, out);
    if (d) require_same_count(op, d, out);
    return ops_device(op, prev, upd, d, out);
}

void cpu_reg_zoneout_forward(const Tensor *prev, const Tensor *upd, const Tensor *d, float p, Tensor *out) {
    const int64_t n = out->count;
    const float *pv = prev ? prev->data : NULL, *u = upd->data, *dm = d ? d->data : NULL;
    float *o = out->data;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > 65536)
    for (int64_t i = 0; i < n; i++) {
        const float k = dm ? dm[i] : p, old = pv ? pv[i] : 0.0f;
        o[i] = k * old + (1.0f - k) * u[i];
    }
}

int reg_zoneout_backward_check(const Tensor *d, const Tensor *dout, Tensor *dprev, Tensor *dupd) {
    const char *op = "reg_zoneout_backward";
    require_device(op, d), require_device(op, dout), require_device(op, dprev), require_device(op, dupd);
    require_same_count(op, d, dout);
    require_same_count(op, dupd, dout);
    if (dprev) require_same_count(op, dprev, dout);
    return ops_device(op, d, dout, dprev, dupd);
}

void cpu_reg_zoneout_backward(const Tensor *d, const Tensor *dout, Tensor *dprev, Tensor *dupd) {
    const int64_t n = dout->count;
    for (int64_t i = 0; i < n; i++) {
        const float g = dout->data[i], k = d->data[i];
        if (dprev) dprev->data[i] += k * g;
        dupd->data[i] = (1.0f - k) * g;
    }
}

/* ------------------------------------------------------------------------------------------------ */

int reg_bias_forward_check(Tensor *y, const Tensor *b) {
    require_4d("reg_bias_forward", "y", y);
    if (b->count != y->shape[1]) rr_die("reg_bias_forward: bias of %lld for %d channels", (long long)b->count, y->shape[1]);
    require_device("reg_bias_forward", y);
    require_device("reg_bias_forward", b);
    return ops_device("reg_bias_forward", y, b);
}

void cpu_reg_bias_forward(Tensor *y, const Tensor *b) {
    const int B = y->shape[0], C = y->shape[1];
    const int64_t HW = (int64_t)y->shape[2] * y->shape[3];
    for (int64_t r = 0; r < (int64_t)B * C; r++) {
        const float v = b->data[r % C];
        float *p = y->data + r * HW;
        for (int64_t e = 0; e < HW; e++) p[e] += v;
    }
}

int reg_bias_backward_check(const Tensor *dy, Tensor *db) {
    require_4d("reg_bias_backward", "dy", dy);
    if (db->count != dy->shape[1]) rr_die("reg_bias_backward: bias of %lld for %d channels", (long long)db->count, dy->shape[1]);
    require_device("reg_bias_backward", dy);
    require_device("reg_bias_backward", db);
    return ops_device("reg_bias_backward", dy, db);
}

void cpu_reg_bias_backward(const Tensor *dy, Tensor *db) {
    const int B = dy->shape[0], C = dy->shape[1];
    const int64_t HW = (int64_t)dy->shape[2] * dy->shape[3];
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int b = 0; b < B; b++) {
            const float *p = dy->data + ((int64_t)b * C + c) * HW;
            for (int64_t e = 0; e < HW; e++) s += p[e];
        }
        db->data[c] += (float)s;
    }
}

int reg_l2_apply_check(const Tensor *w, Tensor *g, double lambda) {
    (void)lambda; /* not checked */
    require_device("reg_l2_apply", w);
    require_device("reg_l2_apply", g);
    require_same_count("reg_l2_apply", w, g);
    return ops_device("reg_l2_apply", w, g);
}

double cpu_reg_l2_apply(const Tensor *w, Tensor *g, double lambda) {
    double s = 0.0;
    const float two_l = (float)(2.0 * lambda);
    for (int64_t i = 0; i < w->count; i++) {
        s += (double)w->data[i] * w->data[i];
        g->data[i] += two_l * w->data[i];
    }
    return lambda * s;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int reg_l2_selects(const char *name, int ndim, const char *which) {
    if (!strcmp(which, "all")) return ndim >= 2;
    const int cell = !strncmp(name, "cells.", 6);
    if (!strcmp(which, "input")) return cell && ends_with(name, ".conv_x.weight");
    if (!strcmp(which, "recurrent")) return cell && ends_with(name, ".conv_h.weight");
    return 0;
}

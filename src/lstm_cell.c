/* lstm_cell.c — the pointwise part of a ConvLSTM cell (Shi et al. 2015, "Convolutional LSTM
 * Network", without peepholes, as Keras ConvLSTM2D), fused forward and backward.
 * Gate blocks along channels in the order i, f, g, o (Keras i, f, c, o):
 *   i = ga(pre_i)  f = ga(pre_f)  g = ca(pre_g)  o = ga(pre_o)
 *   c = f ⊙ c_prev + i ⊙ g        h = o ⊙ ca(c)
 * Backward, with dc_tot = dc + dh ⊙ o ⊙ ca'(c):
 *   dpre_o = dh ⊙ ca(c) ⊙ ga'   dpre_i = dc_tot ⊙ g ⊙ ga'   dpre_f = dc_tot ⊙ c_prev ⊙ ga'
 *   dpre_g = dc_tot ⊙ i ⊙ ca'   dc_prev = dc_tot ⊙ f
 * where every derivative is taken from the saved activated value (ops_internal.h). The activations
 * run over whole rows (act_apply_array: vector sigmoid and tanh with the scalar functions' bits). */
#include "ops_internal.h"

static void lstm_check(const char *op, const Tensor *four, const Tensor *c_prev, const Tensor *c,
                       const Tensor *h) {
    require_4d(op, "gates/pre", four);
    require_4d(op, "c", c);
    require_device(op, four);
    require_device(op, c_prev);
    require_device(op, c);
    require_device(op, h);
    int ok = four->shape[1] % 4 == 0 && c->shape[0] == four->shape[0] && c->shape[1] * 4 == four->shape[1] &&
             c->shape[2] == four->shape[2] && c->shape[3] == four->shape[3] && tensor_same_shape(c, h) &&
             (!c_prev || tensor_same_shape(c, c_prev));
    if (!ok) {
        char s4[96], sp[96], sc[96], sh[96];
        rr_die("%s: shapes do not fit gates (B, 4n, H, W) and c_prev, c, h (B, n, H, W): %s, c_prev %s, c %s, "
               "h %s", op, tensor_shape_str(four, s4, sizeof s4),
               c_prev ? tensor_shape_str(c_prev, sp, sizeof sp) : "NULL", tensor_shape_str(c, sc, sizeof sc),
               tensor_shape_str(h, sh, sizeof sh));
    }
}

int lstm_cell_forward_check(const Tensor *pre, const Tensor *c_prev, Tensor *gates, Tensor *c, Tensor *h,
                            Activation gate_act, Activation cell_act) {
    lstm_check("lstm_cell_forward", pre, c_prev, c, h);
    require_device("lstm_cell_forward", gates);
    require_activation("lstm_cell_forward", gate_act);
    require_activation("lstm_cell_forward", cell_act);
    require_same_shape("lstm_cell_forward (gates vs pre)", gates, pre);
    return ops_device("lstm_cell_forward", pre, c_prev, gates, c, h);
}

void cpu_lstm_cell_forward(const Tensor *pre, const Tensor *c_prev, Tensor *gates, Tensor *c, Tensor *h,
                           Activation gate_act, Activation cell_act) {
    const int B = c->shape[0], n = c->shape[1];
    const int64_t HW = (int64_t)c->shape[2] * c->shape[3], blocks = (int64_t)B * n;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && blocks * HW > 16384)
    for (int64_t bj = 0; bj < blocks; bj++) {
        const int64_t s = bj / n, j = bj % n;
        const float *pi = pre->data + (s * 4 * n + j) * HW, *pf = pi + n * HW, *pg = pf + n * HW, *po = pg + n * HW;
        float *gi = gates->data + (s * 4 * n + j) * HW, *gf = gi + n * HW, *gg = gf + n * HW, *go = gg + n * HW;
        const float *cp = c_prev ? c_prev->data + bj * HW : NULL;
        float *cs = c->data + bj * HW, *hs = h->data + bj * HW;
        act_apply_array(gate_act, pi, gi, HW);
        act_apply_array(gate_act, pf, gf, HW);
        act_apply_array(cell_act, pg, gg, HW);
        act_apply_array(gate_act, po, go, HW);
        for (int64_t p = 0; p < HW; p++) cs[p] = (cp ? gf[p] * cp[p] : 0.0f) + gi[p] * gg[p];
        act_apply_array(cell_act, cs, hs, HW);
        for (int64_t p = 0; p < HW; p++) hs[p] = go[p] * hs[p];
    }
}

int lstm_cell_backward_check(const Tensor *gates, const Tensor *c_prev, const Tensor *c, const Tensor *dh,
                             const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                             Activation cell_act) {
    lstm_check("lstm_cell_backward", gates, c_prev, c, dh);
    require_activation("lstm_cell_backward", gate_act);
    require_activation("lstm_cell_backward", cell_act);
    require_device("lstm_cell_backward", dc);
    require_device("lstm_cell_backward", dpre);
    require_device("lstm_cell_backward", dc_prev);
    require_same_shape("lstm_cell_backward (dpre vs gates)", dpre, gates);
    if (dc) require_same_shape("lstm_cell_backward (dc vs c)", dc, c);
    if (dc_prev) require_same_shape("lstm_cell_backward (dc_prev vs c)", dc_prev, c);
    return ops_device("lstm_cell_backward", gates, c_prev, c, dh, dc, dpre, dc_prev);
}

void cpu_lstm_cell_backward(const Tensor *gates, const Tensor *c_prev, const Tensor *c, const Tensor *dh,
                            const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                            Activation cell_act) {
    const int B = c->shape[0], n = c->shape[1];
    const int64_t HW = (int64_t)c->shape[2] * c->shape[3], blocks = (int64_t)B * n;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && blocks * HW > 16384)
    for (int64_t bj = 0; bj < blocks; bj++) {
        const int64_t s = bj / n, j = bj % n;
        const float *gi = gates->data + (s * 4 * n + j) * HW, *gf = gi + n * HW, *gg = gf + n * HW, *go = gg + n * HW;
        float *di = dpre->data + (s * 4 * n + j) * HW, *df = di + n * HW, *dg = df + n * HW, *dop = dg + n * HW;
        const float *cp = c_prev ? c_prev->data + bj * HW : NULL;
        const float *cs = c->data + bj * HW, *dhs = dh->data + bj * HW, *dcs = dc ? dc->data + bj * HW : NULL;
        float *dcp = dc_prev ? dc_prev->data + bj * HW : NULL;
        float tcs[ACT_CHUNK];
        for (int64_t p = 0; p < HW; p++) {
            if (p % ACT_CHUNK == 0) act_apply_array(cell_act, cs + p, tcs, HW - p < ACT_CHUNK ? HW - p : ACT_CHUNK);
            const float i = gi[p], f = gf[p], g = gg[p], o = go[p];
            const float tc = tcs[p % ACT_CHUNK];
            const float dtot = (dcs ? dcs[p] : 0.0f) + dhs[p] * o * act_grad_from_output(cell_act, tc);
            dop[p] = dhs[p] * tc * act_grad_from_output(gate_act, o);
            di[p] = dtot * g * act_grad_from_output(gate_act, i);
            df[p] = cp ? dtot * cp[p] * act_grad_from_output(gate_act, f) : 0.0f;
            dg[p] = dtot * i * act_grad_from_output(cell_act, g);
            if (dcp) dcp[p] = dtot * f;
        }
    }
}

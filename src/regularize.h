/* regularize.h — the regularizer ops of both recurrent models (convlstm.c, predrnn_pp.c): Philox
 * dropout masks, mask application, the split ConvLSTM cell that dropout on g and layer norm of c
 * need, the per-gate ("blocked") masked convolution of variational dropout, a channel bias, and the
 * L2 penalty. Forward and backward side by side; conventions as ops.h (NCHW float32 views, forward
 * "=", backward "+=" unless a line says "=", shapes checked with rr_die). Equations and sources:
 * docs/regularizers.md.
 *
 * Masks (inverted dropout, docs/regularizers.md (R1)): m[i] = 1/(1-p) where rr_keep(seed, stream, i, p)
 * else 0, i = flat element index of the (B, C, H, W) mask (sample s, element e: s·C·H·W + e, so the first
 * samples of a smaller batch get the same mask). Every mask comes from
 *   stream = rr_stream(RR_TAG_DROPOUT, iteration, layer*16 + tensor, step)
 * with the tensor ids below; per-sequence masks use step 0, except the per-gate variational masks,
 * whose step field holds the gate index. So a resumed run draws the same masks and a CUDA twin can
 * draw bit-identical ones. Masks exist only in training; evaluation is deterministic. */
#ifndef RNNREG_REGULARIZE_H
#define RNNREG_REGULARIZE_H

#include <stdint.h>

#include "ops.h"
#include "tensor.h"

/* Tensor ids (the low 4 bits of rr_stream's b field). */
enum {
    REG_T_DROP_IN = 0,  /* Zaremba: input of layer l, per step */
    REG_T_DROP_OUT = 1, /* Zaremba: top layer's output before the head (layer = L-1), per step */
    REG_T_REC_G = 2,    /* Semeniuta: cell candidate g, per step or per sequence */
    REG_T_REC_GG = 3,   /* Semeniuta: PredRNN++ memory candidate gg */
    REG_T_VAR_X = 4,    /* Gal: input masks, one per gate (step field = gate) */
    REG_T_VAR_H = 5,    /* Gal: recurrent masks, one per gate (step field = gate) */
    REG_T_ZONE_C = 6,   /* zoneout of c, per step (binary keep-old masks, reg_zoneout_mask) */
    REG_T_ZONE_H = 7,   /* zoneout of h, per step */
    REG_T_ZONE_M = 8,   /* zoneout of PredRNN++'s spatio-temporal memory m, per step */
    REG_T_WDROP = 9     /* weight drop of conv_h's kernel, one mask per training call (step 0) */
};

uint64_t reg_stream(int64_t iteration, int layer, int tensor, int step);

/* mask = inverted-dropout mask of drop rate p (0 <= p < 1) for stream `stream`. */
void reg_dropout_mask(Tensor *mask, uint64_t seed, uint64_t stream, float p);

/* y = x ⊙ mask;  backward: dx += dy ⊙ mask. */
void reg_mask_forward(const Tensor *x, const Tensor *mask, Tensor *y);
void reg_mask_backward(const Tensor *mask, const Tensor *dy, Tensor *dx);

/* ConvLSTM cell (ops.h lstm_cell) split in two so that the candidate can be masked (Semeniuta et al.
 * 2016, docs/regularizers.md (R3)) and c layer-normed on its way to h (Ba et al. 2016, (R11)):
 *   state:  gates = [i, f, g, o] = act(pre) (g UNmasked);  c = f ⊙ c_prev + i ⊙ (g ⊙ gmask)
 *   output: h = o ⊙ cell_act(cs)        (cs = c, or LN(c))
 * c_prev NULL = zeros; gmask NULL = no mask. Backward:
 *   output: dpre_o = dh ⊙ cell_act(cs) ⊙ ga'(o) (=, block o of dpre); dcs += dh ⊙ o ⊙ ca'(cs)
 *   state:  from dc (total dL/dc): dpre_i, dpre_f, dpre_g (=, blocks i, f, g); dc_prev = f ⊙ dc (=) */
void reg_lstm_state_forward(const Tensor *pre, const Tensor *c_prev, const Tensor *gmask, Tensor *gates,
                            Tensor *c, Activation gate_act, Activation cell_act);
void reg_lstm_output_forward(const Tensor *gates, const Tensor *cs, Tensor *h, Activation cell_act);
void reg_lstm_output_backward(const Tensor *gates, const Tensor *cs, const Tensor *dh, Tensor *dpre,
                              Tensor *dcs, Activation gate_act, Activation cell_act);
void reg_lstm_state_backward(const Tensor *gates, const Tensor *c_prev, const Tensor *gmask,
                             const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                             Activation cell_act);

/* Per-gate masked convolution (variational dropout, Gal & Ghahramani 2016, Keras ConvLSTM2D
 * dropout/recurrent_dropout, docs/regularizers.md (R4)): the weight w (K·n, Cin, k, k) is K row blocks
 * (gates); block j reads x ⊙ masks[j]:   y[:, j·n:(j+1)·n] (+)= conv(x ⊙ masks[j]; w_j) + b_j
 *   x (B, Cin, H, W)   masks (K, B, Cin, H, W) (only the first B samples of each are read)
 *   b (K·n) or NULL    y (B, K·n, H, W)
 * Workspace: xm (B·Cin·H·W floats), yb (B·n·H·W), and conv scratch (conv2d_scratch_floats(x, k)).
 * backward: dw += , db += , dx += Σ_j masks[j] ⊙ convᵀ(dy_j, w_j) (dx NULL: not needed); extra
 * workspace dxm (B·Cin·H·W). */
void reg_blocked_conv_forward(const Tensor *x, const Tensor *masks, const Tensor *w, const Tensor *b,
                              Tensor *y, int accumulate, float *xm, float *yb, float *scratch);
void reg_blocked_conv_backward(const Tensor *x, const Tensor *masks, const Tensor *w, const Tensor *dy,
                               Tensor *dx, Tensor *dw, Tensor *db, float *xm, float *yb, float *dxm,
                               float *scratch);

/* y[:, c] += b[c];  backward: db[c] += Σ_{b,h,w} dy[:, c]. */
void reg_bias_forward(Tensor *y, const Tensor *b);
void reg_bias_backward(const Tensor *dy, Tensor *db);

/* Causal LSTM stages 1 and 2 (causal_lstm_cell.h, same layouts and saved tensors) with Semeniuta
 * dropout on the candidates (docs/regularizers.md (R3)); gates1 / gates2 keep the UNmasked g / gg:
 *   stage 1: c = f ⊙ c_prev + i ⊙ (g ⊙ gmask)        stage 2: m = ff ⊙ tanh(m_m) + ii ⊙ (gg ⊙ ggmask)
 * backward as causal_lstm_stage1/2_backward (blocks written "=", dc_prev +=). These are the fused
 * stages of causal_lstm_cell.c with a mask (causal_lstm_stage1/2_*_masked; NULL = no mask). */
void reg_causal_stage1_forward(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc, const Tensor *c_prev,
                               const Tensor *gmask, Tensor *gates1, Tensor *c);
void reg_causal_stage1_backward(const Tensor *gates1, const Tensor *c_prev, const Tensor *gmask, const Tensor *dc,
                                Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc, Tensor *dc_prev);
void reg_causal_stage2_forward(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc, const Tensor *ggmask,
                               Tensor *gates2, Tensor *m);
void reg_causal_stage2_backward(const Tensor *gates2, const Tensor *ggmask, const Tensor *dm, Tensor *dx_cc,
                                Tensor *dc2m, Tensor *dm_cc);

/* Zoneout (Krueger et al. 2017, docs/regularizers.md (R6)-(R7)). d = binary keep-the-old-value mask:
 * d[i] = 1 where rr_rand_uniform(seed, stream, i) < p, else 0 (so p = 1 freezes the state).
 * forward: out = d ⊙ prev + (1 - d) ⊙ upd (training), out = p·prev + (1 - p)·upd (d NULL: evaluation,
 *   the expectation); prev NULL = zeros (the state before step 0).
 * backward (training): dprev += d ⊙ dout (dprev may be NULL), dupd = (1 - d) ⊙ dout ("="; dupd may
 *   be dout itself). */
void reg_zoneout_mask(Tensor *d, uint64_t seed, uint64_t stream, float p);
void reg_zoneout_forward(const Tensor *prev, const Tensor *upd, const Tensor *d, float p, Tensor *out);
void reg_zoneout_backward(const Tensor *d, const Tensor *dout, Tensor *dprev, Tensor *dupd);

/* L2 penalty (Keras kernel_regularizer L2, docs/regularizers.md (R8)): returns λ·Σ w² and adds 2λ·w
 * to g. */
double reg_l2_apply(const Tensor *w, Tensor *g, double lambda);
/* Whether the L2 option l2_on = which ("input" | "recurrent" | "all") covers parameter `name` of ndim
 * axes: input = cells.L.conv_x.weight (Keras kernel_regularizer of the recurrent layers), recurrent =
 * cells.L.conv_h.weight (recurrent_regularizer), all = every kernel (ndim >= 2; no bias, LN or BN
 * parameter). */
int reg_l2_selects(const char *name, int ndim, const char *which);

#endif

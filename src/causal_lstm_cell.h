/* causal_lstm_cell.h — the fused pointwise ops of PredRNN++ (Wang et al., ICML 2018): the three
 * pointwise stages of the Causal LSTM, the Gradient Highway Unit, and channel concatenation, forward
 * and backward side by side. Equations and split orders follow the official TensorFlow code
 * (Yunbo426/predrnn-pp @ 40764c5, layers/CausalLSTMCell.py and layers/GradientHighwayUnit.py; see
 * docs/models.md §2.1–2.2). The convolutions and layer norms between the stages are
 * separate ops (ops.h conv2d, layernorm.h).
 *
 * Conventions as ops.h: NCHW float32 views, shapes checked (rr_die), forward outputs "=", input
 * gradients "+=" unless a line says "=". A pre-activation tensor holds several channel blocks of n
 * channels each ("block k" = channels [k·n, (k+1)·n)); a stage's backward WRITES ("=") exactly the
 * blocks its forward read, so after the three stages every block of dx_cc / dh_cc / dc_cc / dm_cc /
 * dc2m has been written once. All tensors (B, ·, H, W) with the same B, H, W.
 * Block layout (TF split order along channels):
 *   x_cc (7n): i_x, g_x, f_x, o_x, i_x', g_x', f_x'     h_cc (4n): i_h, g_h, f_h, o_h
 *   c_cc (3n): i_c, g_c, f_c                            m_cc (3n): i_m, f_m, m_m
 *   c2m  (4n): i_c', g_c', f_c', o_c                     (each already layer-normed when LN is on) */
#ifndef RNNREG_CAUSAL_LSTM_CELL_H
#define RNNREG_CAUSAL_LSTM_CELL_H

#include "tensor.h"

#define CAUSAL_LSTM_FORGET_BIAS 1.0f /* CausalLSTMCell(forget_bias=1.0), added in both forget gates */

/* Stage 1, temporal memory:
 *   i = σ(i_x + i_h + i_c)   f = σ(f_x + f_h + f_c + 1)   g = tanh(g_x + g_h + g_c)
 *   c = f ⊙ c_prev + i ⊙ g                      c_prev (B, n) or NULL (zeros); c (B, n)
 * saved: gates1 (B, 3n) = [i, f, g].
 * backward: from dc (B, n): writes blocks 0-2 of dx_cc and dh_cc and all of dc_cc (=);
 *   dc_prev += f ⊙ dc (dc_prev may be NULL). */
void causal_lstm_stage1_forward(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc,
                                const Tensor *c_prev, Tensor *gates1, Tensor *c);
void causal_lstm_stage1_backward(const Tensor *gates1, const Tensor *c_prev, const Tensor *dc,
                                 Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc, Tensor *dc_prev);

/* Stage 2, spatial memory (c2m = LN(conv_c2m(c))):
 *   ii = σ(i_c' + i_x' + i_m)   ff = σ(f_c' + f_x' + f_m + 1)   gg = tanh(g_c' + g_x')
 *   m = ff ⊙ tanh(m_m) + ii ⊙ gg                m (B, n)
 * saved: gates2 (B, 4n) = [ii, ff, gg, tanh(m_m)].
 * backward: from dm (B, n): writes blocks 4-6 of dx_cc, blocks 0-2 of dc2m, all of dm_cc (=). */
void causal_lstm_stage2_forward(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc, Tensor *gates2,
                                Tensor *m);
void causal_lstm_stage2_backward(const Tensor *gates2, const Tensor *dm, Tensor *dx_cc, Tensor *dc2m,
                                 Tensor *dm_cc);

/* Stages 1 and 2 with Semeniuta recurrent dropout on the candidates (Semeniuta, Severyn & Barth,
 * "Recurrent dropout without memory loss", COLING 2016; docs/regularizers.md (R3)): gmask / ggmask
 * (B, n, H, W) multiply the candidate where it enters the memory,
 *   stage 1: c = f ⊙ c_prev + i ⊙ (g ⊙ gmask)        stage 2: m = ff ⊙ tanh(m_m) + ii ⊙ (gg ⊙ ggmask)
 * and the gradients of i, g (ii, gg) by the same mask; gates1 / gates2 keep the UNmasked g / gg. A NULL
 * mask means none: the four functions above are these with NULL (one loop and one CUDA twin per
 * stage), and regularize.h's reg_causal_stage* call them with the mask. */
void causal_lstm_stage1_forward_masked(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c_cc,
                                       const Tensor *c_prev, const Tensor *gmask, Tensor *gates1, Tensor *c);
void causal_lstm_stage1_backward_masked(const Tensor *gates1, const Tensor *c_prev, const Tensor *gmask,
                                        const Tensor *dc, Tensor *dx_cc, Tensor *dh_cc, Tensor *dc_cc,
                                        Tensor *dc_prev);
void causal_lstm_stage2_forward_masked(const Tensor *x_cc, const Tensor *c2m, const Tensor *m_cc,
                                       const Tensor *ggmask, Tensor *gates2, Tensor *m);
void causal_lstm_stage2_backward_masked(const Tensor *gates2, const Tensor *ggmask, const Tensor *dm,
                                        Tensor *dx_cc, Tensor *dc2m, Tensor *dm_cc);

/* Stage 3, output (o_m = LN(conv_om(m)) (B, n); cell = memory_reduce([c, m]) (B, n)):
 *   o = tanh(o_x + o_h + o_c + o_m)    h = o ⊙ tanh(cell)      (tanh output gate, as the code)
 * saved: gates3 (B, 2n) = [o, tanh(cell)].
 * backward: from dh (B, n): writes block 3 of dx_cc, dh_cc and dc2m, and do_m, dcell (all =). */
void causal_lstm_stage3_forward(const Tensor *x_cc, const Tensor *h_cc, const Tensor *c2m, const Tensor *o_m,
                                const Tensor *cell, Tensor *gates3, Tensor *h);
void causal_lstm_stage3_backward(const Tensor *gates3, const Tensor *dh, Tensor *dx_cc, Tensor *dh_cc,
                                 Tensor *dc2m, Tensor *do_m, Tensor *dcell);

/* Gradient highway unit (GradientHighwayUnit.py): zz = LN_z(conv_z(z_prev)), zx = LN_x(conv_x(x)),
 * both (B, 2n); [p, u] = zz + zx (p first);
 *   p = tanh(p), u = σ(u), z = u ⊙ p + (1 - u) ⊙ z_prev       z_prev (B, n) or NULL (zeros)
 * saved: gates (B, 2n) = [p, u].
 * backward: from dz: dpre (=, (B, 2n)) is the gradient of the summed pre-activation (the same for zz
 *   and zx); dz_prev += (1 - u) ⊙ dz (may be NULL). */
void ghu_forward(const Tensor *zz, const Tensor *zx, const Tensor *z_prev, Tensor *gates, Tensor *z);
void ghu_backward(const Tensor *gates, const Tensor *z_prev, const Tensor *dz, Tensor *dpre,
                  Tensor *dz_prev);

/* Channel concatenation y = [a, b]: a (B, Ca, H, W), b (B, Cb, H, W), y (B, Ca + Cb, H, W).
 * backward: da += dy[:, :Ca], db += dy[:, Ca:] (either may be NULL). */
void concat_channels_forward(const Tensor *a, const Tensor *b, Tensor *y);
void concat_channels_backward(const Tensor *dy, Tensor *da, Tensor *db);

#endif

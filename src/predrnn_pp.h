/* predrnn_pp.h — PredRNN++ (Wang, Gao, Long, Wang & Yu, "PredRNN++: Towards a resolution of the
 * deep-in-time dilemma in spatiotemporal predictive learning", ICML 2018): stacked Causal LSTMs with a
 * zig-zag spatial memory and a Gradient Highway Unit between layers 1 and 2, as the official
 * TensorFlow code builds it (Yunbo426/predrnn-pp @ 40764c5, nets/predrnn_pp.py; equations in
 * causal_lstm_cell.h and docs/models.md §2). It is the model kind "predrnn_pp" of model.h: model_create
 * calls predrnn_pp_create (model_internal.h), which registers the parameters below in the model's
 * registry and installs the kind's ModelKindOps; everything else goes through the model_* interface
 * (time-major frames (T, B, C, H, W) in patch space with 2 <= T <= seq_len and 1 <= B <= batch of
 * model_create, MSE over all T-1 predictions, use_truth scheduled sampling with gradient through
 * fed-back predictions, -1 + rr_error on invalid frames / NULL use_truth / n_in outside 1..T-1).
 *
 * ModelConfig fields used: num_layers, hidden[] (channels per layer; official 128,64,64,64),
 * kernel[] (filter size per layer, odd; official 5; the GHU uses kernel[0]), layer_norm (tensor layer
 * norm after every convolution except memory_reduce and the head), ghu (needs ≥ 2 layers), patch,
 * image_size, img_channels (C = patch²·img_channels, H = W = image_size/patch). Required: head =
 * HEAD_LINEAR with head_kernel 0 or 1 (the official 1×1 "back_to_pixel" conv) and head_act identity
 * (official: no activation), sigmoid or relu. cell_act, gate_act are not used (the cell fixes σ and tanh).
 *
 * Regularizers (training only unless said; src/regularize.h, docs/regularizers.md; reference
 * tests/reference/predrnn_pp_ref.py, test tests/test_regularize.c; masks keyed by reg_seed, the
 * iteration of model_set_iteration, layer, REG_T_* and step):
 *   dropout        Zaremba: cell l's input x (frame / z / h^{l-1}) and the top h before the head, fresh
 *                  per step; the carried h, c, m, z and the GHU's input are never masked
 *   rec_dropout    Semeniuta: c = f c_prev + i (g ⊙ mask), m = ff tanh(m_m) + ii (gg ⊙ mask'), per step or
 *                  per sequence (rec_dropout_seq)
 *   var_dropout_x/_h  Gal: one mask per sequence per conv INPUT: conv_x reads x ⊙ mx, so its 7 gate
 *                  blocks (i, g, f, o, i', g', f') share one mask; conv_h reads h_prev ⊙ mh (its 4 blocks
 *                  share one); conv_c, conv_m (the memories) are not masked. (Keras' 4 + 4 per-gate masks
 *                  would be 7 + 4 here; one mask per conv keeps each conv a single convolution.)
 *   zoneout_c/_h/_m  Krueger: state = d old + (1 - d) new per step (old: c_{t-1}, h_{t-1}, zeros at t = 0;
 *                  for m the incoming memory, so zoneout_m needs equal layer widths); inside the cell the
 *                  new values are used; evaluation: p old + (1 - p) new
 *   weight_drop    Merity: conv_h's kernel ⊙ one inverted mask per training call; evaluation: raw kernel
 *   batchnorm      per-step BatchNorm2d (bn_momentum, bn_eps) on h of every layer but the last on its way
 *                  to the next layer (to the GHU for layer 0); params bns.L.weight, .bias after the GHU,
 *                  buffers bns.L.running_mean, .running_var (updated in training, used in evaluation)
 *
 * Parameters, in this order, with their PyTorch state_dict names (tests/reference/predrnn_pp_ref.py):
 *   per layer L (n = hidden[L], C_x = C for L = 0 else hidden[L-1], n_in = hidden[num_layers-1] for
 *   L = 0 else hidden[L-1], k = kernel[L]):
 *     cells.L.conv_x.weight (7n, C_x, k, k)   .bias (7n)
 *     cells.L.conv_h.weight (4n, n, k, k)     .bias (4n)
 *     cells.L.conv_c.weight (3n, n, k, k)     .bias (3n)
 *     cells.L.conv_m.weight (3n, n_in, k, k)  .bias (3n)
 *     cells.L.conv_c2m.weight (4n, n, k, k)   .bias (4n)
 *     cells.L.conv_om.weight (n, n, k, k)     .bias (n)
 *     cells.L.memory_reduce.weight (n, 2n, 1, 1) .bias (n)
 *     with layer_norm: cells.L.ln_x / ln_h / ln_c / ln_m / ln_c2m / ln_om .weight, .bias (7n / 4n /
 *     3n / 3n / 4n / n)
 *   with ghu (n = hidden[0], k = kernel[0]): ghu.conv_z.weight (2n, n, k, k) .bias, ghu.conv_x.weight
 *     (2n, n, k, k) .bias, with layer_norm ghu.ln_z / ghu.ln_x .weight, .bias (2n)
 *   with batchnorm (layers L < num_layers-1): bns.L.weight, bns.L.bias (hidden[L])
 *   head.weight (C, hidden[-1], 1, 1), head.bias (C)
 * Buffers (batchnorm only): bns.L.running_mean, bns.L.running_var (hidden[L]); counters (model.h):
 * bns.L.num_batches_tracked. The checkpoint layout of every parameter is its internal layout.
 * Init (official code): cell and GHU convolution kernels uniform ±0.001 (the TF
 * `initializer=0.001`), memory_reduce and head kernels Glorot uniform (TF default,
 * limit sqrt(6 / ((Cin + Cout)·k²))), all biases 0, LN gains 1 and offsets 0; parameter i draws
 * element j as rr_rand_uniform(seed, rr_stream(RR_TAG_INIT, i, 0, 0), j). BN: gain 1, offset 0, running mean 0,
 * running var 1. model_flops_per_sequence: 2 × the multiply-adds of all convolutions (cells, GHU,
 * memory_reduce, head) over the seq_len-1 steps of one sequence; pointwise work and layer norms are not
 * counted. model_arena_bytes: the activation arena + parameters, gradients and buffers.
 *
 * Not part of the model: the official trainer's reverse-input augmentation (a second update per
 * iteration on the time-reversed sequence) and its l2_loss scale (0.5·sum instead of the mean) belong
 * to the trainer; this model always returns the mean squared error. */
#ifndef RNNREG_PREDRNN_PP_H
#define RNNREG_PREDRNN_PP_H

#include "model_internal.h" /* predrnn_pp_create, beside the other kinds' constructors */

#endif

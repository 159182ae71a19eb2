/* convlstm.c — the stacked ConvLSTM next-frame model (model = "convlstm") on the op layer: config
 * checks, parameters, deterministic init, memory plan, forward + BPTT training step with scheduled
 * sampling, and the autoregressive evaluation. Reference: tests/reference/convlstm_ref.py (PyTorch).
 *
 * Cell (Shi et al., "Convolutional LSTM Network", NeurIPS 2015, WITHOUT peepholes, i.e. Keras
 * ConvLSTM2D: keras-team/keras keras/src/layers/rnn/conv_lstm.py), layer l with n = hidden[l],
 * k = kernel[l], step t:
 *   pre = conv_x(x_t; Wx, bx) + conv_h(h_{t-1}; Wh)        (B, 4n, H, W), "same" zero padding
 *   gate order along channels i, f, g, o (= Keras' i, f, c, o):
 *   i, f, o = gate_act(pre_i, pre_f, pre_o)   g = cell_act(pre_g)
 *   c_t = f c_{t-1} + i g                      h_t = o cell_act(c_t)        (h_{-1} = c_{-1} = 0)
 * Layer 0 reads the patched frame (C = img_channels·p·p channels of (image_size/p)²); layer l > 0
 * reads h of layer l-1, batch-normalised when cfg->batchnorm (after every layer but the last, as the
 * Keras example keras-io examples/vision/conv_lstm.py).
 *
 * Batch norm: statistics per TIME STEP over (B, H, W) per channel (PyTorch BatchNorm2d applied at each
 * step; the running statistics are updated at each step with momentum cfg->bn_momentum, PyTorch
 * convention: 0.01 is Keras' 0.99). NOTE: Keras' BatchNormalization on the 5-D sequence pools its
 * statistics over time as well, which is only computable when every input is known in advance
 * (teacher forcing); per-step statistics are the causal equivalent that scheduled sampling and the
 * autoregressive rollout need.
 *
 * Heads on the top layer's h (n_top channels), output C channels, y_t = head_act(z_t):
 *   conv2d          z_t = conv(h_t; W) + b
 *   conv3d_causal   z_t = Σ_{τ=0..2} conv(h_{t-2+τ}; W_τ) + b      (h before step 0 = 0): PyTorch
 *                   Conv3d, kernel (3, k, k), time padding 2 on the left only
 *   conv3d_centered z_t = Σ_{τ=0..2} conv(h_{t-1+τ}; W_τ) + b      (Keras Conv3D padding "same" over
 *                   the sequence, h_{-1} = h_S = 0). y_t sees h_{t+1}, i.e. the input frame t+1 = its
 *                   own target (keras-io issue #1003): training needs teacher forcing, so all layers
 *                   run over all steps first, then the head; a use_truth 0 is rejected. Evaluation
 *                   uses h_{t-1}, h_t and zeros for h_{t+1}, which is what the Keras example's rollout
 *                   computes (it reruns the prefix and keeps the last output, whose future pad is 0).
 *
 * Parameters, in this order (= PyTorch state_dict order and names, the checkpoint names):
 *   cells.L.conv_x.weight (4n, Cin, k, k)   cells.L.conv_x.bias (4n)   cells.L.conv_h.weight (4n, n, k, k)
 *     (for every layer L; rows in gate order i, f, g, o: row g·n + j is gate g of channel j)
 *   bns.L.weight (n), bns.L.bias (n)        (layers 0..num_layers-2, only with batchnorm)
 *   head.weight: conv2d (C, n_top, k, k); Conv3d heads INTERNAL (3, C, n_top, k, k) = tap-major, so
 *     that each tap W_τ is a contiguous conv2d weight; the checkpoint holds PyTorch's (C, n_top, 3, k, k)
 *     (model_param_to_ckpt / model_param_from_ckpt permute)
 *   head.bias (C)
 * Buffers: bns.L.running_mean (n), bns.L.running_var (n); counters (model.h): bns.L.num_batches_tracked
 * (int64 scalar, +1 per training-mode BN call = per step), so that a checkpoint's bns.L.* load into a
 * stock torch.nn.BatchNorm2d with load_state_dict(strict=True).
 *
 * Init (model_init): Keras ConvLSTM2D defaults — glorot_uniform kernels, zero biases with the
 * forget-gate bias 1 (unit_forget_bias), BN gamma 1, beta 0, running mean 0, var 1. Glorot limit
 * sqrt(6 / (fan_in + fan_out)) with conv fans as Keras computes them (channels × receptive field):
 * conv_x fan_in Cin·k², fan_out 4n·k²; conv_h n·k², 4n·k²; conv2d head n_top·k², C·k²; Conv3d head
 * n_top·3k², C·3k². Keras initialises the recurrent kernel orthogonally; an orthogonal conv kernel has
 * no simple definition (orthogonality of the flattened (4n, n·k²) matrix is not orthogonality of the
 * convolution operator), so conv_h is glorot uniform too. Element j of parameter i (in checkpoint
 * layout) is (2u - 1)·limit with u = rr_rand_uniform(seed, rr_stream(RR_TAG_INIT, i, 0, 0), j).
 *
 * Regularizers (training only): the plan of src/regularizers.c owns every mask and applies them
 * through hooks; this file calls them where the cell reads its input (reg_plan_input, dropout), runs
 * its gate convolutions (reg_plan_gate_conv, per-gate variational dropout, 4 + 4 masks per layer as
 * Keras ConvLSTM2D), masks the candidate g (reg_plan_candidate, rec_dropout), carries c and h
 * (reg_plan_state, zoneout_c / zoneout_h), convolves with conv_h's kernel (reg_plan_kernel,
 * weight_drop) and hands the top h to the head (reg_plan_output, dropout). Equations:
 * docs/regularizers.md; reference tests/reference/convlstm_ref.py, test tests/test_regularize.c.
 * Layer norm (a normalisation, not a mask) is cell math and stays here:
 *   layer_norm     Ba et al. 2016: pre = LN_x(conv_x(x)) + LN_h(conv_h(h_prev)) + b (conv_x.bias is b,
 *                  added after the LNs; at t = 0 h_prev = 0 so LN_h gives its offset), h = o act(LN_c(c)),
 *                  c carried unnormalised; tensor layer norm (layernorm.h), gains 1, offsets 0, params
 *                  cells.L.ln_x / ln_h (4n) / ln_c (n) .weight, .bias after cells.L.conv_h.weight
 * With zoneout the cell's own c_hat, h_hat (h_hat from the un-zoned c_hat) are kept apart from the
 * carried c, h.
 *
 * Memory: one activation arena per (batch, seq_len), planned in convlstm_create: per step and layer
 * the gates, c, h (and BN output and saved mean/invstd); per step the layer-0 input (scheduled
 * sampling choice), the head output y_t and the gradient into the top h; plus per-layer backward
 * buffers and conv scratch. The time loops allocate nothing. A call may use fewer sequences (B) or
 * frames (T) than planned: the same buffers are viewed with the smaller shape. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model_internal.h"
#include "layernorm.h"
#include "regularize.h"
#include "regularizers.h"
#include "rng.h"

typedef struct {
    float *gates, *c, *h;                /* (B, 4n, H, W), (B, n, H, W), (B, n, H, W) */
    float *bn_out, *bn_mean, *bn_invstd; /* (B, n, H, W), (n), (n); layers with batch norm only */
    float *px, *ph;                      /* layer_norm: conv_x(x) (no bias), conv_h(h) (B, 4n, H, W) */
    float *cn;                           /* layer_norm: LN_c(c) (B, n, H, W) */
    float *ln_mean[3], *ln_invstd[3];    /* layer_norm statistics (B) of px, ph, c */
    float *chat, *hhat;                  /* zoneout: the cell's new c, h before zoneout (= c, h without) */
} LayerStep;

typedef struct {
    int L, C, H, W, S, B;     /* planned: S = seq_len - 1 steps, B = batch */
    int b;                    /* batch of the current call (≤ B) */
    int device;
    int hidden[MODEL_MAX_LAYERS], kernel[MODEL_MAX_LAYERS], cin[MODEL_MAX_LAYERS];
    int has_bn[MODEL_MAX_LAYERS];
    int ntaps;                /* head time taps: 1 (conv2d) or 3 */
    int head_k;               /* head spatial kernel */
    /* registry indices */
    int p_wx[MODEL_MAX_LAYERS], p_bx[MODEL_MAX_LAYERS], p_wh[MODEL_MAX_LAYERS];
    int p_gamma[MODEL_MAX_LAYERS], p_beta[MODEL_MAX_LAYERS], p_head_w, p_head_b;
    int b_mean[MODEL_MAX_LAYERS], b_var[MODEL_MAX_LAYERS], b_count[MODEL_MAX_LAYERS];
    /* activations */
    Arena act;
    LayerStep *ls;            /* [t * L + l] */
    float **xin;              /* [t] layer-0 input at step t ≥ 1 (B, C, H, W) */
    float **y;                /* [t] head output (B, C, H, W) */
    float *dh_top;            /* S × (B, n_top, H, W): gradient into the top layer's h per step */
    float *pre, *z, *scratch; /* (B, 4·max n, H, W), (B, C, H, W), conv workspace */
    /* backward */
    float *dh[MODEL_MAX_LAYERS], *dc[MODEL_MAX_LAYERS][2]; /* (B, n, H, W); dc ping-pong over steps */
    float *dpre, *dbn, *dx_in, *dy, *dz;
    unsigned char *use_step;  /* host (B): the use_truth column of one step */
    RegPlan *reg;             /* the regularizers: masks and hooks (regularizers.h) */
    int zone_c, zone_h;       /* zoneout of c / h: the cell's c_hat, h_hat kept apart */
    int ln, split_cell;       /* layer norm; the split cell (rec_dropout, layer norm, zoneout) */
    int p_ln_g[MODEL_MAX_LAYERS][3], p_ln_b[MODEL_MAX_LAYERS][3]; /* LN of conv_x, conv_h, c */
    float *lnbuf, *dln, *dcs, *dctot; /* (B, 4·max n, H, W) ×2, (B, max n, H, W) ×2 */
} ConvLSTM;

static Tensor *P(Model *m, int i) { return &m->params[i].value; }
static Tensor *G(Model *m, int i) { return &m->params[i].grad; }
static Tensor *BUF(Model *m, int i) { return &m->buffers[i].value; }

/* (b, c, H, W) view of a per-step buffer at the current batch. */
static Tensor T4(const ConvLSTM *n, float *p, int c) { return tensor4(p, n->device, n->b, c, n->H, n->W); }
static Tensor T1(const ConvLSTM *n, float *p, int c) { return tensor1(p, n->device, c); }
static LayerStep *step_of(const ConvLSTM *n, int t, int l) { return &n->ls[t * n->L + l]; }

/* Frame t of frames (T, B, C, H, W) as (B, C, H, W). */
static Tensor frame(const Tensor *frames, int t) {
    Tensor s = tensor_slice0(frames, t, 1);
    return tensor_reshape(&s, 4, frames->shape + 1);
}

/* Time tap τ of the head weight (a 4-D conv2d weight) — of the value or of the gradient. */
static Tensor head_tap(const Tensor *w, int tau) {
    if (w->ndim == 4) return *w;
    Tensor s = tensor_slice0(w, tau, 1);
    return tensor_reshape(&s, 4, w->shape + 1);
}

/* ------------------------------------------------------------------------------------------------ */
/* Memory plan: the same sequence of takes sizes the arena (planning pass) and hands out the views. */

static void plan(ConvLSTM *n) {
    Arena *a = &n->act;
    const int64_t px = (int64_t)n->B * n->H * n->W; /* floats per channel of a full batch */
    int nmax = 0;
    for (int l = 0; l < n->L; l++) nmax = n->hidden[l] > nmax ? n->hidden[l] : nmax;
    const int ntop = n->hidden[n->L - 1];
    for (int t = 0; t < n->S; t++)
        for (int l = 0; l < n->L; l++) {
            LayerStep *s = step_of(n, t, l);
            const int hid = n->hidden[l];
            s->gates = arena_take(a, px * 4 * hid);
            s->c = arena_take(a, px * hid);
            s->h = arena_take(a, px * hid);
            if (n->has_bn[l]) {
                s->bn_out = arena_take(a, px * hid);
                s->bn_mean = arena_take(a, hid);
                s->bn_invstd = arena_take(a, hid);
            }
            if (n->ln) {
                s->px = arena_take(a, px * 4 * hid);
                s->ph = arena_take(a, px * 4 * hid);
                s->cn = arena_take(a, px * hid);
                for (int j = 0; j < 3; j++) {
                    s->ln_mean[j] = arena_take(a, n->B);
                    s->ln_invstd[j] = arena_take(a, n->B);
                }
            }
            s->chat = n->zone_c ? arena_take(a, px * hid) : s->c;
            s->hhat = n->zone_h ? arena_take(a, px * hid) : s->h;
        }
    if (n->ln) {
        n->lnbuf = arena_take(a, px * 4 * nmax);
        n->dln = arena_take(a, px * 4 * nmax);
    }
    if (n->split_cell) {
        n->dcs = arena_take(a, px * nmax);
        n->dctot = arena_take(a, px * nmax);
    }
    for (int t = 0; t < n->S; t++) {
        n->xin[t] = t > 0 ? arena_take(a, px * n->C) : NULL;
        n->y[t] = arena_take(a, px * n->C);
    }
    n->dh_top = arena_take(a, (int64_t)n->S * px * ntop);
    n->pre = arena_take(a, px * 4 * nmax);
    n->z = arena_take(a, px * n->C);
    int64_t scratch = 0; /* the largest workspace any convolution of the model needs */
    for (int l = 0; l <= n->L; l++) {
        const int top = l == n->L;
        Tensor x = tensor4(NULL, n->device, n->B, top ? ntop : n->cin[l], n->H, n->W);
        Tensor h = tensor4(NULL, n->device, n->B, top ? ntop : n->hidden[l], n->H, n->W);
        const int k = top ? n->head_k : n->kernel[l];
        int64_t s1 = conv2d_scratch_floats(&x, k), s2 = conv2d_scratch_floats(&h, k);
        scratch = s1 > scratch ? s1 : scratch;
        scratch = s2 > scratch ? s2 : scratch;
    }
    n->scratch = arena_take(a, scratch);
    for (int l = 0; l < n->L; l++) {
        n->dh[l] = arena_take(a, px * n->hidden[l]);
        n->dc[l][0] = arena_take(a, px * n->hidden[l]);
        n->dc[l][1] = arena_take(a, px * n->hidden[l]);
    }
    n->dpre = arena_take(a, px * 4 * nmax);
    n->dbn = arena_take(a, px * nmax);
    n->dx_in = arena_take(a, px * n->C);
    n->dy = arena_take(a, px * n->C);
    n->dz = arena_take(a, px * n->C);
}

/* ------------------------------------------------------------------------------------------------ */
/* Forward pieces */

/* Input of layer l at step t: the layer-0 input x0, or layer l-1's (batch-normalised) h. */
static Tensor layer_input(const ConvLSTM *n, int l, int t, const Tensor *x0) {
    if (l == 0) return *x0;
    LayerStep *below = step_of(n, t, l - 1);
    return T4(n, n->has_bn[l - 1] ? below->bn_out : below->h, n->hidden[l - 1]);
}

/* conv_h's kernel in this call: the parameter, or while training with weight drop its masked copy
 * (the gradient goes to the parameter's slot; reg_plan_end masks it). */
static Tensor wh_of(Model *m, ConvLSTM *n, int l) { return reg_plan_kernel(n->reg, l, P(m, n->p_wh[l])); }

static void layer_forward(Model *m, ConvLSTM *n, int l, int t, const Tensor *x0, int train) {
    const ModelConfig *cfg = &m->cfg;
    const int hid = n->hidden[l];
    LayerStep *s = step_of(n, t, l), *prev = t > 0 ? step_of(n, t - 1, l) : NULL;
    Tensor in = layer_input(n, l, t, x0), x = reg_plan_input(n->reg, l, t, &in);
    Tensor pre = T4(n, n->pre, 4 * hid), gates = T4(n, s->gates, 4 * hid);
    Tensor c = T4(n, s->c, hid), h = T4(n, s->h, hid);
    const Tensor wh = wh_of(m, n, l);
    Tensor h_prev, c_prev;
    if (prev) {
        h_prev = T4(n, prev->h, hid);
        c_prev = T4(n, prev->c, hid);
    }
    if (n->ln) { /* Ba et al.: pre = LN_x(conv_x(x)) + LN_h(conv_h(h_prev)) + b   (h_{-1} = 0: LN_h = beta_h) */
        Tensor px = T4(n, s->px, 4 * hid), ph = T4(n, s->ph, 4 * hid), lnh = T4(n, n->lnbuf, 4 * hid);
        reg_plan_gate_conv(n->reg, l, REG_CONV_X, &x, P(m, n->p_wx[l]), NULL, &px, 0, n->scratch);
        Tensor mean0 = T1(n, s->ln_mean[0], n->b), inv0 = T1(n, s->ln_invstd[0], n->b);
        tensor_layernorm_forward(&px, P(m, n->p_ln_g[l][0]), P(m, n->p_ln_b[l][0]), &pre, &mean0, &inv0, TENSOR_LN_EPS);
        if (prev) {
            reg_plan_gate_conv(n->reg, l, REG_CONV_H, &h_prev, &wh, NULL, &ph, 0, n->scratch);
            Tensor mean1 = T1(n, s->ln_mean[1], n->b), inv1 = T1(n, s->ln_invstd[1], n->b);
            tensor_layernorm_forward(&ph, P(m, n->p_ln_g[l][1]), P(m, n->p_ln_b[l][1]), &lnh, &mean1, &inv1,
                                     TENSOR_LN_EPS);
            op_add(&pre, &lnh, &pre);
        } else {
            reg_bias_forward(&pre, P(m, n->p_ln_b[l][1]));
        }
        reg_bias_forward(&pre, P(m, n->p_bx[l]));
    } else {
        reg_plan_gate_conv(n->reg, l, REG_CONV_X, &x, P(m, n->p_wx[l]), P(m, n->p_bx[l]), &pre, 0, n->scratch);
        if (prev) reg_plan_gate_conv(n->reg, l, REG_CONV_H, &h_prev, &wh, NULL, &pre, 1, n->scratch);
    }
    if (n->split_cell) {
        const Tensor *gm = reg_plan_candidate(n->reg, l, t, 0);
        Tensor chat = T4(n, s->chat, hid), hhat = T4(n, s->hhat, hid);
        reg_lstm_state_forward(&pre, prev ? &c_prev : NULL, gm, &gates, &chat, cfg->gate_act, cfg->cell_act);
        Tensor cs = chat;
        if (n->ln) {
            cs = T4(n, s->cn, hid);
            Tensor mean2 = T1(n, s->ln_mean[2], n->b), inv2 = T1(n, s->ln_invstd[2], n->b);
            tensor_layernorm_forward(&chat, P(m, n->p_ln_g[l][2]), P(m, n->p_ln_b[l][2]), &cs, &mean2, &inv2,
                                     TENSOR_LN_EPS);
        }
        reg_lstm_output_forward(&gates, &cs, &hhat, cfg->cell_act);
        /* the carried c, h from the cell's c_hat, h_hat (zoneout; zeros before step 0) */
        if (n->zone_c) reg_plan_state(n->reg, l, t, REG_STATE_C, prev ? &c_prev : NULL, &chat, &c);
        if (n->zone_h) reg_plan_state(n->reg, l, t, REG_STATE_H, prev ? &h_prev : NULL, &hhat, &h);
    } else {
        lstm_cell_forward(&pre, prev ? &c_prev : NULL, &gates, &c, &h, cfg->gate_act, cfg->cell_act);
    }
    if (l == n->L - 1) reg_plan_output(n->reg, t, &h); /* what the head reads (top_h) */
    if (!n->has_bn[l]) return;
    Tensor out = T4(n, s->bn_out, hid);
    if (train) {
        Tensor mean = T1(n, s->bn_mean, hid), invstd = T1(n, s->bn_invstd, hid);
        batchnorm_forward_train(&h, P(m, n->p_gamma[l]), P(m, n->p_beta[l]), &out, &mean, &invstd,
                                BUF(m, n->b_mean[l]), BUF(m, n->b_var[l]), cfg->bn_momentum, cfg->bn_eps);
        m->counters[n->b_count[l]]++; /* PyTorch: num_batches_tracked += 1 per training-mode call */
    } else {
        batchnorm_forward_eval(&h, P(m, n->p_gamma[l]), P(m, n->p_beta[l]), &out, BUF(m, n->b_mean[l]),
                               BUF(m, n->b_var[l]), cfg->bn_eps);
    }
}

/* The step whose top h feeds head tap τ of output t, or -1 for zero padding: conv2d reads t; the
 * causal Conv3d t-2+τ; the centered one t-1+τ, where t+1 counts only when `future` (teacher-forced
 * training) and is zero padding otherwise (evaluation). S = steps of this call. */
static int head_source(const Model *m, int t, int tau, int S, int future) {
    int s = m->cfg.head == HEAD_CONV2D ? t : m->cfg.head == HEAD_CONV3D_CAUSAL ? t - 2 + tau : t - 1 + tau;
    if (s < 0 || s >= S || (s > t && !future)) return -1;
    return s;
}

/* The top output the head reads at step t: h, or what reg_plan_output made of it. */
static Tensor top_h(const ConvLSTM *n, int t) {
    Tensor h = T4(n, step_of(n, t, n->L - 1)->h, n->hidden[n->L - 1]);
    return reg_plan_output_value(n->reg, t, &h);
}

static void head_forward(Model *m, ConvLSTM *n, int t, int S, int future) {
    Tensor z = T4(n, n->z, n->C), y = T4(n, n->y[t], n->C);
    int first = 1;
    for (int tau = 0; tau < n->ntaps; tau++) {
        int s = head_source(m, t, tau, S, future);
        if (s < 0) continue;
        Tensor h = top_h(n, s), w = head_tap(P(m, n->p_head_w), tau);
        conv2d_forward(&h, &w, first ? P(m, n->p_head_b) : NULL, &z, !first, n->scratch);
        first = 0;
    }
    activation_forward(m->cfg.head_act, &z, &y);
}

/* n->dy holds dloss/dy_t; accumulates into the head's gradients and dh_top of the source steps. */
static void head_backward(Model *m, ConvLSTM *n, int t, int S, int future) {
    const int ntop = n->hidden[n->L - 1];
    const int64_t per_step = (int64_t)n->b * ntop * n->H * n->W;
    Tensor y = T4(n, n->y[t], n->C), dy = T4(n, n->dy, n->C), dz = T4(n, n->dz, n->C);
    op_fill(&dz, 0.0f);
    activation_backward(m->cfg.head_act, &y, &dy, &dz);
    int first = 1;
    for (int tau = 0; tau < n->ntaps; tau++) {
        int s = head_source(m, t, tau, S, future);
        if (s < 0) continue;
        Tensor h = top_h(n, s), dh = T4(n, n->dh_top + s * per_step, ntop);
        Tensor w = head_tap(P(m, n->p_head_w), tau), dw = head_tap(G(m, n->p_head_w), tau);
        conv2d_backward(&h, &w, &dz, &dh, &dw, first ? G(m, n->p_head_b) : NULL, n->scratch);
        first = 0;
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Backward through layer l at step t. On entry n->dh[l] holds dloss/dh_{l,t} from step t+1 (recurrent)
 * and from layer l+1 at step t; the top layer adds dh_top[t]. On exit n->dh[l] holds the recurrent
 * part for step t-1, n->dh[l-1] has the contribution of this step's input, and for layer 0 the
 * gradient of fed-back predictions is added to n->dy (output t-1). */
/* Backward of the input convolution of layer l at step t: dy_x is the gradient of its output; dx (may
 * be NULL) receives the gradient of the layer's (unmasked) input. */
static void input_conv_backward(Model *m, ConvLSTM *n, int l, int t, const Tensor *x, const Tensor *dy_x,
                                Tensor *dbias, Tensor *dx) {
    Tensor xr = reg_plan_input_value(n->reg, l, t, x); /* what the conv read */
    Tensor *dxr = reg_plan_input_grad(n->reg, l, t, dx);
    reg_plan_gate_conv_backward(n->reg, l, REG_CONV_X, &xr, P(m, n->p_wx[l]), dy_x, dxr, G(m, n->p_wx[l]), dbias,
                                n->scratch);
    reg_plan_input_backward(n->reg, l, t, dxr, dx);
}

static void layer_backward(Model *m, ConvLSTM *n, int l, int t, int S, const Tensor *frames,
                           const unsigned char *use_truth) {
    const ModelConfig *cfg = &m->cfg;
    const int hid = n->hidden[l];
    LayerStep *s = step_of(n, t, l), *prev = t > 0 ? step_of(n, t - 1, l) : NULL;
    Tensor dh = T4(n, n->dh[l], hid);
    if (l == n->L - 1) {
        Tensor dtop = T4(n, n->dh_top + (int64_t)t * n->b * hid * n->H * n->W, hid);
        reg_plan_output_backward(n->reg, t, &dtop, &dh);
    }
    /* zoneout: the kept share goes to h_{t-1} (added after dh is cleared below) */
    if (n->zone_h) reg_plan_state_backward_deferred(n->reg, l, t, REG_STATE_H, &dh);
    /* c: the cell's own (un-zoned) c_hat, which h_hat was computed from */
    Tensor gates = T4(n, s->gates, 4 * hid), c = T4(n, s->chat, hid), dpre = T4(n, n->dpre, 4 * hid);
    Tensor dc_in = T4(n, n->dc[l][(t + 1) & 1], hid), dc_out = T4(n, n->dc[l][t & 1], hid);
    Tensor h_prev, c_prev;
    if (prev) {
        h_prev = T4(n, prev->h, hid);
        c_prev = T4(n, prev->c, hid);
    }
    if (n->split_cell) {
        Tensor dct = T4(n, n->dctot, hid);
        if (t < S - 1)
            op_copy(&dc_in, &dct);
        else
            op_fill(&dct, 0.0f);
        if (n->zone_c) reg_plan_state_backward_deferred(n->reg, l, t, REG_STATE_C, &dct);
        if (n->ln) {
            Tensor cs = T4(n, s->cn, hid), dcs = T4(n, n->dcs, hid);
            Tensor mean2 = T1(n, s->ln_mean[2], n->b), inv2 = T1(n, s->ln_invstd[2], n->b);
            op_fill(&dcs, 0.0f);
            reg_lstm_output_backward(&gates, &cs, &dh, &dpre, &dcs, cfg->gate_act, cfg->cell_act);
            tensor_layernorm_backward(&c, P(m, n->p_ln_g[l][2]), &mean2, &inv2, &dcs, &dct, G(m, n->p_ln_g[l][2]),
                                      G(m, n->p_ln_b[l][2]));
        } else {
            reg_lstm_output_backward(&gates, &c, &dh, &dpre, &dct, cfg->gate_act, cfg->cell_act);
        }
        reg_lstm_state_backward(&gates, prev ? &c_prev : NULL, reg_plan_candidate(n->reg, l, t, 0), &dct, &dpre,
                                prev ? &dc_out : NULL, cfg->gate_act, cfg->cell_act);
        if (n->zone_c && prev) reg_plan_state_carry(n->reg, REG_STATE_C, &dc_out);
    } else {
        lstm_cell_backward(&gates, prev ? &c_prev : NULL, &c, &dh, t < S - 1 ? &dc_in : NULL, &dpre,
                           prev ? &dc_out : NULL, cfg->gate_act, cfg->cell_act);
    }
    op_fill(&dh, 0.0f);
    if (n->zone_h && prev) reg_plan_state_carry(n->reg, REG_STATE_H, &dh);
    const Tensor wh = wh_of(m, n, l);
    Tensor *dy_x = &dpre, *dbx = G(m, n->p_bx[l]);
    Tensor dlnx;
    if (n->ln) {
        /* recurrent: LN_h backward (or beta_h alone at t = 0), then conv_h */
        if (prev) {
            Tensor ph = T4(n, s->ph, 4 * hid), dph = T4(n, n->dln, 4 * hid);
            Tensor mean1 = T1(n, s->ln_mean[1], n->b), inv1 = T1(n, s->ln_invstd[1], n->b);
            op_fill(&dph, 0.0f);
            tensor_layernorm_backward(&ph, P(m, n->p_ln_g[l][1]), &mean1, &inv1, &dpre, &dph, G(m, n->p_ln_g[l][1]),
                                      G(m, n->p_ln_b[l][1]));
            reg_plan_gate_conv_backward(n->reg, l, REG_CONV_H, &h_prev, &wh, &dph, &dh, G(m, n->p_wh[l]), NULL,
                                        n->scratch);
        } else {
            reg_bias_backward(&dpre, G(m, n->p_ln_b[l][1]));
        }
        /* input: bias b, then LN_x backward; conv_x has no bias of its own here */
        reg_bias_backward(&dpre, dbx);
        Tensor px = T4(n, s->px, 4 * hid);
        Tensor mean0 = T1(n, s->ln_mean[0], n->b), inv0 = T1(n, s->ln_invstd[0], n->b);
        dlnx = T4(n, n->dln, 4 * hid);
        op_fill(&dlnx, 0.0f);
        tensor_layernorm_backward(&px, P(m, n->p_ln_g[l][0]), &mean0, &inv0, &dpre, &dlnx, G(m, n->p_ln_g[l][0]),
                                  G(m, n->p_ln_b[l][0]));
        dy_x = &dlnx;
        dbx = NULL;
    } else if (prev) {
        reg_plan_gate_conv_backward(n->reg, l, REG_CONV_H, &h_prev, &wh, &dpre, &dh, G(m, n->p_wh[l]), NULL,
                                    n->scratch);
    }

    if (l > 0) {
        const int nb = n->hidden[l - 1];
        LayerStep *below = step_of(n, t, l - 1);
        Tensor h_below = T4(n, below->h, nb), dh_below = T4(n, n->dh[l - 1], nb);
        if (n->has_bn[l - 1]) {
            Tensor x = T4(n, below->bn_out, nb), dx = T4(n, n->dbn, nb);
            Tensor mean = T1(n, below->bn_mean, nb), invstd = T1(n, below->bn_invstd, nb);
            op_fill(&dx, 0.0f);
            input_conv_backward(m, n, l, t, &x, dy_x, dbx, &dx);
            batchnorm_backward(&h_below, P(m, n->p_gamma[l - 1]), &mean, &invstd, &dx, &dh_below,
                               G(m, n->p_gamma[l - 1]), G(m, n->p_beta[l - 1]));
        } else {
            input_conv_backward(m, n, l, t, &h_below, dy_x, dbx, &dh_below);
        }
        return;
    }
    /* layer 0: the input is frame 0, or at t ≥ 1 the per-sample choice between frame t and y_{t-1};
     * where the prediction was fed, the gradient flows on into output t-1 */
    int fed = 0;
    if (t > 0)
        for (int b = 0; b < n->b; b++) {
            n->use_step[b] = use_truth[b * frames->shape[0] + t] ? 1 : 0;
            fed |= !n->use_step[b];
        }
    Tensor x = t > 0 ? T4(n, n->xin[t], n->C) : frame(frames, 0);
    if (!fed) {
        input_conv_backward(m, n, l, t, &x, dy_x, dbx, NULL);
        return;
    }
    Tensor dx = T4(n, n->dx_in, n->C), dy = T4(n, n->dy, n->C);
    op_fill(&dx, 0.0f);
    input_conv_backward(m, n, l, t, &x, dy_x, dbx, &dx);
    op_select_samples_backward(n->use_step, &dx, NULL, &dy);
}

/* ------------------------------------------------------------------------------------------------ */
/* Training step and evaluation */

static double convlstm_train_step(Model *m, const Tensor *frames, const unsigned char *use_truth,
                                  float *predictions) {
    ConvLSTM *n = m->impl;
    const int T = frames->shape[0], S = T - 1, centered = m->cfg.head == HEAD_CONV3D_CENTERED;
    n->b = frames->shape[1];
    if (centered)
        for (int b = 0; b < n->b; b++)
            for (int t = 1; t < T; t++)
                if (!use_truth[b * T + t])
                    return rr_error("head: conv3d_centered needs teacher forcing (its output at step t sees "
                                    "step t+1), but use_truth is 0 for sample %d, step %d; use "
                                    "conv3d_causal or conv2d with scheduled sampling", b, t);
    for (int i = 0; i < m->n_params; i++) op_fill(G(m, i), 0.0f);
    reg_plan_begin(n->reg, m->iteration, n->b, S); /* every mask of this call */
    const int64_t frame_elems = (int64_t)n->b * n->C * n->H * n->W;
    const double divisor = (double)S * (double)frame_elems;

    /* forward */
    for (int t = 0; t < S; t++) {
        Tensor x0 = frame(frames, 0);
        if (t > 0) {
            for (int b = 0; b < n->b; b++) n->use_step[b] = use_truth[b * T + t] ? 1 : 0;
            Tensor truth = frame(frames, t), pred = T4(n, n->y[t - 1], n->C);
            x0 = T4(n, n->xin[t], n->C);
            op_select_samples(n->use_step, &truth, &pred, &x0);
        }
        for (int l = 0; l < n->L; l++) layer_forward(m, n, l, t, &x0, 1);
        if (!centered) head_forward(m, n, t, S, 0);
    }
    if (centered)
        for (int t = 0; t < S; t++) head_forward(m, n, t, S, 1);
    double sse = 0.0;
    for (int t = 0; t < S; t++) {
        Tensor y = T4(n, n->y[t], n->C), target = frame(frames, t + 1);
        sse += mse_sum_forward(&y, &target);
        if (predictions) op_to_host(&y, predictions + t * frame_elems);
    }

    /* backward through time */
    for (int l = 0; l < n->L; l++) {
        Tensor dh = T4(n, n->dh[l], n->hidden[l]);
        op_fill(&dh, 0.0f);
    }
    Tensor dh_top = tensor_make(n->dh_top, n->device, 5,
                                (int[]){S, n->b, n->hidden[n->L - 1], n->H, n->W});
    Tensor dy = T4(n, n->dy, n->C);
    op_fill(&dh_top, 0.0f);
    op_fill(&dy, 0.0f);
    if (centered) /* teacher forcing: no gradient flows between outputs, so all heads first */
        for (int t = 0; t < S; t++) {
            Tensor y = T4(n, n->y[t], n->C), target = frame(frames, t + 1);
            mse_sum_backward(&y, &target, divisor, &dy);
            head_backward(m, n, t, S, 1);
            op_fill(&dy, 0.0f);
        }
    for (int t = S - 1; t >= 0; t--) {
        if (!centered) { /* dy already holds the gradient of y_t fed into step t+1 */
            Tensor y = T4(n, n->y[t], n->C), target = frame(frames, t + 1);
            mse_sum_backward(&y, &target, divisor, &dy);
            head_backward(m, n, t, S, 0);
            op_fill(&dy, 0.0f);
        }
        for (int l = n->L - 1; l >= 0; l--) layer_backward(m, n, l, t, S, frames, use_truth);
    }
    reg_plan_end(n->reg); /* weight drop: dL/dW = dL/dW̃ ⊙ M */
    return sse / divisor;
}

static double convlstm_evaluate(Model *m, const Tensor *frames, int n_in, int teacher_forced, float *out) {
    ConvLSTM *n = m->impl;
    const int T = frames->shape[0], S = T - 1;
    n->b = frames->shape[1];
    const int64_t frame_elems = (int64_t)n->b * n->C * n->H * n->W;
    /* teacher_forced (n_in = S): every step first, then the heads with the future tap, as
     * convlstm_train_step; else each output from its prefix (the Keras example's rollout) */
    double sse = 0.0;
    for (int t = 0; t < S; t++) {
        Tensor x0 = t < n_in ? frame(frames, t) : T4(n, n->y[t - 1], n->C);
        for (int l = 0; l < n->L; l++) layer_forward(m, n, l, t, &x0, 0);
        if (teacher_forced) continue;
        head_forward(m, n, t, S, 0);
        Tensor y = T4(n, n->y[t], n->C), target = frame(frames, t + 1);
        sse += mse_sum_forward(&y, &target);
        if (out) op_to_host(&y, out + t * frame_elems);
    }
    for (int t = 0; teacher_forced && t < S; t++) {
        head_forward(m, n, t, S, 1);
        Tensor y = T4(n, n->y[t], n->C), target = frame(frames, t + 1);
        sse += mse_sum_forward(&y, &target);
        if (out) op_to_host(&y, out + t * frame_elems);
    }
    return sse / ((double)S * (double)frame_elems);
}

/* ------------------------------------------------------------------------------------------------ */
/* Init, cost, teardown */

/* Glorot uniform draw of parameter i in checkpoint layout, converted to the internal layout. */
static void init_glorot(Model *m, int i, double fan_in, double fan_out, uint64_t seed, float *ckpt,
                        float *internal) {
    const Tensor *p = P(m, i);
    const float limit = (float)sqrt(6.0 / (fan_in + fan_out));
    const uint64_t stream = rr_stream(RR_TAG_INIT, (uint32_t)i, 0, 0);
    for (int64_t j = 0; j < p->count; j++)
        ckpt[j] = (2.0f * rr_rand_uniform(seed, stream, (uint64_t)j) - 1.0f) * limit;
    model_param_from_ckpt(m, i, ckpt, internal);
    op_from_host(internal, P(m, i));
}

static void convlstm_init(Model *m, uint64_t seed) {
    ConvLSTM *n = m->impl;
    int64_t most = 0;
    for (int i = 0; i < m->n_params; i++) most = P(m, i)->count > most ? P(m, i)->count : most;
    float *ckpt = rr_malloc(sizeof(float) * (size_t)most), *internal = rr_malloc(sizeof(float) * (size_t)most);
    for (int l = 0; l < n->L; l++) {
        const double kk = (double)n->kernel[l] * n->kernel[l], hid = n->hidden[l];
        init_glorot(m, n->p_wx[l], n->cin[l] * kk, 4 * hid * kk, seed, ckpt, internal);
        init_glorot(m, n->p_wh[l], hid * kk, 4 * hid * kk, seed, ckpt, internal);
        for (int j = 0; j < 4 * n->hidden[l]; j++) /* unit_forget_bias: gate f (rows n..2n) = 1 */
            internal[j] = (j >= n->hidden[l] && j < 2 * n->hidden[l]) ? 1.0f : 0.0f;
        op_from_host(internal, P(m, n->p_bx[l]));
        if (n->ln)
            for (int j = 0; j < 3; j++) { /* Ba et al.: gain 1, bias 0 */
                op_fill(P(m, n->p_ln_g[l][j]), 1.0f);
                op_fill(P(m, n->p_ln_b[l][j]), 0.0f);
            }
        if (n->has_bn[l]) {
            op_fill(P(m, n->p_gamma[l]), 1.0f);
            op_fill(P(m, n->p_beta[l]), 0.0f);
            op_fill(BUF(m, n->b_mean[l]), 0.0f);
            op_fill(BUF(m, n->b_var[l]), 1.0f);
            m->counters[n->b_count[l]] = 0;
        }
    }
    const double rf = (double)n->ntaps * n->head_k * n->head_k; /* receptive field of the head */
    init_glorot(m, n->p_head_w, n->hidden[n->L - 1] * rf, n->C * rf, seed, ckpt, internal);
    op_fill(P(m, n->p_head_b), 0.0f);
    free(ckpt);
    free(internal);
}

/* Multiply-adds of the convolutions × 2 for one sequence of seq_len frames (seq_len - 1 steps),
 * counting conv_h and every head tap at every step (the zero-padded ones at the edges included). */
static double convlstm_flops(const Model *m) {
    const ConvLSTM *n = m->impl;
    const double hw = (double)n->H * n->W;
    double f = 0.0;
    for (int l = 0; l < n->L; l++)
        f += hw * 4.0 * n->hidden[l] * (n->cin[l] + n->hidden[l]) * n->kernel[l] * n->kernel[l];
    f += hw * n->C * n->hidden[n->L - 1] * n->ntaps * n->head_k * n->head_k;
    return 2.0 * f * n->S;
}

static size_t convlstm_arena_bytes(const Model *m) {
    const ConvLSTM *n = m->impl;
    return n->act.size + (n->reg ? reg_plan_bytes(n->reg) : 0);
}

static void convlstm_destroy(void *impl) {
    ConvLSTM *n = impl;
    arena_free(&n->act);
    free(n->ls);
    free(n->xin);
    free(n->y);
    free(n->use_step);
    reg_plan_free(n->reg);
    free(n);
}

static const ModelKindOps convlstm_ops = {convlstm_init, convlstm_train_step, convlstm_evaluate,
                                          convlstm_flops, convlstm_arena_bytes, convlstm_destroy};

/* ------------------------------------------------------------------------------------------------ */
/* Construction */

static int valid_act(Activation a) { return a >= ACT_IDENTITY && a <= ACT_HARD_SIGMOID; }

static int check_config(const ModelConfig *c) {
    if (c->num_layers < 1 || c->num_layers > MODEL_MAX_LAYERS)
        return rr_error("layers: %d layers (the convlstm model takes 1..%d)", c->num_layers, MODEL_MAX_LAYERS);
    for (int l = 0; l < c->num_layers; l++) {
        if (c->hidden[l] < 1 || c->hidden[l] > 65536)
            return rr_error("layers: layer %d has %d channels (must be 1..65536)", l, c->hidden[l]);
        if (c->kernel[l] < 1 || c->kernel[l] % 2 == 0 || c->kernel[l] > 63)
            return rr_error("kernels: layer %d has kernel %d (must be odd, 1..63)", l, c->kernel[l]);
    }
    if (c->head == HEAD_LINEAR)
        return rr_error("head: 'linear' is not supported by the convlstm model (conv2d, conv3d_causal, "
                        "conv3d_centered)");
    if (c->head != HEAD_CONV2D && c->head != HEAD_CONV3D_CAUSAL && c->head != HEAD_CONV3D_CENTERED)
        return rr_error("head: unknown head kind %d", (int)c->head);
    if (c->head_kernel < 1 || c->head_kernel % 2 == 0 || c->head_kernel > 63)
        return rr_error("head_kernel: %d (must be odd, 1..63)", c->head_kernel);
    if (!valid_act(c->cell_act)) return rr_error("cell_act: unknown activation %d", (int)c->cell_act);
    if (!valid_act(c->gate_act)) return rr_error("gate_act: unknown activation %d", (int)c->gate_act);
    if (!valid_act(c->head_act)) return rr_error("head_act: unknown activation %d", (int)c->head_act);
    if (c->img_channels < 1) return rr_error("img_channels: %d (must be >= 1)", c->img_channels);
    if (c->patch < 1) return rr_error("patch: %d (must be >= 1)", c->patch);
    if (c->image_size < 1 || c->image_size % c->patch != 0)
        return rr_error("patch: %d does not divide image_size %d", c->patch, c->image_size);
    const float rates[5] = {c->dropout, c->rec_dropout, c->var_dropout_x, c->var_dropout_h, c->weight_drop};
    static const char *const rate_keys[5] = {"dropout", "rec_dropout", "var_dropout_x", "var_dropout_h", "weight_drop"};
    if (c->zoneout_m != 0.0f)
        return rr_error("zoneout_m: convlstm has no spatio-temporal memory m (use zoneout_c / zoneout_h)");
    if (!(c->zoneout_c >= 0.0f && c->zoneout_c <= 1.0f))
        return rr_error("zoneout_c: %g (a zoneout probability must be in [0, 1])", (double)c->zoneout_c);
    if (!(c->zoneout_h >= 0.0f && c->zoneout_h <= 1.0f))
        return rr_error("zoneout_h: %g (a zoneout probability must be in [0, 1])", (double)c->zoneout_h);
    for (int i = 0; i < 5; i++)
        if (!(rates[i] >= 0.0f && rates[i] < 1.0f))
            return rr_error("%s: %g (a drop rate must be in [0, 1))", rate_keys[i], (double)rates[i]);
    if (c->batchnorm && c->num_layers > 1) {
        if (!(c->bn_momentum >= 0.0f && c->bn_momentum <= 1.0f))
            return rr_error("bn_momentum: %g (must be in [0, 1], PyTorch convention)", (double)c->bn_momentum);
        if (!(c->bn_eps > 0.0f)) return rr_error("bn_eps: %g (must be > 0)", (double)c->bn_eps);
    }
    return 0;
}

int convlstm_create(Model *m) {
    const ModelConfig *cfg = &m->cfg;
    if (check_config(cfg)) return -1;
    ConvLSTM *n = rr_calloc(1, sizeof *n);
    m->impl = n;
    m->ops = &convlstm_ops;
    n->L = cfg->num_layers;
    n->C = cfg->img_channels * cfg->patch * cfg->patch;
    n->H = n->W = cfg->image_size / cfg->patch;
    n->S = m->seq_len - 1;
    n->B = n->b = m->batch;
    n->device = m->device;
    n->ntaps = cfg->head == HEAD_CONV2D ? 1 : 3;
    n->head_k = cfg->head_kernel;
    n->ln = cfg->layer_norm != 0;

    char name[MODEL_NAME_LEN];
    static const char *const ln_names[3] = {"ln_x", "ln_h", "ln_c"};
    for (int l = 0; l < n->L; l++) {
        const int hid = cfg->hidden[l], k = cfg->kernel[l];
        n->hidden[l] = hid;
        n->kernel[l] = k;
        n->cin[l] = l == 0 ? n->C : cfg->hidden[l - 1];
        n->has_bn[l] = cfg->batchnorm && l < n->L - 1;
        snprintf(name, sizeof name, "cells.%d.conv_x.weight", l);
        n->p_wx[l] = model_add_param(m, name, 4, (int[]){4 * hid, n->cin[l], k, k}, NULL);
        snprintf(name, sizeof name, "cells.%d.conv_x.bias", l);
        n->p_bx[l] = model_add_param(m, name, 1, (int[]){4 * hid}, NULL);
        snprintf(name, sizeof name, "cells.%d.conv_h.weight", l);
        n->p_wh[l] = model_add_param(m, name, 4, (int[]){4 * hid, hid, k, k}, NULL);
        for (int j = 0; n->ln && j < 3; j++) { /* LN of conv_x (4n), conv_h (4n), c (n) */
            const int ch = j < 2 ? 4 * hid : hid;
            snprintf(name, sizeof name, "cells.%d.%s.weight", l, ln_names[j]);
            n->p_ln_g[l][j] = model_add_param(m, name, 1, &ch, NULL);
            snprintf(name, sizeof name, "cells.%d.%s.bias", l, ln_names[j]);
            n->p_ln_b[l][j] = model_add_param(m, name, 1, &ch, NULL);
        }
    }
    for (int l = 0; l < n->L; l++) {
        if (!n->has_bn[l]) continue;
        snprintf(name, sizeof name, "bns.%d.weight", l);
        n->p_gamma[l] = model_add_param(m, name, 1, &n->hidden[l], NULL);
        snprintf(name, sizeof name, "bns.%d.bias", l);
        n->p_beta[l] = model_add_param(m, name, 1, &n->hidden[l], NULL);
        snprintf(name, sizeof name, "bns.%d.running_mean", l);
        n->b_mean[l] = model_add_buffer(m, name, 1, &n->hidden[l]);
        snprintf(name, sizeof name, "bns.%d.running_var", l);
        n->b_var[l] = model_add_buffer(m, name, 1, &n->hidden[l]);
        snprintf(name, sizeof name, "bns.%d.num_batches_tracked", l);
        n->b_count[l] = model_add_counter(m, name);
    }
    const int ntop = n->hidden[n->L - 1], hk = cfg->head_kernel;
    if (n->ntaps == 1) {
        n->p_head_w = model_add_param(m, "head.weight", 4, (int[]){n->C, ntop, hk, hk}, NULL);
    } else { /* internal tap-major (3, C, n_top, k, k); checkpoint (C, n_top, 3, k, k) */
        n->p_head_w = model_add_param(m, "head.weight", 5, (int[]){3, n->C, ntop, hk, hk},
                                      (int[]){1, 2, 0, 3, 4});
    }
    n->p_head_b = model_add_param(m, "head.bias", 1, &n->C, NULL);
    if (model_allocate_tensors(m)) return -1;
    RegPlanShape rs = {.layers = n->L, .steps = n->S, .batch = n->B, .height = n->H, .width = n->W,
                       .gate_blocks = 4, .candidates = 1};
    for (int l = 0; l < n->L; l++) {
        rs.in_channels[l] = n->cin[l], rs.hidden[l] = n->hidden[l];
        rs.kernel[l] = P(m, n->p_wh[l]), rs.kernel_grad[l] = G(m, n->p_wh[l]);
    }
    if (!(n->reg = reg_plan_create(cfg, &rs, n->device))) return -1;
    n->zone_c = reg_plan_uses(n->reg, REG_USE_ZONEOUT_C);
    n->zone_h = reg_plan_uses(n->reg, REG_USE_ZONEOUT_H);
    n->split_cell = reg_plan_uses(n->reg, REG_USE_CANDIDATE) || n->ln || n->zone_c || n->zone_h;

    n->ls = rr_calloc((size_t)n->S * n->L, sizeof *n->ls);
    n->xin = rr_calloc((size_t)n->S, sizeof *n->xin);
    n->y = rr_calloc((size_t)n->S, sizeof *n->y);
    n->use_step = rr_calloc((size_t)n->B, 1);
    arena_init_plan(&n->act, n->device);
    plan(n);
    if (arena_allocate(&n->act)) return -1;
    arena_rewind(&n->act);
    plan(n);
    convlstm_init(m, 0);
    return 0;
}

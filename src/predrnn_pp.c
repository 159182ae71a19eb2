/* predrnn_pp.c — the PredRNN++ model kind (model = "predrnn_pp", predrnn_pp.h): its parameters in the
 * model registry (model_internal.h), one planned activation arena, and the forward / backward passes
 * through time built only from ops (ops.h conv2d, layernorm.h, causal_lstm_cell.h, loss and elementwise
 * ops), behind the ModelKindOps table that model.c dispatches to. Structure of one step t (official
 * Yunbo426/predrnn-pp nets/predrnn_pp.py):
 *   x_0 = frame t (or the model's own prediction of it)     layer 0: (h, c, m) = cell_0(x_0, h, c, m_top(t-1))
 *   z_t = GHU(h^0_t, z_{t-1})                                layer 1: cell_1(z_t, h, c, m^0_t)
 *   layer l ≥ 2: cell_l(h^{l-1}_t, h, c, m^{l-1}_t)          prediction of frame t+1 = head(h^{L-1}_t)
 * The head is the official 1×1 "back_to_pixel" conv, then head_act: identity (official, the default of
 * experiments/configs/predrnn_pp.conf) or, as a study option, sigmoid / relu, which can reach an exact 0
 * background (ours, not in the paper); with identity the conv writes the prediction directly.
 * Backward runs the steps in reverse; gradients that flow into "previous step" states are collected
 * in a second set of carrier buffers (dH, dC, dZ swap each step) and the zig-zag memory gradient runs
 * in one chain through two buffers (dM), in exactly the reverse order of the forward memory path.
 * Regularizers: the plan of src/regularizers.c (masks and hooks); the cell calls its hooks where it
 * reads x and h_{t-1} (reg_plan_input, reg_plan_recurrent: dropout and one variational mask per conv
 * input), masks g and gg (reg_plan_candidate), carries c, h, m (reg_plan_state, zoneout), convolves
 * with conv_h's kernel (reg_plan_kernel, weight drop), and the head reads reg_plan_output. */
#include "predrnn_pp.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "causal_lstm_cell.h"
#include "common.h"
#include "layernorm.h"
#include "model_internal.h"
#include "ops.h"
#include "regularizers.h"
#include "rng.h"

/* The cell's convolutions, in parameter order; CELL_LN of them (all but memory_reduce) have an LN. */
enum { CX, CH, CC, CM, CC2M, COM, CMR, CELL_CONVS };
#define CELL_LN 6
static const char *const cell_conv_name[CELL_CONVS] = {"conv_x",   "conv_h",  "conv_c",       "conv_m",
                                                      "conv_c2m", "conv_om", "memory_reduce"};
static const char *const cell_ln_name[CELL_LN] = {"ln_x", "ln_h", "ln_c", "ln_m", "ln_c2m", "ln_om"};
static const int cell_conv_blocks[CELL_CONVS] = {7, 4, 3, 3, 4, 1, 1}; /* output channels / n */
enum { GZ, GX };                                                      /* GHU convs: conv_z, conv_x */

typedef struct {
    int w, b;          /* registry indices of kernel and bias */
    int g, o;          /* LN gain and offset, -1 without LN */
    int cin, cout, k;
    float bound;       /* init: the kernel is uniform in ±bound, the bias 0 */
} ConvUnit;

/* What one cell keeps of step t for the backward pass. */
typedef struct {
    Tensor pre[CELL_LN];                    /* conv outputs before LN: x 7n, h 4n, c 3n, m 3n, c2m 4n, om n */
    Tensor mean[CELL_LN], invstd[CELL_LN];  /* LN statistics (B) (empty without LN) */
    Tensor gates1, c, gates2, m, gates3, h; /* causal_lstm_cell.h saved tensors and the new states */
    Tensor hat[3];     /* zoneout: the cell's new c, h, m before zoneout (= c, h, m without it) */
    Tensor bn_out, bn_mean, bn_invstd; /* batchnorm (layers but the last): BN(h) (B, n), statistics (n) */
} CellStep;

enum { ZC, ZH, ZM }; /* zoneout states */

typedef struct {
    Tensor pre[2];                          /* conv_z(z_{t-1}), conv_x(h^0_t) before LN, 2n each */
    Tensor mean[2], invstd[2];
    Tensor gates, z;
} GhuStep;

typedef struct {
    Model *model;      /* the owner: parameters, gradients, buffers and counters live in its registry */
    ModelConfig cfg;
    int B, T;          /* batch and sequence length of the current activation layout */
    int B_max, T_max;  /* those of predrnn_pp_create: the arena is planned for them */
    int C, S, L, device;
    int n[MODEL_MAX_LAYERS], n_in[MODEL_MAX_LAYERS], cx[MODEL_MAX_LAYERS], nmax;
    /* parameters (registry indices) */
    ConvUnit cell[MODEL_MAX_LAYERS][CELL_CONVS];
    ConvUnit ghu[2];
    ConvUnit head;
    Arena work;
    /* activations (work arena) */
    CellStep *steps;   /* [(T-1) · L], step t layer l at t·L + l */
    GhuStep *gsteps;   /* [T-1] */
    Tensor xin;        /* (T-1, B, C, S, S) the input each step actually read */
    Tensor pred;       /* (T-1, B, C, S, S) predictions of frames 1..T-1 */
    float *zeros;      /* B·max(nmax, C)·S² zeros: the states before step 0 */
    float *ln_out[CELL_LN]; /* forward scratch: LN outputs of one cell step (7, 4, 3, 3, 4, 1 × nmax) */
    float *cm, *cell_out;   /* [c, m] (2·nmax) and memory_reduce output (nmax) */
    float *conv_scratch;
    /* backward scratch and gradient carriers */
    float *dcc[CELL_LN];    /* gradients of the post-LN conv outputs (same sizes as ln_out) */
    float *dpre;            /* pre-LN gradient of one conv (7·nmax) */
    float *dcell, *dcm, *dghu;
    float *dH[2][MODEL_MAX_LAYERS], *dC[2][MODEL_MAX_LAYERS], *dM[2], *dZ[2];
    Tensor dpred, dxin;
    Tensor head_z, head_dz; /* head_act other than identity: the head conv's output and its gradient
                             * (B, C, S, S), one step; empty with identity */
    /* host */
    unsigned char *col;        /* (B) use_truth column of one step */
    unsigned char *eval_truth; /* (B·T) */
    int64_t iteration;         /* Model.iteration of the current training call: keys the regularizer masks */
    RegPlan *reg;              /* the regularizers: masks and hooks (regularizers.h) */
    int zone[3];               /* zoneout of c, h, m: the cell's new values kept apart (hat) */
    int training;              /* the current call trains (batch norm's statistics) */
    /* batch norm between layers: registry indices of the parameters bns.L.weight / .bias, the buffers
     * running_mean / running_var and the counter num_batches_tracked */
    int has_bn[MODEL_MAX_LAYERS], p_gamma[MODEL_MAX_LAYERS], p_beta[MODEL_MAX_LAYERS];
    int b_mean[MODEL_MAX_LAYERS], b_var[MODEL_MAX_LAYERS], b_count[MODEL_MAX_LAYERS];
    float *dbn;                /* gradient of one BN output (B, max n) */
} PredRNNpp;

/* Views of registry tensors by index: value, gradient, buffer. */
#define P(i) (&m->model->params[i].value)
#define G(i) (&m->model->params[i].grad)
#define BUF(i) (&m->model->buffers[i].value)

/* ------------------------------------------------------------------------------------------------ */
/* Parameters */

/* A parameter named by a printf format, in the model's registry; returns its index. */
static int add_param(PredRNNpp *m, int ndim, const int *shape, const char *fmt, ...) RR_PRINTF(4, 5);
static int add_param(PredRNNpp *m, int ndim, const int *shape, const char *fmt, ...) {
    char name[MODEL_NAME_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return model_add_param(m->model, name, ndim, shape, NULL);
}

/* A convolution: kernel `base.weight` (cout, cin, k, k) and bias `base.bias` (cout). */
static ConvUnit add_conv(PredRNNpp *m, const char *base, int cin, int cout, int k, int glorot) {
    ConvUnit u = {.cin = cin, .cout = cout, .k = k, .g = -1, .o = -1};
    int wshape[4] = {cout, cin, k, k};
    /* official: tf.layers.conv2d(kernel_initializer=uniform(-0.001, 0.001)) in the cells and the GHU,
     * the default glorot_uniform for memory_reduce and back_to_pixel; fans include the receptive field */
    u.bound = glorot ? sqrtf(6.0f / (float)((cin + cout) * k * k)) : 0.001f;
    u.w = add_param(m, 4, wshape, "%s.weight", base);
    u.b = add_param(m, 1, &cout, "%s.bias", base);
    return u;
}

/* The layer norm after a convolution: gain `base.weight` and offset `base.bias` (cout). */
static void add_ln(PredRNNpp *m, ConvUnit *u, const char *base) {
    u->g = add_param(m, 1, &u->cout, "%s.weight", base);
    u->o = add_param(m, 1, &u->cout, "%s.bias", base);
}

/* Parameter list in the reference module's registration order (predrnn_pp.h). */
static void build_params(PredRNNpp *m) {
    char base[48];
    for (int l = 0; l < m->L; l++) {
        const int n = m->n[l], k = m->cfg.kernel[l];
        const int cin[CELL_CONVS] = {m->cx[l], n, n, m->n_in[l], n, n, 2 * n};
        for (int j = 0; j < CELL_CONVS; j++) {
            snprintf(base, sizeof base, "cells.%d.%s", l, cell_conv_name[j]);
            m->cell[l][j] = add_conv(m, base, cin[j], cell_conv_blocks[j] * n, j == CMR ? 1 : k, j == CMR);
        }
        if (m->cfg.layer_norm)
            for (int j = 0; j < CELL_LN; j++) {
                snprintf(base, sizeof base, "cells.%d.%s", l, cell_ln_name[j]);
                add_ln(m, &m->cell[l][j], base);
            }
    }
    if (m->cfg.ghu) {
        const int n = m->n[0], k = m->cfg.kernel[0];
        m->ghu[GZ] = add_conv(m, "ghu.conv_z", n, 2 * n, k, 0);
        m->ghu[GX] = add_conv(m, "ghu.conv_x", n, 2 * n, k, 0);
        if (m->cfg.layer_norm) {
            add_ln(m, &m->ghu[GZ], "ghu.ln_z");
            add_ln(m, &m->ghu[GX], "ghu.ln_x");
        }
    }
    /* batch norm between layers (as convlstm.c): after every layer but the last */
    for (int l = 0; l < m->L; l++) {
        m->has_bn[l] = m->cfg.batchnorm && l < m->L - 1;
        if (!m->has_bn[l]) continue;
        m->p_gamma[l] = add_param(m, 1, &m->n[l], "bns.%d.weight", l);
        m->p_beta[l] = add_param(m, 1, &m->n[l], "bns.%d.bias", l);
        char name[MODEL_NAME_LEN];
        snprintf(name, sizeof name, "bns.%d.running_mean", l);
        m->b_mean[l] = model_add_buffer(m->model, name, 1, &m->n[l]);
        snprintf(name, sizeof name, "bns.%d.running_var", l);
        m->b_var[l] = model_add_buffer(m->model, name, 1, &m->n[l]);
        snprintf(name, sizeof name, "bns.%d.num_batches_tracked", l);
        m->b_count[l] = model_add_counter(m->model, name);
    }
    /* back_to_pixel: tf.layers.conv2d(h, filters=C, kernel_size=1), bias, linear */
    m->head = add_conv(m, "head", m->n[m->L - 1], m->C, 1, 1);
}

/* ------------------------------------------------------------------------------------------------ */
/* Activation arena: the same calls run once to plan (data NULL, B_max and T_max) and once to hand out
 * memory. A call with a smaller batch or shorter sequence lays the views out again, packed for its
 * (B, T), inside the same memory (every view is then no larger than planned). */

static Tensor take4(Arena *a, int B, int c, int S) { return arena_tensor4(a, B, c, S, S); }

static void layout_work(PredRNNpp *m) {
    Arena *a = &m->work;
    const int B = m->B, S = m->S, T1 = m->T - 1, nmax = m->nmax, ln = m->cfg.layer_norm;
    const int64_t plane = (int64_t)B * S * S;
    int shape5[5] = {T1, B, m->C, S, S};
    m->xin = arena_tensor(a, 5, shape5);
    m->pred = arena_tensor(a, 5, shape5);
    for (int t = 0; t < T1; t++)
        for (int l = 0; l < m->L; l++) {
            CellStep *s = &m->steps[t * m->L + l];
            const int n = m->n[l];
            for (int j = 0; j < CELL_LN; j++) {
                s->pre[j] = take4(a, B, cell_conv_blocks[j] * n, S);
                s->mean[j] = arena_tensor(a, 1, (int[]){ln ? B : 0});
                s->invstd[j] = arena_tensor(a, 1, (int[]){ln ? B : 0});
            }
            s->gates1 = take4(a, B, 3 * n, S);
            s->c = take4(a, B, n, S);
            s->gates2 = take4(a, B, 4 * n, S);
            s->m = take4(a, B, n, S);
            s->gates3 = take4(a, B, 2 * n, S);
            s->h = take4(a, B, n, S);
            const Tensor *state[3] = {&s->c, &s->h, &s->m};
            for (int z = 0; z < 3; z++) s->hat[z] = m->zone[z] ? take4(a, B, n, S) : *state[z];
            s->bn_out = take4(a, m->has_bn[l] ? B : 0, n, S);
            s->bn_mean = arena_tensor(a, 1, (int[]){m->has_bn[l] ? n : 0});
            s->bn_invstd = arena_tensor(a, 1, (int[]){m->has_bn[l] ? n : 0});
        }
    m->dbn = arena_take(a, m->cfg.batchnorm ? plane * nmax : 0);
    if (m->cfg.ghu)
        for (int t = 0; t < T1; t++) {
            GhuStep *g = &m->gsteps[t];
            const int n = m->n[0];
            for (int j = 0; j < 2; j++) {
                g->pre[j] = take4(a, B, 2 * n, S);
                g->mean[j] = arena_tensor(a, 1, (int[]){ln ? B : 0});
                g->invstd[j] = arena_tensor(a, 1, (int[]){ln ? B : 0});
            }
            g->gates = take4(a, B, 2 * n, S);
            g->z = take4(a, B, n, S);
        }
    m->zeros = arena_take(a, plane * (nmax > m->C ? nmax : m->C));
    for (int j = 0; j < CELL_LN; j++) {
        m->ln_out[j] = arena_take(a, plane * cell_conv_blocks[j] * nmax);
        m->dcc[j] = arena_take(a, plane * cell_conv_blocks[j] * nmax);
    }
    m->cm = arena_take(a, plane * 2 * nmax);
    m->cell_out = arena_take(a, plane * nmax);
    m->dpre = arena_take(a, plane * 7 * nmax);
    m->dcell = arena_take(a, plane * nmax);
    m->dcm = arena_take(a, plane * 2 * nmax);
    m->dghu = arena_take(a, plane * 2 * m->n[0]);
    for (int i = 0; i < 2; i++) {
        for (int l = 0; l < m->L; l++) {
            m->dH[i][l] = arena_take(a, plane * m->n[l]);
            m->dC[i][l] = arena_take(a, plane * m->n[l]);
        }
        m->dM[i] = arena_take(a, plane * nmax);
        m->dZ[i] = arena_take(a, plane * m->n[0]);
    }
    m->dpred = take4(a, B, m->C, S);
    m->dxin = take4(a, B, m->C, S);
    const int head_act = m->cfg.head_act != ACT_IDENTITY;
    m->head_z = take4(a, head_act ? B : 0, m->C, S);
    m->head_dz = take4(a, head_act ? B : 0, m->C, S);
    /* im2col scratch: the largest Cin·k·k·S² over all convolutions */
    int64_t scratch = 0;
    for (int i = 0; i < m->model->n_params; i++) {
        const Tensor *w = P(i);
        if (w->ndim == 4) {
            Tensor x = tensor4(NULL, m->device, B, w->shape[1], S, S); /* shape only */
            int64_t s = conv2d_scratch_floats(&x, w->shape[2]);
            if (s > scratch) scratch = s;
        }
    }
    m->conv_scratch = arena_take(a, scratch);
}

/* ------------------------------------------------------------------------------------------------ */
/* Creation */

static int check_config(const ModelConfig *cfg) {
    if (cfg->num_layers < 1 || cfg->num_layers > MODEL_MAX_LAYERS)
        return rr_error("layers: predrnn_pp needs 1 to %d layers, got %d", MODEL_MAX_LAYERS, cfg->num_layers);
    for (int l = 0; l < cfg->num_layers; l++) {
        if (cfg->hidden[l] < 1 || cfg->hidden[l] > 4096)
            return rr_error("layers: hidden size %d of layer %d is outside 1..4096", cfg->hidden[l], l);
        if (cfg->kernel[l] < 1 || cfg->kernel[l] % 2 == 0 || cfg->kernel[l] > 15)
            return rr_error("kernels: kernel %d of layer %d must be odd, 1..15", cfg->kernel[l], l);
    }
    if (cfg->ghu && cfg->num_layers < 2)
        return rr_error("ghu: the gradient highway unit sits between layers 1 and 2; it needs at least 2 "
                        "layers, got %d", cfg->num_layers);
    if (cfg->head != HEAD_LINEAR)
        return rr_error("head: predrnn_pp has the official linear 1x1 head (head = linear), got kind %d",
                        (int)cfg->head);
    if (cfg->head_kernel != 0 && cfg->head_kernel != 1)
        return rr_error("head_kernel: predrnn_pp's linear head is 1x1, got %d", cfg->head_kernel);
    if (cfg->head_act != ACT_IDENTITY && cfg->head_act != ACT_SIGMOID && cfg->head_act != ACT_RELU)
        return rr_error("head_act: predrnn_pp's head takes identity (official), sigmoid or relu, got %s",
                        activation_name(cfg->head_act));
    if (cfg->batchnorm && cfg->num_layers > 1) {
        if (!(cfg->bn_momentum >= 0.0f && cfg->bn_momentum <= 1.0f))
            return rr_error("batchnorm: bn_momentum %g must be in [0, 1] (PyTorch convention)", (double)cfg->bn_momentum);
        if (!(cfg->bn_eps > 0.0f)) return rr_error("batchnorm: bn_eps %g must be > 0", (double)cfg->bn_eps);
    }
    const float rates[5] = {cfg->dropout, cfg->rec_dropout, cfg->var_dropout_x, cfg->var_dropout_h, cfg->weight_drop};
    static const char *const rate_keys[5] = {"dropout", "rec_dropout", "var_dropout_x", "var_dropout_h", "weight_drop"};
    for (int i = 0; i < 5; i++)
        if (!(rates[i] >= 0.0f && rates[i] < 1.0f))
            return rr_error("%s: %g (a drop rate must be in [0, 1))", rate_keys[i], (double)rates[i]);
    const float zr[3] = {cfg->zoneout_c, cfg->zoneout_h, cfg->zoneout_m};
    static const char *const zone_keys[3] = {"zoneout_c", "zoneout_h", "zoneout_m"};
    for (int i = 0; i < 3; i++)
        if (!(zr[i] >= 0.0f && zr[i] <= 1.0f))
            return rr_error("%s: %g (a zoneout probability must be in [0, 1])", zone_keys[i], (double)zr[i]);
    for (int l = 1; cfg->zoneout_m > 0.0f && l < cfg->num_layers; l++)
        if (cfg->hidden[l] != cfg->hidden[0])
            return rr_error("zoneout_m: the memory keeps its incoming value, so every layer must have the same "
                            "width (layers %d and %d have %d and %d channels)", 0, l, cfg->hidden[0], cfg->hidden[l]);
    if (cfg->patch < 1 || cfg->image_size < 1 || cfg->image_size % cfg->patch != 0)
        return rr_error("patch: image size %d is not a positive multiple of patch %d", cfg->image_size,
                        cfg->patch);
    if (cfg->img_channels < 1) return rr_error("img_channels: must be positive, got %d", cfg->img_channels);
    return 0;
}

/* The kind's functions for model.c (defined below). */
static void pp_init(Model *model, uint64_t seed);
static double pp_train_step(Model *model, const Tensor *frames, const unsigned char *use_truth,
                            float *predictions);
static double pp_evaluate(Model *model, const Tensor *frames, int n_in, int teacher_forced, float *out);
static double pp_flops(const Model *model);
static size_t pp_arena_bytes(const Model *model);
static void pp_destroy(void *impl);
static const ModelKindOps predrnn_pp_ops = {pp_init, pp_train_step, pp_evaluate, pp_flops, pp_arena_bytes,
                                            pp_destroy};

int predrnn_pp_create(Model *model) {
    const ModelConfig *cfg = &model->cfg;
    if (check_config(cfg)) return -1;
    PredRNNpp *m = rr_calloc(1, sizeof *m);
    model->impl = m;
    model->ops = &predrnn_pp_ops;
    m->model = model;
    m->cfg = *cfg;
    m->B = m->B_max = model->batch;
    m->T = m->T_max = model->seq_len;
    m->L = cfg->num_layers;
    m->device = model->device;
    m->C = cfg->patch * cfg->patch * cfg->img_channels;
    m->S = cfg->image_size / cfg->patch;
    for (int l = 0; l < m->L; l++) {
        m->n[l] = cfg->hidden[l];
        if (m->n[l] > m->nmax) m->nmax = m->n[l];
        /* nets/predrnn_pp.py: num_hidden_in = num_hidden[-1] for layer 0 (memory from the top layer of
         * the previous step), num_hidden[i-1] otherwise; x: frame, z (or h^0), h^{l-1} */
        m->n_in[l] = l == 0 ? cfg->hidden[m->L - 1] : cfg->hidden[l - 1];
        m->cx[l] = l == 0 ? m->C : cfg->hidden[l - 1];
    }
    build_params(m);
    if (model_allocate_tensors(model)) return -1; /* zeroed: model_init gives the initial values */
    RegPlanShape rs = {.layers = m->L, .steps = m->T_max - 1, .batch = m->B_max, .height = m->S, .width = m->S,
                       .gate_blocks = 1, .candidates = 2};
    for (int l = 0; l < m->L; l++) {
        rs.in_channels[l] = m->cx[l], rs.hidden[l] = m->n[l];
        rs.kernel[l] = P(m->cell[l][CH].w), rs.kernel_grad[l] = G(m->cell[l][CH].w);
    }
    if (!(m->reg = reg_plan_create(cfg, &rs, m->device))) return -1;
    for (int z = 0; z < 3; z++) m->zone[z] = reg_plan_uses(m->reg, REG_USE_ZONEOUT_C + z);

    m->steps = rr_calloc((size_t)(m->T - 1) * m->L, sizeof *m->steps);
    m->gsteps = rr_calloc((size_t)(m->T - 1), sizeof *m->gsteps);
    arena_init_plan(&m->work, m->device);
    layout_work(m);
    if (arena_allocate(&m->work)) return -1;
    arena_rewind(&m->work);
    layout_work(m);
    m->col = rr_calloc((size_t)m->B_max, 1);
    m->eval_truth = rr_calloc((size_t)m->B_max * m->T_max, 1);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Initialisation and cost */

/* A convolution unit's init: kernel uniform in ±bound (stream = its registry index), bias 0, LN gain 1
 * and offset 0. `host` holds at least the kernel's count floats. */
static void init_conv(PredRNNpp *m, const ConvUnit *u, uint64_t seed, float *host) {
    Tensor *w = P(u->w);
    const uint64_t stream = rr_stream(RR_TAG_INIT, (uint32_t)u->w, 0, 0);
    const float a = u->bound;
    for (int64_t j = 0; j < w->count; j++) host[j] = -a + 2.0f * a * rr_rand_uniform(seed, stream, (uint64_t)j);
    op_from_host(host, w);
    op_fill(P(u->b), 0.0f);
    if (u->g >= 0) {
        op_fill(P(u->g), 1.0f);
        op_fill(P(u->o), 0.0f);
    }
}

static void pp_init(Model *model, uint64_t seed) {
    PredRNNpp *m = model->impl;
    int64_t maxc = 0;
    for (int i = 0; i < model->n_params; i++) maxc = P(i)->count > maxc ? P(i)->count : maxc;
    float *host = rr_malloc(sizeof(float) * (size_t)maxc);
    for (int l = 0; l < m->L; l++)
        for (int j = 0; j < CELL_CONVS; j++) init_conv(m, &m->cell[l][j], seed, host);
    for (int j = 0; m->cfg.ghu && j < 2; j++) init_conv(m, &m->ghu[j], seed, host);
    init_conv(m, &m->head, seed, host);
    for (int l = 0; l < m->L; l++) {
        if (!m->has_bn[l]) continue;
        op_fill(P(m->p_gamma[l]), 1.0f);
        op_fill(P(m->p_beta[l]), 0.0f);
        op_fill(BUF(m->b_mean[l]), 0.0f);
        op_fill(BUF(m->b_var[l]), 1.0f);
        model->counters[m->b_count[l]] = 0;
    }
    for (int i = 0; i < model->n_params; i++) op_fill(G(i), 0.0f);
    free(host);
}

/* 2 × the multiply-adds of all convolutions (cells, GHU, memory_reduce, head) over the T-1 steps of
 * one sequence of seq_len frames; pointwise work and layer norms are not counted. */
static double pp_flops(const Model *model) {
    const PredRNNpp *m = model->impl;
    double macs = 0.0; /* per step, one sequence */
    const double px = (double)m->S * m->S;
    for (int i = 0; i < model->n_params; i++) {
        const Tensor *w = P(i);
        if (w->ndim == 4) macs += (double)w->count * px; /* Cout·Cin·k·k per pixel */
    }
    return 2.0 * macs * (m->T_max - 1);
}

static size_t pp_arena_bytes(const Model *model) {
    const PredRNNpp *m = model->impl;
    return m->work.size + (m->reg ? reg_plan_bytes(m->reg) : 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Views */

static Tensor v4(const PredRNNpp *m, float *p, int c) { return tensor4(p, m->device, m->B, c, m->S, m->S); }

static Tensor step_of(const Tensor *seq, int t) {
    Tensor s = tensor_slice0(seq, t, 1);
    return tensor_reshape(&s, 4, s.shape + 1);
}

static Tensor zeros_of(PredRNNpp *m, int c) { return v4(m, m->zeros, c); }

/* What the next layer (or the GHU) reads of layer l's h at step t: BN(h) with batchnorm, else h. */
static Tensor h_out(PredRNNpp *m, int l, int t) {
    CellStep *s = &m->steps[t * m->L + l];
    return m->has_bn[l] ? s->bn_out : s->h;
}

/* Inputs of cell l at step t. */
static Tensor cell_x(PredRNNpp *m, int l, int t) {
    if (l == 0) return step_of(&m->xin, t);
    if (l == 1 && m->cfg.ghu) return m->gsteps[t].z;
    return h_out(m, l - 1, t);
}
static Tensor cell_hprev(PredRNNpp *m, int l, int t) {
    return t > 0 ? m->steps[(t - 1) * m->L + l].h : zeros_of(m, m->n[l]);
}
static Tensor cell_cprev(PredRNNpp *m, int l, int t) {
    return t > 0 ? m->steps[(t - 1) * m->L + l].c : zeros_of(m, m->n[l]);
}
static Tensor cell_min(PredRNNpp *m, int l, int t) {
    if (l > 0) return m->steps[t * m->L + l - 1].m;
    return t > 0 ? m->steps[(t - 1) * m->L + m->L - 1].m : zeros_of(m, m->n_in[0]);
}
static Tensor ghu_zprev(PredRNNpp *m, int t) { return t > 0 ? m->gsteps[t - 1].z : zeros_of(m, m->n[0]); }

/* ------------------------------------------------------------------------------------------------ */
/* Convolution (+ LN) units */

/* The kernel a unit convolves with: its parameter, or for conv_h what reg_plan_kernel makes of it
 * (weight drop; the gradient still goes to the parameter's slot and reg_plan_end masks it). */
static Tensor unit_w(const PredRNNpp *m, const ConvUnit *u) {
    for (int l = 0; l < m->L; l++)
        if (u == &m->cell[l][CH]) return reg_plan_kernel(m->reg, l, P(u->w));
    return *P(u->w);
}

/* pre = conv(x) + b; returns LN(pre) in ln_buf (or pre itself without LN). */
static Tensor unit_forward(PredRNNpp *m, const ConvUnit *u, const Tensor *x, Tensor *pre, Tensor *mean,
                           Tensor *invstd, float *ln_buf) {
    const Tensor w = unit_w(m, u);
    conv2d_forward(x, &w, P(u->b), pre, 0, m->conv_scratch);
    if (u->g < 0) return *pre;
    Tensor y = v4(m, ln_buf, u->cout);
    tensor_layernorm_forward(pre, P(u->g), P(u->o), &y, mean, invstd, TENSOR_LN_EPS);
    return y;
}

/* From the gradient of the unit's output dy: parameter gradients +=, dx += (dx may be NULL). */
static void unit_backward(PredRNNpp *m, const ConvUnit *u, const Tensor *x, const Tensor *pre,
                          const Tensor *mean, const Tensor *invstd, const Tensor *dy, Tensor *dx) {
    Tensor dpre;
    if (u->g >= 0) {
        dpre = v4(m, m->dpre, u->cout);
        op_fill(&dpre, 0.0f);
        tensor_layernorm_backward(pre, P(u->g), mean, invstd, dy, &dpre, G(u->g), G(u->o));
        dy = &dpre;
    }
    const Tensor w = unit_w(m, u);
    conv2d_backward(x, &w, dy, dx, G(u->w), G(u->b), m->conv_scratch);
}

/* ------------------------------------------------------------------------------------------------ */
/* Forward */

/* The top h the head reads at step t: h, or what reg_plan_output made of it (dropout). */
static Tensor top_h(PredRNNpp *m, int t) { return reg_plan_output_value(m->reg, t, &m->steps[t * m->L + m->L - 1].h); }

static void cell_forward(PredRNNpp *m, int l, int t) {
    CellStep *s = &m->steps[t * m->L + l];
    const ConvUnit *u = m->cell[l];
    const int n = m->n[l];
    Tensor x = cell_x(m, l, t), hp = cell_hprev(m, l, t), cp = cell_cprev(m, l, t), mi = cell_min(m, l, t);
    Tensor xin = reg_plan_input(m->reg, l, t, &x), hin = reg_plan_recurrent(m->reg, l, t, &hp);
    const Tensor *gmask = reg_plan_candidate(m->reg, l, t, 0), *ggmask = reg_plan_candidate(m->reg, l, t, 1);
    Tensor cc[CELL_LN];
    const Tensor *in[4] = {&xin, &hin, &cp, &mi};
    for (int j = CX; j <= CM; j++)
        cc[j] = unit_forward(m, &u[j], in[j], &s->pre[j], &s->mean[j], &s->invstd[j], m->ln_out[j]);
    Tensor *c = &s->hat[ZC], *mn = &s->hat[ZM], *h = &s->hat[ZH];
    causal_lstm_stage1_forward_masked(&cc[CX], &cc[CH], &cc[CC], t > 0 ? &cp : NULL, gmask, &s->gates1, c);
    cc[CC2M] = unit_forward(m, &u[CC2M], c, &s->pre[CC2M], &s->mean[CC2M], &s->invstd[CC2M], m->ln_out[CC2M]);
    causal_lstm_stage2_forward_masked(&cc[CX], &cc[CC2M], &cc[CM], ggmask, &s->gates2, mn);
    cc[COM] = unit_forward(m, &u[COM], mn, &s->pre[COM], &s->mean[COM], &s->invstd[COM], m->ln_out[COM]);
    Tensor cm = v4(m, m->cm, 2 * n), cell = v4(m, m->cell_out, n);
    concat_channels_forward(c, mn, &cm);
    conv2d_forward(&cm, P(u[CMR].w), P(u[CMR].b), &cell, 0, m->conv_scratch);
    causal_lstm_stage3_forward(&cc[CX], &cc[CH], &cc[CC2M], &cc[COM], &cell, &s->gates3, h);
    /* the carried c, h, m from the cell's new values (zoneout; the previous value of m is the incoming
     * memory) */
    const Tensor *old[3] = {&cp, &hp, &mi};
    Tensor *state[3] = {&s->c, &s->h, &s->m};
    for (int z = 0; z < 3; z++)
        if (m->zone[z]) reg_plan_state(m->reg, l, t, REG_STATE_C + z, old[z], &s->hat[z], state[z]);
}

static void ghu_step_forward(PredRNNpp *m, int t) {
    GhuStep *g = &m->gsteps[t];
    Tensor zp = ghu_zprev(m, t), h0 = h_out(m, 0, t);
    Tensor zz = unit_forward(m, &m->ghu[GZ], &zp, &g->pre[GZ], &g->mean[GZ], &g->invstd[GZ], m->ln_out[0]);
    Tensor zx = unit_forward(m, &m->ghu[GX], &h0, &g->pre[GX], &g->mean[GX], &g->invstd[GX], m->ln_out[1]);
    ghu_forward(&zz, &zx, t > 0 ? &zp : NULL, &g->gates, &g->z);
}

/* Lay the activations out for the (B, T) of frames (T, B, C, S, S); model.c has checked that
 * 2 <= T <= T_max and 1 <= B <= B_max. */
static void use_frames(PredRNNpp *m, const Tensor *frames) {
    if (frames->shape[0] != m->T || frames->shape[1] != m->B) {
        m->T = frames->shape[0];
        m->B = frames->shape[1];
        arena_rewind(&m->work);
        layout_work(m);
    }
}

/* Runs all T-1 steps; returns the mean squared error over all predictions. */
static double forward(PredRNNpp *m, const Tensor *frames, const unsigned char *use_truth) {
    const int T = m->T, B = m->B;
    Tensor zeros = zeros_of(m, m->nmax > m->C ? m->nmax : m->C);
    op_fill(&zeros, 0.0f); /* a re-layout may have put other data there */
    double sse = 0.0;
    for (int t = 0; t < T - 1; t++) {
        Tensor ft = step_of(frames, t), xt = step_of(&m->xin, t);
        if (t == 0) {
            op_copy(&ft, &xt);
        } else {
            Tensor prev = step_of(&m->pred, t - 1);
            for (int b = 0; b < B; b++) m->col[b] = use_truth[b * T + t] != 0;
            op_select_samples(m->col, &ft, &prev, &xt);
        }
        for (int l = 0; l < m->L; l++) {
            if (l == 1 && m->cfg.ghu) ghu_step_forward(m, t);
            cell_forward(m, l, t);
            if (m->has_bn[l]) { /* per-step statistics over (B, H, W) while training, running ones after */
                CellStep *s = &m->steps[t * m->L + l];
                Tensor *rm = BUF(m->b_mean[l]), *rv = BUF(m->b_var[l]);
                if (m->training) {
                    batchnorm_forward_train(&s->h, P(m->p_gamma[l]), P(m->p_beta[l]), &s->bn_out, &s->bn_mean,
                                            &s->bn_invstd, rm, rv, m->cfg.bn_momentum, m->cfg.bn_eps);
                    m->model->counters[m->b_count[l]]++; /* PyTorch: num_batches_tracked += 1 per training-mode call */
                } else
                    batchnorm_forward_eval(&s->h, P(m->p_gamma[l]), P(m->p_beta[l]), &s->bn_out, rm, rv, m->cfg.bn_eps);
            }
        }
        Tensor yt = step_of(&m->pred, t), top = reg_plan_output(m->reg, t, &m->steps[t * m->L + m->L - 1].h);
        if (m->cfg.head_act == ACT_IDENTITY) {
            conv2d_forward(&top, P(m->head.w), P(m->head.b), &yt, 0, m->conv_scratch);
        } else { /* y_t = head_act(conv(top)) */
            conv2d_forward(&top, P(m->head.w), P(m->head.b), &m->head_z, 0, m->conv_scratch);
            activation_forward(m->cfg.head_act, &m->head_z, &yt);
        }
    }
    /* the loss after the time loop: on a GPU each sum waits for the device, so the loop itself never does */
    for (int t = 0; t < T - 1; t++) {
        Tensor yt = step_of(&m->pred, t), target = step_of(frames, t + 1);
        sse += mse_sum_forward(&yt, &target);
    }
    return sse / ((double)B * (T - 1) * m->C * m->S * m->S);
}

/* ------------------------------------------------------------------------------------------------ */
/* Backward */

/* Backward of cell l at step t. Reads dH[cur][l] (dL/dh_t, complete), dC[cur][l] (dL/dc_t from step
 * t+1) and dM[*mo] (dL/dm_t from the memory's next consumer); adds into dH/dC[1-cur][l] (previous
 * step), the input gradient dx (NULL: not needed) and dM[1-*mo] (dL/d incoming memory, zeroed here),
 * then flips *mo so the next cell on the memory chain reads it. */
static void cell_backward(PredRNNpp *m, int l, int t, int cur, int *mo, Tensor *dx) {
    CellStep *s = &m->steps[t * m->L + l];
    const ConvUnit *u = m->cell[l];
    const int n = m->n[l], first = t == 0, has_min = !(l == 0 && t == 0);
    Tensor x = cell_x(m, l, t), hp = cell_hprev(m, l, t), cp = cell_cprev(m, l, t), mi = cell_min(m, l, t);
    Tensor dh = v4(m, m->dH[cur][l], n), dc = v4(m, m->dC[cur][l], n);
    Tensor dhp = v4(m, m->dH[1 - cur][l], n), dcp = v4(m, m->dC[1 - cur][l], n);
    Tensor dmo = v4(m, m->dM[*mo], n), dmi = v4(m, m->dM[1 - *mo], m->n_in[l]);
    Tensor dcc[CELL_LN];
    for (int j = 0; j < CELL_LN; j++) dcc[j] = v4(m, m->dcc[j], cell_conv_blocks[j] * n);
    Tensor dcell = v4(m, m->dcell, n), dcm = v4(m, m->dcm, 2 * n), cm = v4(m, m->cm, 2 * n);
    const Tensor *chat = &s->hat[ZC], *mhat = &s->hat[ZM];
    const Tensor *gmask = reg_plan_candidate(m->reg, l, t, 0), *ggmask = reg_plan_candidate(m->reg, l, t, 1);
    if (has_min) op_fill(&dmi, 0.0f);
    /* zoneout: the kept share of each state's gradient flows straight to its previous value, the rest
     * into the cell's new value (dh, dc, dmo become gradients of ĥ, ĉ, m̂) */
    if (m->zone[ZH]) reg_plan_state_backward(m->reg, l, t, REG_STATE_H, &dh, first ? NULL : &dhp);
    if (m->zone[ZC]) reg_plan_state_backward(m->reg, l, t, REG_STATE_C, &dc, first ? NULL : &dcp);
    if (m->zone[ZM]) reg_plan_state_backward(m->reg, l, t, REG_STATE_M, &dmo, has_min ? &dmi : NULL);

    causal_lstm_stage3_backward(&s->gates3, &dh, &dcc[CX], &dcc[CH], &dcc[CC2M], &dcc[COM], &dcell);
    concat_channels_forward(chat, mhat, &cm); /* memory_reduce's input, recomputed */
    op_fill(&dcm, 0.0f);
    conv2d_backward(&cm, P(u[CMR].w), &dcell, &dcm, G(u[CMR].w), G(u[CMR].b), m->conv_scratch);
    concat_channels_backward(&dcm, &dc, &dmo);
    unit_backward(m, &u[COM], mhat, &s->pre[COM], &s->mean[COM], &s->invstd[COM], &dcc[COM], &dmo);
    causal_lstm_stage2_backward_masked(&s->gates2, ggmask, &dmo, &dcc[CX], &dcc[CC2M], &dcc[CM]);
    unit_backward(m, &u[CC2M], chat, &s->pre[CC2M], &s->mean[CC2M], &s->invstd[CC2M], &dcc[CC2M], &dc);
    causal_lstm_stage1_backward_masked(&s->gates1, first ? NULL : &cp, gmask, &dc, &dcc[CX], &dcc[CH], &dcc[CC],
                                       first ? NULL : &dcp);
    /* conv_x and conv_h read what reg_plan_input / reg_plan_recurrent made of x and h_{t-1} */
    Tensor xin = reg_plan_input_value(m->reg, l, t, &x), hin = reg_plan_recurrent_value(m->reg, l, t, &hp);
    Tensor *dxr = reg_plan_input_grad(m->reg, l, t, dx);
    unit_backward(m, &u[CX], &xin, &s->pre[CX], &s->mean[CX], &s->invstd[CX], &dcc[CX], dxr);
    reg_plan_input_backward(m->reg, l, t, dxr, dx);
    Tensor *dhr = reg_plan_recurrent_grad(m->reg, l, t, first ? NULL : &dhp);
    unit_backward(m, &u[CH], &hin, &s->pre[CH], &s->mean[CH], &s->invstd[CH], &dcc[CH], dhr);
    reg_plan_recurrent_backward(m->reg, l, t, dhr, first ? NULL : &dhp);
    unit_backward(m, &u[CC], &cp, &s->pre[CC], &s->mean[CC], &s->invstd[CC], &dcc[CC], first ? NULL : &dcp);
    unit_backward(m, &u[CM], &mi, &s->pre[CM], &s->mean[CM], &s->invstd[CM], &dcc[CM], has_min ? &dmi : NULL);
    *mo = 1 - *mo;
}

/* Batch norm of layer l's h: the gradient of BN(h) is collected in m->dbn (zeroed here), then
 * bn_backward adds dL/dh into dH[cur][l]. */
static Tensor bn_grad(PredRNNpp *m, int l) {
    Tensor d = v4(m, m->dbn, m->n[l]);
    op_fill(&d, 0.0f);
    return d;
}
static void bn_backward(PredRNNpp *m, int l, int t, int cur) {
    CellStep *s = &m->steps[t * m->L + l];
    Tensor d = v4(m, m->dbn, m->n[l]), dh = v4(m, m->dH[cur][l], m->n[l]);
    batchnorm_backward(&s->h, P(m->p_gamma[l]), &s->bn_mean, &s->bn_invstd, &d, &dh, G(m->p_gamma[l]),
                       G(m->p_beta[l]));
}

/* Backward of the GHU at step t: dZ[cur] (dL/dz_t) is complete; adds into dH[cur][0] and dZ[1-cur]. */
static void ghu_step_backward(PredRNNpp *m, int t, int cur) {
    GhuStep *g = &m->gsteps[t];
    const int n = m->n[0], first = t == 0;
    Tensor zp = ghu_zprev(m, t), h0 = h_out(m, 0, t);
    Tensor dz = v4(m, m->dZ[cur], n), dzp = v4(m, m->dZ[1 - cur], n);
    Tensor dh0 = m->has_bn[0] ? bn_grad(m, 0) : v4(m, m->dH[cur][0], n);
    Tensor dg = v4(m, m->dghu, 2 * n);
    ghu_backward(&g->gates, first ? NULL : &zp, &dz, &dg, first ? NULL : &dzp);
    unit_backward(m, &m->ghu[GX], &h0, &g->pre[GX], &g->mean[GX], &g->invstd[GX], &dg, &dh0);
    unit_backward(m, &m->ghu[GZ], &zp, &g->pre[GZ], &g->mean[GZ], &g->invstd[GZ], &dg, first ? NULL : &dzp);
    if (m->has_bn[0]) bn_backward(m, 0, t, cur);
}

static void zero_carriers(PredRNNpp *m, int i) {
    for (int l = 0; l < m->L; l++) {
        Tensor h = v4(m, m->dH[i][l], m->n[l]), c = v4(m, m->dC[i][l], m->n[l]);
        op_fill(&h, 0.0f);
        op_fill(&c, 0.0f);
    }
    Tensor z = v4(m, m->dZ[i], m->n[0]);
    op_fill(&z, 0.0f);
}

static void backward(PredRNNpp *m, const Tensor *frames, const unsigned char *use_truth) {
    const int T = m->T, B = m->B, L = m->L;
    const double count = (double)B * (T - 1) * m->C * m->S * m->S;
    int cur = 0, mo = 0, dxin_step = -1; /* dxin holds dL/d(input of step dxin_step) */
    zero_carriers(m, 0);
    zero_carriers(m, 1);
    for (int i = 0; i < 2; i++) {
        Tensor d = v4(m, m->dM[i], m->nmax);
        op_fill(&d, 0.0f);
    }
    for (int t = T - 2; t >= 0; t--) {
        /* dL/d prediction t: the loss term, plus what flowed into the input of step t+1 where that
         * input was this prediction */
        op_fill(&m->dpred, 0.0f);
        if (dxin_step == t + 1) {
            for (int b = 0; b < B; b++) m->col[b] = use_truth[b * T + t + 1] != 0;
            op_select_samples_backward(m->col, &m->dxin, NULL, &m->dpred); /* frames: no gradient */
        }
        Tensor yt = step_of(&m->pred, t), target = step_of(frames, t + 1);
        mse_sum_backward(&yt, &target, count, &m->dpred);
        Tensor dtop = v4(m, m->dH[cur][L - 1], m->n[L - 1]), top = top_h(m, t);
        Tensor *dtr = reg_plan_output_grad(m->reg, t, &dtop);
        const Tensor *dhead = &m->dpred; /* dL/d(head conv output) */
        if (m->cfg.head_act != ACT_IDENTITY) { /* through the activation, from its output y_t */
            op_fill(&m->head_dz, 0.0f);
            activation_backward(m->cfg.head_act, &yt, &m->dpred, &m->head_dz);
            dhead = &m->head_dz;
        }
        conv2d_backward(&top, P(m->head.w), dhead, dtr, G(m->head.w), G(m->head.b), m->conv_scratch);
        reg_plan_output_backward(m->reg, t, dtr, &dtop);
        for (int l = L - 1; l >= 0; l--) {
            Tensor dx, *dxp = NULL;
            if (l == 0) {
                int fed_prediction = 0;
                for (int b = 0; t > 0 && b < B; b++) fed_prediction |= use_truth[b * T + t] == 0;
                if (fed_prediction) {
                    op_fill(&m->dxin, 0.0f);
                    dxp = &m->dxin;
                    dxin_step = t;
                }
            } else if (l == 1 && m->cfg.ghu) {
                dx = v4(m, m->dZ[cur], m->n[0]);
                dxp = &dx;
            } else {
                dx = m->has_bn[l - 1] ? bn_grad(m, l - 1) : v4(m, m->dH[cur][l - 1], m->n[l - 1]);
                dxp = &dx;
            }
            cell_backward(m, l, t, cur, &mo, dxp);
            if (l == 1 && m->cfg.ghu) ghu_step_backward(m, t, cur);
            else if (l > 0 && m->has_bn[l - 1]) bn_backward(m, l - 1, t, cur);
        }
        cur = 1 - cur;
        zero_carriers(m, 1 - cur); /* the buffers of step t become those of step t-2 */
    }
}

/* ------------------------------------------------------------------------------------------------ */

static double pp_train_step(Model *model, const Tensor *frames, const unsigned char *use_truth,
                            float *predictions) {
    PredRNNpp *m = model->impl;
    use_frames(m, frames);
    for (int i = 0; i < model->n_params; i++) op_fill(G(i), 0.0f);
    m->iteration = model->iteration;
    m->training = 1;
    reg_plan_begin(m->reg, m->iteration, m->B, m->T - 1); /* every mask of this call */
    double loss = forward(m, frames, use_truth);
    backward(m, frames, use_truth);
    reg_plan_end(m->reg); /* weight drop: dL/dW = dL/dW̃ ⊙ M */
    m->training = 0;
    if (predictions) op_to_host(&m->pred, predictions);
    return loss;
}

static double pp_evaluate(Model *model, const Tensor *frames, int n_in, int teacher_forced, float *out) {
    (void)teacher_forced; /* no head reads a later step: n_in = T-1 is the whole teacher-forced pass */
    PredRNNpp *m = model->impl;
    use_frames(m, frames);
    for (int b = 0; b < m->B; b++)
        for (int t = 0; t < m->T; t++) m->eval_truth[b * m->T + t] = t < n_in;
    double loss = forward(m, frames, m->eval_truth);
    if (out) op_to_host(&m->pred, out);
    return loss;
}

static void pp_destroy(void *impl) {
    PredRNNpp *m = impl;
    arena_free(&m->work);
    reg_plan_free(m->reg);
    free(m->steps);
    free(m->gsteps);
    free(m->col);
    free(m->eval_truth);
    free(m);
}

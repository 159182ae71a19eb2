/* regularizers.c — the regularization plan of a training step (regularizers.h): every regularizer's
 * masks, when they are drawn, and the hooks through which the models apply them, forward and backward
 * side by side. The arithmetic is the op library's (regularize.h); the equations are
 * docs/regularizers.md (R1)-(R8).
 *
 * Where each regularizer happens (equations: docs/regularizers.md):
 *
 *   regularizer       eq.     hook (here), forward / backward             convlstm.c                 predrnn_pp.c
 *   dropout, input    (R2)    reg_plan_input / reg_plan_input_backward    layer_forward /            cell_forward /
 *                                                                         input_conv_backward        cell_backward
 *   dropout, output   (R2)    reg_plan_output / reg_plan_output_backward  layer_forward, top_h /     forward, top_h /
 *                                                                         layer_backward             backward
 *   rec_dropout       (R3)    reg_plan_candidate (the masked cell ops of  layer_forward /            cell_forward /
 *                             regularize.h take it both ways)             layer_backward             cell_backward
 *   var_dropout_x/_h  (R4)    per gate: reg_plan_gate_conv / _backward    layer_forward /            —
 *                                                                         layer_backward
 *                             shared: reg_plan_input, reg_plan_recurrent  —                          cell_forward /
 *                             and their backward twins                                               cell_backward
 *   weight_drop       (R5)    reg_plan_kernel / reg_plan_kernel_backward  wh_of                      unit_w
 *                             (reg_plan_end)
 *   zoneout_c/_h/_m   (R6-7)  reg_plan_state / reg_plan_state_backward    layer_forward /            cell_forward /
 *                             (_deferred + reg_plan_state_carry)          layer_backward             cell_backward
 *   l2, l2_on         (R8)    reg_l2_penalty                              train_step (src/run.c), after model_train_step
 *
 * Masks: all of one training call are drawn in reg_plan_begin, from the streams
 * reg_stream(iteration, layer, REG_T_*, step) of regularize.h over the flat elements of the mask at
 * the call's batch (per step: step = t; per sequence: step = 0, or the gate for the per-gate
 * variational masks). Philox is counter-based, so drawing them all at the call's start gives the same
 * masks, bit for bit, as drawing each where it is used. The memory (one arena) is
 * planned for the model's largest batch and sequence; a smaller call views it with its own batch. */
#include "regularizers.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ops.h"
#include "regularize.h"

typedef struct {
    float *in_mask, *in_val; /* input: mask (or the shared variational one) and x ⊙ mask (B, Cin, H, W) */
    float *rec_val;          /* recurrent (gate_blocks 1): h_{t-1} ⊙ mask (B, n, H, W) */
    float *cand[2];          /* Semeniuta masks of g, gg (B, n, H, W); per sequence: step 0's */
    float *zone[3];          /* zoneout keep masks of c, h, m (B, n, H, W) */
} RegStep;

struct RegPlan {
    RegPlanShape shape;
    int device, L, H, W, K; /* K = gate_blocks */
    /* rates and switches (ModelConfig) */
    float drop, cand_rate, var_rate[2], zone_rate[3], wd_rate;
    int cand_seq, var_on[2], zone_on[3];
    uint64_t seed;
    /* the current call */
    int training, b, steps;
    int64_t iteration;
    /* memory */
    Arena arena;
    RegStep *st;                                  /* [t·L + l] */
    float **out_mask, **out_val;                  /* [t] (B, n_top, H, W) */
    float *var[2][MODEL_MAX_LAYERS];              /* variational masks (K, B, Cin | n, H, W) */
    float *wd_mask[MODEL_MAX_LAYERS], *wd_eff[MODEL_MAX_LAYERS]; /* weight drop: M and W ⊙ M */
    float *xm, *yb, *dxm;                         /* reg_blocked_conv workspace */
    float *dscratch;                              /* gradient of a hook's output (B, max C, H, W) */
    float *keep[3];                               /* zoneout's deferred kept gradient (B, max n, H, W) */
    int keep_ch[3];
    Tensor grad_view, cand_view[2];               /* what reg_plan_*_grad, reg_plan_candidate hand out */
};

static Tensor view(const RegPlan *p, float *data, int c) { return tensor4(data, p->device, p->b, c, p->H, p->W); }
static RegStep *step_at(const RegPlan *p, int l, int t) { return &p->st[t * p->L + l]; }
static int top(const RegPlan *p) { return p->L - 1; }

/* ------------------------------------------------------------------------------------------------ */
/* The plan: switches from the config, memory from the shape */

static int input_masked(const RegPlan *p) { return p->drop > 0.0f || (p->K == 1 && p->var_on[REG_CONV_X]); }

static void layout(RegPlan *p) {
    Arena *a = &p->arena;
    const RegPlanShape *s = &p->shape;
    const int64_t px = (int64_t)s->batch * s->height * s->width;
    int cmax = 0, nmax = 0;
    for (int l = 0; l < p->L; l++) {
        cmax = s->in_channels[l] > cmax ? s->in_channels[l] : cmax;
        nmax = s->hidden[l] > nmax ? s->hidden[l] : nmax;
    }
    cmax = nmax > cmax ? nmax : cmax;
    for (int l = 0; l < p->L; l++)
        for (int v = 0; v < 2; v++)
            if (p->var_on[v]) p->var[v][l] = arena_take(a, p->K * px * (v ? s->hidden[l] : s->in_channels[l]));
    for (int t = 0; t < s->steps; t++)
        for (int l = 0; l < p->L; l++) {
            RegStep *r = step_at(p, l, t);
            const int64_t nx = px * s->in_channels[l], nh = px * s->hidden[l];
            if (input_masked(p)) {
                r->in_mask = p->drop > 0.0f ? arena_take(a, nx) : p->var[REG_CONV_X][l];
                r->in_val = arena_take(a, nx);
            }
            if (p->K == 1 && p->var_on[REG_CONV_H]) r->rec_val = arena_take(a, nh);
            for (int k = 0; p->cand_rate > 0.0f && k < s->candidates; k++)
                r->cand[k] = t == 0 || !p->cand_seq ? arena_take(a, nh) : step_at(p, l, 0)->cand[k];
            for (int z = 0; z < 3; z++)
                if (p->zone_on[z]) r->zone[z] = arena_take(a, nh);
        }
    for (int t = 0; p->drop > 0.0f && t < s->steps; t++) {
        p->out_mask[t] = arena_take(a, px * s->hidden[top(p)]);
        p->out_val[t] = arena_take(a, px * s->hidden[top(p)]);
    }
    for (int l = 0; p->wd_rate > 0.0f && l < p->L; l++) {
        p->wd_mask[l] = arena_take(a, s->kernel[l]->count);
        p->wd_eff[l] = arena_take(a, s->kernel[l]->count);
    }
    if (p->K > 1 && (p->var_on[0] || p->var_on[1])) {
        p->xm = arena_take(a, px * cmax);
        p->dxm = arena_take(a, px * cmax);
        p->yb = arena_take(a, px * nmax);
    }
    if (input_masked(p) || p->drop > 0.0f || (p->K == 1 && p->var_on[REG_CONV_H])) /* a masked copy's gradient */
        p->dscratch = arena_take(a, px * cmax);
    for (int z = 0; z < 3; z++)
        if (p->zone_on[z]) p->keep[z] = arena_take(a, px * nmax);
}

RegPlan *reg_plan_create(const ModelConfig *cfg, const RegPlanShape *shape, int device) {
    RegPlan *p = rr_calloc(1, sizeof *p);
    p->shape = *shape;
    p->device = device;
    p->L = shape->layers, p->H = shape->height, p->W = shape->width, p->K = shape->gate_blocks;
    p->b = shape->batch;
    p->seed = cfg->reg_seed;
    p->drop = cfg->dropout;
    p->cand_rate = cfg->rec_dropout;
    p->cand_seq = cfg->rec_dropout_seq != 0;
    p->var_rate[REG_CONV_X] = cfg->var_dropout_x, p->var_rate[REG_CONV_H] = cfg->var_dropout_h;
    for (int v = 0; v < 2; v++) /* per gate (Keras): both inputs masked when either rate is on */
        p->var_on[v] = p->K > 1 ? cfg->var_dropout_x > 0.0f || cfg->var_dropout_h > 0.0f : p->var_rate[v] > 0.0f;
    p->zone_rate[REG_STATE_C] = cfg->zoneout_c, p->zone_rate[REG_STATE_H] = cfg->zoneout_h;
    p->zone_rate[REG_STATE_M] = cfg->zoneout_m;
    for (int z = 0; z < 3; z++) p->zone_on[z] = p->zone_rate[z] > 0.0f;
    p->wd_rate = cfg->weight_drop;
    p->st = rr_calloc((size_t)shape->steps * p->L, sizeof *p->st);
    p->out_mask = rr_calloc((size_t)shape->steps, sizeof *p->out_mask);
    p->out_val = rr_calloc((size_t)shape->steps, sizeof *p->out_val);
    arena_init_plan(&p->arena, device);
    layout(p);
    if (arena_allocate(&p->arena)) {
        reg_plan_free(p);
        return NULL;
    }
    arena_rewind(&p->arena);
    layout(p);
    return p;
}

void reg_plan_free(RegPlan *p) {
    if (!p) return;
    arena_free(&p->arena);
    free(p->st);
    free(p->out_mask);
    free(p->out_val);
    free(p);
}

size_t reg_plan_bytes(const RegPlan *p) { return p->arena.size; }
int reg_plan_training(const RegPlan *p) { return p->training; }

int reg_plan_uses(const RegPlan *p, RegUse what) {
    switch (what) {
    case REG_USE_DROPOUT: return p->drop > 0.0f;
    case REG_USE_CANDIDATE: return p->cand_rate > 0.0f;
    case REG_USE_ZONEOUT_C: return p->zone_on[REG_STATE_C];
    case REG_USE_ZONEOUT_H: return p->zone_on[REG_STATE_H];
    case REG_USE_ZONEOUT_M: return p->zone_on[REG_STATE_M];
    case REG_USE_WEIGHT_DROP: return p->wd_rate > 0.0f;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Drawing the masks of one training call */

static void draw(const RegPlan *p, Tensor *mask, int l, int tensor, int step, float rate) {
    reg_dropout_mask(mask, p->seed, reg_stream(p->iteration, l, tensor, step), rate);
}

/* Per sequence: variational masks (one per gate, or one shared), weight drop's M and W ⊙ M. */
static void draw_sequence_masks(RegPlan *p) {
    static const int var_tensor[2] = {REG_T_VAR_X, REG_T_VAR_H};
    for (int l = 0; l < p->L; l++) {
        for (int v = 0; v < 2; v++) {
            if (!p->var_on[v]) continue;
            const int c = v ? p->shape.hidden[l] : p->shape.in_channels[l];
            const int64_t per = (int64_t)p->b * c * p->H * p->W;
            for (int j = 0; j < p->K; j++) {
                Tensor mj = view(p, p->var[v][l] + j * per, c);
                draw(p, &mj, l, var_tensor[v], j, p->var_rate[v]);
            }
        }
        if (p->wd_rate > 0.0f) {
            const Tensor *w = p->shape.kernel[l];
            Tensor mask = tensor_make(p->wd_mask[l], p->device, w->ndim, w->shape);
            Tensor eff = tensor_make(p->wd_eff[l], p->device, w->ndim, w->shape);
            draw(p, &mask, l, REG_T_WDROP, 0, p->wd_rate);
            op_mul(w, &mask, &eff);
        }
    }
}

/* Per step t: the input masks (dropout, times the shared variational mask), the candidates' (per step,
 * or per sequence at t = 0), zoneout's keep masks, and the top output's. */
static void draw_step_masks(RegPlan *p, int t) {
    static const int cand_tensor[2] = {REG_T_REC_G, REG_T_REC_GG};
    for (int l = 0; l < p->L; l++) {
        RegStep *r = step_at(p, l, t);
        const int cx = p->shape.in_channels[l], n = p->shape.hidden[l];
        if (p->drop > 0.0f) {
            Tensor mask = view(p, r->in_mask, cx);
            draw(p, &mask, l, REG_T_DROP_IN, t, p->drop);
            if (p->K == 1 && p->var_on[REG_CONV_X]) {
                Tensor v = view(p, p->var[REG_CONV_X][l], cx);
                op_mul(&mask, &v, &mask);
            }
        }
        for (int k = 0; p->cand_rate > 0.0f && k < p->shape.candidates; k++)
            if (!p->cand_seq || t == 0) {
                Tensor g = view(p, r->cand[k], n);
                draw(p, &g, l, cand_tensor[k], p->cand_seq ? 0 : t, p->cand_rate);
            }
        for (int z = 0; z < 3; z++)
            if (p->zone_on[z]) {
                Tensor d = view(p, r->zone[z], n);
                reg_zoneout_mask(&d, p->seed, reg_stream(p->iteration, l, REG_T_ZONE_C + z, t), p->zone_rate[z]);
            }
    }
    if (p->drop > 0.0f) {
        Tensor mask = view(p, p->out_mask[t], p->shape.hidden[top(p)]);
        draw(p, &mask, top(p), REG_T_DROP_OUT, t, p->drop);
    }
}

void reg_plan_begin(RegPlan *p, int64_t iteration, int batch, int steps) {
    if (batch < 1 || batch > p->shape.batch || steps < 1 || steps > p->shape.steps)
        rr_die("reg_plan_begin: batch %d, steps %d outside the planned 1..%d, 1..%d", batch, steps,
               p->shape.batch, p->shape.steps);
    p->training = 1;
    p->iteration = iteration;
    p->b = batch;
    p->steps = steps;
    draw_sequence_masks(p);
    for (int t = 0; t < steps; t++) draw_step_masks(p, t);
}

void reg_plan_end(RegPlan *p) {
    for (int l = 0; p->training && p->wd_rate > 0.0f && l < p->L; l++)
        reg_plan_kernel_backward(p, l, p->shape.kernel_grad[l]);
    p->training = 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Masked copies: input, recurrent, output. Forward x' = x ⊙ mask into the plan's copy; backward
 * dx += mask ⊙ dx' (reg_mask_backward), or dx += dx' when nothing was masked but dx' was collected
 * apart (a model that gathers dx' itself), nothing when dx' is dx. */

static Tensor masked_forward(const RegPlan *p, float *mask, float *val, const Tensor *x) {
    Tensor m = view(p, mask, x->shape[1]), y = view(p, val, x->shape[1]);
    reg_mask_forward(x, &m, &y);
    return y;
}

static Tensor *grad_target(RegPlan *p, int masked, Tensor *dx) {
    if (!masked || !dx) return dx;
    Tensor *d = &p->grad_view; /* the plan's scratch, zeroed; one hook's backward at a time */
    *d = view(p, p->dscratch, dx->shape[1]);
    op_fill(d, 0.0f);
    return d;
}

static void masked_backward(const RegPlan *p, float *mask, const Tensor *dxr, Tensor *dx) {
    if (!dxr || !dx) return;
    if (mask) {
        Tensor m = view(p, mask, dx->shape[1]);
        reg_mask_backward(&m, dxr, dx);
    } else if (dxr->data != dx->data) {
        op_axpy(1.0f, dxr, dx);
    }
}

static float *input_mask(const RegPlan *p, int l, int t) {
    return p->training && input_masked(p) ? step_at(p, l, t)->in_mask : NULL;
}

Tensor reg_plan_input(RegPlan *p, int l, int t, const Tensor *x) {
    float *mask = input_mask(p, l, t);
    return mask ? masked_forward(p, mask, step_at(p, l, t)->in_val, x) : *x;
}
Tensor reg_plan_input_value(const RegPlan *p, int l, int t, const Tensor *x) {
    return input_mask(p, l, t) ? view(p, step_at(p, l, t)->in_val, x->shape[1]) : *x;
}
Tensor *reg_plan_input_grad(RegPlan *p, int l, int t, Tensor *dx) {
    return grad_target(p, input_mask(p, l, t) != NULL, dx);
}
void reg_plan_input_backward(const RegPlan *p, int l, int t, const Tensor *dxr, Tensor *dx) {
    masked_backward(p, input_mask(p, l, t), dxr, dx);
}

static float *recurrent_mask(const RegPlan *p, int l, int t) {
    return p->training && p->K == 1 && p->var_on[REG_CONV_H] && t > 0 ? p->var[REG_CONV_H][l] : NULL;
}

Tensor reg_plan_recurrent(RegPlan *p, int l, int t, const Tensor *h_prev) {
    float *mask = recurrent_mask(p, l, t);
    return mask ? masked_forward(p, mask, step_at(p, l, t)->rec_val, h_prev) : *h_prev;
}
Tensor reg_plan_recurrent_value(const RegPlan *p, int l, int t, const Tensor *h_prev) {
    return recurrent_mask(p, l, t) ? view(p, step_at(p, l, t)->rec_val, h_prev->shape[1]) : *h_prev;
}
Tensor *reg_plan_recurrent_grad(RegPlan *p, int l, int t, Tensor *dh_prev) {
    return grad_target(p, recurrent_mask(p, l, t) != NULL, dh_prev);
}
void reg_plan_recurrent_backward(const RegPlan *p, int l, int t, const Tensor *dhr, Tensor *dh_prev) {
    masked_backward(p, recurrent_mask(p, l, t), dhr, dh_prev);
}

static float *output_mask(const RegPlan *p, int t) { return p->training && p->drop > 0.0f ? p->out_mask[t] : NULL; }

Tensor reg_plan_output(RegPlan *p, int t, const Tensor *h) {
    float *mask = output_mask(p, t);
    return mask ? masked_forward(p, mask, p->out_val[t], h) : *h;
}
Tensor reg_plan_output_value(const RegPlan *p, int t, const Tensor *h) {
    return output_mask(p, t) ? view(p, p->out_val[t], h->shape[1]) : *h;
}
Tensor *reg_plan_output_grad(RegPlan *p, int t, Tensor *dh) { return grad_target(p, output_mask(p, t) != NULL, dh); }
void reg_plan_output_backward(const RegPlan *p, int t, const Tensor *dhr, Tensor *dh) {
    masked_backward(p, output_mask(p, t), dhr, dh);
}

/* ------------------------------------------------------------------------------------------------ */
/* Per-gate variational convolution */

static int gate_masked(const RegPlan *p, int which) { return p->training && p->K > 1 && p->var_on[which]; }

static Tensor gate_masks(const RegPlan *p, int l, int which, const Tensor *x) {
    return tensor_make(p->var[which][l], p->device, 5, (int[]){p->K, p->b, x->shape[1], p->H, p->W});
}

void reg_plan_gate_conv(RegPlan *p, int l, int which, const Tensor *x, const Tensor *w, const Tensor *b,
                        Tensor *y, int accumulate, float *scratch) {
    if (!gate_masked(p, which)) {
        conv2d_forward(x, w, b, y, accumulate, scratch);
        return;
    }
    Tensor masks = gate_masks(p, l, which, x);
    reg_blocked_conv_forward(x, &masks, w, b, y, accumulate, p->xm, p->yb, scratch);
}

void reg_plan_gate_conv_backward(RegPlan *p, int l, int which, const Tensor *x, const Tensor *w,
                                 const Tensor *dy, Tensor *dx, Tensor *dw, Tensor *db, float *scratch) {
    if (!gate_masked(p, which)) {
        conv2d_backward(x, w, dy, dx, dw, db, scratch);
        return;
    }
    Tensor masks = gate_masks(p, l, which, x);
    reg_blocked_conv_backward(x, &masks, w, dy, dx, dw, db, p->xm, p->yb, p->dxm, scratch);
}

/* ------------------------------------------------------------------------------------------------ */
/* Semeniuta candidates */

const Tensor *reg_plan_candidate(RegPlan *p, int l, int t, int k) {
    if (!(p->training && p->cand_rate > 0.0f && k < p->shape.candidates)) return NULL;
    p->cand_view[k] = view(p, step_at(p, l, t)->cand[k], p->shape.hidden[l]);
    return &p->cand_view[k];
}

/* ------------------------------------------------------------------------------------------------ */
/* Zoneout */

void reg_plan_state(const RegPlan *p, int l, int t, int state, const Tensor *prev, const Tensor *upd, Tensor *out) {
    if (!p->training) {
        reg_zoneout_forward(prev, upd, NULL, p->zone_rate[state], out);
        return;
    }
    Tensor d = view(p, step_at(p, l, t)->zone[state], upd->shape[1]);
    reg_zoneout_forward(prev, upd, &d, p->zone_rate[state], out);
}

void reg_plan_state_backward(const RegPlan *p, int l, int t, int state, Tensor *dout, Tensor *dprev) {
    Tensor d = view(p, step_at(p, l, t)->zone[state], dout->shape[1]);
    reg_zoneout_backward(&d, dout, dprev, dout);
}

void reg_plan_state_backward_deferred(RegPlan *p, int l, int t, int state, Tensor *dout) {
    Tensor keep = view(p, p->keep[state], dout->shape[1]);
    op_fill(&keep, 0.0f);
    p->keep_ch[state] = dout->shape[1];
    reg_plan_state_backward(p, l, t, state, dout, &keep);
}

void reg_plan_state_carry(RegPlan *p, int state, Tensor *dprev) {
    Tensor keep = view(p, p->keep[state], p->keep_ch[state]);
    op_axpy(1.0f, &keep, dprev);
}

/* ------------------------------------------------------------------------------------------------ */
/* Weight drop */

Tensor reg_plan_kernel(const RegPlan *p, int l, const Tensor *w) {
    if (!(p->training && p->wd_rate > 0.0f)) return *w;
    return tensor_make(p->wd_eff[l], p->device, w->ndim, w->shape);
}

void reg_plan_kernel_backward(const RegPlan *p, int l, Tensor *dw) { /* the 1/(1-p) is in M */
    Tensor mask = tensor_make(p->wd_mask[l], p->device, dw->ndim, dw->shape);
    op_mul(dw, &mask, dw);
}

/* ------------------------------------------------------------------------------------------------ */
/* L2 */

double reg_l2_penalty(Model *m, double lambda, const char *l2_on) {
    if (!(lambda > 0)) return 0.0;
    double pen = 0.0;
    for (int i = 0; i < model_num_params(m); i++) {
        Tensor *w = model_param(m, i);
        if (reg_l2_selects(model_param_name(m, i), w->ndim, l2_on)) pen += reg_l2_apply(w, model_grad(m, i), lambda);
    }
    return pen;
}

/* regularizers.h — a training step's regularization plan: every mask of one training call, and the
 * hooks where a recurrent model applies input, recurrent, candidate, state, kernel and output
 * regularization, each with its backward twin. The ops underneath (mask drawing, masked cells, blocked
 * conv, zoneout, L2) are regularize.h's; the equations and papers are docs/regularizers.md. The map of
 * which regularizer happens in which hook, and where each model calls it, heads regularizers.c.
 *
 * Life of a plan: reg_plan_create (from the ModelConfig's rates, with the model's sizes) → per training
 * call reg_plan_begin (draws every mask of the call: per-sequence and per-step, keyed by
 * reg_stream(iteration, layer, tensor, step)) → forward hooks → backward twins → reg_plan_end (weight
 * drop on the kernels' gradients). Outside begin … end (evaluation) the hooks are identities, except
 * zoneout, which gives its expectation. The trainer adds L2 with reg_l2_penalty after the model's step.
 *
 * Hooks return the tensor the model goes on with: the argument itself when nothing applies (so a model
 * without a regularizer runs the same code path and the same arithmetic as before), or a view of the
 * plan's own memory. A backward twin takes dL/d(hook output): reg_plan_*_grad says where the model
 * should write it (its own dx when nothing was applied, else the plan's zeroed scratch), and
 * reg_plan_*_backward then adds mask ⊙ that into dx (nothing when it was dx already). */
#ifndef RNNREG_REGULARIZERS_H
#define RNNREG_REGULARIZERS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "tensor.h"

/* What a model tells the plan about itself (the sizes it was planned for). */
typedef struct {
    int layers, steps, batch, height, width; /* steps = seq_len - 1 */
    int in_channels[MODEL_MAX_LAYERS];       /* channels of each layer's input x */
    int hidden[MODEL_MAX_LAYERS];            /* channels of each layer's h, c (and m) */
    int gate_blocks;  /* variational masks per conv input: 4 = one per gate of conv_x / conv_h, both drawn
                       * when either rate is on (ConvLSTM, Keras ConvLSTM2D), applied by reg_plan_gate_conv;
                       * 1 = one shared mask, each input only when its rate is on (PredRNN++), applied by
                       * reg_plan_input / reg_plan_recurrent */
    int candidates;   /* Semeniuta candidates per cell: 1 (g) or 2 (g, gg) */
    Tensor *kernel[MODEL_MAX_LAYERS], *kernel_grad[MODEL_MAX_LAYERS]; /* weight drop: conv_h's kernel */
} RegPlanShape;

/* What reg_plan_uses answers. */
typedef enum {
    REG_USE_DROPOUT,     /* Zaremba: layer inputs and the top output */
    REG_USE_CANDIDATE,   /* Semeniuta: the cell's candidates */
    REG_USE_ZONEOUT_C,   /* Krueger: zoneout of c, h, m (REG_USE_ZONEOUT_C + state) */
    REG_USE_ZONEOUT_H,
    REG_USE_ZONEOUT_M,
    REG_USE_WEIGHT_DROP  /* Merity: conv_h's kernel */
} RegUse;

/* The carried states zoneout acts on. */
enum { REG_STATE_C, REG_STATE_H, REG_STATE_M };
/* The two inputs of a cell's gate convolutions. */
enum { REG_CONV_X, REG_CONV_H };

typedef struct RegPlan RegPlan;

/* NULL + rr_error when the plan's memory cannot be had. */
RegPlan *reg_plan_create(const ModelConfig *cfg, const RegPlanShape *shape, int device);
void reg_plan_free(RegPlan *p);
size_t reg_plan_bytes(const RegPlan *p); /* device memory of its masks and scratch */
int reg_plan_uses(const RegPlan *p, RegUse what);
int reg_plan_training(const RegPlan *p); /* inside begin … end */

/* A training call over `steps` steps of `batch` sequences: draws every mask; end: masks the kernels'
 * gradients (weight drop) and leaves training. */
void reg_plan_begin(RegPlan *p, int64_t iteration, int batch, int steps);
void reg_plan_end(RegPlan *p);

/* Input of layer l at step t (dropout; with gate_blocks 1 also the variational x mask): x' = x ⊙ mask.
 * _value: the x' that the forward returned (the saved copy). Backward: dx += mask ⊙ dx'. */
Tensor reg_plan_input(RegPlan *p, int l, int t, const Tensor *x);
Tensor reg_plan_input_value(const RegPlan *p, int l, int t, const Tensor *x);
Tensor *reg_plan_input_grad(RegPlan *p, int l, int t, Tensor *dx);
void reg_plan_input_backward(const RegPlan *p, int l, int t, const Tensor *dxr, Tensor *dx);

/* h_{t-1} of layer l as its recurrent conv reads it (gate_blocks 1: the variational h mask; t = 0
 * reads zeros and is never masked). Same shape of twins as the input hook. */
Tensor reg_plan_recurrent(RegPlan *p, int l, int t, const Tensor *h_prev);
Tensor reg_plan_recurrent_value(const RegPlan *p, int l, int t, const Tensor *h_prev);
Tensor *reg_plan_recurrent_grad(RegPlan *p, int l, int t, Tensor *dh_prev);
void reg_plan_recurrent_backward(const RegPlan *p, int l, int t, const Tensor *dhr, Tensor *dh_prev);

/* A gate convolution of layer l (which = REG_CONV_X | REG_CONV_H): y (+)= conv(x; w) + b, per gate
 * block on x ⊙ M_j while training with gate_blocks 4 and variational dropout, a plain conv2d otherwise.
 * scratch: conv2d workspace (conv2d_scratch_floats). Backward: dw +=, db +=, dx += (dx may be NULL). */
void reg_plan_gate_conv(RegPlan *p, int l, int which, const Tensor *x, const Tensor *w, const Tensor *b,
                        Tensor *y, int accumulate, float *scratch);
void reg_plan_gate_conv_backward(RegPlan *p, int l, int which, const Tensor *x, const Tensor *w,
                                 const Tensor *dy, Tensor *dx, Tensor *dw, Tensor *db, float *scratch);

/* The Semeniuta mask of candidate k (0: g, 1: gg) of layer l at step t for the masked cell ops
 * (regularize.h reg_lstm_state_*, reg_causal_stage*): NULL when none applies. */
const Tensor *reg_plan_candidate(RegPlan *p, int l, int t, int k);

/* Zoneout of carried state `state` (REG_STATE_*) of layer l at step t: out = d ⊙ prev + (1-d) ⊙ upd
 * (prev NULL = zeros); in evaluation the expectation. Only call it for a state with zoneout on.
 * Backward: dout becomes dupd = (1-d) ⊙ dout in place; the kept share d ⊙ dout is added to dprev (NULL:
 * dropped), or with _deferred held in the plan until reg_plan_state_carry adds it to dprev. */
void reg_plan_state(const RegPlan *p, int l, int t, int state, const Tensor *prev, const Tensor *upd, Tensor *out);
void reg_plan_state_backward(const RegPlan *p, int l, int t, int state, Tensor *dout, Tensor *dprev);
void reg_plan_state_backward_deferred(RegPlan *p, int l, int t, int state, Tensor *dout);
void reg_plan_state_carry(RegPlan *p, int state, Tensor *dprev);

/* The recurrent kernel layer l convolves with: W̃ = W ⊙ M while training with weight drop (made at
 * reg_plan_begin), else W itself. Backward (reg_plan_end calls it): dW ⊙= M. */
Tensor reg_plan_kernel(const RegPlan *p, int l, const Tensor *w);
void reg_plan_kernel_backward(const RegPlan *p, int l, Tensor *dw);

/* The top layer's h before the head at step t (dropout): h' = h ⊙ mask. Twins as the input hook. */
Tensor reg_plan_output(RegPlan *p, int t, const Tensor *h);
Tensor reg_plan_output_value(const RegPlan *p, int t, const Tensor *h);
Tensor *reg_plan_output_grad(RegPlan *p, int t, Tensor *dh);
void reg_plan_output_backward(const RegPlan *p, int t, const Tensor *dhr, Tensor *dh);

/* L2 (config l2 = λ, l2_on): adds 2λ·w to the gradients of the parameters l2_on selects
 * (reg_l2_selects) and returns λ·Σw² over them; 0 when λ = 0. Called after model_train_step. */
double reg_l2_penalty(Model *m, double lambda, const char *l2_on);

#endif

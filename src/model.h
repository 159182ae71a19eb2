/* model.h — the interface between the training engine (run.c) and a recurrent video model
 * (convlstm.c, predrnn_pp.c). A model owns its parameters, gradients, buffers and one
 * arena of activations planned for a batch size and sequence length; it never allocates in the time
 * loop. All tensors live on the model's device; the engine moves data only through ops.
 *
 * Sequences are TIME-MAJOR: frames (T, B, C, H, W), float32 in [0,1], in patch space (C = p·p,
 * H = W = 64/p; the loader applies the patch reshape). Step t (0 ≤ t < T-1) reads input frame t and
 * predicts frame t+1; the loss is the MEAN squared error over all T-1 predicted frames
 * (B·(T-1)·C·H·W elements). */
#ifndef RNNREG_MODEL_H
#define RNNREG_MODEL_H

#include <stdint.h>

#include "device.h"
#include "ops.h"
#include "tensor.h"

#define MODEL_MAX_LAYERS 8

typedef enum { HEAD_CONV2D = 0, HEAD_CONV3D_CAUSAL, HEAD_CONV3D_CENTERED, HEAD_LINEAR } HeadKind;

typedef struct {
    char model[32];              /* "convlstm" or "predrnn_pp" */
    int num_layers;
    int hidden[MODEL_MAX_LAYERS];      /* hidden channels per layer */
    int kernel[MODEL_MAX_LAYERS];      /* kernel size per layer (odd) */
    Activation cell_act;         /* tanh or relu (Keras example: relu) */
    Activation gate_act;         /* sigmoid (Keras 3) or hard_sigmoid (tf.keras 2) */
    int batchnorm;               /* batch norm after every layer but the last (Keras example; both models) */
    float bn_momentum, bn_eps;   /* PyTorch momentum 0.01 = Keras 0.99; eps 1e-3 as Keras */
    HeadKind head;
    int head_kernel;             /* spatial kernel of the head */
    Activation head_act;         /* sigmoid for ConvLSTM */
    int patch;                   /* 1 = full 64×64 frames; 4 = 16×16×16 */
    int image_size;              /* 64 */
    int img_channels;            /* 1 */
    int layer_norm;              /* PredRNN++: tensor layer norm after each convolution; ConvLSTM: Ba et
                                  * al. LN of the input and recurrent gate pre-activations and of c on
                                  * its way to h (convlstm.c) */
    int ghu;                     /* PredRNN++: gradient highway unit between layers 1 and 2 */
    /* Regularizers (training only; docs/regularizers.md, src/regularize.h). Drop rates in
     * [0, 1); 0 = off. Masks are keyed by (reg_seed, iteration, layer, tensor, step). */
    float dropout;               /* Zaremba et al.: input of every layer and top output, per step */
    float rec_dropout;           /* Semeniuta et al.: cell candidate g (PredRNN++: g and gg) */
    int rec_dropout_seq;         /* 0: a fresh rec_dropout mask per step, 1: one per sequence */
    float var_dropout_x, var_dropout_h; /* Gal & Ghahramani / Keras: one mask per sequence and gate */
    float zoneout_c, zoneout_h;  /* Krueger et al.: keep the old c / h with this probability, per step
                                  * and element (training); evaluation uses the expectation */
    float zoneout_m;             /* PredRNN++ only: the same on the spatio-temporal memory m */
    float weight_drop;           /* Merity et al.: DropConnect on conv_h's kernel, one mask per training
                                  * call (whole sequence and batch), inverted; evaluation: raw kernel */
    uint64_t reg_seed;           /* seed of the regularizer masks (the run's seed) */
} ModelConfig;

typedef struct Model Model;

/* The registered model kinds as the `model` option's choices, "convlstm|predrnn_pp" (model.c's registry:
 * a new kind is one file and one line there). */
const char *model_kind_choices(void);

/* Build a model for batches of `batch` sequences of `seq_len` frames on `device` (device.h's
 * device_select). -1 + rr_error on a bad configuration (the message names the key). */
int model_create(const ModelConfig *cfg, int batch, int seq_len, int device, Model **out);
void model_free(Model *m);

/* Parameters (trainable) and buffers (e.g. batch-norm running statistics), by index, with their
 * PyTorch state_dict names (the checkpoint names). Gradients match parameters one to one. */
int model_num_params(const Model *m);
Tensor *model_param(Model *m, int i);
Tensor *model_grad(Model *m, int i);
const char *model_param_name(const Model *m, int i);
int model_num_buffers(const Model *m);
Tensor *model_buffer(Model *m, int i);
const char *model_buffer_name(const Model *m, int i);
/* Batch-norm batch counters: PyTorch BatchNorm2d's int64 buffer num_batches_tracked, one per BN layer
 * (name bns.L.num_batches_tracked, checkpoint dtype I64, shape ()). Like PyTorch, each training-mode
 * call of that BN adds 1, and BN runs once per time step: a training forward over T frames adds T-1
 * (twice that with reverse_input). 0 after model_init. No effect on any computation (momentum is set). */
int model_num_counters(const Model *m);
int64_t *model_counter(Model *m, int i);
const char *model_counter_name(const Model *m, int i);
int64_t model_param_count(const Model *m);          /* number of trainable scalars */
size_t model_arena_bytes(const Model *m);           /* device memory planned: activations (+ params) */
double model_flops_per_sequence(const Model *m);    /* forward multiply-adds × 2 for one sequence */

/* Checkpoint layout. A parameter's internal layout (model_param's shape) can differ from its PyTorch
 * state_dict layout: the Conv3d head weight "head.weight" is kept tap-major, (3, Cout, Cin, k, k), so
 * each time tap is a contiguous conv2d weight, while PyTorch's Conv3d stores (Cout, Cin, 3, k, k).
 * These convert host arrays of model_param(m, i)->count floats between the two (identity for every
 * other parameter); use them for the parameter and for optimizer state of the same shape (Adam m, v).
 * Buffers are always in checkpoint layout. model_param_ckpt_shape returns ndim. */
int model_param_ckpt_shape(const Model *m, int i, int shape[RR_MAX_DIMS]);
void model_param_to_ckpt(const Model *m, int i, const float *internal, float *ckpt);
void model_param_from_ckpt(const Model *m, int i, const float *ckpt, float *internal);

/* Initialise all parameters (and reset buffers) deterministically from seed (Philox, RR_TAG_INIT). */
void model_init(Model *m, uint64_t seed);

/* One training step's forward and backward pass. frames: (T, B, C, H, W) on the model's device
 * (T ≤ seq_len and B ≤ batch of model_create; T ≥ 2).
 * use_truth: host array (B × T) of 0/1, entry [b*T + t]: at step t feed ground-truth frame t (1) or
 * the model's own prediction of frame t (0; only meaningful for t ≥ 1). Gradients are ZEROED first
 * and then accumulated. Returns the loss (mean squared error over all predicted frames). If
 * `predictions` is non-NULL ((T-1, B, C, H, W), host) the step's outputs are copied there.
 * Returns -1 with rr_error on invalid input (frames' shape; use_truth 0 with the conv3d_centered head,
 * which needs teacher forcing because its output at step t sees step t+1). */
double model_train_step(Model *m, const Tensor *frames, const unsigned char *use_truth,
                        float *predictions);

/* The training iteration (counted from 1) whose masks the next model_train_step draws. */
void model_set_iteration(Model *m, int64_t iteration);

/* Forward only, evaluation mode (batch norm on running statistics, no dropout): frames 0..n_in-1 are
 * ground truth, later inputs are the model's own predictions. Writes all T-1 outputs to `out`
 * (host, (T-1, B, C, H, W)) and returns the loss against the true frames (mean over all T-1 outputs);
 * -1 with rr_error on invalid input (frames' shape as for model_train_step; n_in outside 1..T-1). */
double model_evaluate(Model *m, const Tensor *frames, int n_in, float *out);

/* model_evaluate with every input the true frame (n_in = T-1), computed as one teacher-forced
 * forward over the whole sequence (the Keras example's model.predict): unlike model_evaluate with
 * n_in = T-1, whose outputs are those of the rollout (each from its own prefix), the conv3d_centered
 * head's tap on step t+1 reads step t+1, as in training — the output for frame t+1 sees frame t+1. */
double model_evaluate_teacher_forced(Model *m, const Tensor *frames, float *out);

#endif

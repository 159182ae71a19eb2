/* model_internal.h — what the model kinds (convlstm.c, predrnn_pp.c) share with the dispatcher in
 * model.c: the Model struct with its registry of parameters, buffers and counters (names, tensors,
 * checkpoint layout), the table of kind-specific functions, and the kinds' constructors. Not part of the
 * public interface. */
#ifndef RNNREG_MODEL_INTERNAL_H
#define RNNREG_MODEL_INTERNAL_H

#include "model.h"

#define MODEL_NAME_LEN 64

/* One registered tensor: a trainable parameter (value + gradient) or a buffer (value only; grad.data
 * NULL). Internal layout = value's shape. Checkpoint layout (the PyTorch state_dict tensor):
 * checkpoint axis i is internal axis ckpt_perm[i] (identity except e.g. the Conv3d head weight). */
typedef struct {
    char name[MODEL_NAME_LEN];
    Tensor value, grad;
    int ckpt_perm[RR_MAX_DIMS];
} ModelTensor;

/* train_step and evaluate get arguments that model.c has checked: frames of a shape model.h allows,
 * on the model's device, use_truth non-NULL, n_in in 1..T-1. */
typedef struct {
    void (*init)(Model *m, uint64_t seed);
    double (*train_step)(Model *m, const Tensor *frames, const unsigned char *use_truth, float *predictions);
    /* teacher_forced (n_in = T-1): the outputs as in training, after every step has run (a head that
     * reads step t+1 sees it); 0: each output from its prefix, the autoregressive rollout */
    double (*evaluate)(Model *m, const Tensor *frames, int n_in, int teacher_forced, float *out);
    double (*flops_per_sequence)(const Model *m);
    size_t (*arena_bytes)(const Model *m);      /* the kind's activation arena */
    void (*destroy)(void *impl);   /* frees the kind's own state (not the registry) */
} ModelKindOps;

struct Model {
    ModelConfig cfg;
    int device, batch, seq_len;
    int64_t iteration;                 /* model_set_iteration: keys the regularizer masks */
    const ModelKindOps *ops;
    void *impl;                        /* the kind's own state */
    int n_params, n_buffers;
    ModelTensor *params, *buffers;     /* registry, in state_dict order */
    int n_counters;                    /* int64 counters (BN num_batches_tracked), model.h */
    int64_t counters[MODEL_MAX_LAYERS];
    char counter_names[MODEL_MAX_LAYERS][MODEL_NAME_LEN];
    Arena param_arena;                 /* values, gradients and buffers */
};

/* Registry (model.c). Register every tensor first (shapes only; perm NULL = identity), then
 * model_allocate_tensors puts values, gradients and buffers in one arena (zeroed). Return the index. */
int model_add_param(Model *m, const char *name, int ndim, const int *shape, const int *perm);
int model_add_buffer(Model *m, const char *name, int ndim, const int *shape);
int model_add_counter(Model *m, const char *name); /* an int64 counter, 0 */
int model_allocate_tensors(Model *m);

/* Kind constructors, one per entry of model.c's registry of kinds: fill m (cfg, device, batch, seq_len
 * are set; ops, impl, registry to do). -1 + rr_error naming the config key on a bad configuration; on
 * failure model_free still calls ops->destroy(impl) when both are set, so set them before anything
 * can fail. */
int convlstm_create(Model *m);   /* convlstm.c */
int predrnn_pp_create(Model *m); /* predrnn_pp.c, documented in predrnn_pp.h */

#endif

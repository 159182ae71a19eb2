/* model.c — the model.h interface: dispatch over model kinds, the
 * registry of parameters and buffers that registry-based kinds fill ("convlstm", src/convlstm.c), and
 * the conversion between a parameter's internal layout and its checkpoint (PyTorch state_dict) layout. "predrnn_pp"
 * (src/predrnn_pp.c) keeps its own parameters; every call is forwarded to its predrnn_pp_* twin, and
 * its checkpoint layout is its internal one. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model_internal.h"
#include "predrnn_pp.h"

int model_create(const ModelConfig *cfg, int batch, int seq_len, int device, Model **out) {
    *out = NULL;
    if (batch < 1) return rr_error("batch: %d (must be >= 1)", batch);
    if (seq_len < 2) return rr_error("seq_len: %d (must be >= 2: one input and one target frame)", seq_len);
    Model *m = rr_calloc(1, sizeof *m);
    m->cfg = *cfg;
    m->cfg.model[sizeof m->cfg.model - 1] = '\0';
    m->device = device;
    m->batch = batch;
    m->seq_len = seq_len;
    arena_init_plan(&m->param_arena, device);
    int rc;
    if (strcmp(m->cfg.model, "convlstm") == 0)
        rc = convlstm_create(m);
    else if (strcmp(m->cfg.model, "predrnn_pp") == 0)
        rc = predrnn_pp_create(&m->cfg, batch, seq_len, device, &m->pp);
    else
        rc = rr_error("model: '%s' is unknown (convlstm, predrnn_pp)", m->cfg.model);
    if (rc) {
        model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void model_free(Model *m) {
    if (!m) return;
    if (m->pp) predrnn_pp_free(m->pp);
    if (m->ops && m->impl) m->ops->destroy(m->impl);
    arena_free(&m->param_arena);
    free(m->params);
    free(m->buffers);
    free(m);
}

/* ------------------------------------------------------------------------------------------------ */
/* Registry */

static int add_tensor(ModelTensor **list, int *n, const char *name, int ndim, const int *shape,
                      const int *perm) {
    *list = rr_realloc(*list, sizeof **list * (size_t)(*n + 1));
    ModelTensor *t = &(*list)[*n];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->value = tensor_make(NULL, RR_CPU, ndim, shape);
    for (int i = 0; i < ndim; i++) t->ckpt_perm[i] = perm ? perm[i] : i;
    return (*n)++;
}

int model_add_param(Model *m, const char *name, int ndim, const int *shape, const int *perm) {
    return add_tensor(&m->params, &m->n_params, name, ndim, shape, perm);
}

int model_add_buffer(Model *m, const char *name, int ndim, const int *shape) {
    return add_tensor(&m->buffers, &m->n_buffers, name, ndim, shape, NULL);
}

int model_add_counter(Model *m, const char *name) {
    if (m->n_counters == MODEL_MAX_LAYERS) rr_die("model: more than %d counters", MODEL_MAX_LAYERS);
    snprintf(m->counter_names[m->n_counters], MODEL_NAME_LEN, "%s", name);
    m->counters[m->n_counters] = 0;
    return m->n_counters++;
}

/* Plan (base NULL) or hand out (allocated) the views, in the same order both times. */
static void take_tensors(Model *m) {
    Arena *a = &m->param_arena;
    for (int i = 0; i < m->n_params; i++)
        m->params[i].value = arena_tensor(a, m->params[i].value.ndim, m->params[i].value.shape);
    for (int i = 0; i < m->n_params; i++)
        m->params[i].grad = arena_tensor(a, m->params[i].value.ndim, m->params[i].value.shape);
    for (int i = 0; i < m->n_buffers; i++)
        m->buffers[i].value = arena_tensor(a, m->buffers[i].value.ndim, m->buffers[i].value.shape);
}

int model_allocate_tensors(Model *m) {
    arena_init_plan(&m->param_arena, m->device);
    take_tensors(m);
    if (arena_allocate(&m->param_arena)) return -1;
    arena_rewind(&m->param_arena);
    take_tensors(m);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Accessors */

int model_num_params(const Model *m) { return m->pp ? predrnn_pp_num_params(m->pp) : m->n_params; }
Tensor *model_param(Model *m, int i) {
    if (m->pp) return predrnn_pp_param(m->pp, i);
    return (i >= 0 && i < m->n_params) ? &m->params[i].value : NULL;
}
Tensor *model_grad(Model *m, int i) {
    if (m->pp) return predrnn_pp_grad(m->pp, i);
    return (i >= 0 && i < m->n_params) ? &m->params[i].grad : NULL;
}
const char *model_param_name(const Model *m, int i) {
    if (m->pp) return predrnn_pp_param_name(m->pp, i);
    return (i >= 0 && i < m->n_params) ? m->params[i].name : NULL;
}
int model_num_buffers(const Model *m) { return m->pp ? predrnn_pp_num_buffers(m->pp) : m->n_buffers; }
Tensor *model_buffer(Model *m, int i) {
    if (m->pp) return predrnn_pp_buffer(m->pp, i);
    return (i >= 0 && i < m->n_buffers) ? &m->buffers[i].value : NULL;
}
const char *model_buffer_name(const Model *m, int i) {
    if (m->pp) return predrnn_pp_buffer_name(m->pp, i);
    return (i >= 0 && i < m->n_buffers) ? m->buffers[i].name : NULL;
}

int model_num_counters(const Model *m) { return m->pp ? predrnn_pp_num_counters(m->pp) : m->n_counters; }
int64_t *model_counter(Model *m, int i) {
    if (m->pp) return predrnn_pp_counter(m->pp, i);
    return (i >= 0 && i < m->n_counters) ? &m->counters[i] : NULL;
}
const char *model_counter_name(const Model *m, int i) {
    if (m->pp) return predrnn_pp_counter_name(m->pp, i);
    return (i >= 0 && i < m->n_counters) ? m->counter_names[i] : NULL;
}

int64_t model_param_count(const Model *m) {
    if (m->pp) return predrnn_pp_param_count(m->pp);
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++) n += m->params[i].value.count;
    return n;
}

size_t model_arena_bytes(const Model *m) {
    if (m->pp) return predrnn_pp_arena_bytes(m->pp);
    return m->param_arena.size + (m->ops->arena_bytes ? m->ops->arena_bytes(m) : 0);
}

double model_flops_per_sequence(const Model *m) {
    return m->pp ? predrnn_pp_flops_per_sequence(m->pp) : m->ops->flops_per_sequence(m);
}

void model_init(Model *m, uint64_t seed) {
    if (m->pp)
        predrnn_pp_init(m->pp, seed);
    else
        m->ops->init(m, seed);
}

double model_train_step(Model *m, const Tensor *frames, const unsigned char *use_truth, float *predictions) {
    if (m->pp) return predrnn_pp_train_step(m->pp, frames, use_truth, predictions);
    return m->ops->train_step(m, frames, use_truth, predictions);
}

void model_set_iteration(Model *m, int64_t iteration) {
    m->iteration = iteration;
    if (m->pp) predrnn_pp_set_iteration(m->pp, iteration);
}

double model_evaluate(Model *m, const Tensor *frames, int n_in, float *out) {
    if (m->pp) return predrnn_pp_evaluate(m->pp, frames, n_in, out);
    return m->ops->evaluate(m, frames, n_in, out);
}

/* ------------------------------------------------------------------------------------------------ */
/* Checkpoint layout */

int model_param_ckpt_shape(const Model *m, int i, int shape[RR_MAX_DIMS]) {
    if (m->pp) {
        const Tensor *t = predrnn_pp_param(m->pp, i);
        if (!t) rr_die("model_param_ckpt_shape: no parameter %d", i);
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
        return t->ndim;
    }
    if (i < 0 || i >= m->n_params) rr_die("model_param_ckpt_shape: no parameter %d", i);
    const ModelTensor *t = &m->params[i];
    for (int d = 0; d < t->value.ndim; d++) shape[d] = t->value.shape[t->ckpt_perm[d]];
    return t->value.ndim;
}

/* Walk the checkpoint layout in C order; `to_ckpt` says which side is read. */
static void permute(const ModelTensor *t, const float *src, float *dst, int to_ckpt) {
    const int nd = t->value.ndim;
    int64_t istride[RR_MAX_DIMS], cshape[RR_MAX_DIMS], cstride[RR_MAX_DIMS]; /* strides of ckpt axes in internal */
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        istride[d] = s;
        s *= t->value.shape[d];
    }
    for (int d = 0; d < nd; d++) {
        cshape[d] = t->value.shape[t->ckpt_perm[d]];
        cstride[d] = istride[t->ckpt_perm[d]];
    }
    int64_t idx[RR_MAX_DIMS] = {0}, internal = 0;
    for (int64_t c = 0; c < t->value.count; c++) {
        if (to_ckpt)
            dst[c] = src[internal];
        else
            dst[internal] = src[c];
        for (int d = nd - 1; d >= 0; d--) { /* odometer over checkpoint axes */
            idx[d]++;
            internal += cstride[d];
            if (idx[d] < cshape[d]) break;
            internal -= cstride[d] * cshape[d];
            idx[d] = 0;
        }
    }
}

/* PredRNN++: identity layout. */
static void copy_pp(const Model *m, int i, const float *src, float *dst) {
    const Tensor *t = predrnn_pp_param(m->pp, i);
    if (!t) rr_die("model checkpoint layout: no parameter %d", i);
    memcpy(dst, src, sizeof(float) * (size_t)t->count);
}

void model_param_to_ckpt(const Model *m, int i, const float *internal, float *ckpt) {
    if (m->pp) {
        copy_pp(m, i, internal, ckpt);
        return;
    }
    if (i < 0 || i >= m->n_params) rr_die("model_param_to_ckpt: no parameter %d", i);
    permute(&m->params[i], internal, ckpt, 1);
}

void model_param_from_ckpt(const Model *m, int i, const float *ckpt, float *internal) {
    if (m->pp) {
        copy_pp(m, i, ckpt, internal);
        return;
    }
    if (i < 0 || i >= m->n_params) rr_die("model_param_from_ckpt: no parameter %d", i);
    permute(&m->params[i], ckpt, internal, 0);
}

/* model.c — the model.h interface: the registry of model kinds (name →
 * constructor) and the dispatch through each kind's ModelKindOps table, the registry of parameters,
 * buffers and counters that every kind fills (src/convlstm.c, src/predrnn_pp.c), and the conversion
 * between a parameter's internal layout and its checkpoint (PyTorch state_dict) layout. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model_internal.h"

/* The model kinds: config value `model` → constructor (model_internal.h). A new kind is one file with its
 * constructor and one line here. */
static const struct {
    const char *name;
    int (*create)(Model *m);
} model_kinds[] = {
    {"convlstm", convlstm_create},
    {"predrnn_pp", predrnn_pp_create},
};
#define N_MODEL_KINDS ((int)(sizeof model_kinds / sizeof model_kinds[0]))

/* The registered kinds' names joined by sep into buf (n bytes). */
static const char *join_kind_names(const char *sep, char *buf, size_t n) {
    buf[0] = '\0';
    for (int k = 0; k < N_MODEL_KINDS; k++) {
        if (k) strncat(buf, sep, n - strlen(buf) - 1);
        strncat(buf, model_kinds[k].name, n - strlen(buf) - 1);
    }
    return buf;
}

const char *model_kind_choices(void) {
    static char names[256];
    return names[0] ? names : join_kind_names("|", names, sizeof names);
}

/* -1 + rr_error naming the `model` value and listing the registered kinds. */
static int unknown_model(const char *name) {
    char names[256];
    return rr_error("model: '%s' is unknown (%s)", name, join_kind_names(", ", names, sizeof names));
}

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
    int k = 0;
    while (k < N_MODEL_KINDS && strcmp(m->cfg.model, model_kinds[k].name)) k++;
    const int rc = k < N_MODEL_KINDS ? model_kinds[k].create(m) : unknown_model(m->cfg.model);
    if (rc) {
        model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void model_free(Model *m) {
    if (!m) return;
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

int model_num_params(const Model *m) { return m->n_params; }
Tensor *model_param(Model *m, int i) { return (i >= 0 && i < m->n_params) ? &m->params[i].value : NULL; }
Tensor *model_grad(Model *m, int i) { return (i >= 0 && i < m->n_params) ? &m->params[i].grad : NULL; }
const char *model_param_name(const Model *m, int i) {
    return (i >= 0 && i < m->n_params) ? m->params[i].name : NULL;
}
int model_num_buffers(const Model *m) { return m->n_buffers; }
Tensor *model_buffer(Model *m, int i) { return (i >= 0 && i < m->n_buffers) ? &m->buffers[i].value : NULL; }
const char *model_buffer_name(const Model *m, int i) {
    return (i >= 0 && i < m->n_buffers) ? m->buffers[i].name : NULL;
}

int model_num_counters(const Model *m) { return m->n_counters; }
int64_t *model_counter(Model *m, int i) { return (i >= 0 && i < m->n_counters) ? &m->counters[i] : NULL; }
const char *model_counter_name(const Model *m, int i) {
    return (i >= 0 && i < m->n_counters) ? m->counter_names[i] : NULL;
}

int64_t model_param_count(const Model *m) {
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++) n += m->params[i].value.count;
    return n;
}

size_t model_arena_bytes(const Model *m) {
    return m->param_arena.size + (m->ops->arena_bytes ? m->ops->arena_bytes(m) : 0);
}

double model_flops_per_sequence(const Model *m) { return m->ops->flops_per_sequence(m); }

void model_init(Model *m, uint64_t seed) { m->ops->init(m, seed); }

/* frames (T, B, C, H, W) with 2 <= T <= seq_len and 1 <= B <= batch, C = img_channels·patch², H = W =
 * image_size / patch, on the model's device; -1 + rr_error naming the caller `fn` otherwise. */
static int check_frames(const Model *m, const Tensor *f, const char *fn) {
    char buf[96];
    const int c = m->cfg.img_channels * m->cfg.patch * m->cfg.patch, hw = m->cfg.image_size / m->cfg.patch;
    if (!f || f->ndim != 5 || f->shape[0] < 2 || f->shape[0] > m->seq_len || f->shape[1] < 1 ||
        f->shape[1] > m->batch || f->shape[2] != c || f->shape[3] != hw || f->shape[4] != hw)
        return rr_error("%s: frames %s do not fit the model: want (T, B, %d, %d, %d) with 2 <= T <= %d, "
                        "1 <= B <= %d", fn, f ? tensor_shape_str(f, buf, sizeof buf) : "NULL", c, hw, hw,
                        m->seq_len, m->batch);
    if (f->device != m->device)
        return rr_error("%s: frames are on device %d, the model on %d", fn, f->device, m->device);
    return 0;
}

double model_train_step(Model *m, const Tensor *frames, const unsigned char *use_truth, float *predictions) {
    if (check_frames(m, frames, "model_train_step")) return -1.0;
    if (!use_truth) return rr_error("model_train_step: use_truth is NULL");
    return m->ops->train_step(m, frames, use_truth, predictions);
}

void model_set_iteration(Model *m, int64_t iteration) { m->iteration = iteration; }

double model_evaluate(Model *m, const Tensor *frames, int n_in, float *out) {
    if (check_frames(m, frames, "model_evaluate")) return -1.0;
    const int steps = frames->shape[0] - 1;
    if (n_in < 1 || n_in > steps) return rr_error("model_evaluate: n_in %d outside 1..%d", n_in, steps);
    return m->ops->evaluate(m, frames, n_in, 0, out);
}

double model_evaluate_teacher_forced(Model *m, const Tensor *frames, float *out) {
    if (check_frames(m, frames, "model_evaluate")) return -1.0;
    return m->ops->evaluate(m, frames, frames->shape[0] - 1, 1, out);
}

/* ------------------------------------------------------------------------------------------------ */
/* Checkpoint layout */

int model_param_ckpt_shape(const Model *m, int i, int shape[RR_MAX_DIMS]) {
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

void model_param_to_ckpt(const Model *m, int i, const float *internal, float *ckpt) {
    if (i < 0 || i >= m->n_params) rr_die("model_param_to_ckpt: no parameter %d", i);
    permute(&m->params[i], internal, ckpt, 1);
}

void model_param_from_ckpt(const Model *m, int i, const float *ckpt, float *internal) {
    if (i < 0 || i >= m->n_params) rr_die("model_param_from_ckpt: no parameter %d", i);
    permute(&m->params[i], ckpt, internal, 0);
}

/* checkpoint.c — saving and loading model, optimizer and training state as safetensors (layout and
 * metadata keys in checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ops.h"
#include "safetensors.h"

#define FORMAT "rnnreg-checkpoint-1"
#define MAX_META 32

void train_state_init(TrainState *st) {
    memset(st, 0, sizeof *st);
    st->best_val_loss = INFINITY;
    st->val_loss = NAN;
    st->best_epoch = 0;
}

static const char *optim_name(OptimKind k) {
    static const char *const names[] = {"adam", "adamw", "sgd", "rmsprop"};
    return names[k];
}

typedef struct {
    int n;
    const char *keys[MAX_META];
    char *values[MAX_META];
} Meta;

static void meta_add(Meta *md, const char *key, const char *fmt, ...) RR_PRINTF(3, 4);
static void meta_add(Meta *md, const char *key, const char *fmt, ...) {
    if (md->n == MAX_META) rr_die("checkpoint: too many metadata entries");
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = rr_malloc((size_t)len + 1);
    vsnprintf(s, (size_t)len + 1, fmt, ap2);
    va_end(ap2);
    md->keys[md->n] = key;
    md->values[md->n++] = s;
}

/* One model tensor (host copy in state_dict layout) for the file. */
static void add_param_like(StTensor *t, Model *m, int i, const Tensor *src, char *name) {
    int shape[RR_MAX_DIMS];
    t->name = name;
    t->ndim = model_param_ckpt_shape(m, i, shape);
    for (int d = 0; d < t->ndim; d++) t->shape[d] = shape[d];
    t->count = src->count;
    float *internal = rr_malloc(sizeof(float) * (size_t)(src->count ? src->count : 1));
    t->data = rr_malloc(sizeof(float) * (size_t)(src->count ? src->count : 1));
    op_to_host(src, internal);
    model_param_to_ckpt(m, i, internal, t->data);
    free(internal);
}

int checkpoint_save(const char *path, Model *m, Optimizer *o, const TrainState *st, const char *config_text,
                    const char *config_hash) {
    int np = model_num_params(m), nb = model_num_buffers(m), slots = o ? o->n_slots : 0;
    int n = np + nb + np * slots;
    StTensor *t = rr_calloc((size_t)(n ? n : 1), sizeof *t);
    char **names = rr_calloc((size_t)(n ? n : 1), sizeof *names);
    int k = 0;
    for (int i = 0; i < np; i++, k++) {
        names[k] = rr_strdup(model_param_name(m, i));
        add_param_like(&t[k], m, i, model_param(m, i), names[k]);
    }
    for (int i = 0; i < nb; i++, k++) {
        const Tensor *b = model_buffer(m, i);
        names[k] = rr_strdup(model_buffer_name(m, i));
        t[k].name = names[k];
        t[k].ndim = b->ndim;
        for (int d = 0; d < b->ndim; d++) t[k].shape[d] = b->shape[d];
        t[k].count = b->count;
        t[k].data = rr_malloc(sizeof(float) * (size_t)(b->count ? b->count : 1));
        op_to_host(b, t[k].data);
    }
    for (int i = 0; i < np; i++) {
        for (int s = 0; s < slots; s++, k++) {
            const char *pname = model_param_name(m, i), *sname = optimizer_slot_name(o, s);
            size_t len = strlen(pname) + strlen(sname) + 16;
            names[k] = rr_malloc(len);
            snprintf(names[k], len, "optimizer.%s.%s", sname, pname);
            add_param_like(&t[k], m, i, optimizer_state(o, i, s), names[k]);
        }
    }

    Meta md = {0};
    meta_add(&md, "format", FORMAT);
    if (config_text) meta_add(&md, "config", "%s", config_text);
    if (config_hash) meta_add(&md, "config_hash", "%s", config_hash);
    if (st) {
        meta_add(&md, "seed", "%llu", (unsigned long long)st->seed);
        meta_add(&md, "threads", "%d", st->threads);
        meta_add(&md, "epoch", "%lld", (long long)st->epoch);
        meta_add(&md, "iteration", "%lld", (long long)st->iteration);
        meta_add(&md, "batch_in_epoch", "%lld", (long long)st->batch_in_epoch);
        meta_add(&md, "train_loss_sum", "%.17g", st->train_loss_sum);
        meta_add(&md, "grad_norm_sum", "%.17g", st->grad_norm_sum);
        meta_add(&md, "lr", "%.17g", st->sched.lr);
        meta_add(&md, "plateau_best", "%.17g", st->sched.best);
        meta_add(&md, "plateau_num_bad_epochs", "%d", st->sched.num_bad_epochs);
        meta_add(&md, "plateau_cooldown_counter", "%d", st->sched.cooldown_counter);
        meta_add(&md, "best_val_loss", "%.17g", st->best_val_loss);
        meta_add(&md, "best_epoch", "%lld", (long long)st->best_epoch);
        meta_add(&md, "epochs_since_best", "%lld", (long long)st->epochs_since_best);
        meta_add(&md, "val_loss", "%.17g", st->val_loss);
        if (st->l2_penalty_sum != 0) meta_add(&md, "train_l2_penalty_sum", "%.17g", st->l2_penalty_sum);
        if (st->data_sha256[0]) meta_add(&md, "data_sha256", "%s", st->data_sha256);
    }
    if (o) {
        meta_add(&md, "optimizer", "%s", optim_name(o->kind));
        meta_add(&md, "optimizer_step", "%lld", (long long)o->step);
    }
    /* BN num_batches_tracked: I64 scalars, as in PyTorch's state_dict */
    const int nc = model_num_counters(m);
    StI64 *counters = rr_calloc((size_t)nc + 1, sizeof *counters);
    for (int i = 0; i < nc; i++) counters[i] = (StI64){model_counter_name(m, i), *model_counter(m, i)};
    int rc = st_save_i64(path, t, n, counters, nc, md.n, md.keys, (const char *const *)md.values);
    free(counters);
    for (int i = 0; i < md.n; i++) free(md.values[i]);
    for (int i = 0; i < n; i++) {
        free(t[i].data);
        free(names[i]);
    }
    free(t);
    free(names);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */

static int meta_i64(const StFile *f, const char *path, const char *key, int64_t *out) {
    const char *v = st_meta(f, key);
    if (!v) return rr_error("%s: metadata '%s' is missing", path, key);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno) return rr_error("%s: metadata '%s': '%s' is not an integer", path, key, v);
    *out = x;
    return 0;
}

static int meta_f64(const StFile *f, const char *path, const char *key, double *out) {
    const char *v = st_meta(f, key);
    if (!v) return rr_error("%s: metadata '%s' is missing", path, key);
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end) return rr_error("%s: metadata '%s': '%s' is not a number", path, key, v);
    *out = x;
    return 0;
}

static int shapes_equal(const StTensor *t, int ndim, const int *shape) {
    if (t->ndim != ndim) return 0;
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] != shape[d]) return 0;
    return 1;
}

static void shape_text(char *buf, size_t n, int ndim, const int64_t *s64, const int *s32) {
    size_t used = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", d ? ", " : "", s64 ? (long long)s64[d] : (long long)s32[d]);
    if (used < n) snprintf(buf + used, n - used, ")");
}

/* Load one parameter-shaped tensor `name` into dst (internal layout of parameter i). */
static int load_param_like(const StFile *f, const char *path, Model *m, int i, const char *name, Tensor *dst) {
    const StTensor *t = st_find(f, name);
    if (!t) return rr_error("%s: tensor '%s' is missing", path, name);
    int shape[RR_MAX_DIMS], nd = model_param_ckpt_shape(m, i, shape);
    if (!shapes_equal(t, nd, shape)) {
        char got[128], want[128];
        shape_text(got, sizeof got, t->ndim, t->shape, NULL);
        shape_text(want, sizeof want, nd, NULL, shape);
        return rr_error("%s: tensor '%s' has shape %s but the model expects %s", path, name, got, want);
    }
    float *internal = rr_malloc(sizeof(float) * (size_t)(dst->count ? dst->count : 1));
    model_param_from_ckpt(m, i, t->data, internal);
    op_from_host(internal, dst);
    free(internal);
    return 0;
}

int checkpoint_load(const char *path, Model *m, Optimizer *o, TrainState *st) {
    StFile f;
    if (st_load(path, &f)) return -1;
    int rc = 0;
    const char *format = st_meta(&f, "format");
    if (!format || strcmp(format, FORMAT)) {
        rc = rr_error("%s: not an rnnreg checkpoint (metadata format '%s', expected '%s')", path,
                      format ? format : "(none)", FORMAT);
        goto done;
    }
    /* strict: every file tensor outside optimizer.* belongs to the model */
    for (int k = 0; k < f.n_i64 && !rc; k++) {
        int known = 0;
        for (int i = 0; i < model_num_counters(m) && !known; i++) known = !strcmp(f.i64[k].name, model_counter_name(m, i));
        if (!known) rc = rr_error("%s: tensor '%s' does not belong to this model (different configuration?)", path, f.i64[k].name);
    }
    for (int k = 0; k < f.n && !rc; k++) {
        const char *name = f.tensors[k].name;
        if (!strncmp(name, "optimizer.", 10)) continue;
        int known = 0;
        for (int i = 0; i < model_num_params(m) && !known; i++) known = !strcmp(name, model_param_name(m, i));
        for (int i = 0; i < model_num_buffers(m) && !known; i++) known = !strcmp(name, model_buffer_name(m, i));
        for (int i = 0; i < model_num_counters(m) && !known; i++) known = !strcmp(name, model_counter_name(m, i));
        if (!known) rc = rr_error("%s: tensor '%s' does not belong to this model (different configuration?)", path, name);
    }
    for (int i = 0; i < model_num_params(m) && !rc; i++)
        rc = load_param_like(&f, path, m, i, model_param_name(m, i), model_param(m, i));
    for (int i = 0; i < model_num_buffers(m) && !rc; i++) {
        const char *name = model_buffer_name(m, i);
        Tensor *b = model_buffer(m, i);
        const StTensor *t = st_find(&f, name);
        if (!t) rc = rr_error("%s: tensor '%s' is missing", path, name);
        else if (!shapes_equal(t, b->ndim, b->shape)) rc = rr_error("%s: tensor '%s' has the wrong shape", path, name);
        else op_from_host(t->data, b);
    }
    /* BN num_batches_tracked (I64 scalar); checkpoints written before it existed lack it: the counter
     * keeps its value then, as PyTorch's BatchNorm does for an old state_dict without the key */
    for (int i = 0; i < model_num_counters(m) && !rc; i++) {
        const char *name = model_counter_name(m, i);
        const StI64 *c = st_find_i64(&f, name);
        if (c) *model_counter(m, i) = c->value;
        else if (st_find(&f, name)) rc = rr_error("%s: tensor '%s' must be an I64 scalar, not F32", path, name);
    }
    if (!rc && o) {
        const char *kind = st_meta(&f, "optimizer");
        int64_t step = 0;
        if (!kind) rc = rr_error("%s: no optimizer state (a best.safetensors? resume needs last.safetensors)", path);
        else if (strcmp(kind, optim_name(o->kind)))
            rc = rr_error("%s: optimizer state is for '%s', this run uses '%s'", path, kind, optim_name(o->kind));
        else if (!(rc = meta_i64(&f, path, "optimizer_step", &step)))
            o->step = step;
        for (int i = 0; i < o->n_params && !rc; i++) {
            for (int s = 0; s < o->n_slots && !rc; s++) {
                char name[512];
                snprintf(name, sizeof name, "optimizer.%s.%s", optimizer_slot_name(o, s), model_param_name(m, i));
                rc = load_param_like(&f, path, m, i, name, optimizer_state(o, i, s));
            }
        }
    }
    if (!rc && st) {
        int64_t seed = 0, threads = 0, nbad = 0, cool = 0;
        rc = meta_i64(&f, path, "epoch", &st->epoch) || meta_i64(&f, path, "iteration", &st->iteration) ||
             meta_i64(&f, path, "batch_in_epoch", &st->batch_in_epoch) ||
             meta_f64(&f, path, "train_loss_sum", &st->train_loss_sum) ||
             meta_f64(&f, path, "grad_norm_sum", &st->grad_norm_sum) || meta_f64(&f, path, "lr", &st->sched.lr) ||
             meta_f64(&f, path, "plateau_best", &st->sched.best) ||
             meta_i64(&f, path, "plateau_num_bad_epochs", &nbad) ||
             meta_i64(&f, path, "plateau_cooldown_counter", &cool) ||
             meta_f64(&f, path, "best_val_loss", &st->best_val_loss) ||
             meta_i64(&f, path, "best_epoch", &st->best_epoch) ||
             meta_i64(&f, path, "epochs_since_best", &st->epochs_since_best) ||
             meta_f64(&f, path, "val_loss", &st->val_loss) || meta_i64(&f, path, "threads", &threads);
        st->l2_penalty_sum = 0;
        if (!rc && st_meta(&f, "train_l2_penalty_sum"))
            rc = meta_f64(&f, path, "train_l2_penalty_sum", &st->l2_penalty_sum);
        const char *dh = st_meta(&f, "data_sha256");
        snprintf(st->data_sha256, sizeof st->data_sha256, "%s", dh && strlen(dh) == 64 ? dh : "");
        if (!rc) {
            const char *s = st_meta(&f, "seed");
            char *end;
            if (!s) rc = rr_error("%s: metadata 'seed' is missing", path);
            else seed = (int64_t)strtoull(s, &end, 10);
        }
        st->seed = (uint64_t)seed;
        st->threads = (int)threads;
        st->sched.num_bad_epochs = (int)nbad;
        st->sched.cooldown_counter = (int)cool;
        if (rc) rc = -1;
    }
done:
    st_free(&f);
    return rc;
}

int checkpoint_read_config(const char *path, char **config_text, char hash[17]) {
    StFile f;
    if (st_load(path, &f)) return -1;
    const char *text = st_meta(&f, "config"), *h = st_meta(&f, "config_hash");
    int rc = 0;
    if (!text || !h) rc = rr_error("%s: no 'config' / 'config_hash' metadata (not written by rnnreg train?)", path);
    else {
        if (config_text) *config_text = rr_strdup(text);
        if (hash) snprintf(hash, 17, "%s", h);
    }
    st_free(&f);
    return rc;
}

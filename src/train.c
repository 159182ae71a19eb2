/* train.c — `rnnreg train`, `rnnreg eval`, `rnnreg predict`: the run layer of the training engine
 * (outputs, determinism and resume contract in train.h). */
#include "train.h"

#include <dirent.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "blas.h"
#include "checkpoint.h"
#include "commands.h"
#include "common.h"
#include "json.h"
#include "loader.h"
#include "metrics.h"
#include "model.h"
#include "npy.h"
#include "ops.h"
#include "optimizer.h"
#include "regularize.h"
#include "rng.h"
#include "rundir.h"
#include "sha256.h"

/* ------------------------------------------------------------------------------------------------ */
/* Scheduled sampling */

/* L2 penalty (config l2, l2_on; regularize.h): adds 2·l2·w to the gradients of the selected weights
 * and returns l2·Σw² over them (0 when l2 = 0). */
static double l2_penalty(Model *m, const Config *c) {
    if (!(c->l2 > 0)) return 0.0;
    double pen = 0.0;
    for (int i = 0; i < model_num_params(m); i++) {
        Tensor *w = model_param(m, i);
        if (reg_l2_selects(model_param_name(m, i), w->ndim, c->l2_on)) pen += reg_l2_apply(w, model_grad(m, i), c->l2);
    }
    return pen;
}

double sampling_eta(const Config *c, int64_t iteration) {
    double eta = 1.0 - (double)iteration / (double)c->sampling_iters;
    return eta > 0 ? eta : 0;
}

/* rev = frames reversed in time, (T, ...) on the model's device: frame t of rev is frame T-1-t. */
static void reverse_time(const Tensor *frames, Tensor *rev) {
    const int T = frames->shape[0];
    for (int t = 0; t < T; t++) {
        const Tensor src = tensor_slice0(frames, T - 1 - t, 1);
        Tensor dst = tensor_slice0(rev, t, 1);
        op_copy(&src, &dst);
    }
}

void sampling_mask(const Config *c, int64_t iteration, int B, int T, unsigned char *use_truth) {
    const int scheduled = !strcmp(c->sampling, "scheduled"), teacher = !strcmp(c->sampling, "teacher");
    const double eta = sampling_eta(c, iteration);
    const uint64_t stream = rr_stream(RR_TAG_SAMPLING, (uint32_t)iteration, 0, 0);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            unsigned char truth;
            if (t < c->input_frames || teacher) truth = 1;
            else if (scheduled) truth = rr_rand_uniform(c->seed, stream, (uint64_t)b * T + t) < eta;
            else truth = 0;
            use_truth[b * T + t] = truth;
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* A run: data, model and the buffers of one batch */

typedef struct {
    Config cfg;
    Loader loader;
    int have_loader;
    Model *model;
    int T, B, F, p;            /* frames used, batch, future frames, patch */
    int64_t H, W, fs;          /* frame size, floats of one patched frame (C·Hp·Wp) */
    float *batch_host;         /* loader batch (T_src, B, C, Hp, Wp) */
    Arena frames_arena;        /* frames on the model's device */
    Tensor frames;             /* (T, B, C, Hp, Wp) */
    Tensor frames_rev;         /* reverse_input: the same frames reversed in time (else empty) */
    float *out_host;           /* (T-1, B, C, Hp, Wp) model outputs */
    float *img_pred, *img_truth; /* (B, H, W) un-patched frames */
    unsigned char *use_truth;  /* (B, T) */
} Run;

static int resolved_threads(const Config *c) {
    int n = c->threads;
    if (n <= 0) {
#ifdef _OPENMP
        n = omp_get_num_procs();
#else
        n = (int)sysconf(_SC_NPROCESSORS_ONLN);
#endif
    }
    return n < 1 ? 1 : n;
}

static void run_close(Run *r) {
    if (r->model) model_free(r->model);
    if (r->have_loader) loader_free(&r->loader);
    if (r->frames_arena.size) arena_free(&r->frames_arena);
    free(r->batch_host);
    free(r->out_host);
    free(r->img_pred);
    free(r->img_truth);
    free(r->use_truth);
    memset(r, 0, sizeof *r);
}

/* strict_tf32: train (tf32 = 1 with backend cpu is an error), not eval / predict (a TF32-trained run may
 * be evaluated on the CPU). */
static int run_open(Run *r, const Config *c, int strict_tf32) {
    memset(r, 0, sizeof *r);
    r->cfg = *c;
    int device;
    if (device_select(c->backend, c->tf32, strict_tf32, &device)) return -1;
    rr_set_threads(resolved_threads(c));
    LoaderConfig lc = {c->n_train, c->n_val, c->n_test,
                       strcmp(c->split, "ordered") ? LOADER_SPLIT_RANDOM : LOADER_SPLIT_ORDERED,
                       c->split_seed, c->seed, c->batch, c->patch};
    if (loader_open(&r->loader, c->data, &lc)) return -1;
    r->have_loader = 1;
    const Loader *L = &r->loader;
    if (L->H != L->W)
        return rr_error("%s: frames are %lld x %lld; the models take square frames", c->data, (long long)L->H,
                        (long long)L->W);
    if (L->H < METRICS_MIN_SIZE || L->W < METRICS_MIN_SIZE) /* before any training: the metrics need them */
        return rr_error("%s: frames are %lld x %lld, smaller than the %d x %d window of the SSIM metric that "
                        "validation and test compute on them (config data)", c->data, (long long)L->H,
                        (long long)L->W, METRICS_MIN_SIZE, METRICS_MIN_SIZE);
    if (L->T < c->seq_len)
        return rr_error("config: seq_len: %d but %s has %lld frames per sequence", c->seq_len, c->data,
                        (long long)L->T);
    r->T = c->seq_len;
    r->B = c->batch;
    r->F = c->seq_len - c->input_frames;
    r->p = c->patch;
    r->H = L->H;
    r->W = L->W;
    r->fs = L->C * L->Hp * L->Wp;
    ModelConfig mc;
    if (config_model(c, &mc)) return -1;
    mc.image_size = (int)L->H;
    if (model_create(&mc, r->B, r->T, device, &r->model)) return -1;
    /* the batch on the model's device: one host → device copy per batch (op_from_host); the time-reversed
     * copy of reverse_input is made there too */
    int shape[5] = {r->T, r->B, (int)L->C, (int)L->Hp, (int)L->Wp};
    int rev_shape[5] = {c->reverse_input ? r->T : 0, r->B, shape[2], shape[3], shape[4]};
    arena_init_plan(&r->frames_arena, device);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (arena_allocate(&r->frames_arena)) return -1;
            arena_rewind(&r->frames_arena);
        }
        r->frames = arena_tensor(&r->frames_arena, 5, shape);
        r->frames_rev = arena_tensor(&r->frames_arena, 5, rev_shape);
    }
    r->batch_host = rr_malloc(sizeof(float) * (size_t)loader_batch_floats(L));
    r->out_host = rr_malloc(sizeof(float) * (size_t)((r->T - 1) * r->B * r->fs));
    r->img_pred = rr_malloc(sizeof(float) * (size_t)(r->B * r->H * r->W));
    r->img_truth = rr_malloc(sizeof(float) * (size_t)(r->B * r->H * r->W));
    r->use_truth = rr_malloc((size_t)r->B * r->T);
    return 0;
}

/* Evaluate the first batches of a split covering at least max_seqs sequences (all: -1): the
 * autoregressive rollout (input_frames in), mean squared error per element over all T-1 outputs of
 * the real sequences (zero-filled batch slots excluded), per-frame metrics of the F future frames on
 * un-patched frames, and optionally the clipped predictions of the first n_pred sequences into
 * pred (F, n_pred, H, W). */
typedef struct {
    double loss;
    int64_t sequences;
    MetricsResult metrics;
} EvalResult;

static int evaluate_split(Run *r, Split which, int64_t max_seqs, EvalResult *res, float *pred, int64_t n_pred) {
    const Config *c = &r->cfg;
    const int64_t nb = loader_num_batches(&r->loader, which), B = r->B, fs = r->fs, HW = r->H * r->W;
    memset(res, 0, sizeof *res);
    MetricsAcc acc;
    if (metrics_acc_init(&acc, r->F)) return -1;
    double sse = 0;
    int64_t seen = 0;
    for (int64_t bi = 0; bi < nb && (max_seqs < 0 || seen < max_seqs); bi++) {
        int count = loader_batch(&r->loader, which, bi, 0, r->batch_host);
        if (count < 0) goto fail;
        op_from_host(r->batch_host, &r->frames);
        double model_loss = model_evaluate(r->model, &r->frames, c->input_frames, r->out_host);
        if (model_loss == -1.0) goto fail;
        for (int t = 0; t < r->T - 1; t++) {
            for (int b = 0; b < count; b++) {
                const float *o = r->out_host + (t * B + b) * fs, *x = r->batch_host + ((t + 1) * B + b) * fs;
                for (int64_t i = 0; i < fs; i++) {
                    double d = (double)o[i] - (double)x[i];
                    sse += d * d;
                }
            }
        }
        for (int f = 0; f < r->F; f++) {
            const int t_out = c->input_frames - 1 + f, t_true = c->input_frames + f;
            if (patch_reshape_back(r->out_host + t_out * B * fs, r->img_pred, count, 1, r->H, r->W, r->p) ||
                patch_reshape_back(r->batch_host + t_true * B * fs, r->img_truth, count, 1, r->H, r->W, r->p) ||
                metrics_acc_add_batch(&acc, f, r->img_truth, r->img_pred, count, (int)r->H, (int)r->W))
                goto fail;
            for (int b = 0; pred && b < count && seen + b < n_pred; b++) {
                const float *src = r->img_pred + b * HW;
                float *dst = pred + (f * n_pred + seen + b) * HW;
                for (int64_t i = 0; i < HW; i++) dst[i] = src[i] < 0 ? 0 : src[i] > 1 ? 1 : src[i]; /* NaN stays */
            }
        }
        seen += count;
    }
    if (seen == 0) {
        metrics_acc_free(&acc);
        return rr_error("%s split: no sequences to evaluate", split_name(which));
    }
    res->loss = sse / ((double)seen * (r->T - 1) * fs);
    res->sequences = seen;
    if (metrics_acc_finish(&acc, &res->metrics)) goto fail;
    metrics_acc_free(&acc);
    return 0;
fail:
    metrics_acc_free(&acc);
    return -1;
}

/* The true frames 0..seq_len-1 of the first n sequences of a split as (seq_len, n, H, W) uint8 —
 * the sequences evaluate_split predicted, in the same order — for picture strips. */
static int write_truth(const Run *r, Split which, int64_t n, const char *path) {
    const Loader *L = &r->loader;
    const int64_t HW = r->H * r->W;
    uint8_t *truth = rr_malloc((size_t)(r->T * n * HW));
    for (int t = 0; t < r->T; t++)
        for (int64_t k = 0; k < n; k++)
            memcpy(truth + (t * n + k) * HW, L->data + (t * L->N + L->split[which][k]) * HW, (size_t)HW);
    int64_t shape[4] = {r->T, n, r->H, r->W};
    int rc = npy_save(path, NPY_U8, 4, shape, truth);
    free(truth);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* Small helpers: paths, text building, the log */

static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = rr_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Remove the temp files of atomic writes that a killed run left behind in dir; never those of a live
 * process (another run writing into the same directory now): rr_remove_stale_temps. */
static void remove_stale_temps(const char *dir) {
    static const char *const outputs[] = {"config", "log.jsonl", "last.safetensors", "best.safetensors",
                                          "metrics.json", "predictions.npy", "truth.npy"};
    rr_remove_stale_temps(dir, outputs, (int)(sizeof outputs / sizeof *outputs));
}

typedef struct {
    char *s;
    size_t len, cap;
} Text;

static void text_add(Text *t, const char *fmt, ...) RR_PRINTF(2, 3);
static void text_add(Text *t, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = 2 * (t->len + (size_t)n + 1);
        t->s = rr_realloc(t->s, t->cap);
    }
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    t->len += (size_t)n;
}

/* ", \"key\": <%.17g or null>" */
static void json_num(Text *t, const char *key, double v) {
    if (isfinite(v)) text_add(t, ", \"%s\": %.17g", key, v);
    else text_add(t, ", \"%s\": null", key);
}

typedef struct {
    char **lines;
    int n;
} Log;

static void log_free(Log *lg) {
    for (int i = 0; i < lg->n; i++) free(lg->lines[i]);
    free(lg->lines);
    memset(lg, 0, sizeof *lg);
}

static void log_append(Log *lg, const char *line) {
    lg->lines = rr_realloc(lg->lines, sizeof *lg->lines * (size_t)(lg->n + 1));
    lg->lines[lg->n++] = rr_strdup(line);
}

/* Read log.jsonl keeping the lines of epochs <= max_epoch (the checkpoint's). */
static void log_load(Log *lg, const char *path, int64_t max_epoch) {
    char *text;
    if (!file_exists(path) || rr_read_file(path, &text, NULL)) return;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        JsonValue v;
        char err[128];
        if (json_parse(line, strlen(line), &v, err, sizeof err)) {
            fprintf(stderr, "rnnreg train: %s: dropping an unreadable line (%s)\n", path, err);
            continue;
        }
        const JsonValue *e = json_get(&v, "epoch");
        if (e && e->type == JSON_NUMBER && e->is_int && e->integer <= max_epoch) log_append(lg, line);
        json_free(&v);
    }
    free(text);
    if (lg->n != max_epoch)
        fprintf(stderr, "rnnreg train: %s: note: %d lines for the checkpoint's %lld epochs\n", path, lg->n,
                (long long)max_epoch);
}

static int log_write(const Log *lg, const char *path) {
    Text t = {0};
    text_add(&t, "%s", "");
    for (int i = 0; i < lg->n; i++) text_add(&t, "%s\n", lg->lines[i]);
    int rc = rr_write_file_atomic(path, t.s, t.len);
    free(t.s);
    return rc;
}

static void format_duration(double s, char *buf, size_t n) {
    if (!(s >= 0) || s > 1e8) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void metrics_means(const MetricsResult *m, double out[METRICS_COUNT]) {
    for (int i = 0; i < METRICS_COUNT; i++) out[i] = metrics_get(&m->mean, i);
}

/* ------------------------------------------------------------------------------------------------ */
/* train */

typedef struct {
    char *config, *log, *last, *best, *metrics, *predictions, *truth;
} RunPaths;

static void paths_make(RunPaths *p, const char *dir) {
    p->config = path_join(dir, "config");
    p->log = path_join(dir, "log.jsonl");
    p->last = path_join(dir, "last.safetensors");
    p->best = path_join(dir, "best.safetensors");
    p->metrics = path_join(dir, "metrics.json");
    p->predictions = path_join(dir, "predictions.npy");
    p->truth = path_join(dir, "truth.npy");
}

static void paths_free(RunPaths *p) {
    free(p->config);
    free(p->log);
    free(p->last);
    free(p->best);
    free(p->metrics);
    free(p->predictions);
    free(p->truth);
}

/* Test metrics (metrics.json) and predictions (predictions.npy) of the test_weights model. */
static int run_test(Run *r, const RunPaths *paths) {
    const Config *c = &r->cfg;
    if (c->n_test == 0) {
        fprintf(stderr, "test: n_test = 0, no metrics.json / predictions.npy\n");
        return 0;
    }
    if (!strcmp(c->test_weights, "best") && file_exists(paths->best) &&
        checkpoint_load(paths->best, r->model, NULL, NULL))
        return -1;
    int64_t n_pred = c->predict_sequences < c->n_test ? c->predict_sequences : c->n_test;
    float *pred = n_pred ? rr_malloc(sizeof(float) * (size_t)(r->F * n_pred * r->H * r->W)) : NULL;
    EvalResult ev;
    int rc = evaluate_split(r, SPLIT_TEST, -1, &ev, pred, n_pred);
    if (!rc) rc = metrics_write_json(paths->metrics, &ev.metrics);
    if (!rc && n_pred) {
        int64_t shape[4] = {r->F, n_pred, r->H, r->W};
        rc = npy_save(paths->predictions, NPY_F32, 4, shape, pred);
        if (!rc) rc = write_truth(r, SPLIT_TEST, n_pred, paths->truth);
    }
    if (!rc) {
        const MetricsFrame *m = &ev.metrics.mean;
        printf("test (%s weights, %lld sequences): loss %.6g  mse/frame %.4g  mae/frame %.4g  psnr %.3f  ssim %.4f\n",
               c->test_weights, (long long)ev.sequences, ev.loss, m->mse, m->mae, m->psnr, m->ssim);
        fflush(stdout);
    }
    if (!rc) metrics_result_free(&ev.metrics);
    free(pred);
    return rc;
}

/* Same run: dir/config resolves to the configuration hash of this run. */
static int config_file_has_hash(const char *path, const char *hash) {
    Config prev;
    char h[17];
    config_defaults(&prev);
    if (config_load_file(&prev, path)) return 0;
    config_hash(&prev, h);
    return !strcmp(h, hash);
}

int train_run(const Config *c, const char *dir, int resume, int wait) {
    RunPaths paths;
    Run r;
    Optimizer opt;
    TrainState st;
    Log lg = {0};
    char hash[17];
    int rc = -1, have_opt = 0, lock = -1;
    memset(&r, 0, sizeof r);
    config_hash(c, hash);
    char *config_text = config_to_text(c);
    paths_make(&paths, dir);
    const int tty = isatty(fileno(stderr));
    if (!strcmp(c->head, "conv3d_centered"))
        fprintf(stderr, "rnnreg train: warning: head = conv3d_centered sees the frame it predicts (the Keras "
                        "example's leak): its scores are not forecasts\n");

    int device;
    if (device_select(c->backend, c->tf32, 1, &device)) goto out; /* before the directory is made */
    if (rr_mkdir_p(dir)) goto out;
    /* the directory is ours until the run ends: no other trainer (or eval / predict) writes here, and
     * the stale temps removed below are a dead run's, never a live one's */
    if ((lock = rundir_lock(dir, wait)) < 0) goto out;
    remove_stale_temps(dir);
    const int have_last = file_exists(paths.last);
    if (have_last && !resume) {
        rr_error("%s: holds a run already (last.safetensors): pass --resume to continue it, or choose another --out", dir);
        goto out;
    }
    if (!have_last) {
        /* a fresh start: no other run's outputs may survive next to this one's. The same run stopped
         * before its first checkpoint (--resume, same configuration) starts again in place. */
        char others[160];
        if (rundir_other_outputs(dir, others, sizeof others)) {
            if (!resume) {
                rr_error("%s: holds %s but no last.safetensors: a new run does not start among another run's "
                         "outputs; pass --resume to start this same run again there, or choose another --out",
                         dir, others);
                goto out;
            }
            if (!file_exists(paths.config) || !config_file_has_hash(paths.config, hash)) {
                rr_error("%s: holds %s but no last.safetensors, and %s: resume refused; choose another --out or "
                         "remove them", dir, others, file_exists(paths.config) ? "its config is another configuration"
                                                                                 : "no config of this run");
                goto out;
            }
            const char *const stale[] = {paths.log, paths.best, paths.metrics, paths.predictions, paths.truth};
            for (size_t i = 0; i < sizeof stale / sizeof *stale; i++) unlink(stale[i]);
        }
    }
    char data_sha[65];
    int cached = 0;
    if (have_last) {
        char ckpt_hash[17];
        if (checkpoint_read_config(paths.last, NULL, ckpt_hash)) goto out;
        if (strcmp(ckpt_hash, hash)) {
            rr_error("%s: written with a different configuration (config hash %s, this run %s): resume refused "
                     "(compare %s with this run's options)", paths.last, ckpt_hash, hash, paths.config);
            goto out;
        }
    }
    if (run_open(&r, c, 1)) goto out;
    /* hashed once the loader has accepted the file (its messages name what is wrong with bad data) */
    if (sha256_file_cached(c->data, data_sha, &cached)) goto out;
    if (optimizer_create(&opt, c, r.model)) goto out;
    have_opt = 1;
    train_state_init(&st);
    if (schedule_init(&st.sched, c)) goto out;
    st.seed = c->seed;
    if (have_last) {
        if (checkpoint_load(paths.last, r.model, &opt, &st)) goto out;
        if (st.data_sha256[0] && strcmp(st.data_sha256, data_sha)) {
            rr_error("%s: the content changed since the run started: resume refused (expected sha256 %.16s..., "
                     "found %.16s...; recorded in %s)", c->data, st.data_sha256, data_sha, paths.last);
            goto out;
        }
        log_load(&lg, paths.log, st.epoch);
        if (log_write(&lg, paths.log)) goto out;
        fprintf(stderr, "resuming %s at epoch %lld, iteration %lld\n", dir, (long long)st.epoch + 1,
                (long long)st.iteration);
    } else {
        model_init(r.model, c->seed);
        if (resume) fprintf(stderr, "resume: %s has no last.safetensors, starting from the beginning\n", dir);
        unlink(paths.log);
    }
    memcpy(st.data_sha256, data_sha, sizeof data_sha);
    st.threads = resolved_threads(c);
    if (config_write(c, paths.config)) goto out;

    const int64_t nb = loader_num_batches(&r.loader, SPLIT_TRAIN);
    fprintf(stderr, "%s: %lld parameters, %.3g GFLOP per sequence; %lld/%lld/%lld train/val/test sequences, "
            "%lld batches of %d per epoch, %d threads\n", c->model, (long long)model_param_count(r.model),
            model_flops_per_sequence(r.model) * 1e-9, (long long)loader_split_size(&r.loader, SPLIT_TRAIN),
            (long long)loader_split_size(&r.loader, SPLIT_VAL), (long long)loader_split_size(&r.loader, SPLIT_TEST),
            (long long)nb, r.B, st.threads);
    fprintf(stderr, "data %s: sha256 %s%s\n", c->data, data_sha, cached ? " (cached in .sha256 beside it)" : "");

    const double loop_start = rr_now();
    int64_t iters_here = 0;
    const int64_t iters_total = (int64_t)c->epochs * nb;
    while (st.epoch < c->epochs &&
           !(c->early_stop_patience > 0 && st.epochs_since_best >= c->early_stop_patience)) {
        const int epoch = (int)st.epoch; /* 0-based index of the epoch being trained */
        const double epoch_start = rr_now();
        double last_progress = 0, train_time = 0;
        int64_t batches_here = 0;
        const double lr = st.sched.lr;
        for (int64_t bi = st.batch_in_epoch; bi < nb; bi++) {
            const double t0 = rr_now();
            if (loader_batch(&r.loader, SPLIT_TRAIN, bi, epoch, r.batch_host) < 0) goto out;
            const int64_t iteration = st.iteration + 1;
            sampling_mask(c, iteration, r.B, r.T, r.use_truth);
            /* reverse_input (PredRNN/PredRNN++ train.py): after the update on the sequence, a second
             * update on the time-reversed sequence with the same sampling mask; the iteration's loss
             * and norm are the means of the two. */
            double loss = 0, norm = 0;
            op_from_host(r.batch_host, &r.frames);
            for (int pass = 0; pass < (c->reverse_input ? 2 : 1); pass++) {
                if (pass == 1) reverse_time(&r.frames, &r.frames_rev);
                model_set_iteration(r.model, iteration);
                double pass_loss = model_train_step(r.model, pass ? &r.frames_rev : &r.frames, r.use_truth, NULL);
                if (pass_loss == -1.0) goto out;
                if (isfinite(pass_loss)) st.l2_penalty_sum += l2_penalty(r.model, c) / (c->reverse_input ? 2 : 1);
                double pass_norm = isfinite(pass_loss) ? grad_global_norm(r.model) : NAN;
                if (!isfinite(pass_loss) || !isfinite(pass_norm)) {
                    if (tty) fputs("\r\033[K", stderr);
                    const double bad = isfinite(pass_loss) ? pass_norm : pass_loss;
                    rr_error("%s is %s at epoch %d, iteration %lld (batch %lld of %lld%s): stopped; the last good "
                             "checkpoint %s is left as it was%s",
                             isfinite(pass_loss) ? "the gradient norm" : "the loss", isnan(bad) ? "NaN" : "infinite",
                             epoch + 1, (long long)iteration, (long long)bi + 1, (long long)nb,
                             pass ? ", time-reversed pass" : "", paths.last,
                             file_exists(paths.last) ? "" : " (none was written yet)");
                    goto out;
                }
                grad_clip(r.model, pass_norm, c->clip_grad_norm);
                optimizer_step(&opt, r.model, lr);
                loss += pass_loss;
                norm += pass_norm;
            }
            if (c->reverse_input) {
                loss /= 2;
                norm /= 2;
            }
            st.iteration = iteration;
            st.batch_in_epoch = bi + 1;
            st.train_loss_sum += loss;
            st.grad_norm_sum += norm;
            iters_here++;
            batches_here++;
            const double now = rr_now();
            train_time += now - t0;
            if (tty && (now - last_progress > 0.25 || bi + 1 == nb)) {
                char eta[32];
                double per_iter = (now - loop_start) / (double)iters_here;
                format_duration(per_iter * (double)(iters_total - (int64_t)epoch * nb - bi - 1), eta, sizeof eta);
                fprintf(stderr, "\repoch %d/%d  batch %lld/%lld  loss %.5f  %.3g seq/s  ETA %s   ", epoch + 1,
                        c->epochs, (long long)bi + 1, (long long)nb, st.train_loss_sum / (double)(bi + 1),
                        (double)(batches_here * r.B) / train_time, eta);
                last_progress = now;
            }
            if (c->checkpoint_every > 0 && iteration % c->checkpoint_every == 0 && bi + 1 < nb &&
                checkpoint_save(paths.last, r.model, &opt, &st, config_text, hash))
                goto out;
        }
        if (tty) fputs("\r\033[K", stderr); /* the epoch line below replaces the progress line */

        /* epoch end: validation, schedule, log, checkpoints */
        EvalResult ev;
        if (evaluate_split(&r, SPLIT_VAL, -1, &ev, NULL, 0)) goto out;
        double means[METRICS_COUNT];
        metrics_means(&ev.metrics, means);
        metrics_result_free(&ev.metrics);
        if (!isfinite(ev.loss)) {
            rr_error("the validation loss is %s after epoch %d (iteration %lld): stopped; the last good checkpoint "
                     "%s is left as it was", isnan(ev.loss) ? "NaN" : "infinite", epoch + 1, (long long)st.iteration,
                     paths.last);
            goto out;
        }
        const double train_loss = st.train_loss_sum / (double)nb, grad_norm = st.grad_norm_sum / (double)nb;
        const double l2_pen = st.l2_penalty_sum / (double)nb; /* in the checkpoint too: resume-proof */
        const int improved = ev.loss < st.best_val_loss;
        st.epoch = epoch + 1;
        st.batch_in_epoch = 0;
        st.train_loss_sum = st.grad_norm_sum = st.l2_penalty_sum = 0;
        st.val_loss = ev.loss;
        if (improved) {
            st.best_val_loss = ev.loss;
            st.best_epoch = st.epoch;
            st.epochs_since_best = 0;
        } else {
            st.epochs_since_best++;
        }
        schedule_epoch_end(&st.sched, (int)st.epoch, ev.loss);
        const double seconds = rr_now() - epoch_start;
        const double seq_per_s = train_time > 0 ? (double)(batches_here * r.B) / train_time : NAN;

        Text line = {0};
        text_add(&line, "{\"epoch\": %lld, \"iteration\": %lld", (long long)st.epoch, (long long)st.iteration);
        json_num(&line, "train_loss", train_loss);
        json_num(&line, "grad_norm", grad_norm);
        if (c->l2 > 0) { /* train_loss is the MSE alone; the penalty mean over the epoch's batches */
            json_num(&line, "train_l2_penalty", l2_pen);
            json_num(&line, "train_loss_with_l2", train_loss + l2_pen);
        }
        json_num(&line, "val_loss", ev.loss);
        for (int i = 0; i < METRICS_COUNT; i++) {
            char key[64];
            snprintf(key, sizeof key, "val_%s", metrics_names[i]);
            json_num(&line, key, means[i]);
        }
        json_num(&line, "lr", lr);
        if (!strcmp(c->sampling, "scheduled")) json_num(&line, "sampling_eta", sampling_eta(c, st.iteration));
        text_add(&line, ", \"best\": %s", improved ? "true" : "false");
        json_num(&line, "seconds", seconds);
        json_num(&line, "seq_per_s", seq_per_s);
        text_add(&line, "}");
        log_append(&lg, line.s);
        free(line.s);

        fprintf(stderr, "epoch %lld/%d  train %.6f  val %.6f  mse/frame %.3f  ssim %.4f  lr %.3g  %.1f s  %.3g seq/s%s\n",
                (long long)st.epoch, c->epochs, train_loss, ev.loss, means[0], means[4], lr, seconds, seq_per_s,
                improved ? "  *best" : "");
        if (log_write(&lg, paths.log)) goto out;
        if (improved && checkpoint_save(paths.best, r.model, NULL, &st, config_text, hash)) goto out;
        if (checkpoint_save(paths.last, r.model, &opt, &st, config_text, hash)) goto out;
        if (c->early_stop_patience > 0 && st.epochs_since_best >= c->early_stop_patience)
            fprintf(stderr, "early stop: no new best validation loss for %lld epochs (best %.6g at epoch %lld)\n",
                    (long long)st.epochs_since_best, st.best_val_loss, (long long)st.best_epoch);
    }
    rc = run_test(&r, &paths);
out:
    if (have_opt) optimizer_free(&opt);
    run_close(&r);
    log_free(&lg);
    paths_free(&paths);
    free(config_text);
    rundir_unlock(lock);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* Command lines */

static void train_usage(FILE *out) {
    fprintf(out,
            "usage: rnnreg train [--config FILE] [--set key=value ...] --out DIR [--resume] [--wait]\n"
            "                    [--backend cpu|cuda] [--tf32]\n"
            "  --config FILE     key = value file (# comments, include = other.conf relative to the file)\n"
            "  --set key=value   override one option (repeatable; applied after the file)\n"
            "  --out DIR         run directory: config, log.jsonl, last.safetensors, best.safetensors,\n"
            "                    metrics.json, predictions.npy, truth.npy\n"
            "  --resume          continue DIR/last.safetensors (same config; without --config DIR/config\n"
            "                    is used); starts from the beginning when there is none yet\n"
            "  --wait            when another rnnreg process works in DIR (it holds DIR/.lock), wait for\n"
            "                    it to finish instead of stopping with an error\n"
            "  --backend cpu|cuda  compute backend (= --set backend=...; cuda needs a CUDA build and a GPU)\n"
            "  --tf32            backend cuda: TF32 tensor-core convolution products (= --set tf32=1)\n"
            "\noptions (key, default, meaning):\n");
    config_print_help(out);
}

/* Parse the options shared by the three commands. Returns 0, 1 (help printed) or 2 (usage error). */
typedef struct {
    const char *config, *out, *checkpoint, *split, *truth;
    const char **sets;
    int n_sets, resume, wait;
    long long sequences;
    const char *backend; /* --backend NAME (applied after --set) */
    int tf32;            /* --tf32 */
} Args;

static int parse_args(int argc, char **argv, const char *cmd, int allow, Args *a, void (*usage)(FILE *)) {
    enum { A_RESUME = 1, A_CKPT = 2, A_SPLIT = 4, A_SEQ = 8, A_TRUTH = 16 }; /* A_RESUME allows --wait too */
    memset(a, 0, sizeof *a);
    a->sequences = -1;
    a->sets = rr_calloc((size_t)argc + 1, sizeof *a->sets);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(s, "--resume") && (allow & A_RESUME)) {
            a->resume = 1;
            continue;
        }
        if (!strcmp(s, "--wait") && (allow & A_RESUME)) {
            a->wait = 1;
            continue;
        }
        if (!strcmp(s, "--tf32")) {
            a->tf32 = 1;
            continue;
        }
        const int takes = !strcmp(s, "--config") || !strcmp(s, "--set") || !strcmp(s, "--out") ||
                          !strcmp(s, "--backend") ||
                          (!strcmp(s, "--checkpoint") && (allow & A_CKPT)) || (!strcmp(s, "--split") && (allow & A_SPLIT)) ||
                          (!strcmp(s, "--sequences") && (allow & A_SEQ)) ||
                          (!strcmp(s, "--truth") && (allow & A_TRUTH));
        if (!takes) {
            fprintf(stderr, "rnnreg %s: unknown argument '%s'\n", cmd, s);
            usage(stderr);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "rnnreg %s: %s needs a value\n", cmd, s);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(s, "--config")) a->config = v;
        else if (!strcmp(s, "--set")) a->sets[a->n_sets++] = v;
        else if (!strcmp(s, "--backend")) a->backend = v;
        else if (!strcmp(s, "--out")) a->out = v;
        else if (!strcmp(s, "--checkpoint")) a->checkpoint = v;
        else if (!strcmp(s, "--truth")) a->truth = v;
        else if (!strcmp(s, "--split")) {
            if (strcmp(v, "val") && strcmp(v, "test")) {
                fprintf(stderr, "rnnreg %s: --split: '%s' is not val or test\n", cmd, v);
                return 2;
            }
            a->split = v;
        } else {
            char *end;
            a->sequences = strtoll(v, &end, 10);
            if (end == v || *end || a->sequences < 1) {
                fprintf(stderr, "rnnreg %s: --sequences: '%s' is not a positive integer\n", cmd, v);
                return 2;
            }
        }
    }
    return 0;
}

/* Config = defaults, then base_text (a checkpoint's resolved config) or base_file, then --config,
 * then --set, then --backend / --tf32; validated. */
static int build_config(Config *c, const Args *a, const char *base_text, const char *base_name, const char *base_file) {
    config_defaults(c);
    if (base_text && config_load_text(c, base_text, base_name)) return -1;
    if (base_file && config_load_file(c, base_file)) return -1;
    if (a->config && config_load_file(c, a->config)) return -1;
    for (int i = 0; i < a->n_sets; i++)
        if (config_set(c, a->sets[i])) return -1;
    if (a->backend && config_set_value(c, "backend", a->backend, "--backend")) return -1;
    if (a->tf32 && config_set_value(c, "tf32", "1", "--tf32")) return -1;
    return config_validate(c);
}

int cmd_train(int argc, char **argv) {
    Args a;
    int st = parse_args(argc, argv, "train", 1, &a, train_usage);
    if (st) {
        free(a.sets);
        return st == 1 ? 0 : 2;
    }
    if (!a.out) {
        fprintf(stderr, "rnnreg train: --out DIR is required\n");
        train_usage(stderr);
        free(a.sets);
        return 2;
    }
    char *dir_config = path_join(a.out, "config");
    const char *base = !a.config && a.resume && file_exists(dir_config) ? dir_config : NULL;
    Config c;
    int rc = build_config(&c, &a, NULL, NULL, base);
    if (!rc) rc = train_run(&c, a.out, a.resume, a.wait);
    if (rc) fprintf(stderr, "rnnreg train: %s\n", rr_last_error());
    free(dir_config);
    free(a.sets);
    return rc ? 1 : 0;
}

static void eval_usage(FILE *out) {
    fprintf(out,
            "usage: rnnreg eval --checkpoint FILE [--config FILE] [--set key=value ...] [--split val|test] [--out FILE]\n"
            "                   [--backend cpu|cuda] [--tf32]\n"
            "  evaluates a checkpoint (best.safetensors or last.safetensors) on a split of its run's data:\n"
            "  input_frames true frames in, the rest predicted autoregressively; per-frame MSE/MAE/PSNR/SSIM\n"
            "  of the future frames as JSON (metrics.h) to --out or stdout. The configuration is the one stored\n"
            "  in the checkpoint, then --config, then --set (e.g. --set data=other.npy). Default split: test.\n"
            "  --backend cpu|cuda and --tf32 choose where it runs (as for train).\n");
}

static void predict_usage(FILE *out) {
    fprintf(out,
            "usage: rnnreg predict --checkpoint FILE --out P.npy [--truth T.npy] [--sequences N]\n"
            "                      [--split val|test] [--config FILE] [--set key=value ...]\n"
            "                      [--backend cpu|cuda] [--tf32]\n"
            "  writes (seq_len - input_frames, N, H, W) float32 in [0, 1]: the predicted future frames of the\n"
            "  first N sequences of the split (default: predict_sequences of the config; split test);\n"
            "  --truth also writes their true frames, (seq_len, N, H, W) uint8, for `rnnreg strip`.\n"
            "  --backend cpu|cuda and --tf32 choose where it runs (as for train).\n");
}

/* Shared by eval and predict: config from the checkpoint, run, weights. */
static int open_from_checkpoint(const Args *a, Run *r) {
    char *text = NULL;
    Config c;
    if (checkpoint_read_config(a->checkpoint, &text, NULL)) return -1;
    char name[1100];
    snprintf(name, sizeof name, "%s:config", a->checkpoint);
    int rc = build_config(&c, a, text, name, NULL);
    free(text);
    if (!rc) rc = run_open(r, &c, 0);
    if (!rc) rc = checkpoint_load(a->checkpoint, r->model, NULL, NULL);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    Args a;
    int st = parse_args(argc, argv, "eval", 2 | 4, &a, eval_usage);
    if (st) {
        free(a.sets);
        return st == 1 ? 0 : 2;
    }
    if (!a.checkpoint) {
        fprintf(stderr, "rnnreg eval: --checkpoint FILE is required\n");
        free(a.sets);
        return 2;
    }
    Run r;
    EvalResult ev;
    memset(&r, 0, sizeof r);
    Split which = a.split && !strcmp(a.split, "val") ? SPLIT_VAL : SPLIT_TEST;
    const int lock = a.out ? rundir_lock_for_output(a.out) : -2; /* writing into a run directory: own it */
    int rc = lock == -1 ? -1 : open_from_checkpoint(&a, &r);
    if (!rc) rc = evaluate_split(&r, which, -1, &ev, NULL, 0);
    if (!rc) {
        fprintf(stderr, "%s split, %lld sequences: loss %.9g (mean squared error over all %d outputs)\n",
                split_name(which), (long long)ev.sequences, ev.loss, r.T - 1);
        rc = metrics_write_json(a.out, &ev.metrics);
        metrics_result_free(&ev.metrics);
    }
    if (rc) fprintf(stderr, "rnnreg eval: %s\n", rr_last_error());
    rundir_unlock(lock);
    run_close(&r);
    free(a.sets);
    return rc ? 1 : 0;
}

/* Whether two output paths lie in the same directory (same device and inode). */
static int same_directory(const char *a, const char *b) {
    char *ca = rr_strdup(a), *cb = rr_strdup(b);
    struct stat sa, sb;
    int same = !stat(dirname(ca), &sa) && !stat(dirname(cb), &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    free(ca);
    free(cb);
    return same;
}

int cmd_predict(int argc, char **argv) {
    Args a;
    int st = parse_args(argc, argv, "predict", 2 | 4 | 8 | 16, &a, predict_usage);
    if (st) {
        free(a.sets);
        return st == 1 ? 0 : 2;
    }
    if (!a.checkpoint || !a.out) {
        fprintf(stderr, "rnnreg predict: --checkpoint FILE and --out P.npy are required\n");
        free(a.sets);
        return 2;
    }
    Run r;
    EvalResult ev;
    float *pred = NULL;
    memset(&r, 0, sizeof r);
    Split which = a.split && !strcmp(a.split, "val") ? SPLIT_VAL : SPLIT_TEST;
    /* writing into run directories: own them (the truth file's only when it is another directory) */
    const int lock = rundir_lock_for_output(a.out);
    const int lock_truth = lock != -1 && a.truth && !same_directory(a.out, a.truth) ? rundir_lock_for_output(a.truth) : -2;
    int rc = lock == -1 || lock_truth == -1 ? -1 : open_from_checkpoint(&a, &r);
    if (!rc) {
        int64_t avail = loader_split_size(&r.loader, which);
        int64_t n = a.sequences > 0 ? a.sequences : r.cfg.predict_sequences;
        if (n > avail) n = avail;
        if (n < 1) rc = rr_error("predict: no sequences to predict (%s split has %lld)", split_name(which), (long long)avail);
        if (!rc) {
            pred = rr_malloc(sizeof(float) * (size_t)(r.F * n * r.H * r.W));
            rc = evaluate_split(&r, which, n, &ev, pred, n);
        }
        if (!rc) {
            int64_t shape[4] = {r.F, n, r.H, r.W};
            rc = npy_save(a.out, NPY_F32, 4, shape, pred);
            if (!rc && a.truth) rc = write_truth(&r, which, n, a.truth);
            metrics_result_free(&ev.metrics);
            if (!rc) fprintf(stderr, "wrote %s: (%d, %lld, %lld, %lld) float32\n", a.out, r.F, (long long)n,
                             (long long)r.H, (long long)r.W);
        }
    }
    if (rc) fprintf(stderr, "rnnreg predict: %s\n", rr_last_error());
    rundir_unlock(lock_truth);
    rundir_unlock(lock);
    free(pred);
    run_close(&r);
    free(a.sets);
    return rc ? 1 : 0;
}

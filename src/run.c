/* run.c — the run layer of `rnnreg train / eval / predict` (contract in run.h): a run's data, model
 * and batch buffers, one optimizer step (train_step), the evaluation of a split (evaluate_split), the
 * log line of an epoch (log_epoch), and the epoch loop with its checkpoints and the final test
 * (train_run). */
#include "run.h"

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
#include "common.h"
#include "json.h"
#include "npy.h"
#include "ops.h"
#include "optimizer.h"
#include "regularizers.h"
#include "rng.h"
#include "rundir.h"
#include "sha256.h"

/* ------------------------------------------------------------------------------------------------ */
/* Scheduled sampling */

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

void run_close(Run *r) {
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

/* The loader's frames must suit the models and the metrics; the config's seq_len must fit them. */
static int check_frames(const Loader *L, const Config *c) {
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
    return 0;
}

/* The batch on the model's device: one host → device copy per batch (op_from_host); the time-reversed
 * copy of reverse_input is made there too. */
static int plan_frames(Run *r, int device) {
    const Loader *L = &r->loader;
    int shape[5] = {r->T, r->B, (int)L->C, (int)L->Hp, (int)L->Wp};
    int rev_shape[5] = {r->cfg.reverse_input ? r->T : 0, r->B, shape[2], shape[3], shape[4]};
    arena_init_plan(&r->frames_arena, device);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (arena_allocate(&r->frames_arena)) return -1;
            arena_rewind(&r->frames_arena);
        }
        r->frames = arena_tensor(&r->frames_arena, 5, shape);
        r->frames_rev = arena_tensor(&r->frames_arena, 5, rev_shape);
    }
    return 0;
}

int run_open(Run *r, const Config *c, int device) {
    memset(r, 0, sizeof *r);
    r->cfg = *c;
    r->threads = resolved_threads(c);
    rr_set_threads(r->threads);
    LoaderConfig lc = {c->n_train, c->n_val, c->n_test,
                       strcmp(c->split, "ordered") ? LOADER_SPLIT_RANDOM : LOADER_SPLIT_ORDERED,
                       c->split_seed, c->seed, c->batch, c->patch, c->fresh_train};
    if (loader_open(&r->loader, c->data, &lc)) return -1;
    r->have_loader = 1;
    const Loader *L = &r->loader;
    if (check_frames(L, c)) return -1;
    if (loader_fresh_epochs(L) < c->epochs)
        return rr_error("%s: fresh_train: %d epochs of %d fresh training sequences need %lld sequences that no "
                        "split uses; the data has %lld (%lld sequences, splits %d + %d + %d)",
                        c->data, c->epochs, c->n_train, (long long)(c->epochs - 1) * c->n_train,
                        (long long)L->pool_n, (long long)L->N, c->n_train, c->n_val, c->n_test);
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
    if (plan_frames(r, device)) return -1;
    r->batch_host = rr_malloc(sizeof(float) * (size_t)loader_batch_floats(L));
    r->out_host = rr_malloc(sizeof(float) * (size_t)((r->T - 1) * r->B * r->fs));
    r->img_pred = rr_malloc(sizeof(float) * (size_t)(r->B * r->H * r->W));
    r->img_truth = rr_malloc(sizeof(float) * (size_t)(r->B * r->H * r->W));
    r->use_truth = rr_malloc((size_t)r->B * r->T);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Precision (config key `precision`, device.h) */

int run_select_precision(const Config *c, int device, int strict, const char *cmd, RunPrecision *p) {
    memset(p, 0, sizeof *p);
    snprintf(p->asked, sizeof p->asked, "%s", c->precision);
    const char *why = strict || strcmp(c->precision, "bf16") ? NULL : device_bf16_unavailable(device);
    if (why) { /* the weights of a bf16-trained run, evaluated in FP32 (as a TF32-trained run on the CPU) */
        fprintf(stderr, "%s: note: precision: bf16 cannot run here: %s: evaluating in fp32\n", cmd, why);
        device_set_precision(RR_FP32);
    } else if (device_select_precision(c->precision, device, &p->used))
        return -1;
    p->engine = conv_cpu_engine();
    p->isa = device_cpu_bf16_isa();
    return 0;
}

int run_precision_plain(const RunPrecision *p) { return !strcmp(p->asked, "fp32") && p->used == RR_FP32; }

void run_precision_json(const RunPrecision *p, char *buf, size_t n) {
    if (n == 0) return;
    buf[0] = '\0';
    if (run_precision_plain(p)) return;
    char isa[64];
    snprintf(isa, sizeof isa, p->isa ? "\"%s\"" : "null", p->isa);
    snprintf(buf, n, "\"precision\": {\"asked\": \"%s\", \"used\": \"%s\", \"conv_engine\": \"%s\", \"cpu_bf16_isa\": %s}",
             p->asked, precision_name(p->used), p->engine, isa);
}

int run_write_metrics(const Run *r, const char *path, const MetricsResult *m) {
    char extra[512];
    run_precision_json(&r->precision, extra, sizeof extra);
    return metrics_write_json_extra(path, m, extra);
}

/* ------------------------------------------------------------------------------------------------ */
/* Evaluation */

/* Sum of squared errors of the outputs in r->out_host against the true next frames of the batch's
 * first `count` (real) sequences, added to *sse in a fixed order (t, sequence, element). This is the
 * number behind every reported loss; model_evaluate's own return value cannot serve: it also counts
 * the zero-filled slots of a last, partial batch, and it sums each step separately, which rounds
 * differently. */
static void add_batch_sse(const Run *r, int count, double *sse) {
    const int64_t B = r->B, fs = r->fs;
    for (int t = 0; t < r->T - 1; t++) {
        for (int b = 0; b < count; b++) {
            const float *o = r->out_host + (t * B + b) * fs, *x = r->batch_host + ((t + 1) * B + b) * fs;
            for (int64_t i = 0; i < fs; i++) {
                double d = (double)o[i] - (double)x[i];
                *sse += d * d;
            }
        }
    }
}

/* Per-frame metrics of the future frames of one batch (outputs input_frames-1 .. T-2 against true
 * frames input_frames .. T-1, un-patched), and their clipped copies for sequences seen .. n_pred-1. */
static int score_future_frames(Run *r, int count, int64_t seen, MetricsAcc *acc, float *pred, int64_t n_pred) {
    const Config *c = &r->cfg;
    const int64_t B = r->B, fs = r->fs, HW = r->H * r->W;
    for (int f = 0; f < r->F; f++) {
        const int t_out = c->input_frames - 1 + f, t_true = c->input_frames + f;
        if (patch_reshape_back(r->out_host + t_out * B * fs, r->img_pred, count, 1, r->H, r->W, r->p) ||
            patch_reshape_back(r->batch_host + t_true * B * fs, r->img_truth, count, 1, r->H, r->W, r->p) ||
            metrics_acc_add_batch(acc, f, r->img_truth, r->img_pred, count, (int)r->H, (int)r->W))
            return -1;
        for (int b = 0; pred && b < count && seen + b < n_pred; b++) {
            const float *src = r->img_pred + b * HW;
            float *dst = pred + (f * n_pred + seen + b) * HW;
            for (int64_t i = 0; i < HW; i++) dst[i] = src[i] < 0 ? 0 : src[i] > 1 ? 1 : src[i]; /* NaN stays */
        }
    }
    return 0;
}

/* The model's outputs for the batch in r->frames into r->out_host; -1 on error. */
static int predict_batch(Run *r, EvalMode mode) {
    const double loss = mode == EVAL_TEACHER_FORCED
                            ? model_evaluate_teacher_forced(r->model, &r->frames, r->out_host)
                            : model_evaluate(r->model, &r->frames, r->cfg.input_frames, r->out_host);
    return loss == -1.0 ? -1 : 0;
}

int evaluate_split(Run *r, Split which, EvalMode mode, int64_t max_seqs, EvalResult *res, float *pred,
                   int64_t n_pred) {
    const int64_t nb = loader_num_batches(&r->loader, which);
    memset(res, 0, sizeof *res);
    MetricsAcc acc;
    if (metrics_acc_init(&acc, r->F)) return -1;
    double sse = 0;
    int64_t seen = 0;
    for (int64_t bi = 0; bi < nb && (max_seqs < 0 || seen < max_seqs); bi++) {
        int count = loader_batch(&r->loader, which, bi, 0, r->batch_host);
        if (count < 0) goto fail;
        op_from_host(r->batch_host, &r->frames);
        if (predict_batch(r, mode)) goto fail;
        add_batch_sse(r, count, &sse);
        if (score_future_frames(r, count, seen, &acc, pred, n_pred)) goto fail;
        seen += count;
    }
    if (seen == 0) {
        metrics_acc_free(&acc);
        return rr_error("%s split: no sequences to evaluate", split_name(which));
    }
    res->loss = sse / ((double)seen * (r->T - 1) * r->fs);
    res->sequences = seen;
    if (metrics_acc_finish(&acc, &res->metrics)) goto fail;
    metrics_acc_free(&acc);
    return 0;
fail:
    metrics_acc_free(&acc);
    return -1;
}

int write_truth(const Run *r, Split which, int64_t n, const char *path) {
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
/* The outputs of a run directory */

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
    int rc = evaluate_split(r, SPLIT_TEST, EVAL_AUTOREGRESSIVE, -1, &ev, pred, n_pred);
    if (!rc) rc = run_write_metrics(r, paths->metrics, &ev.metrics);
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

/* ------------------------------------------------------------------------------------------------ */
/* train: a trainer is a run plus its optimizer, training state, directory and log */

typedef struct {
    const Config *c;
    Run run;
    Optimizer opt;
    int have_opt;
    TrainState st;
    RunPaths paths;
    Log log;
    char *config_text;
    char hash[17];
    int lock;                  /* DIR/.lock (rundir.h); -1 while not held */
    int tty;                   /* stderr is a terminal: a progress line */
    int64_t nb;                /* training batches per epoch */
    double loop_start;         /* when this process began training, for the time left */
    int64_t iters_here;        /* steps this process has trained */
} Trainer;

/* What one epoch measured, for its log line. */
typedef struct {
    double lr;                 /* used during the epoch */
    double start, last_progress, train_time; /* clock: epoch start, last progress line, time in steps */
    int64_t batches;           /* steps this process trained in the epoch */
} EpochClock;

typedef struct {
    double train_loss, grad_norm, l2_penalty, val_loss, val_means[METRICS_COUNT];
    int improved;
    double seconds, seq_per_s;
} EpochNumbers;

/* Make and lock DIR and decide whether it holds this run to continue (*have_last) or a place for a
 * fresh one; refuses another run's outputs and a checkpoint of another configuration. */
static int claim_run_dir(Trainer *tr, const char *dir, int resume, int wait, int *have_last) {
    const RunPaths *paths = &tr->paths;
    if (rr_mkdir_p(dir)) return -1;
    /* the directory is ours until the run ends: no other trainer (or eval / predict) writes here, and
     * the stale temps removed below are a dead run's, never a live one's */
    if ((tr->lock = rundir_lock(dir, wait)) < 0) return -1;
    remove_stale_temps(dir);
    *have_last = file_exists(paths->last);
    if (*have_last && !resume)
        return rr_error("%s: holds a run already (last.safetensors): pass --resume to continue it, or choose another --out", dir);
    if (!*have_last) {
        /* a fresh start: no other run's outputs may survive next to this one's. The same run stopped
         * before its first checkpoint (--resume, same configuration) starts again in place. */
        char others[160];
        if (rundir_other_outputs(dir, others, sizeof others)) {
            if (!resume)
                return rr_error("%s: holds %s but no last.safetensors: a new run does not start among another run's "
                                "outputs; pass --resume to start this same run again there, or choose another --out",
                                dir, others);
            if (!file_exists(paths->config) || !config_file_has_hash(paths->config, tr->hash))
                return rr_error("%s: holds %s but no last.safetensors, and %s: resume refused; choose another --out or "
                                "remove them", dir, others, file_exists(paths->config) ? "its config is another configuration"
                                                                                         : "no config of this run");
            const char *const stale[] = {paths->log, paths->best, paths->metrics, paths->predictions, paths->truth};
            for (size_t i = 0; i < sizeof stale / sizeof *stale; i++) unlink(stale[i]);
        }
    }
    if (*have_last) {
        char ckpt_hash[17];
        if (checkpoint_read_config(paths->last, NULL, ckpt_hash)) return -1;
        if (strcmp(ckpt_hash, tr->hash))
            return rr_error("%s: written with a different configuration (config hash %s, this run %s): resume refused "
                            "(compare %s with this run's options)", paths->last, ckpt_hash, tr->hash, paths->config);
    }
    return 0;
}

/* The training state: from DIR/last.safetensors (and its log, cut to its epoch), or fresh weights. */
static int start_or_resume(Trainer *tr, const char *dir, int resume, int have_last, const char *data_sha) {
    const Config *c = tr->c;
    TrainState *st = &tr->st;
    train_state_init(st);
    if (schedule_init(&st->sched, c)) return -1;
    st->seed = c->seed;
    if (have_last) {
        if (checkpoint_load(tr->paths.last, tr->run.model, &tr->opt, st)) return -1;
        if (st->data_sha256[0] && strcmp(st->data_sha256, data_sha))
            return rr_error("%s: the content changed since the run started: resume refused (expected sha256 %.16s..., "
                            "found %.16s...; recorded in %s)", c->data, st->data_sha256, data_sha, tr->paths.last);
        log_load(&tr->log, tr->paths.log, st->epoch);
        if (log_write(&tr->log, tr->paths.log)) return -1;
        fprintf(stderr, "resuming %s at epoch %lld, iteration %lld\n", dir, (long long)st->epoch + 1,
                (long long)st->iteration);
    } else {
        model_init(tr->run.model, c->seed);
        if (resume) fprintf(stderr, "resume: %s has no last.safetensors, starting from the beginning\n", dir);
        unlink(tr->paths.log);
    }
    memcpy(st->data_sha256, data_sha, sizeof st->data_sha256);
    st->threads = tr->run.threads;
    return 0;
}

/* Undo claim_run_dir on a directory it made: its lock file, the lock, the (then empty) directory. */
static void drop_new_run_dir(Trainer *tr, const char *dir) {
    char lock[4096];
    snprintf(lock, sizeof lock, "%s/%s", dir, RUNDIR_LOCK);
    unlink(lock);
    rundir_unlock(tr->lock);
    tr->lock = -1;
    rmdir(dir); /* fails, harmlessly, when anything else is in it */
}

static int trainer_open(Trainer *tr, const Config *c, const char *dir, int resume, int wait) {
    memset(tr, 0, sizeof *tr);
    tr->c = c;
    tr->lock = -1;
    config_hash(c, tr->hash);
    tr->config_text = config_to_text(c);
    paths_make(&tr->paths, dir);
    tr->tty = isatty(fileno(stderr));
    if (!strcmp(c->head, "conv3d_centered"))
        fprintf(stderr, "rnnreg train: warning: head = conv3d_centered sees the frame it predicts (the Keras "
                        "example's leak): its scores are not forecasts\n");

    int device, have_last;
    RunPrecision prec;
    if (device_select(c->backend, c->tf32, 1, &device)) return -1; /* before the directory is made */
    if (run_select_precision(c, device, 1, "rnnreg train", &prec)) return -1;
    struct stat sb;
    const int dir_was_there = stat(dir, &sb) == 0;
    if (claim_run_dir(tr, dir, resume, wait, &have_last)) return -1;
    /* hashed once the loader has accepted the file (its messages name what is wrong with bad data) */
    char data_sha[65];
    int cached = 0;
    if (run_open(&tr->run, c, device) || sha256_file_cached(c->data, data_sha, &cached)) {
        /* a model or data the run cannot use: the directory this call made goes again, as it came */
        if (!dir_was_there) drop_new_run_dir(tr, dir);
        return -1;
    }
    tr->run.precision = prec;
    if (optimizer_create(&tr->opt, c, tr->run.model)) return -1;
    tr->have_opt = 1;
    if (start_or_resume(tr, dir, resume, have_last, data_sha)) return -1;
    if (config_write(c, tr->paths.config)) return -1;

    const Run *r = &tr->run;
    tr->nb = loader_num_batches(&r->loader, SPLIT_TRAIN);
    fprintf(stderr, "%s: %lld parameters, %.3g GFLOP per sequence; %lld/%lld/%lld train/val/test sequences, "
            "%lld batches of %d per epoch, %d threads\n", c->model, (long long)model_param_count(r->model),
            model_flops_per_sequence(r->model) * 1e-9, (long long)loader_split_size(&r->loader, SPLIT_TRAIN),
            (long long)loader_split_size(&r->loader, SPLIT_VAL), (long long)loader_split_size(&r->loader, SPLIT_TEST),
            (long long)tr->nb, r->B, tr->st.threads);
    fprintf(stderr, "data %s: sha256 %s%s\n", c->data, data_sha, cached ? " (cached in .sha256 beside it)" : "");
    char blas_note[256];
    if (rr_blas_fallback_note(blas_note, sizeof blas_note)) fprintf(stderr, "%s\n", blas_note);
    if (!run_precision_plain(&prec)) /* fp32 runs' logs stay as they were */
        fprintf(stderr, "precision: %s (asked %s; CPU convolutions: %s; CPU bf16 instructions: %s)\n",
                precision_name(prec.used), prec.asked, prec.engine, prec.isa ? prec.isa : "none");
    return 0;
}

static void trainer_close(Trainer *tr) {
    if (tr->have_opt) optimizer_free(&tr->opt);
    run_close(&tr->run);
    log_free(&tr->log);
    paths_free(&tr->paths);
    free(tr->config_text);
    rundir_unlock(tr->lock);
}

/* Stop on a loss or gradient norm that is not finite; the last good checkpoint stays. */
static int stop_not_finite(const Trainer *tr, int epoch, int64_t iteration, int64_t bi, int pass, double loss,
                           double norm) {
    if (tr->tty) fputs("\r\033[K", stderr);
    const double bad = isfinite(loss) ? norm : loss;
    return rr_error("%s is %s at epoch %d, iteration %lld (batch %lld of %lld%s): stopped; the last good "
                    "checkpoint %s is left as it was%s",
                    isfinite(loss) ? "the gradient norm" : "the loss", isnan(bad) ? "NaN" : "infinite", epoch + 1,
                    (long long)iteration, (long long)bi + 1, (long long)tr->nb, pass ? ", time-reversed pass" : "",
                    tr->paths.last, file_exists(tr->paths.last) ? "" : " (none was written yet)");
}

/* One optimizer step on training batch bi of `epoch` at learning rate lr: forward and backward
 * (model_train_step), L2, gradient norm and clipping, the update; with reverse_input (PredRNN /
 * PredRNN++ train.py) a second update on the time-reversed sequence with the same sampling mask, the
 * iteration's loss and norm being the means of the two. Adds the step to the training state. */
static int train_step(Trainer *tr, int epoch, int64_t bi, double lr) {
    const Config *c = tr->c;
    Run *r = &tr->run;
    TrainState *st = &tr->st;
    if (loader_batch(&r->loader, SPLIT_TRAIN, bi, epoch, r->batch_host) < 0) return -1;
    const int64_t iteration = st->iteration + 1;
    sampling_mask(c, iteration, r->B, r->T, r->use_truth);
    double loss = 0, norm = 0;
    op_from_host(r->batch_host, &r->frames);
    for (int pass = 0; pass < (c->reverse_input ? 2 : 1); pass++) {
        if (pass == 1) reverse_time(&r->frames, &r->frames_rev);
        model_set_iteration(r->model, iteration);
        double pass_loss = model_train_step(r->model, pass ? &r->frames_rev : &r->frames, r->use_truth, NULL);
        if (pass_loss == -1.0) return -1;
        if (isfinite(pass_loss)) /* L2 (regularizers.h), before clipping and the optimizer */
            st->l2_penalty_sum += reg_l2_penalty(r->model, c->l2, c->l2_on) / (c->reverse_input ? 2 : 1);
        double pass_norm = isfinite(pass_loss) ? grad_global_norm(r->model) : NAN;
        if (!isfinite(pass_loss) || !isfinite(pass_norm))
            return stop_not_finite(tr, epoch, iteration, bi, pass, pass_loss, pass_norm);
        grad_clip(r->model, pass_norm, c->clip_grad_norm);
        optimizer_step(&tr->opt, r->model, lr);
        loss += pass_loss;
        norm += pass_norm;
    }
    if (c->reverse_input) {
        loss /= 2;
        norm /= 2;
    }
    st->iteration = iteration;
    st->batch_in_epoch = bi + 1;
    st->train_loss_sum += loss;
    st->grad_norm_sum += norm;
    return 0;
}

/* On a terminal: the epoch's progress line (batch, running loss, speed, time left), 4 times a second. */
static void show_progress(Trainer *tr, EpochClock *clk, int epoch, int64_t bi, double now) {
    if (!tr->tty || !(now - clk->last_progress > 0.25 || bi + 1 == tr->nb)) return;
    const int64_t nb = tr->nb, iters_total = (int64_t)tr->c->epochs * nb;
    char eta[32];
    double per_iter = (now - tr->loop_start) / (double)tr->iters_here;
    format_duration(per_iter * (double)(iters_total - (int64_t)epoch * nb - bi - 1), eta, sizeof eta);
    fprintf(stderr, "\repoch %d/%d  batch %lld/%lld  loss %.5f  %.3g seq/s  ETA %s   ", epoch + 1,
            tr->c->epochs, (long long)bi + 1, (long long)nb, tr->st.train_loss_sum / (double)(bi + 1),
            (double)(clk->batches * tr->run.B) / clk->train_time, eta);
    clk->last_progress = now;
}

/* The rest of the current epoch's training batches, with the checkpoints every checkpoint_every
 * iterations (the epoch's last one is end_epoch's). */
static int train_epoch(Trainer *tr, EpochClock *clk) {
    const Config *c = tr->c;
    const int epoch = (int)tr->st.epoch; /* 0-based index of the epoch being trained */
    memset(clk, 0, sizeof *clk);
    clk->start = rr_now();
    clk->lr = tr->st.sched.lr;
    for (int64_t bi = tr->st.batch_in_epoch; bi < tr->nb; bi++) {
        const double t0 = rr_now();
        if (train_step(tr, epoch, bi, clk->lr)) return -1;
        tr->iters_here++;
        clk->batches++;
        const double now = rr_now();
        clk->train_time += now - t0;
        show_progress(tr, clk, epoch, bi, now);
        if (c->checkpoint_every > 0 && tr->st.iteration % c->checkpoint_every == 0 && bi + 1 < tr->nb &&
            checkpoint_save(tr->paths.last, tr->run.model, &tr->opt, &tr->st, tr->config_text, tr->hash))
            return -1;
    }
    if (tr->tty) fputs("\r\033[K", stderr); /* the epoch line below replaces the progress line */
    return 0;
}

/* The epoch's line in the log (log.jsonl; fields in run.h) and on stderr. */
static void log_epoch(Log *lg, const Config *c, const TrainState *st, const EpochNumbers *e, double lr) {
    Text line = {0};
    text_add(&line, "{\"epoch\": %lld, \"iteration\": %lld", (long long)st->epoch, (long long)st->iteration);
    json_num(&line, "train_loss", e->train_loss);
    json_num(&line, "grad_norm", e->grad_norm);
    if (c->l2 > 0) { /* train_loss is the MSE alone; the penalty mean over the epoch's batches */
        json_num(&line, "train_l2_penalty", e->l2_penalty);
        json_num(&line, "train_loss_with_l2", e->train_loss + e->l2_penalty);
    }
    json_num(&line, "val_loss", e->val_loss);
    for (int i = 0; i < METRICS_COUNT; i++) {
        char key[64];
        snprintf(key, sizeof key, "val_%s", metrics_names[i]);
        json_num(&line, key, e->val_means[i]);
    }
    json_num(&line, "lr", lr);
    if (!strcmp(c->sampling, "scheduled")) json_num(&line, "sampling_eta", sampling_eta(c, st->iteration));
    text_add(&line, ", \"best\": %s", e->improved ? "true" : "false");
    json_num(&line, "seconds", e->seconds);
    json_num(&line, "seq_per_s", e->seq_per_s);
    text_add(&line, "}");
    log_append(lg, line.s);
    free(line.s);

    fprintf(stderr, "epoch %lld/%d  train %.6f  val %.6f  mse/frame %.3f  ssim %.4f  lr %.3g  %.1f s  %.3g seq/s%s\n",
            (long long)st->epoch, c->epochs, e->train_loss, e->val_loss, e->val_means[0], e->val_means[4], lr,
            e->seconds, e->seq_per_s, e->improved ? "  *best" : "");
}

/* Epoch end: validation, the training state and schedule, the log line, then best and last
 * checkpoints (in that order: the log always covers the checkpoint). */
static int end_epoch(Trainer *tr, const EpochClock *clk) {
    const Config *c = tr->c;
    TrainState *st = &tr->st;
    const int64_t nb = tr->nb;
    EvalResult ev;
    EpochNumbers e;
    if (evaluate_split(&tr->run, SPLIT_VAL, EVAL_AUTOREGRESSIVE, -1, &ev, NULL, 0)) return -1;
    metrics_means(&ev.metrics, e.val_means);
    metrics_result_free(&ev.metrics);
    if (!isfinite(ev.loss))
        return rr_error("the validation loss is %s after epoch %d (iteration %lld): stopped; the last good checkpoint "
                        "%s is left as it was", isnan(ev.loss) ? "NaN" : "infinite", (int)st->epoch + 1,
                        (long long)st->iteration, tr->paths.last);
    e.train_loss = st->train_loss_sum / (double)nb;
    e.grad_norm = st->grad_norm_sum / (double)nb;
    e.l2_penalty = st->l2_penalty_sum / (double)nb; /* in the checkpoint too: resume-proof */
    e.val_loss = ev.loss;
    e.improved = ev.loss < st->best_val_loss;
    st->epoch++;
    st->batch_in_epoch = 0;
    st->train_loss_sum = st->grad_norm_sum = st->l2_penalty_sum = 0;
    st->val_loss = ev.loss;
    if (e.improved) {
        st->best_val_loss = ev.loss;
        st->best_epoch = st->epoch;
        st->epochs_since_best = 0;
    } else {
        st->epochs_since_best++;
    }
    schedule_epoch_end(&st->sched, (int)st->epoch, ev.loss);
    e.seconds = rr_now() - clk->start;
    e.seq_per_s = clk->train_time > 0 ? (double)(clk->batches * tr->run.B) / clk->train_time : NAN;

    log_epoch(&tr->log, c, st, &e, clk->lr);
    if (log_write(&tr->log, tr->paths.log)) return -1;
    if (e.improved && checkpoint_save(tr->paths.best, tr->run.model, NULL, st, tr->config_text, tr->hash)) return -1;
    if (checkpoint_save(tr->paths.last, tr->run.model, &tr->opt, st, tr->config_text, tr->hash)) return -1;
    if (c->early_stop_patience > 0 && st->epochs_since_best >= c->early_stop_patience)
        fprintf(stderr, "early stop: no new best validation loss for %lld epochs (best %.6g at epoch %lld)\n",
                (long long)st->epochs_since_best, st->best_val_loss, (long long)st->best_epoch);
    return 0;
}

/* All epochs done, or early stopping: no new best validation loss for early_stop_patience epochs. */
static int training_done(const Trainer *tr) {
    const Config *c = tr->c;
    return tr->st.epoch >= c->epochs ||
           (c->early_stop_patience > 0 && tr->st.epochs_since_best >= c->early_stop_patience);
}

int train_run(const Config *c, const char *dir, int resume, int wait) {
    Trainer tr;
    EpochClock clk;
    int rc = trainer_open(&tr, c, dir, resume, wait);
    tr.loop_start = rr_now();
    while (!rc && !training_done(&tr)) {
        rc = train_epoch(&tr, &clk);
        if (!rc) rc = end_epoch(&tr, &clk);
    }
    if (!rc) rc = run_test(&tr.run, &tr.paths);
    trainer_close(&tr);
    return rc;
}

/* train.c — the command lines of `rnnreg train`, `rnnreg eval` and `rnnreg predict`: their options,
 * usage texts and the config each builds; the work itself is the run layer's (run.h). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "commands.h"
#include "common.h"
#include "config.h"
#include "loader.h"
#include "metrics.h"
#include "model.h"
#include "npy.h"
#include "run.h"
#include "rundir.h"

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* train */

static void train_usage(FILE *out) {
    fprintf(out,
            "usage: rnnreg train [--config FILE] [--set key=value ...] --out DIR [--resume] [--wait]\n"
            "                    [--backend cpu|cuda] [--tf32] [--precision fp32|bf16|auto]\n"
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
            "  --precision P     CPU convolution operands fp32, bf16 or auto (= --set precision=P; bf16 needs\n"
            "                    the oneDNN engine and a CPU with bf16 instructions, else it is refused)\n"
            "\noptions (key, default, meaning):\n");
    config_print_help(out);
}

/* The options of the three commands. */
typedef struct {
    const char *config, *out, *checkpoint, *split, *truth;
    const char **sets;
    int n_sets, resume, wait;
    long long sequences;
    const char *backend; /* --backend NAME (applied after --set) */
    int tf32;            /* --tf32 */
    const char *precision; /* --precision NAME (applied after --tf32) */
    int teacher_forced;  /* --teacher-forced (eval, predict) */
} Args;

/* Which options beyond the shared ones (--config, --set, --out, --backend, --tf32, --precision) a command
 * takes. */
enum { A_RESUME = 1, A_CKPT = 2, A_SPLIT = 4, A_SEQ = 8, A_TRUTH = 16, A_TEACHER = 32 }; /* A_RESUME: --wait too */

/* Parse the options of command `cmd`. Returns 0, 1 (help printed) or 2 (usage error). */
static int parse_args(int argc, char **argv, const char *cmd, int allow, Args *a, void (*usage)(FILE *)) {
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
        if (!strcmp(s, "--teacher-forced") && (allow & A_TEACHER)) {
            a->teacher_forced = 1;
            continue;
        }
        const int takes = !strcmp(s, "--config") || !strcmp(s, "--set") || !strcmp(s, "--out") ||
                          !strcmp(s, "--backend") || !strcmp(s, "--precision") ||
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
        else if (!strcmp(s, "--precision")) a->precision = v;
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
 * then --set, then --backend / --tf32 / --precision; validated. */
static int build_config(Config *c, const Args *a, const char *base_text, const char *base_name, const char *base_file) {
    config_defaults(c);
    if (base_text && config_load_text(c, base_text, base_name)) return -1;
    if (base_file && config_load_file(c, base_file)) return -1;
    if (a->config && config_load_file(c, a->config)) return -1;
    for (int i = 0; i < a->n_sets; i++)
        if (config_set(c, a->sets[i])) return -1;
    if (a->backend && config_set_value(c, "backend", a->backend, "--backend")) return -1;
    if (a->tf32 && config_set_value(c, "tf32", "1", "--tf32")) return -1;
    if (a->precision && config_set_value(c, "precision", a->precision, "--precision")) return -1;
    return config_validate(c);
}

int cmd_train(int argc, char **argv) {
    Args a;
    int st = parse_args(argc, argv, "train", A_RESUME, &a, train_usage);
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
    const size_t n = strlen(a.out) + sizeof "/config";
    char *dir_config = rr_malloc(n);
    snprintf(dir_config, n, "%s/config", a.out);
    const char *base = !a.config && a.resume && file_exists(dir_config) ? dir_config : NULL;
    Config c;
    int rc = build_config(&c, &a, NULL, NULL, base);
    if (!rc) rc = train_run(&c, a.out, a.resume, a.wait);
    if (rc) fprintf(stderr, "rnnreg train: %s\n", rr_last_error());
    free(dir_config);
    free(a.sets);
    return rc ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* eval and predict */

static const char teacher_forced_help[] =
    "  --teacher-forced  every input is the true frame (the report's Keras protocol: model.predict on\n"
    "                    whole sequences); the outputs for frames input_frames .. seq_len-1 are scored /\n"
    "                    written as above. With head = conv3d_centered the output for frame t+1 then sees\n"
    "                    frame t+1 itself (keras-io issue 1003): not a forecast.\n";

static void eval_usage(FILE *out) {
    fprintf(out,
            "usage: rnnreg eval --checkpoint FILE [--config FILE] [--set key=value ...] [--split val|test] [--out FILE]\n"
            "                   [--backend cpu|cuda] [--tf32] [--precision fp32|bf16|auto] [--teacher-forced]\n"
            "  evaluates a checkpoint (best.safetensors or last.safetensors) on a split of its run's data:\n"
            "  input_frames true frames in, the rest predicted autoregressively; per-frame MSE/MAE/PSNR/SSIM\n"
            "  of the future frames as JSON (metrics.h) to --out or stdout. The configuration is the one stored\n"
            "  in the checkpoint, then --config, then --set (e.g. --set data=other.npy). Default split: test.\n"
            "  --backend cpu|cuda, --tf32 and --precision choose where and how it runs (as for train); the\n"
            "  checkpoint's precision = bf16 where bf16 cannot run evaluates in fp32 after a one-line note.\n"
            "%s", teacher_forced_help);
}

static void predict_usage(FILE *out) {
    fprintf(out,
            "usage: rnnreg predict --checkpoint FILE --out P.npy [--truth T.npy] [--sequences N]\n"
            "                      [--split val|test] [--config FILE] [--set key=value ...]\n"
            "                      [--backend cpu|cuda] [--tf32] [--precision fp32|bf16|auto] [--teacher-forced]\n"
            "  writes (seq_len - input_frames, N, H, W) float32 in [0, 1]: the predicted future frames of the\n"
            "  first N sequences of the split (default: predict_sequences of the config; split test);\n"
            "  --truth also writes their true frames, (seq_len, N, H, W) uint8, for `rnnreg strip`.\n"
            "  --backend cpu|cuda, --tf32 and --precision choose where and how it runs (as for train); the\n"
            "  checkpoint's precision = bf16 where bf16 cannot run evaluates in fp32 after a one-line note.\n"
            "%s", teacher_forced_help);
}

/* Shared by eval and predict: config from the checkpoint, run, weights. */
static int open_from_checkpoint(const Args *a, const char *cmd, Run *r) {
    char *text = NULL;
    Config c;
    if (checkpoint_read_config(a->checkpoint, &text, NULL)) return -1;
    char name[1100];
    snprintf(name, sizeof name, "%s:config", a->checkpoint);
    int rc = build_config(&c, a, text, name, NULL);
    free(text);
    int device; /* not strict about tf32: a TF32-trained run may be evaluated on the CPU */
    if (!rc) rc = device_select(c.backend, c.tf32, 0, &device);
    RunPrecision prec; /* nor about bf16: a bf16-trained run is evaluated in fp32 where bf16 cannot run */
    if (!rc) rc = run_select_precision(&c, device, 0, cmd, &prec);
    if (!rc) rc = run_open(r, &c, device);
    if (!rc) r->precision = prec;
    if (!rc) rc = checkpoint_load(a->checkpoint, r->model, NULL, NULL);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    Args a;
    int st = parse_args(argc, argv, "eval", A_CKPT | A_SPLIT | A_TEACHER, &a, eval_usage);
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
    const EvalMode mode = a.teacher_forced ? EVAL_TEACHER_FORCED : EVAL_AUTOREGRESSIVE;
    const int lock = a.out ? rundir_lock_for_output(a.out) : -2; /* writing into a run directory: own it */
    int rc = lock == -1 ? -1 : open_from_checkpoint(&a, "rnnreg eval", &r);
    if (!rc) rc = evaluate_split(&r, which, mode, -1, &ev, NULL, 0);
    if (!rc) {
        fprintf(stderr, "%s split, %lld sequences%s: loss %.9g (mean squared error over all %d outputs)\n",
                split_name(which), (long long)ev.sequences, a.teacher_forced ? ", teacher-forced" : "", ev.loss,
                r.T - 1);
        rc = run_write_metrics(&r, a.out, &ev.metrics);
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
    int st = parse_args(argc, argv, "predict", A_CKPT | A_SPLIT | A_SEQ | A_TRUTH | A_TEACHER, &a, predict_usage);
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
    const EvalMode mode = a.teacher_forced ? EVAL_TEACHER_FORCED : EVAL_AUTOREGRESSIVE;
    /* writing into run directories: own them (the truth file's only when it is another directory) */
    const int lock = rundir_lock_for_output(a.out);
    const int lock_truth = lock != -1 && a.truth && !same_directory(a.out, a.truth) ? rundir_lock_for_output(a.truth) : -2;
    int rc = lock == -1 || lock_truth == -1 ? -1 : open_from_checkpoint(&a, "rnnreg predict", &r);
    if (!rc) {
        int64_t avail = loader_split_size(&r.loader, which);
        int64_t n = a.sequences > 0 ? a.sequences : r.cfg.predict_sequences;
        if (n > avail) n = avail;
        if (n < 1) rc = rr_error("predict: no sequences to predict (%s split has %lld)", split_name(which), (long long)avail);
        if (!rc) {
            pred = rr_malloc(sizeof(float) * (size_t)(r.F * n * r.H * r.W));
            rc = evaluate_split(&r, which, mode, n, &ev, pred, n);
        }
        if (!rc) {
            int64_t shape[4] = {r.F, n, r.H, r.W};
            rc = npy_save(a.out, NPY_F32, 4, shape, pred);
            if (!rc && a.truth) rc = write_truth(&r, which, n, a.truth);
            metrics_result_free(&ev.metrics);
            if (!rc) fprintf(stderr, "wrote %s: (%d, %lld, %lld, %lld) float32%s\n", a.out, r.F, (long long)n,
                             (long long)r.H, (long long)r.W, a.teacher_forced ? ", teacher-forced" : "");
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

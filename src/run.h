/* run.h — the run layer of the training engine: a run's data, model and batch buffers (run_open), one
 * optimizer step, the evaluation of a split, the log line of an epoch and the whole `rnnreg train`
 * loop (train_run). The command lines of train, eval and predict (train.c) sit on top of it.
 *
 * Output directory of `train --out DIR`:
 *   config             every resolved option (config.h), written at the start
 *   log.jsonl          one JSON object per finished epoch: epoch, iteration, train_loss (mean of the
 *                      epoch's step losses), grad_norm (mean global L2 norm before clipping), val_loss
 *                      (mean squared error per element over all seq_len-1 outputs of the evaluation
 *                      rollout: input_frames true frames in, the rest the model's own), val_<metric>
 *                      (mean over the future frames of metrics.h's per-frame numbers), lr (used during
 *                      the epoch), sampling_eta (scheduled sampling), best, then the timing fields
 *                      seconds and seq_per_s (training sequences per second) — the only fields that
 *                      differ between identical runs
 *   last.safetensors   resume checkpoint (checkpoint.h) after every epoch (and every checkpoint_every
 *                      iterations)
 *   best.safetensors   model tensors of the epoch with the lowest validation loss
 *   metrics.json       per-frame test metrics (metrics_write_json) of the test_weights model; a run
 *                      whose config asks for precision bf16 or auto, or that ran in bf16, also records
 *                      "precision": {"asked", "used", "conv_engine", "cpu_bf16_isa"} (run_precision_json;
 *                      absent: fp32 asked and used, the files of fp32 runs stay as they were)
 *   predictions.npy    (seq_len - input_frames, N, H, W) float32, clipped to [0, 1]: the predicted
 *                      future frames of the first N = predict_sequences test sequences, un-patched
 *   truth.npy          (seq_len, N, H, W) uint8: the true frames of the same N sequences (for
 *                      `rnnreg strip --in truth.npy --in predictions.npy`)
 *   .lock              the run's lock (rundir.h): one process at a time works in DIR; a second
 *                      `train --out DIR` stops with one line naming DIR and the owner's pid (or, with
 *                      --wait, waits); eval / predict writing into DIR take the same lock
 * Order at an epoch end: log.jsonl, best.safetensors, last.safetensors — each atomic, so the log
 * always covers the checkpoint and `--resume` truncates it to the checkpoint's epoch.
 *
 * One run per directory: without last.safetensors a new run starts only in a directory that holds
 * none of the outputs above, except the same run (--resume, DIR/config of the same configuration
 * hash) stopped before its first checkpoint, which starts again there (its old outputs removed).
 * Other files (the pipeline's run.conf, inputs.sha256, train.log, done.json) are left alone.
 *
 * Data: the sha256 of the data file (sha256.h, cached beside it in DATA.sha256) is printed at the
 * start and stored in the checkpoints (data_sha256); --resume on a data file with other content is
 * refused in one line (the file, both hashes' first 16 hex digits).
 *
 * Determinism: every random draw is Philox(seed, stream(tag, iteration/epoch, ...)) and every
 * reduction has a fixed order, so the same config, seed and thread count give bit-identical losses,
 * metrics and checkpoints, and a run killed at any point and resumed ends bit-identical to an
 * uninterrupted one. */
#ifndef RNNREG_RUN_H
#define RNNREG_RUN_H

#include <stdint.h>

#include "config.h"
#include "device.h"
#include "loader.h"
#include "metrics.h"
#include "model.h"
#include "tensor.h"

/* Scheduled sampling (PredRNN, thuml/predrnn-pytorch run.py:schedule_sampling; docs/regularizers.md
 * §11): probability of feeding the ground truth at iteration (optimizer step, counted from 1):
 * eta = max(0, 1 - iteration / sampling_iters). */
double sampling_eta(const Config *c, int64_t iteration);

/* The use_truth array (B × T, entry b*T + t) for model_train_step at `iteration`:
 *   t < input_frames: 1;  later t: teacher 1, free 0, scheduled 1 iff
 *   rr_rand_uniform(seed, rr_stream(RR_TAG_SAMPLING, iteration, 0, 0), b*T + t) < eta. */
void sampling_mask(const Config *c, int64_t iteration, int B, int T, unsigned char *use_truth);

/* The precision of a run's CPU convolutions (config key `precision`, device.h), resolved once right after
 * device_select: what the config asked, what runs, the CPU convolution engine (conv_cpu_engine) and the
 * CPU's bf16 instructions (device_cpu_bf16_isa; NULL: none). */
typedef struct {
    char asked[CONFIG_NAME];
    RRPrecision used;
    const char *engine, *isa;
} RunPrecision;

/* Resolve c->precision for `device` (device_select_precision) into *p and set it for the ops. strict
 * (train, bench): bf16 that cannot run here is -1 + rr_error, one line naming the key and why. Not strict
 * (eval, predict): a bf16-trained run where bf16 cannot run is evaluated in FP32 after one note line on
 * stderr that starts with `cmd` (as a TF32-trained run is evaluated on the CPU). */
int run_select_precision(const Config *c, int device, int strict, const char *cmd, RunPrecision *p);
/* The JSON member `"precision": {"asked": .., "used": .., "conv_engine": .., "cpu_bf16_isa": ..}` into buf,
 * or "" when fp32 was asked and used (metrics.json and eval's JSON of fp32 runs keep their bytes). */
void run_precision_json(const RunPrecision *p, char *buf, size_t n);
/* Whether fp32 was asked and used: such runs record no precision member and print no precision line. */
int run_precision_plain(const RunPrecision *p);

/* A run: data, model and the buffers of one batch. */
typedef struct {
    Config cfg;
    RunPrecision precision;    /* set by the caller after run_open (run_select_precision) */
    Loader loader;
    int have_loader;
    Model *model;
    int threads;               /* the resolved thread count (config threads, 0 = all cores) */
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

/* Open the data of c->data, build the model on `device` (device_select, resolved once by the
 * caller) and the batch buffers; sets the thread count. -1 + rr_error (one line naming the file or
 * key); run_close frees what was made either way. */
int run_open(Run *r, const Config *c, int device);
void run_close(Run *r);

/* How evaluate_split feeds the model:
 *   EVAL_AUTOREGRESSIVE  input_frames true frames in, then the model's own predictions (the
 *                        validation and test protocol of every run);
 *   EVAL_TEACHER_FORCED  every input the true frame (the report's Keras protocol, model.predict on
 *                        whole sequences: model_evaluate_teacher_forced). With head = conv3d_centered
 *                        the output for frame t+1 then sees frame t+1 itself (keras-io issue 1003). */
typedef enum { EVAL_AUTOREGRESSIVE = 0, EVAL_TEACHER_FORCED } EvalMode;

typedef struct {
    double loss;               /* mean squared error per element over all T-1 outputs */
    int64_t sequences;         /* real sequences evaluated */
    MetricsResult metrics;     /* per-frame metrics of the F future frames */
} EvalResult;

/* Evaluate the first batches of a split covering at least max_seqs sequences (all: -1): the loss
 * over all T-1 outputs of the real sequences (zero-filled batch slots excluded), per-frame metrics of
 * the F future frames (outputs input_frames-1 .. T-2) on un-patched frames, and optionally the
 * clipped predictions of the first n_pred sequences into pred (F, n_pred, H, W). The caller frees
 * res->metrics (metrics_result_free) after a 0 return. */
int evaluate_split(Run *r, Split which, EvalMode mode, int64_t max_seqs, EvalResult *res, float *pred,
                   int64_t n_pred);

/* metrics_write_json of a run's metrics with its precision member (run_precision_json) after "mean";
 * path NULL: stdout. */
int run_write_metrics(const Run *r, const char *path, const MetricsResult *m);

/* The true frames 0..seq_len-1 of the first n sequences of a split as (seq_len, n, H, W) uint8 —
 * the sequences evaluate_split predicted, in the same order — for picture strips. */
int write_truth(const Run *r, Split which, int64_t n, const char *path);

/* The whole `train` command on a validated config; resume: continue from DIR/last.safetensors if it
 * exists; wait: when another process holds DIR's lock (rundir.h), wait for it instead of failing.
 * Returns 0 or -1 (rr_error holds the message). */
int train_run(const Config *c, const char *out_dir, int resume, int wait);

#endif

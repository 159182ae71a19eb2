/* train.h — the run layer of the training engine: `rnnreg train` (config → data split → model →
 * epochs of optimizer steps with validation, checkpoints, log, test metrics and predictions),
 * `rnnreg eval` and `rnnreg predict` from a checkpoint. The commands themselves are declared in
 * commands.h (cmd_train, cmd_eval, cmd_predict).
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
 *   metrics.json       per-frame test metrics (metrics_write_json) of the test_weights model
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
#ifndef RNNREG_TRAIN_H
#define RNNREG_TRAIN_H

#include <stdint.h>

#include "config.h"

/* Scheduled sampling (PredRNN, thuml/predrnn-pytorch run.py:schedule_sampling; docs/regularizers.md
 * §11): probability of feeding the ground truth at iteration (optimizer step, counted from 1):
 * eta = max(0, 1 - iteration / sampling_iters). */
double sampling_eta(const Config *c, int64_t iteration);

/* The use_truth array (B × T, entry b*T + t) for model_train_step at `iteration`:
 *   t < input_frames: 1;  later t: teacher 1, free 0, scheduled 1 iff
 *   rr_rand_uniform(seed, rr_stream(RR_TAG_SAMPLING, iteration, 0, 0), b*T + t) < eta. */
void sampling_mask(const Config *c, int64_t iteration, int B, int T, unsigned char *use_truth);

/* The whole `train` command on a validated config; resume: continue from DIR/last.safetensors if it
 * exists; wait: when another process holds DIR's lock (rundir.h), wait for it instead of failing.
 * Returns 0 or -1 (rr_error holds the message). */
int train_run(const Config *c, const char *out_dir, int resume, int wait);

#endif

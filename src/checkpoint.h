/* checkpoint.h — training checkpoints as safetensors files (safetensors.h).
 *
 * Tensors: the model's parameters and buffers under their PyTorch state_dict names, in state_dict
 * layout (model_param_to_ckpt), F32, and batch norm's num_batches_tracked as I64 scalars (model.h
 * counters; absent from checkpoints written before them, which still load), so `module.load_state_dict({k: v for k, v in load(path).items()
 * if not k.startswith("optimizer.")}, strict=True)` works; optimizer state (resume files only) under
 * "optimizer.<torch state key>.<param name>", e.g. "optimizer.exp_avg.layers.0.cell.weight", in the
 * parameter's state_dict layout.
 *
 * Metadata (all strings; doubles as %.17g, which reads back to the same bits):
 *   format "rnnreg-checkpoint-1", config (the resolved config text), config_hash, seed, threads,
 *   epoch (finished epochs), iteration (optimizer steps done), batch_in_epoch (batches of the next
 *   epoch already done: a mid-epoch checkpoint), train_loss_sum / grad_norm_sum (sums over those
 *   batches), lr, plateau_best, plateau_num_bad_epochs, plateau_cooldown_counter, best_val_loss,
 *   best_epoch, epochs_since_best, val_loss (of the epoch just finished), and with an optimizer:
 *   optimizer (adam|adamw|sgd|rmsprop), optimizer_step. Only when non-zero / known (absent = 0 /
 *   unknown, so files without them, and l2 = 0 runs, keep their old bytes): train_l2_penalty_sum (the
 *   L2 penalty summed over the batch_in_epoch batches, for the epoch's log line), data_sha256 (the
 *   sha256 of the data file the run trains on; resume on other content is refused).
 * There is no other random-number state: every random draw is Philox(seed, stream(iteration...)),
 * so (seed, epoch, iteration) is the whole RNG state. No timing is stored (files are bit-identical
 * between identical runs). */
#ifndef RNNREG_CHECKPOINT_H
#define RNNREG_CHECKPOINT_H

#include <stdint.h>

#include "model.h"
#include "optimizer.h"

typedef struct {
    int64_t epoch, iteration, batch_in_epoch;
    double train_loss_sum, grad_norm_sum;
    double l2_penalty_sum; /* L2 penalty over the epoch's batches so far (config l2 > 0) */
    char data_sha256[65];  /* "" when unknown */
    LrSchedule sched;
    double best_val_loss, val_loss;
    int64_t best_epoch, epochs_since_best;
    uint64_t seed;
    int threads;
} TrainState;

void train_state_init(TrainState *st);

/* Write path atomically. o NULL: model tensors only (best.safetensors). config_text and hash are
 * stored in the metadata. */
int checkpoint_save(const char *path, Model *m, Optimizer *o, const TrainState *st, const char *config_text,
                    const char *config_hash);

/* Load model tensors (every parameter and buffer must be present with the state_dict shape; a
 * tensor the model does not have, other than optimizer.*, is an error: strict), and, when o is
 * non-NULL, the optimizer state (its kind must match) and, when st is non-NULL, the training state
 * (st->sched must already hold the schedule built from the config: only its lr, best, num_bad_epochs
 * and cooldown_counter are restored). Errors name the path and the tensor or key. */
int checkpoint_load(const char *path, Model *m, Optimizer *o, TrainState *st);

/* Metadata values of a checkpoint without building a model: the resolved config text (malloc'd)
 * and the config hash (out[17]); either may be NULL. */
int checkpoint_read_config(const char *path, char **config_text, char hash[17]);

#endif

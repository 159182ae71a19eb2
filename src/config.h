/* config.h — run configuration of `rnnreg train/eval/predict`: plain-text `key = value` files with
 * `#` comments and `include = other.conf` (resolved relative to the including file), command-line
 * overrides (`--set key=value`), strict checking (an unknown key or a bad value is an error naming
 * file, line and key), one documented default per option, and the canonical "resolved" text that a
 * run writes to DIR/config and hashes into its checkpoints.
 *
 * File syntax (one assignment per line):
 *   # comment                     blank lines and everything after '#' are ignored
 *   key = value                   whitespace around key and value is trimmed
 *   include = ../base.conf        read that file here (its values, then later lines override them)
 * A later assignment of a key overrides an earlier one (an included base, then the includer's own
 * lines, then --set). Setting the same key twice in ONE file is an error (almost always a slip).
 * Relative paths inside values (e.g. `data`) are NOT rewritten: they are relative to the working
 * directory of the run (the repository root under Make). */
#ifndef RNNREG_CONFIG_H
#define RNNREG_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"

#define CONFIG_STR 1024   /* longest string value (paths) */
#define CONFIG_NAME 32    /* longest choice value */

typedef struct {
    int n;
    int v[MODEL_MAX_LAYERS];
} ConfigIntList;

typedef struct {
    /* model */
    char model[CONFIG_NAME];
    ConfigIntList layers, kernels;
    char cell_act[CONFIG_NAME], gate_act[CONFIG_NAME], head_act[CONFIG_NAME];
    int batchnorm;
    double bn_momentum, bn_eps;
    char head[CONFIG_NAME];
    int head_kernel, patch;
    int layer_norm, ghu, reverse_input;
    /* regularizers */
    double dropout, rec_dropout, var_dropout_x, var_dropout_h, l2;
    double zoneout_c, zoneout_h, zoneout_m, weight_drop;
    char rec_dropout_mask[CONFIG_NAME], l2_on[CONFIG_NAME];
    /* data */
    char data[CONFIG_STR];
    int n_train, n_val, n_test;
    char split[CONFIG_NAME];
    uint64_t split_seed, seed;
    int fresh_train;
    int input_frames, seq_len;
    /* optimisation */
    int batch, epochs;
    char optimizer[CONFIG_NAME];
    double lr, beta1, beta2, eps, weight_decay, momentum;
    int nesterov;
    double rms_alpha;
    char lr_schedule[CONFIG_NAME];
    int lr_step_epochs;
    double lr_gamma;
    int plateau_patience;
    double plateau_factor, plateau_min_delta;
    char plateau_threshold_mode[CONFIG_NAME];
    int plateau_cooldown;
    double min_lr, clip_grad_norm;
    int early_stop_patience;
    char sampling[CONFIG_NAME];
    int sampling_iters;
    /* run */
    int threads, predict_sequences, checkpoint_every;
    char test_weights[CONFIG_NAME];
    char backend[CONFIG_NAME];
    int tf32;  /* backend cuda: cuBLAS TF32 tensor-core math (1) or FP32 (0) */
    char precision[CONFIG_NAME]; /* CPU convolution operands: fp32, bf16 or auto (device_select_precision) */
} Config;

/* Every option at its documented default. */
void config_defaults(Config *c);

/* Apply the assignments of a file (and its includes, recursively; a cycle is an error). Errors:
 * "<file>:<line>: <key>: <problem>" (a missing file: "<file>: cannot open ..."; a missing included
 * file also names the including file and line). */
int config_load_file(Config *c, const char *path);
/* The same on a resolved text held in memory (a checkpoint's embedded config); `name` stands for the
 * file in messages. An `include` line is refused: config_to_text never writes one, and a crafted
 * checkpoint must not make the trainer read other files. Files (config_load_file, includes): regular
 * files of at most 1 MiB only; a FIFO, a device or a larger file is refused without reading it, and
 * an error never quotes a line that is not `key = value` (an include may name a foreign file). A
 * NUL byte is an error naming file:line. */
int config_load_text(Config *c, const char *text, const char *name);
/* One override "key=value" (as given to --set). Errors: "--set <arg>: <key>: <problem>". */
int config_set(Config *c, const char *assignment);
/* Set one key from its value text; `where` prefixes error messages (e.g. "run.conf:12"). */
int config_set_value(Config *c, const char *key, const char *value, const char *where);

/* Cross-key checks after all assignments (list lengths, split sizes, ranges that involve two keys).
 * Errors name the key: "config: kernels: 2 values but layers has 3". */
int config_validate(const Config *c);

/* The resolved configuration as `key = value` lines, every option in table order, values in
 * canonical form (doubles as the shortest text that reads back to the same bits), as a malloc'd
 * string. Loading it back gives an identical Config. */
char *config_to_text(const Config *c);
/* Write config_to_text atomically to path. */
int config_write(const Config *c, const char *path);
/* 64-bit FNV-1a of the canonical lines of every option that shapes the training trajectory
 * (everything except the run-control keys threads, epochs, early_stop_patience, checkpoint_every,
 * predict_sequences and test_weights, which a resumed run may change), as 16 hex digits into out[17].
 * Keys added later (zoneout_*, weight_drop, tf32, precision) count only when set to another value than
 * their default, so that the runs made before them keep their hash. */
void config_hash(const Config *c, char out[17]);

/* The value of one key in canonical form into buf; -1 + rr_error if the key is unknown. */
int config_get(const Config *c, const char *key, char *buf, size_t n);

/* "key  default  doc" lines for `rnnreg help train`. */
void config_print_help(FILE *out);

/* The model's configuration (image_size is left at 64; the caller sets it from the data).
 * -1 + rr_error naming the key on a bad activation/head name. */
int config_model(const Config *c, ModelConfig *mc);

#endif

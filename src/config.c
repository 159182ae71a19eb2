/* config.c — the option table of `rnnreg train` (key, type, default, range, one-line doc), the
 * `key = value` file reader with includes, --set overrides, validation, the canonical resolved text
 * and its hash. Syntax and semantics are described in config.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef enum { T_INT, T_U64, T_REAL, T_BOOL, T_CHOICE, T_STR, T_LIST } OptType;

/* RUN_ONLY: may change on --resume, not in the config hash. HASHED_IF_SET: hashed only when the value
 * differs from the default (keys added later, so that older configs keep their hash). */
enum { HASHED = 0, RUN_ONLY = 1, HASHED_IF_SET = 2 };

typedef struct {
    const char *key;      /* NULL: a section title (doc) for the help listing */
    OptType type;
    size_t offset, size;
    const char *def;      /* default, as text (parsed like any value) */
    const char *choices;  /* T_CHOICE: "a|b|c" */
    double min, max;      /* T_INT, T_REAL, T_LIST: inclusive range */
    int flags;
    const char *doc;
} Option;

#define MODEL_KINDS "" /* the model kinds of model.c's registry (choices_of) */
#define OPT(k, t, field, def, choices, lo, hi, flags, doc) \
    {k, t, offsetof(Config, field), sizeof(((Config *)0)->field), def, choices, lo, hi, flags, doc}
#define SECTION(title) {NULL, T_INT, 0, 0, NULL, NULL, 0, 0, 0, title}

static const char ACTS[] = "tanh|relu|sigmoid|hard_sigmoid|identity";

/* Defaults: the model of the Keras example (keras-io examples/vision/conv_lstm.py, see
 * docs/models.md §1) and PyTorch's torch.optim defaults. */
static const Option options[] = {
    SECTION("model"),
    OPT("model", T_CHOICE, model, "convlstm", MODEL_KINDS, 0, 0, HASHED,
        "recurrent model"),
    OPT("layers", T_LIST, layers, "64,64,64", NULL, 1, 4096, HASHED,
        "hidden channels per layer (comma list, at most 8 layers)"),
    OPT("kernels", T_LIST, kernels, "5,3,1", NULL, 1, 31, HASHED,
        "odd kernel size per layer (one value = all layers)"),
    OPT("cell_act", T_CHOICE, cell_act, "relu", ACTS, 0, 0, HASHED,
        "cell activation (Keras example: relu; Shi et al.: tanh)"),
    OPT("gate_act", T_CHOICE, gate_act, "sigmoid", ACTS, 0, 0, HASHED,
        "gate activation (Keras 3: sigmoid; tf.keras 2: hard_sigmoid)"),
    OPT("batchnorm", T_BOOL, batchnorm, "1", NULL, 0, 0, HASHED,
        "batch norm (per-step statistics) on the h every recurrent layer but the last feeds on (0|1)"),
    OPT("bn_momentum", T_REAL, bn_momentum, "0.01", NULL, 0, 1, HASHED,
        "batch-norm running-stat momentum, PyTorch convention (0.01 = Keras 0.99)"),
    OPT("bn_eps", T_REAL, bn_eps, "0.001", NULL, 0, 1, HASHED, "batch-norm epsilon (Keras 1e-3)"),
    OPT("head", T_CHOICE, head, "conv3d_causal", "conv2d|conv3d_causal|conv3d_centered|linear", 0, 0,
        HASHED, "output head; conv3d_causal = the Keras example's 3x3x3 Conv3D on h_{t-2..t} (sees no future "
        "frame); WARNING: conv3d_centered = the example's Conv3D 'same', which sees the frame it predicts "
        "(a leak: name it only to reproduce the example)"),
    OPT("head_kernel", T_INT, head_kernel, "3", NULL, 1, 31, HASHED, "spatial kernel of the head (odd)"),
    OPT("head_act", T_CHOICE, head_act, "sigmoid", ACTS, 0, 0, HASHED,
        "head output activation; convlstm: any; predrnn_pp: identity (official), sigmoid or relu"),
    OPT("patch", T_INT, patch, "1", NULL, 1, 64, HASHED,
        "patch size p: frames enter as (p*p, 64/p, 64/p) (PredRNN reshape_patch)"),
    OPT("layer_norm", T_BOOL, layer_norm, "0", NULL, 0, 0, HASHED,
        "predrnn_pp: tensor layer norm after every convolution (official code default 1); convlstm: Ba et "
        "al. LN of conv_x, conv_h outputs and of c before its activation"),
    OPT("ghu", T_BOOL, ghu, "1", NULL, 0, 0, HASHED,
        "predrnn_pp: gradient highway unit between layers 1 and 2 (0|1)"),

    SECTION("regularizers (training only; docs/regularizers.md)"),
    OPT("dropout", T_REAL, dropout, "0", NULL, 0, 0.999, HASHED,
        "Zaremba dropout rate on every layer's input and the top output, fresh mask per step"),
    OPT("rec_dropout", T_REAL, rec_dropout, "0", NULL, 0, 0.999, HASHED,
        "Semeniuta recurrent dropout rate on the cell candidate g (predrnn_pp: g and the memory candidate gg)"),
    OPT("rec_dropout_mask", T_CHOICE, rec_dropout_mask, "step", "step|sequence", 0, 0, HASHED,
        "rec_dropout mask: fresh every step, or one per sequence"),
    OPT("var_dropout_x", T_REAL, var_dropout_x, "0", NULL, 0, 0.999, HASHED,
        "Gal/Keras variational dropout rate on x_t: one mask per sequence and gate (Keras dropout)"),
    OPT("var_dropout_h", T_REAL, var_dropout_h, "0", NULL, 0, 0.999, HASHED,
        "Gal/Keras variational dropout rate on h_{t-1}: one mask per sequence and gate (recurrent_dropout)"),
    OPT("zoneout_c", T_REAL, zoneout_c, "0", NULL, 0, 1, HASHED_IF_SET,
        "zoneout (Krueger et al.): probability of keeping the previous c, per step and element; eval: expectation"),
    OPT("zoneout_h", T_REAL, zoneout_h, "0", NULL, 0, 1, HASHED_IF_SET,
        "zoneout probability of keeping the previous h"),
    OPT("zoneout_m", T_REAL, zoneout_m, "0", NULL, 0, 1, HASHED_IF_SET,
        "predrnn_pp: zoneout probability of keeping the incoming memory m (needs equal layer widths)"),
    OPT("weight_drop", T_REAL, weight_drop, "0", NULL, 0, 0.999, HASHED_IF_SET,
        "AWD-LSTM weight drop: DropConnect on every cells.L.conv_h.weight, one mask per training step"),
    OPT("l2", T_REAL, l2, "0", NULL, 0, INFINITY, HASHED,
        "L2 penalty l2*sum(w^2) added to the loss (Keras kernel_regularizer; gradient 2*l2*w)"),
    OPT("l2_on", T_CHOICE, l2_on, "all", "input|recurrent|all", 0, 0, HASHED,
        "l2 weights: input = cells.*.conv_x.weight, recurrent = cells.*.conv_h.weight, all = every kernel"),

    SECTION("data"),
    OPT("data", T_STR, data, "data/moving_mnist.npy", NULL, 0, 0, HASHED,
        "(T, N, H, W) uint8 .npy of sequences (relative to the working directory)"),
    OPT("n_train", T_INT, n_train, "900", NULL, 1, INT_MAX, HASHED, "training sequences"),
    OPT("n_val", T_INT, n_val, "100", NULL, 1, INT_MAX, HASHED, "validation sequences"),
    OPT("n_test", T_INT, n_test, "1000", NULL, 0, INT_MAX, HASHED, "test sequences (0 = no test)"),
    OPT("split", T_CHOICE, split, "random", "random|ordered", 0, 0, HASHED,
        "random: seeded permutation of all N; ordered: first n_train, next n_val, next n_test"),
    OPT("split_seed", T_U64, split_seed, "1", NULL, 0, 0, HASHED,
        "seed of the split permutation (keep fixed to share a test set across runs)"),
    OPT("fresh_train", T_BOOL, fresh_train, "0", NULL, 0, 0, HASHED_IF_SET,
        "1: epoch 1 trains on the training split, every later epoch on n_train sequences no split uses (a "
        "control in which nothing can be memorised; needs n_train*(epochs-1) unused sequences)"),
    OPT("seed", T_U64, seed, "1", NULL, 0, 0, HASHED,
        "seed of initialisation, epoch shuffles, scheduled sampling and regularizer masks"),
    OPT("input_frames", T_INT, input_frames, "10", NULL, 1, 1000, HASHED,
        "ground-truth frames before prediction starts (evaluation: n in, the rest predicted)"),
    OPT("seq_len", T_INT, seq_len, "20", NULL, 2, 1000, HASHED, "frames per sequence used (<= T of data)"),

    SECTION("optimisation"),
    OPT("batch", T_INT, batch, "5", NULL, 1, 65536, HASHED, "sequences per batch"),
    OPT("epochs", T_INT, epochs, "20", NULL, 1, 1000000, RUN_ONLY,
        "training epochs (an epoch drops the partial last batch)"),
    OPT("optimizer", T_CHOICE, optimizer, "adam", "adam|adamw|sgd|rmsprop", 0, 0, HASHED,
        "torch.optim semantics"),
    OPT("lr", T_REAL, lr, "0.001", NULL, 0, INFINITY, HASHED, "initial learning rate"),
    OPT("beta1", T_REAL, beta1, "0.9", NULL, 0, 1, HASHED, "Adam/AdamW beta1"),
    OPT("beta2", T_REAL, beta2, "0.999", NULL, 0, 1, HASHED, "Adam/AdamW beta2"),
    OPT("eps", T_REAL, eps, "1e-08", NULL, 0, 1, HASHED,
        "Adam/AdamW/RMSprop epsilon (PyTorch 1e-8; Keras Adam 1e-7)"),
    OPT("weight_decay", T_REAL, weight_decay, "0", NULL, 0, INFINITY, HASHED,
        "adam/sgd/rmsprop: L2 added to the gradient; adamw: decoupled (PyTorch AdamW default is 0.01)"),
    OPT("momentum", T_REAL, momentum, "0", NULL, 0, 1, HASHED, "SGD momentum"),
    OPT("nesterov", T_BOOL, nesterov, "0", NULL, 0, 0, HASHED, "SGD Nesterov momentum (0|1)"),
    OPT("rms_alpha", T_REAL, rms_alpha, "0.99", NULL, 0, 1, HASHED, "RMSprop smoothing constant"),
    OPT("lr_schedule", T_CHOICE, lr_schedule, "constant", "constant|step|plateau", 0, 0, HASHED,
        "step: lr*gamma^floor(epoch/lr_step_epochs); plateau: on validation loss"),
    OPT("lr_step_epochs", T_INT, lr_step_epochs, "10", NULL, 1, INT_MAX, HASHED, "step schedule period (epochs)"),
    OPT("lr_gamma", T_REAL, lr_gamma, "0.1", NULL, 0, 1, HASHED, "step schedule factor"),
    OPT("plateau_patience", T_INT, plateau_patience, "10", NULL, 0, INT_MAX, HASHED,
        "reduce when more than this many epochs in a row fail to improve (PyTorch; Keras patience p = p-1 here)"),
    OPT("plateau_factor", T_REAL, plateau_factor, "0.1", NULL, 0, 1, HASHED, "plateau: lr *= factor"),
    OPT("plateau_min_delta", T_REAL, plateau_min_delta, "0.0001", NULL, 0, INFINITY, HASHED,
        "plateau: improvement threshold (PyTorch threshold; Keras min_delta)"),
    OPT("plateau_threshold_mode", T_CHOICE, plateau_threshold_mode, "rel", "rel|abs", 0, 0, HASHED,
        "rel: better if < best*(1-min_delta) (PyTorch default); abs: < best-min_delta (Keras)"),
    OPT("plateau_cooldown", T_INT, plateau_cooldown, "0", NULL, 0, INT_MAX, HASHED,
        "plateau: epochs to wait after a reduction"),
    OPT("min_lr", T_REAL, min_lr, "0", NULL, 0, INFINITY, HASHED, "plateau: lower bound of lr"),
    OPT("clip_grad_norm", T_REAL, clip_grad_norm, "0", NULL, 0, INFINITY, HASHED,
        "max global L2 norm of all gradients (torch clip_grad_norm_); 0 = off"),
    OPT("early_stop_patience", T_INT, early_stop_patience, "0", NULL, 0, INT_MAX, RUN_ONLY,
        "stop after this many epochs without a new best validation loss (Keras EarlyStopping); 0 = off"),
    OPT("sampling", T_CHOICE, sampling, "teacher", "scheduled|teacher|free", 0, 0, HASHED,
        "inputs after input_frames: teacher = truth; free = own predictions; scheduled = PredRNN coin"),
    OPT("sampling_iters", T_INT, sampling_iters, "50000", NULL, 1, INT_MAX, HASHED,
        "scheduled: P(truth) = max(0, 1 - iteration/sampling_iters), iteration counted from 1"),
    OPT("reverse_input", T_BOOL, reverse_input, "0", NULL, 0, 0, HASHED,
        "PredRNN augmentation: a second update per iteration on the time-reversed sequence (0|1)"),

    SECTION("run"),
    OPT("threads", T_INT, threads, "0", NULL, 0, 4096, RUN_ONLY,
        "CPU threads (0 = all cores); results are bit-identical for a fixed count"),
    OPT("predict_sequences", T_INT, predict_sequences, "8", NULL, 0, INT_MAX, RUN_ONLY,
        "test sequences written to predictions.npy (the first ones of the test split)"),
    OPT("checkpoint_every", T_INT, checkpoint_every, "0", NULL, 0, INT_MAX, RUN_ONLY,
        "also write last.safetensors every this many iterations (0 = at epoch ends only)"),
    OPT("test_weights", T_CHOICE, test_weights, "best", "best|last", 0, 0, RUN_ONLY,
        "weights evaluated on the test split at the end: best validation loss, or the last epoch"),
    OPT("backend", T_CHOICE, backend, "cpu", "cpu|cuda", 0, 0, HASHED,
        "compute backend (cuda: needs a build with CUDA and a GPU; results agree with cpu to float rounding)"),
    OPT("tf32", T_BOOL, tf32, "0", NULL, 0, 0, HASHED_IF_SET,
        "backend cuda: convolution products in TF32 on tensor cores (cuBLAS; inputs rounded to 10 mantissa "
        "bits, FP32 sums); 0 = FP32 (0|1)"),
    OPT("precision", T_CHOICE, precision, "fp32", "fp32|bf16|auto", 0, 0, HASHED_IF_SET,
        "backend cpu: operand precision of the convolutions; bf16 = bfloat16 operands, FP32 sums and results "
        "(needs the oneDNN convolution engine and a CPU with amx_bf16 or avx512_bf16, refused elsewhere); "
        "auto = bf16 where it can run, else fp32; weights, states, norms and losses stay FP32"),
};
static const int n_options = (int)(sizeof options / sizeof options[0]);

static const Option *find_option(const char *key) {
    for (int i = 0; i < n_options; i++)
        if (options[i].key && !strcmp(options[i].key, key)) return &options[i];
    return NULL;
}

/* An option's choices; MODEL_KINDS ("", for `model`) stands for the registry of model kinds (model.c). */
static const char *choices_of(const Option *o) { return o->choices[0] ? o->choices : model_kind_choices(); }

static int choice_index(const char *choices, const char *value) {
    size_t n = strlen(value);
    int index = 0;
    for (const char *p = choices; *p; index++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, value, n)) return index;
        if (!bar) break;
        p = bar + 1;
    }
    return -1;
}

static int parse_int64(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno) return -1;
    *out = v;
    return 0;
}

/* Parse `value` into the option's field of c. Errors: "<where>: <key>: <problem>". */
static int set_option(Config *c, const Option *o, const char *value, const char *where) {
    char *field = (char *)c + o->offset;
    switch (o->type) {
    case T_INT: {
        long long v;
        if (parse_int64(value, &v)) return rr_error("%s: %s: '%s' is not an integer", where, o->key, rr_esc(value));
        if (v < o->min || v > o->max)
            return rr_error("%s: %s: %lld is out of range [%.0f, %.0f]", where, o->key, v, o->min, o->max);
        *(int *)field = (int)v;
        return 0;
    }
    case T_U64: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (end == value || *end || errno || strchr(value, '-'))
            return rr_error("%s: %s: '%s' is not an unsigned integer", where, o->key, rr_esc(value));
        *(uint64_t *)field = (uint64_t)v;
        return 0;
    }
    case T_REAL: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || errno == ERANGE || !isfinite(v))
            return rr_error("%s: %s: '%s' is not a finite number", where, o->key, rr_esc(value));
        if (v < o->min || v > o->max)
            return rr_error("%s: %s: %s is out of range [%g, %g]", where, o->key, rr_esc(value), o->min, o->max);
        *(double *)field = v;
        return 0;
    }
    case T_BOOL: {
        static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
        for (int i = 0; i < 4; i++) {
            if (!strcmp(value, yes[i])) return *(int *)field = 1, 0;
            if (!strcmp(value, no[i])) return *(int *)field = 0, 0;
        }
        return rr_error("%s: %s: '%s' is not a boolean (0|1|true|false)", where, o->key, rr_esc(value));
    }
    case T_CHOICE:
        if (choice_index(choices_of(o), value) < 0)
            return rr_error("%s: %s: '%s' is not one of %s", where, o->key, rr_esc(value), choices_of(o));
        snprintf(field, o->size, "%s", value);
        return 0;
    case T_STR:
        if (strlen(value) >= o->size) return rr_error("%s: %s: value longer than %zu bytes", where, o->key, o->size - 1);
        snprintf(field, o->size, "%s", value);
        return 0;
    case T_LIST: {
        ConfigIntList list = {0, {0}};
        const char *p = value;
        for (;;) {
            char item[64];
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            while (len && (*p == ' ' || *p == '\t')) p++, len--;
            while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
            long long v;
            if (len == 0 || len >= sizeof item)
                return rr_error("%s: %s: '%s' is not a comma list of integers", where, o->key, rr_esc(value));
            memcpy(item, p, len);
            item[len] = 0;
            if (parse_int64(item, &v))
                return rr_error("%s: %s: '%s' is not a comma list of integers", where, o->key, rr_esc(value));
            if (v < o->min || v > o->max)
                return rr_error("%s: %s: %lld is out of range [%.0f, %.0f]", where, o->key, v, o->min, o->max);
            if (list.n == MODEL_MAX_LAYERS)
                return rr_error("%s: %s: more than %d values", where, o->key, MODEL_MAX_LAYERS);
            list.v[list.n++] = (int)v;
            if (!comma) break;
            p = comma + 1;
        }
        *(ConfigIntList *)field = list;
        return 0;
    }
    }
    return rr_error("%s: %s: internal error (bad option type)", where, o->key);
}

/* Shortest %.Ng text (N = 1..17) that reads back to exactly v. */
static void format_real(double v, char *buf, size_t n) {
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) return;
    }
}

static void format_option(const Config *c, const Option *o, char *buf, size_t n) {
    const char *field = (const char *)c + o->offset;
    switch (o->type) {
    case T_INT: snprintf(buf, n, "%d", *(const int *)field); break;
    case T_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case T_REAL: format_real(*(const double *)field, buf, n); break;
    case T_BOOL: snprintf(buf, n, "%d", *(const int *)field ? 1 : 0); break;
    case T_CHOICE:
    case T_STR: snprintf(buf, n, "%s", field); break;
    case T_LIST: {
        const ConfigIntList *l = (const ConfigIntList *)field;
        size_t used = 0;
        buf[0] = 0;
        for (int i = 0; i < l->n && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, i ? ",%d" : "%d", l->v[i]);
        break;
    }
    }
}

void config_defaults(Config *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < n_options; i++) {
        if (!options[i].key) continue;
        if (set_option(c, &options[i], options[i].def, "default")) rr_die("%s", rr_last_error());
    }
}

int config_set_value(Config *c, const char *key, const char *value, const char *where) {
    const Option *o = find_option(key);
    if (!o) return rr_error("%s: %s: unknown key (rnnreg help train lists the keys)", where, rr_esc(key));
    if (!*value) return rr_error("%s: %s: empty value", where, key);
    return set_option(c, o, value, where);
}

int config_get(const Config *c, const char *key, char *buf, size_t n) {
    const Option *o = find_option(key);
    if (!o) return rr_error("config: %s: unknown key", key);
    format_option(c, o, buf, n);
    return 0;
}

/* ----------------------------------------------------------------------------------------------- */
/* Files and includes */

#define MAX_INCLUDE_DEPTH 16
/* A config file (or include) larger than this is refused before it is read: configs are a few KiB,
 * and an include of /dev/zero or of a huge foreign file must not exhaust memory. */
#define CONFIG_MAX_BYTES ((size_t)1 << 20)

typedef struct {
    const char *stack[MAX_INCLUDE_DEPTH]; /* canonical paths of the files being read */
    int depth;
    int no_include; /* a resolved text (config_load_text): an include line is refused */
} IncludeStack;

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = 0;
    return s;
}

/* `rel` relative to the directory of `file` (absolute rel, or a file without a directory: rel). */
static char *resolve_relative(const char *file, const char *rel) {
    const char *slash = strrchr(file, '/');
    if (rel[0] == '/' || !slash) return rr_strdup(rel);
    size_t dir = (size_t)(slash - file) + 1, n = dir + strlen(rel) + 1;
    char *out = rr_malloc(n);
    memcpy(out, file, dir);
    strcpy(out + dir, rel);
    return out;
}

/* load_file's result when the file itself could not be read (missing, not a regular file, too big,
 * a cycle, too deep) rather than an error inside it: the includer then names its line. */
#define FILE_UNREADABLE (-2)
static int load_file(Config *c, const char *path, IncludeStack *st);

/* A key is one word of letters, digits and '_' (every option is). */
static int is_key_word(const char *k) {
    if (!*k) return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_'))
            return 0;
    return 1;
}

/* Error messages about a line never quote the line itself: an include may name a file that is not a
 * config at all (a key file, /etc/shadow), and its content must not reach the terminal or a log.
 * Keys of the option table and values of known keys are quoted (escaped) as before. */
static int load_text(Config *c, const char *text, const char *name, IncludeStack *st) {
    char *copy = rr_strdup(text);
    int line_no = 0, rc = 0;
    int set_line[sizeof options / sizeof options[0]] = {0}; /* line where this file set each option */
    for (char *line = copy; line && rc == 0; line_no++) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = trim(line);
        char where[CONFIG_STR + 32], ename[CONFIG_STR];
        snprintf(where, sizeof where, "%s:%d", rr_escape(name, strlen(name), 512, ename, sizeof ename), line_no + 1);
        line = next;
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = rr_error("%s: expected 'key = value' (no '=' on this line; not a config file?)", where);
            break;
        }
        *eq = 0;
        char *key = trim(s), *value = trim(eq + 1);
        if (!*key) {
            rc = rr_error("%s: missing key before '='", where);
            break;
        }
        if (!is_key_word(key)) {
            rc = rr_error("%s: expected 'key = value' (the text before '=' is not one word of letters, digits and "
                          "'_'; not a config file?)", where);
            break;
        }
        if (!strcmp(key, "include")) {
            if (st->no_include) { /* config_to_text never writes one: this text was made elsewhere */
                rc = rr_error("%s: include: not allowed in a resolved configuration (a checkpoint's config lists "
                              "every option)", where);
                break;
            }
            if (!*value) {
                rc = rr_error("%s: include: empty value", where);
                break;
            }
            char *inc = resolve_relative(name, value);
            rc = load_file(c, inc, st);
            if (rc == FILE_UNREADABLE) {
                /* the included file itself could not be read (or is a cycle): name the includer */
                char saved[1024];
                snprintf(saved, sizeof saved, "%s", rr_last_error());
                rr_error("%s: include: %s", where, saved);
            }
            if (rc) rc = -1;
            free(inc);
            continue;
        }
        const Option *o = find_option(key);
        if (o && set_line[o - options]) {
            rc = rr_error("%s: %s: already set on line %d of this file", where, key, set_line[o - options]);
            break;
        }
        rc = config_set_value(c, key, value, where);
        if (o) set_line[o - options] = line_no + 1;
    }
    free(copy);
    return rc;
}

static int load_file(Config *c, const char *path, IncludeStack *st) {
    char *canon = realpath(path, NULL);
    if (!canon) return rr_error("%s: cannot open: %s", path, strerror(errno)), FILE_UNREADABLE;
    for (int i = 0; i < st->depth; i++) {
        if (!strcmp(st->stack[i], canon)) {
            free(canon);
            return rr_error("%s: include cycle (the file includes itself)", path), FILE_UNREADABLE;
        }
    }
    if (st->depth == MAX_INCLUDE_DEPTH) {
        free(canon);
        return rr_error("%s: includes nested deeper than %d files", path, MAX_INCLUDE_DEPTH), FILE_UNREADABLE;
    }
    char *text;
    size_t len;
    /* Regular files only (a FIFO or /dev/zero is refused without blocking), at most 1 MiB. */
    if (rr_read_file_max(path, CONFIG_MAX_BYTES, "a config file", &text, &len)) {
        free(canon);
        return FILE_UNREADABLE;
    }
    const char *nul = memchr(text, 0, len);
    if (nul) { /* would silently end the text: every later line would be ignored */
        int line = 1;
        for (const char *p = text; p < nul; p++) line += *p == '\n';
        rr_error("%s:%d: contains a NUL byte (not a text config file?)", path, line);
        free(canon);
        free(text);
        return -1;
    }
    st->stack[st->depth++] = canon;
    int rc = load_text(c, text, path, st);
    st->depth--;
    free(canon);
    free(text);
    return rc;
}

int config_load_file(Config *c, const char *path) {
    IncludeStack st = {{0}, 0, 0};
    return load_file(c, path, &st) ? -1 : 0;
}

int config_load_text(Config *c, const char *text, const char *name) {
    IncludeStack st = {{0}, 0, 1};
    return load_text(c, text, name, &st);
}

int config_set(Config *c, const char *assignment) {
    char where[CONFIG_STR + 32];
    snprintf(where, sizeof where, "--set %s", assignment);
    const char *eq = strchr(assignment, '=');
    if (!eq) return rr_error("%s: expected key=value", where);
    char key[128];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof key) return rr_error("%s: key too long", where);
    memcpy(key, assignment, klen);
    key[klen] = 0;
    char *value = rr_strdup(eq + 1);
    char *k = trim(key), *v = trim(value);
    int rc = !strcmp(k, "include") ? rr_error("%s: include: not allowed in --set", where)
                                   : config_set_value(c, k, v, where);
    free(value);
    return rc;
}

/* ----------------------------------------------------------------------------------------------- */

int config_validate(const Config *c) {
    if (c->kernels.n != 1 && c->kernels.n != c->layers.n)
        return rr_error("config: kernels: %d values but layers has %d (give one per layer, or one for all)",
                        c->kernels.n, c->layers.n);
    for (int i = 0; i < c->kernels.n; i++)
        if (c->kernels.v[i] % 2 == 0) return rr_error("config: kernels: %d is even (kernels must be odd)", c->kernels.v[i]);
    if (c->head_kernel % 2 == 0) return rr_error("config: head_kernel: %d is even (must be odd)", c->head_kernel);
    if (c->input_frames >= c->seq_len)
        return rr_error("config: input_frames: %d must be less than seq_len (%d)", c->input_frames, c->seq_len);
    if (c->n_train < c->batch)
        return rr_error("config: n_train: %d is less than batch (%d): no training batch", c->n_train, c->batch);
    if (!strcmp(c->optimizer, "rmsprop") && c->momentum != 0)
        return rr_error("config: momentum: RMSprop momentum is not supported (momentum applies to sgd)");
    if (strcmp(c->sampling, "teacher") && !strcmp(c->head, "conv3d_centered"))
        return rr_error("config: sampling: '%s' feeds predictions back, but head = conv3d_centered sees step t+1 "
                        "(needs teacher forcing); use conv3d_causal or conv2d", c->sampling);
    if (c->nesterov && (strcmp(c->optimizer, "sgd") || c->momentum <= 0))
        return rr_error("config: nesterov: needs optimizer = sgd and momentum > 0 (as torch.optim.SGD)");
    return 0;
}

char *config_to_text(const Config *c) {
    size_t cap = 8192, used = 0;
    char *out = rr_malloc(cap);
    used += (size_t)snprintf(out, cap, "# rnnreg resolved configuration (every option)\n");
    for (int i = 0; i < n_options; i++) {
        if (!options[i].key) continue;
        char value[CONFIG_STR + 64];
        format_option(c, &options[i], value, sizeof value);
        size_t need = strlen(options[i].key) + strlen(value) + 8;
        if (used + need >= cap) out = rr_realloc(out, cap = 2 * cap + need);
        used += (size_t)snprintf(out + used, cap - used, "%s = %s\n", options[i].key, value);
    }
    return out;
}

int config_write(const Config *c, const char *path) {
    char *text = config_to_text(c);
    int rc = rr_write_file_atomic(path, text, strlen(text));
    free(text);
    return rc;
}

/* Whether an option's canonical value text is its default: numbers compare as numbers ("0" = "0.0"),
 * choices and strings as text (strtod would read every word as 0). */
static int is_default_text(const Option *o, const char *value) {
    if (o->type == T_CHOICE || o->type == T_STR) return !strcmp(value, o->def);
    return strtod(value, NULL) == strtod(o->def, NULL);
}

void config_hash(const Config *c, char out[17]) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 offset basis */
    for (int i = 0; i < n_options; i++) {
        if (!options[i].key || (options[i].flags & RUN_ONLY)) continue;
        char line[CONFIG_STR + 128];
        int len = snprintf(line, sizeof line, "%s = ", options[i].key);
        format_option(c, &options[i], line + len, sizeof line - (size_t)len);
        if ((options[i].flags & HASHED_IF_SET) && is_default_text(&options[i], line + len)) continue;
        strcat(line, "\n");
        for (const char *p = line; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ULL; /* FNV prime */
        }
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void config_print_help(FILE *out) {
    for (int i = 0; i < n_options; i++) {
        const Option *o = &options[i];
        if (!o->key) {
            fprintf(out, "\n  %s:\n", o->doc);
            continue;
        }
        char def[64];
        snprintf(def, sizeof def, "%s", o->def);
        fprintf(out, "    %-24s %-22s %s", o->key, def, o->doc);
        if (o->type == T_CHOICE) fprintf(out, " [%s]", choices_of(o));
        fprintf(out, "\n");
    }
}

/* ----------------------------------------------------------------------------------------------- */

static Activation activation_of(const char *name) {
    /* index in ACTS → ops.h Activation */
    static const Activation map[] = {ACT_TANH, ACT_RELU, ACT_SIGMOID, ACT_HARD_SIGMOID, ACT_IDENTITY};
    int i = choice_index(ACTS, name);
    return i < 0 ? ACT_IDENTITY : map[i];
}

int config_model(const Config *c, ModelConfig *mc) {
    memset(mc, 0, sizeof *mc);
    snprintf(mc->model, sizeof mc->model, "%s", c->model);
    mc->num_layers = c->layers.n;
    for (int i = 0; i < c->layers.n; i++) {
        mc->hidden[i] = c->layers.v[i];
        mc->kernel[i] = c->kernels.n == 1 ? c->kernels.v[0] : c->kernels.v[i];
    }
    if (c->kernels.n != 1 && c->kernels.n != c->layers.n) return config_validate(c);
    mc->cell_act = activation_of(c->cell_act);
    mc->gate_act = activation_of(c->gate_act);
    mc->head_act = activation_of(c->head_act);
    mc->batchnorm = c->batchnorm;
    mc->bn_momentum = (float)c->bn_momentum;
    mc->bn_eps = (float)c->bn_eps;
    static const HeadKind heads[] = {HEAD_CONV2D, HEAD_CONV3D_CAUSAL, HEAD_CONV3D_CENTERED, HEAD_LINEAR};
    int h = choice_index("conv2d|conv3d_causal|conv3d_centered|linear", c->head);
    if (h < 0) return rr_error("config: head: '%s' is unknown", c->head);
    mc->head = heads[h];
    mc->head_kernel = c->head_kernel;
    mc->patch = c->patch;
    mc->layer_norm = c->layer_norm;
    mc->ghu = c->ghu;
    mc->dropout = (float)c->dropout;
    mc->rec_dropout = (float)c->rec_dropout;
    mc->rec_dropout_seq = !strcmp(c->rec_dropout_mask, "sequence");
    mc->var_dropout_x = (float)c->var_dropout_x;
    mc->var_dropout_h = (float)c->var_dropout_h;
    mc->zoneout_c = (float)c->zoneout_c;
    mc->zoneout_h = (float)c->zoneout_h;
    mc->zoneout_m = (float)c->zoneout_m;
    mc->weight_drop = (float)c->weight_drop;
    mc->reg_seed = c->seed;
    mc->image_size = 64;
    mc->img_channels = 1;
    return 0;
}

/* test_config.c — the run configuration: defaults, `key = value` files with comments and includes,
 * --set overrides, every error naming file:line and key, validation, the canonical resolved text
 * (round trip), the config hash and the `help train` listing; bad input and faults (a FIFO, a
 * device or a huge file as include, a foreign file's content never echoed, a NUL byte, escape
 * sequences in lines and values). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glob.h>

#include "common.h"
#include "config.h"
#include "rng.h"
#include "test.h"
#include "test_files.h"
#include "run.h"

static char dir[256];

static const char *write_tmp(const char *name, const char *text) {
    static char path[4][512];
    static int slot = 0;
    char *p = path[slot++ & 3];
    snprintf(p, 512, "%s/%s", dir, name);
    char *slash = strrchr(p, '/');
    *slash = 0;
    rr_mkdir_p(p);
    *slash = '/';
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

/* Load text as a file named `name` into defaults; return the rc, error in rr_last_error(). */
static int load(const char *name, const char *text, Config *c) {
    config_defaults(c);
    return config_load_file(c, write_tmp(name, text));
}

static void expect_error(const char *name, const char *text, const char *want, const char *what) {
    Config c;
    char full[1024];
    snprintf(full, sizeof full, "%s/%s%s", dir, name, want);
    int rc = load(name, text, &c);
    CHECK(rc == -1, "%s: rejected", what);
    CHECK_ERR_CONTAINS(rr_last_error(), full, "%s: message names file:line: key", what);
}

static void test_defaults(void) {
    TEST_BEGIN("config_defaults");
    Config c;
    config_defaults(&c);
    /* torch.optim.Adam defaults (PyTorch docs): lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0;
     * RMSprop alpha 0.99; Keras example model: 3 layers of 64, kernels 5, 3, 1, relu, batch 5. */
    CHECK(!strcmp(c.optimizer, "adam") && c.lr == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999 &&
              c.eps == 1e-8 && c.weight_decay == 0,
          "Adam with PyTorch defaults");
    CHECK(c.rms_alpha == 0.99, "RMSprop alpha 0.99");
    CHECK(c.layers.n == 3 && c.layers.v[0] == 64 && c.layers.v[2] == 64, "layers 64,64,64");
    CHECK(c.kernels.n == 3 && c.kernels.v[0] == 5 && c.kernels.v[1] == 3 && c.kernels.v[2] == 1, "kernels 5,3,1");
    CHECK(c.batch == 5 && c.epochs == 20 && c.input_frames == 10 && c.seq_len == 20, "batch 5, 20 epochs, 10 -> 10 frames");
    CHECK(!strcmp(c.sampling, "teacher") && c.sampling_iters == 50000, "teacher forcing, PredRNN's 50000 iterations");
    CHECK(c.clip_grad_norm == 0 && c.checkpoint_every == 0 && c.threads == 0, "clipping off, per-epoch checkpoints, all cores");
    CHECK(config_validate(&c) == 0, "defaults validate");
    /* a config that names no head resolves to the causal Conv3D, never the example's leaking centred one */
    char *text = config_to_text(&c);
    CHECK(strstr(text, "\nhead = conv3d_causal\n") != NULL, "resolved config without head: head = conv3d_causal");
    free(text);
    ModelConfig mc;
    CHECK(config_model(&c, &mc) == 0 && mc.num_layers == 3 && mc.cell_act == ACT_RELU &&
              mc.gate_act == ACT_SIGMOID && mc.head == HEAD_CONV3D_CAUSAL && mc.head_act == ACT_SIGMOID &&
              mc.batchnorm == 1 && mc.kernel[1] == 3 && mc.patch == 1,
          "model config from defaults");
}

static void test_files(void) {
    TEST_BEGIN("config_file");
    Config c;
    write_tmp("base/model.conf",
              "# shared model\n"
              "layers = 8, 8   # two layers\n"
              "kernels = 3\n"
              "cell_act = tanh\n"
              "lr = 0.01\n"
              "seed = 18446744073709551615\n");
    const char *run = write_tmp("exp/run.conf",
                                "\n"
                                "include = ../base/model.conf\n"
                                "   lr=3e-4  \n"
                                "optimizer = sgd\r\n"
                                "momentum = 0.9\n"
                                "nesterov = true\n"
                                "data = some/dir/x.npy\n");
    config_defaults(&c);
    CHECK(config_load_file(&c, run) == 0, "file with include, comments, blank lines, CRLF loads");
    CHECK(c.layers.n == 2 && c.layers.v[0] == 8 && c.layers.v[1] == 8, "layers from the included base");
    CHECK(!strcmp(c.cell_act, "tanh"), "choice from the base");
    CHECK(c.lr == 3e-4, "the includer overrides the base (lr 3e-4)");
    CHECK(c.seed == UINT64_MAX, "64-bit seed");
    CHECK(!strcmp(c.optimizer, "sgd") && c.momentum == 0.9 && c.nesterov == 1, "sgd, momentum, nesterov");
    CHECK(!strcmp(c.data, "some/dir/x.npy"), "data path kept as written (relative to the working directory)");
    CHECK(config_validate(&c) == 0, "validates");
    ModelConfig mc;
    CHECK(config_model(&c, &mc) == 0 && mc.kernel[0] == 3 && mc.kernel[1] == 3 && mc.cell_act == ACT_TANH,
          "one kernel value applies to every layer");

    CHECK(config_set(&c, "lr=0.5") == 0 && c.lr == 0.5, "--set lr=0.5 overrides the file");
    CHECK(config_set(&c, " batch = 7 ") == 0 && c.batch == 7, "--set trims spaces");
    CHECK(config_set(&c, "layers=4,5,6") == 0 && c.layers.n == 3 && c.layers.v[2] == 6, "--set a list");
    CHECK(config_set(&c, "bogus=1") == -1, "--set unknown key rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "--set bogus=1: bogus: unknown key", "--set error names the argument and key");
    CHECK(config_set(&c, "lr") == -1, "--set without '=' rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "--set lr: expected key=value", "--set missing '=' message");
    CHECK(config_set(&c, "batch=x") == -1, "--set bad value rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "--set batch=x: batch: 'x' is not an integer", "--set bad value message");
    CHECK(config_set(&c, "include=a.conf") == -1, "--set include refused");
}

static void test_errors(void) {
    TEST_BEGIN("config_errors");
    expect_error("e1.conf", "lr = 0.1\n\nbogus_key = 3\n", ":3: bogus_key: unknown key", "unknown key");
    expect_error("e2.conf", "batch = 4.5\n", ":1: batch: '4.5' is not an integer", "non-integer");
    expect_error("e3.conf", "# c\nlr = fast\n", ":2: lr: 'fast' is not a finite number", "non-number");
    expect_error("e4.conf", "lr = nan\n", ":1: lr: 'nan' is not a finite number", "NaN value");
    expect_error("e5.conf", "batch = 0\n", ":1: batch: 0 is out of range", "integer out of range");
    expect_error("e6.conf", "beta1 = 1.5\n", ":1: beta1: 1.5 is out of range", "real out of range");
    expect_error("e7.conf", "optimizer = adagrad\n", ":1: optimizer: 'adagrad' is not one of adam|adamw|sgd|rmsprop",
                 "bad choice");
    expect_error("e8.conf", "batchnorm = maybe\n", ":1: batchnorm: 'maybe' is not a boolean", "bad boolean");
    expect_error("e9.conf", "layers = 8,,8\n", ":1: layers: '8,,8' is not a comma list", "bad list");
    expect_error("e10.conf", "layers = 1,1,1,1,1,1,1,1,1\n", ":1: layers: more than 8 values", "list too long");
    expect_error("e11.conf", "\nlr 0.1\n", ":2: expected 'key = value'", "missing '='");
    expect_error("e12.conf", "lr = 0.1\nlr = 0.2\n", ":2: lr: already set on line 1", "key set twice in one file");
    expect_error("e13.conf", "seed = -1\n", ":1: seed: '-1' is not an unsigned integer", "negative seed");
    expect_error("e14.conf", "model =\n", ":1: model: empty value", "empty value");
    expect_error("e15.conf", "lr = 0.1\ninclude = nowhere.conf\n", ":2: include: ", "missing include names includer");
    CHECK_ERR_CONTAINS(rr_last_error(), "nowhere.conf: cannot open", "missing include names the missing file");
    write_tmp("cyc_b.conf", "include = cyc_a.conf\n");
    /* cyc_a includes cyc_b, whose line 1 includes cyc_a again: that line is reported */
    Config cc;
    config_defaults(&cc);
    CHECK(load("cyc_a.conf", "include = cyc_b.conf\n", &cc) == -1, "include cycle rejected");
    char want_cyc[600];
    snprintf(want_cyc, sizeof want_cyc, "%s/cyc_b.conf:1: include: ", dir);
    CHECK_ERR_CONTAINS(rr_last_error(), want_cyc, "include cycle names file:line: include");
    CHECK_ERR_CONTAINS(rr_last_error(), "include cycle", "cycle is named");
    /* an error inside an included file names that file and line */
    write_tmp("inner.conf", "lr = 0.1\nwhat = 1\n");
    Config c;
    config_defaults(&c);
    CHECK(load("outer.conf", "include = inner.conf\n", &c) == -1, "error inside an include rejected");
    char want[600];
    snprintf(want, sizeof want, "%s/inner.conf:2: what: unknown key", dir);
    CHECK_ERR_CONTAINS(rr_last_error(), want, "error inside an include names the included file:line: key");
    config_defaults(&c);
    CHECK(config_load_file(&c, "/nonexistent/x.conf") == -1, "missing file rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "/nonexistent/x.conf: cannot open", "missing file named");
    /* the same key in an include and in the includer is an override, not an error */
    write_tmp("ov_base.conf", "lr = 0.1\n");
    CHECK(load("ov.conf", "include = ov_base.conf\nlr = 0.2\n", &c) == 0 && c.lr == 0.2, "override across files allowed");
}

static void test_validate(void) {
    TEST_BEGIN("config_validate");
    Config c;
    config_defaults(&c);
    config_set(&c, "kernels=3,3");
    CHECK(config_validate(&c) == -1, "two kernels for three layers rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "kernels: 2 values but layers has 3", "names kernels");
    config_defaults(&c);
    config_set(&c, "kernels=5,4,1");
    CHECK(config_validate(&c) == -1, "even kernel rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "kernels: 4 is even", "names kernels");
    config_defaults(&c);
    config_set(&c, "input_frames=20");
    CHECK(config_validate(&c) == -1, "input_frames = seq_len rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "input_frames:", "names input_frames");
    config_defaults(&c);
    config_set(&c, "n_train=3");
    CHECK(config_validate(&c) == -1, "n_train < batch rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "n_train:", "names n_train");
    config_defaults(&c);
    config_set(&c, "nesterov=1");
    CHECK(config_validate(&c) == -1, "nesterov with adam rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "nesterov:", "names nesterov");
}

static void test_text(void) {
    TEST_BEGIN("config_text");
    Config a, b;
    config_defaults(&a);
    config_set(&a, "lr=0.1");          /* not exact in binary: must survive the round trip */
    config_set(&a, "eps=1e-7");
    config_set(&a, "beta2=0.99999999999999989"); /* the double just below 1 */
    config_set(&a, "layers=16,32");
    config_set(&a, "kernels=5,3");
    config_set(&a, "seed=12345678901234");
    char *text = config_to_text(&a);
    config_defaults(&b);
    CHECK(config_load_text(&b, text, "resolved") == 0, "resolved text loads back");
    CHECK(a.lr == b.lr && a.eps == b.eps && a.beta2 == b.beta2 && a.beta2 < 1.0 && a.seed == b.seed,
          "doubles and seeds round-trip bit for bit");
    char *text2 = config_to_text(&b);
    CHECK(!strcmp(text, text2), "resolved text is a fixed point");
    CHECK(strstr(text, "\nlr = 0.1\n") && strstr(text, "\neps = 1e-07\n") && strstr(text, "\nlayers = 16,32\n"),
          "values in shortest form");
    char buf[64];
    /* Python: repr(0.99999999999999989) == '0.9999999999999999' (shortest round-trip form) */
    CHECK(config_get(&a, "beta2", buf, sizeof buf) == 0 && !strcmp(buf, "0.9999999999999999"), "config_get beta2 = %s", buf);
    /* every key appears once */
    int keys = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++) keys += p[1] && p[1] != '#';
    CHECK(keys >= 50, "resolved text lists every option (%d lines)", keys);

    char h1[17], h2[17], h3[17];
    config_hash(&a, h1);
    config_set(&b, "threads=3");
    config_set(&b, "epochs=99");
    config_set(&b, "predict_sequences=2");
    config_hash(&b, h2);
    CHECK(!strcmp(h1, h2), "hash ignores run-control keys (threads, epochs, predict_sequences)");
    config_set(&b, "lr=0.10000000000000002");
    config_hash(&b, h3);
    CHECK(strcmp(h1, h3) != 0, "hash changes with the last bit of lr");
    CHECK(strlen(h1) == 16, "hash is 16 hex digits (%s)", h1);

    /* help: every key of the resolved text appears with its default */
    Config d;
    config_defaults(&d);
    char *dtext = config_to_text(&d);
    FILE *f = tmpfile();
    config_print_help(f);
    long n = ftell(f);
    rewind(f);
    char *help = rr_malloc((size_t)n + 1);
    help[fread(help, 1, (size_t)n, f)] = 0;
    fclose(f);
    int missing = 0, total = 0;
    for (char *line = strtok(dtext, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char key[64], value[512];
        if (sscanf(line, "%63s = %511s", key, value) != 2) continue;
        total++;
        char pattern[80], k2[64], d2[512] = "";
        snprintf(pattern, sizeof pattern, "\n    %s ", key); /* a help row starts with the key */
        char *at = strstr(help, pattern);
        int ok = at && sscanf(at, "%63s %511s", k2, d2) == 2 && !strcmp(d2, value);
        if (!ok) printf("    help row of %s: default '%s', resolved '%s'\n", key, d2, value);
        missing += !ok;
    }
    CHECK(total >= 50 && missing == 0, "help lists all %d keys with their defaults (%d missing)", total, missing);
    /* the leaking head is not the default, and `help train` warns about it (honest defaults) */
    char *head_row = strstr(help, "\n    head ");
    char *row_end = head_row ? strchr(head_row + 1, '\n') : NULL;
    if (row_end) *row_end = 0; /* search the head row only */
    CHECK(head_row && !strncmp(head_row + 5 + 24, " conv3d_causal ", 15) &&
              strstr(head_row, "WARNING: conv3d_centered") && strstr(head_row, "sees the frame it predicts"),
          "help row of head: default conv3d_causal, warns that conv3d_centered sees the frame it predicts");
    free(help);
    free(dtext);
    free(text);
    free(text2);
}

/* Every committed experiment config loads (with its includes) and validates. */
static void test_experiment_configs(void) {
    TEST_BEGIN("config_experiments");
    glob_t g;
    if (glob("experiments/configs/*.conf", 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        SKIP("no experiments/configs/*.conf (run from the repository root)");
        return;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        Config c;
        config_defaults(&c);
        int rc = config_load_file(&c, g.gl_pathv[i]);
        if (!rc) rc = config_validate(&c);
        CHECK(rc == 0, "%s loads and validates%s%s", g.gl_pathv[i], rc ? ": " : "", rc ? rr_last_error() : "");
    }
    Config c;
    config_defaults(&c);
    if (config_load_file(&c, "experiments/configs/convlstm.conf") == 0) {
        /* the Keras example (keras-io examples/vision/conv_lstm.py) */
        CHECK(c.layers.n == 3 && c.layers.v[0] == 64 && c.kernels.v[0] == 5 && c.kernels.v[1] == 3 &&
                  c.kernels.v[2] == 1 && !strcmp(c.cell_act, "relu") && c.batchnorm && c.batch == 5 &&
                  c.epochs == 20 && !strcmp(c.head, "conv3d_centered") && c.eps == 1e-7,
              "convlstm.conf is the Keras example's model and training");
    }
    globfree(&g);
}

/* Scheduled sampling (PredRNN run.py:schedule_sampling): eta = 1 - iteration / sampling_iters. */
static void test_sampling(void) {
    TEST_BEGIN("sampling");
    Config c;
    config_defaults(&c);
    config_set(&c, "sampling_iters=50000");
    /* PredRNN: eta -= 2e-5 per iteration from 1.0, so after 25000 iterations 0.5, 0 from 50000 on */
    CHECK_NEAR(sampling_eta(&c, 25000), 0.5, 1e-12, 0, "eta(25000) = 0.5");
    CHECK_NEAR(sampling_eta(&c, 1), 1 - 2e-5, 1e-12, 0, "eta(1) = 1 - 2e-5");
    CHECK(sampling_eta(&c, 50000) == 0 && sampling_eta(&c, 90000) == 0, "eta = 0 from sampling_iters on");
    enum { B = 64, T = 20 };
    static unsigned char m[B * T], m2[B * T];
    config_set(&c, "sampling=teacher");
    config_set(&c, "head=conv2d");
    sampling_mask(&c, 30000, B, T, m);
    int ones = 0;
    for (int i = 0; i < B * T; i++) ones += m[i];
    CHECK(ones == B * T, "teacher: all ground truth");
    config_set(&c, "sampling=free");
    sampling_mask(&c, 1, B, T, m);
    int ok = 1;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) ok &= m[b * T + t] == (t < c.input_frames);
    CHECK(ok, "free: truth exactly for t < input_frames");
    config_set(&c, "sampling=scheduled");
    sampling_mask(&c, 25000, B, T, m);
    int first = 1, later = 0, n_later = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            if (t < c.input_frames) first &= m[b * T + t] == 1;
            else later += m[b * T + t], n_later++;
        }
    CHECK(first, "scheduled: frames before input_frames always truth");
    /* Binomial(640, 0.5): mean 320, sd 12.6; allow 5 sd */
    CHECK(abs(later - n_later / 2) < 64, "scheduled at eta 0.5: %d of %d later inputs are truth", later, n_later);
    sampling_mask(&c, 25000, B, T, m2);
    CHECK(!memcmp(m, m2, sizeof m), "same seed and iteration: same mask (resume-safe)");
    sampling_mask(&c, 25001, B, T, m2);
    CHECK(memcmp(m, m2, sizeof m) != 0, "next iteration: new coin flips");
    sampling_mask(&c, 1, B, T, m);
    later = 0;
    for (int b = 0; b < B; b++)
        for (int t = c.input_frames; t < T; t++) later += m[b * T + t];
    CHECK(later >= n_later - 2, "scheduled at iteration 1 (eta 0.99998): %d of %d truth", later, n_later);
    config_set(&c, "head=conv3d_centered");
    CHECK(config_validate(&c) == -1, "scheduled sampling with the centered Conv3D head rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), "sampling:", "names sampling");
}

/* dir/name holding n raw bytes (NULs included). */
static const char *write_bytes(const char *name, const void *data, size_t n) {
    static char path[4][512];
    static int slot = 0;
    char *p = path[slot++ & 3];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
    return p;
}

/* Load `text` (a config naming includes) under a time bound; the rc, error in rr_last_error(). */
static int load_bounded(const char *name, const char *text, const char *what) {
    Config c;
    hang_guard(what, 10);
    int rc = load(name, text, &c);
    hang_guard_off();
    return rc;
}

static void test_faults(void) {
    TEST_BEGIN("config_faults");
    char text[1200], want[1200];
    /* An include of a FIFO: refused at once (the read blocked until a writer came). */
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/fifo.conf", dir);
    if (mkfifo(fifo, 0600) == 0) {
        int rc = load_bounded("inc_fifo.conf", "lr = 0.1\ninclude = fifo.conf\n", "include of a FIFO");
        snprintf(want, sizeof want, "%s/inc_fifo.conf:2: include: %s: not a regular file (a FIFO)", dir, fifo);
        CHECK(rc == -1, "include of a FIFO rejected without blocking");
        CHECK_ERR_CONTAINS(rr_last_error(), want, "... naming file:line: include and the FIFO");
        Config c;
        config_defaults(&c);
        hang_guard("config file that is a FIFO", 10);
        rc = config_load_file(&c, fifo);
        hang_guard_off();
        CHECK(rc == -1 && strstr(rr_last_error(), "not a regular file"), "a FIFO as the config itself rejected (%s)", rr_last_error());
    } else {
        SKIP("FIFO: mkfifo failed: %s", strerror(errno));
    }
    /* include = /dev/zero: refused before reading (it was read until memory ran out). */
    int rc = load_bounded("inc_zero.conf", "include = /dev/zero\n", "include of /dev/zero");
    CHECK(rc == -1 && strstr(rr_last_error(), "/dev/zero: not a regular file (a character device)"),
          "include = /dev/zero rejected at once (%s)", rr_last_error());
    /* A regular file over the 1 MiB limit: refused, and the limit is named. */
    size_t big = (1u << 20) + 1;
    char *blob = rr_malloc(big);
    memset(blob, '#', big);
    write_bytes("huge.conf", blob, big);
    free(blob);
    rc = load_bounded("inc_huge.conf", "include = huge.conf\n", "include of a 1 MiB file");
    CHECK(rc == -1 && strstr(rr_last_error(), "huge.conf: 1048577 bytes, larger than the 1 MiB limit for a config file"),
          "an include over 1 MiB rejected, the limit named (%s)", rr_last_error());
    /* A foreign file (here a shadow-style line) as include: file:line named, its content never shown. */
    write_tmp("shadow", "root:$y$j9T$SECRETSALT$SECRETHASH:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n");
    rc = load_bounded("inc_shadow.conf", "include = shadow\n", "include of a foreign file");
    snprintf(want, sizeof want, "%s/shadow:1: expected 'key = value'", dir);
    CHECK(rc == -1, "a foreign file as include rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), want, "... naming the foreign file and line");
    CHECK(!strstr(rr_last_error(), "SECRET") && !strstr(rr_last_error(), "root"),
          "... without echoing its content (%s)", rr_last_error());
    write_tmp("envfile", "export API_TOKEN=s3cr3t-value\n");
    rc = load_bounded("inc_env.conf", "include = envfile\n", "include of an env file");
    CHECK(rc == -1 && !strstr(rr_last_error(), "TOKEN") && !strstr(rr_last_error(), "s3cr3t") &&
              strstr(rr_last_error(), "envfile:1: expected 'key = value'"),
          "a shell line 'export K=V' is not a key: rejected without echo (%s)", rr_last_error());
    /* A checkpoint's embedded config (config_load_text) may not include anything: a resolved text
     * never has an include line (the old code read /dev/zero until memory ran out, and echoed a
     * foreign file's first line). */
    char ckpt[600];
    snprintf(ckpt, sizeof ckpt, "%s/last.safetensors", dir);
    Config c;
    config_defaults(&c);
    hang_guard("embedded config including /dev/zero", 10);
    rc = config_load_text(&c, "lr = 0.1\ninclude = /dev/zero\n", ckpt);
    hang_guard_off();
    snprintf(want, sizeof want, "%s:2: include: not allowed in a resolved configuration", ckpt);
    CHECK(rc == -1 && strstr(rr_last_error(), want), "an embedded config's include of /dev/zero rejected, nothing read (%s)",
          rr_last_error());
    config_defaults(&c);
    rc = config_load_text(&c, "include = shadow\n", ckpt);
    CHECK(rc == -1 && strstr(rr_last_error(), "include: not allowed") && !strstr(rr_last_error(), "SECRET"),
          "an embedded config's include of a foreign file: refused, nothing read or echoed (%s)", rr_last_error());

    /* A NUL byte: rejected with file:line (the text used to end there, later lines ignored). */
    static const char nul_text[] = "lr = 0.01\nbatch = 4\0\nbogus line\nlayers = x\n";
    const char *nul_path = write_bytes("nul.conf", nul_text, sizeof nul_text - 1);
    config_defaults(&c);
    rc = config_load_file(&c, nul_path);
    snprintf(want, sizeof want, "%s:2: contains a NUL byte", nul_path);
    CHECK(rc == -1, "a config with a NUL byte rejected");
    CHECK_ERR_CONTAINS(rr_last_error(), want, "... naming file:line of the NUL");

    /* Escape sequences in lines, keys and values: never raw in the message. */
    snprintf(text, sizeof text, "optimizer = \x1b]0;pwned\x07" "adam\xc2\x9b" "2J\n");
    rc = load_bounded("esc_value.conf", text, "escape in a value");
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && strstr(rr_last_error(), "optimizer: '\\x1b]0;pwned\\x07adam\\xc2\\x9b2J' is not one of"),
          "a value with escape sequences is printed escaped (%s)", rr_last_error());
    rc = load_bounded("esc_key.conf", "\x1b[2J\x1b[31m = 1\n", "escape in a key");
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && strstr(rr_last_error(), "esc_key.conf:1: expected 'key = value'"),
          "a key with escape sequences: rejected, nothing raw (%s)", rr_last_error());
    rc = load_bounded("esc_unknown.conf", "l\xc2\x9br = 1\n", "a C1 control in a key");
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && !strstr(rr_last_error(), "\xc2\x9b"),
          "a C1 control (CSI) in a key is not printed raw (%s)", rr_last_error());
    rc = load_bounded("esc_line.conf", "\x1b[2Jrm -rf\n", "escape in a line without '='");
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && !strstr(rr_last_error(), "rm -rf"),
          "a line without '=' is not echoed (%s)", rr_last_error());
    /* A missing include whose name has odd bytes: still reported as the includer's line (found by test_fuzz). */
    rc = load_bounded("inc_odd.conf", "lr = 0.1\ninclude = no\xc3\x1bsuch.conf\n", "an include name with odd bytes");
    CHECK(rc == -1 && error_is_clean(rr_last_error()) && strstr(rr_last_error(), "inc_odd.conf:2: include: ") &&
              strstr(rr_last_error(), "no\\xc3\\x1bsuch.conf: cannot open"),
          "a missing include with odd bytes in its name names the includer's line, escaped (%s)", rr_last_error());
    /* A long value is cut in the message (the message stays one short line). */
    char longv[800];
    memset(longv, 'z', sizeof longv);
    memcpy(longv, "batch = ", 8);
    longv[sizeof longv - 2] = '\n';
    longv[sizeof longv - 1] = 0;
    rc = load_bounded("long.conf", longv, "a long value");
    CHECK(rc == -1 && strstr(rr_last_error(), "...' is not an integer") && strlen(rr_last_error()) < 400,
          "a long bad value is shown cut, with '...' (%zu characters)", strlen(rr_last_error()));
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/rnnreg_test_config.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_defaults();
    test_files();
    test_errors();
    test_validate();
    test_text();
    test_experiment_configs();
    test_sampling();
    test_faults();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) printf("note: could not remove %s\n", dir);
    return tests_exit();
}

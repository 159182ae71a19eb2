/* test_fuzz.c — mutation fuzzing of the four readers of untrusted bytes: .npy (npy_load), safetensors
 * (st_load), run configs (config_load_file, includes resolving among copies of the experiment
 * configs) and JSON (json_parse). Each input is a deterministic mutation (tests/test_files.h,
 * fuzz_mutate) of a valid seed file: input k of a format depends only on (FUZZ_SEED, format, k), so
 * any failure is reproduced by its number. Every input runs under a time bound (alarm), in a child
 * process that is restarted after a crash, so crashes and hangs are counted, not fatal.
 * Checks per input: no crash (build with SANITIZE=1: ASan/UBSan turn a bad read into a crash), no
 * hang; a rejected input gives -1 and one error line free of control bytes that names the file; an
 * accepted one is read in full (every byte the header describes) and survives a round trip (npy_save
 * / st_save / config_to_text / json_quote give back the same values).
 * Usage: test_fuzz [N_PER_FORMAT [SEED [FORMAT...]]] (or FUZZ_N, FUZZ_SEED); default 300 inputs per
 * format inside `make test`; `make fuzz` runs 10000 under SANITIZE=1 (tests/fuzz.mk). Crashing or
 * hanging inputs are saved to $BUILD/tests/fuzz/<format>-<k>.crash; FUZZ_ONLY=k reruns input k alone,
 * in this process (a debugger or the sanitizer's stack trace then shows it). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "json.h"
#include "npy.h"
#include "safetensors.h"
#include "test.h"
#include "test_files.h"

#define FUZZ_TIMEOUT_S 10 /* per input; a correct reader takes well under a millisecond */
#define CHUNK 500         /* inputs per child process */

typedef struct {
    unsigned char *b;
    size_t n;
    size_t len_at; /* offset of a little-endian length field, or (size_t)-1 */
    int len_width;
} Seed;

typedef struct {
    const char *name;
    Seed seeds[16];
    int n_seeds;
    char path[800]; /* where each input is written (file formats) */
} Format;

/* Shared with the child processes. */
typedef struct {
    volatile long current;                 /* the input being run */
    volatile long loaded, rejected, bad_msg, bad_roundtrip;
    char first_bad[3][600];                /* the first few property failures */
    volatile int n_first;
} Shared;

static Shared *sh;
static uint64_t fuzz_seed = 1;
static char fuzz_dir[600]; /* $BUILD/tests/fuzz: inputs, round-trip files, saved crashes */

static void note_bad(const char *fmt, ...) RR_PRINTF(1, 2);
static void note_bad(const char *fmt, ...) {
    if (sh->n_first >= 3) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sh->first_bad[sh->n_first], sizeof sh->first_bad[0], fmt, ap);
    va_end(ap);
    sh->n_first++;
}

static void add_seed(Format *f, const void *b, size_t n, size_t len_at, int len_width) {
    if (f->n_seeds == 16 || !n) return;
    Seed *s = &f->seeds[f->n_seeds++];
    s->b = rr_malloc(n);
    memcpy(s->b, b, n);
    s->n = n;
    s->len_at = len_at;
    s->len_width = len_width;
}

static void add_seed_file(Format *f, const char *path, size_t len_at, int len_width) {
    char *b;
    size_t n;
    if (rr_read_file(path, &b, &n)) {
        printf("FAIL fuzz_%s: seed %s: %s\n", f->name, path, rr_last_error());
        tests_failed_count++;
        return;
    }
    add_seed(f, b, n, len_at, len_width);
    free(b);
}

/* Input k of format f into out (deterministic in fuzz_seed, f and k). */
static void make_input(const Format *f, int fi, long k, FuzzBuf *out) {
    FuzzRng r = {fuzz_seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)fi << 56) ^ (uint64_t)k * 0xD1B54A32D192ED03ull};
    fuzz_next(&r);
    const Seed *s = &f->seeds[fuzz_below(&r, (size_t)f->n_seeds)];
    const Seed *o = &f->seeds[fuzz_below(&r, (size_t)f->n_seeds)];
    size_t at = s->len_at;
    fuzz_mutate(&r, s->b, s->n, o->b, o->n, &at, at == (size_t)-1 ? 0 : 1, s->len_width, out);
}

static void write_input(const char *path, const FuzzBuf *in) { put_file(path, in->b, in->n); }

/* A rejected input: one clean line that names `path` (NULL: JSON, which has no file). */
static void check_message(const Format *f, long k, const char *path) {
    const char *m = rr_last_error();
    if (!*m || !error_is_clean(m) || (path && !strstr(m, path))) {
        sh->bad_msg++;
        note_bad("input %ld: error \"%s\"", k, rr_esc(m));
    }
    (void)f;
}

/* ---- the four readers ------------------------------------------------------------------------ */

static void run_npy(const Format *f, long k, const FuzzBuf *in) {
    write_input(f->path, in);
    NpyArray a;
    if (npy_load(f->path, &a)) {
        sh->rejected++;
        check_message(f, k, f->path);
        return;
    }
    sh->loaded++;
    volatile unsigned char sink = 0; /* read every byte the header describes: ASan sees a read outside */
    for (size_t i = 0; i < a.nbytes; i++) sink ^= ((const unsigned char *)a.data)[i];
    (void)sink;
    char rt[1100];
    snprintf(rt, sizeof rt, "%s.rt.npy", f->path);
    NpyArray b;
    int ok = npy_save(rt, a.dtype, a.ndim, a.shape, a.data) == 0 && npy_load(rt, &b) == 0;
    if (ok) {
        ok = b.dtype == a.dtype && b.ndim == a.ndim && b.nbytes == a.nbytes &&
             memcmp(b.shape, a.shape, (size_t)a.ndim * sizeof *a.shape) == 0 && memcmp(b.data, a.data, a.nbytes) == 0;
        npy_free(&b);
    }
    if (!ok) {
        sh->bad_roundtrip++;
        note_bad("input %ld: npy round trip differs (%s)", k, rr_last_error());
    }
    npy_free(&a);
}

static void run_safetensors(const Format *f, long k, const FuzzBuf *in) {
    write_input(f->path, in);
    StFile s;
    if (st_load(f->path, &s)) {
        sh->rejected++;
        check_message(f, k, f->path);
        return;
    }
    sh->loaded++;
    volatile float sink = 0;
    for (int i = 0; i < s.n; i++)
        for (int64_t j = 0; j < s.tensors[i].count; j++) sink += s.tensors[i].data[j];
    (void)sink;
    char rt[1100];
    snprintf(rt, sizeof rt, "%s.rt.safetensors", f->path);
    StFile t;
    int ok = st_save(rt, s.tensors, s.n, s.n_meta, (const char *const *)s.meta_keys, (const char *const *)s.meta_values) == 0 &&
             st_load(rt, &t) == 0;
    if (ok) {
        ok = t.n == s.n && t.n_meta == s.n_meta;
        for (int i = 0; ok && i < s.n; i++) {
            const StTensor *x = &s.tensors[i], *y = st_find(&t, x->name);
            ok = y && y->ndim == x->ndim && y->count == x->count &&
                 memcmp(y->shape, x->shape, (size_t)x->ndim * sizeof *x->shape) == 0 &&
                 memcmp(y->data, x->data, (size_t)x->count * sizeof(float)) == 0;
        }
        for (int i = 0; ok && i < s.n_meta; i++) {
            const char *v = st_meta(&t, s.meta_keys[i]);
            ok = v && strcmp(v, s.meta_values[i]) == 0;
        }
        st_free(&t);
    }
    if (!ok) {
        sh->bad_roundtrip++;
        note_bad("input %ld: safetensors round trip differs (%s)", k, rr_last_error());
    }
    st_free(&s);
}

static void run_config(const Format *f, long k, const FuzzBuf *in) {
    write_input(f->path, in);
    Config c;
    config_defaults(&c);
    if (config_load_file(&c, f->path)) {
        sh->rejected++;
        check_message(f, k, f->path);
        return;
    }
    sh->loaded++;
    (void)config_validate(&c);
    /* The resolved text reads back to the same configuration (and the same text). */
    char *text = config_to_text(&c);
    Config d;
    config_defaults(&d);
    int ok = config_load_text(&d, text, "resolved") == 0;
    if (ok) {
        char *again = config_to_text(&d);
        ok = strcmp(text, again) == 0;
        free(again);
    }
    if (!ok) {
        sh->bad_roundtrip++;
        note_bad("input %ld: config_to_text does not read back (%s)", k, rr_last_error());
    }
    free(text);
}

/* Every string of the tree quotes (json_quote) and parses back to itself. */
static int json_strings_round_trip(const JsonValue *v) {
    const char *strs[2] = {v->type == JSON_STRING ? v->string : NULL, NULL};
    for (int i = 0; i < 1; i++) {
        if (!strs[i]) continue;
        char *q = json_quote(strs[i]);
        JsonValue back;
        char err[200];
        int ok = q && json_parse(q, strlen(q), &back, err, sizeof err) == 0 && back.type == JSON_STRING &&
                 strcmp(back.string, strs[i]) == 0;
        if (q && ok) json_free(&back);
        free(q);
        if (!ok) return 0;
    }
    for (int i = 0; i < v->n; i++) {
        if (v->type == JSON_OBJECT) {
            JsonValue key = {.type = JSON_STRING, .string = v->keys[i]};
            if (!json_strings_round_trip(&key)) return 0;
        }
        if (!json_strings_round_trip(&v->items[i])) return 0;
    }
    return 1;
}

static void run_json(const Format *f, long k, const FuzzBuf *in) {
    (void)f;
    JsonValue v;
    char err[300];
    if (json_parse((const char *)in->b, in->n, &v, err, sizeof err)) {
        sh->rejected++;
        const char *at = strstr(err, " at byte ");
        long pos = at ? strtol(at + 9, NULL, 10) : -1;
        if (!at || pos < 0 || (size_t)pos > in->n || !error_is_clean(err)) {
            sh->bad_msg++;
            note_bad("input %ld: JSON error \"%s\" (input %zu bytes)", k, rr_esc(err), in->n);
        }
        return;
    }
    sh->loaded++;
    if (!json_strings_round_trip(&v)) {
        sh->bad_roundtrip++;
        note_bad("input %ld: a JSON string does not quote and parse back to itself", k);
    }
    json_free(&v);
}

typedef void (*Runner)(const Format *, long, const FuzzBuf *);

/* ---- the child/parent loop --------------------------------------------------------------------- */

static void on_alarm(int sig) {
    (void)sig;
    _exit(3); /* the parent reports the hang with the input's number */
}

static void run_format(Format *f, int fi, Runner run, long n) {
    TEST_BEGIN("test_fuzz");
    memset(sh, 0, sizeof *sh);
    if (getenv("FUZZ_ONLY")) {
        long k = atol(getenv("FUZZ_ONLY"));
        FuzzBuf in = {0};
        make_input(f, fi, k, &in);
        run(f, k, &in);
        printf("fuzz %s: input %ld alone: %s%s\n", f->name, k, sh->loaded ? "accepted" : "rejected: ",
               sh->loaded ? "" : rr_last_error());
        free(in.b);
        return;
    }
    long crashes = 0, hangs = 0, start = 0;
    double t0 = rr_now();
    char crashed[3][1400];
    int n_crashed = 0;
    while (start < n) {
        long end = start + CHUNK < n ? start + CHUNK : n;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGALRM, on_alarm);
            FuzzBuf in = {0};
            for (long k = start; k < end; k++) {
                sh->current = k;
                make_input(f, fi, k, &in);
                alarm(FUZZ_TIMEOUT_S);
                run(f, k, &in);
                alarm(0);
            }
            free(in.b);
            fflush(stdout);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            start = end;
            continue;
        }
        long k = sh->current;
        int hang = WIFEXITED(status) && WEXITSTATUS(status) == 3;
        if (hang) hangs++;
        else crashes++;
        /* Save the input for a rerun (tests/fuzz.mk says how). */
        FuzzBuf in = {0};
        make_input(f, fi, k, &in);
        char save[1200];
        snprintf(save, sizeof save, "%s/%s-%ld.crash", fuzz_dir, f->name, k);
        put_file(save, in.b, in.n);
        free(in.b);
        if (n_crashed < 3)
            snprintf(crashed[n_crashed++], sizeof crashed[0], "input %ld %s (%s %d), saved as %s", k,
                     hang ? "hung" : "crashed", WIFSIGNALED(status) ? "signal" : "exit",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), save);
        start = k + 1;
    }
    double secs = rr_now() - t0;
    CHECK(crashes == 0 && hangs == 0, "fuzz %s: %ld mutated inputs (seed %llu): %ld crashes, %ld hangs (bound %d s each), %.1f s",
          f->name, n, (unsigned long long)fuzz_seed, crashes, hangs, FUZZ_TIMEOUT_S, secs);
    for (int i = 0; i < n_crashed; i++) printf("    %s\n", crashed[i]);
    CHECK(sh->bad_msg == 0, "fuzz %s: the %ld rejected inputs each give one clean error line%s (%ld do not)", f->name,
          sh->rejected, strcmp(f->name, "json") ? " naming the file" : " with its byte position", sh->bad_msg);
    CHECK(sh->bad_roundtrip == 0, "fuzz %s: the %ld accepted inputs read in full and round-trip exactly (%ld do not)",
          f->name, sh->loaded, sh->bad_roundtrip);
    for (int i = 0; i < sh->n_first; i++) printf("    %s\n", sh->first_bad[i]);
    printf("fuzz %s: %ld inputs, %ld accepted, %ld rejected, %ld crashes, %ld hangs in %.1f s\n", f->name, n, sh->loaded,
           sh->rejected, crashes, hangs, secs);
}

/* ---- seeds ------------------------------------------------------------------------------------ */

static void copy_file(const char *from, const char *to) {
    char *b;
    size_t n;
    if (rr_read_file(from, &b, &n) == 0) {
        put_file(to, b, n);
        free(b);
    }
}

int main(int argc, char **argv) {
    TEST_BEGIN("test_fuzz");
    test_files_init();
    long n = argc > 1 ? atol(argv[1]) : getenv("FUZZ_N") ? atol(getenv("FUZZ_N")) : 300;
    fuzz_seed = argc > 2 ? strtoull(argv[2], NULL, 10) : getenv("FUZZ_SEED") ? strtoull(getenv("FUZZ_SEED"), NULL, 10) : 1;
    if (n < 1) n = 1;
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        printf("FAIL test_fuzz: mmap of the shared counters: %s\n", strerror(errno));
        return 1;
    }
    char *dir = fuzz_dir, cdir[700];
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/fuzz", test_dir);
    snprintf(cdir, sizeof cdir, "%s/configs", dir);
    rr_mkdir_p(cdir);

    static Format npy = {.name = "npy"}, st = {.name = "safetensors"}, cfg = {.name = "config"}, js = {.name = "json"};
    snprintf(npy.path, sizeof npy.path, "%s/input.npy", dir);
    snprintf(st.path, sizeof st.path, "%s/input.safetensors", dir);
    snprintf(cfg.path, sizeof cfg.path, "%s/input.conf", cdir);

    /* npy: numpy-written fixtures; the header length field is at byte 8 (2 bytes in 1.0, 4 in 2.0). */
    static const char *const npys[] = {"format_f32_2d_v1.npy", "format_u8_4d_v1.npy", "format_f32_1d_v2.npy",
                                       "format_u8_1d_v2.npy", "format_f32_scalar_v1.npy", "format_f32_empty_v1.npy",
                                       "format_f32_oddhdr.npy", "format_u8_py2long.npy"};
    for (size_t i = 0; i < sizeof npys / sizeof *npys; i++) {
        char p[300];
        snprintf(p, sizeof p, "tests/fixtures/%s", npys[i]);
        add_seed_file(&npy, p, 8, strstr(npys[i], "_v2") ? 4 : 2);
    }
    /* safetensors: the spec-written fixture, a small file of ours with metadata, a real checkpoint. */
    add_seed_file(&st, "tests/fixtures/format_st_ref.safetensors", 0, 8);
    {
        float a[6] = {1, -2, 3.5f, 0, 1e-3f, -7}, b[2] = {4, 5};
        StTensor ts[3] = {{.name = "w", .ndim = 2, .shape = {2, 3}, .data = a},
                          {.name = "b", .ndim = 1, .shape = {2}, .data = b},
                          {.name = "s", .ndim = 0, .data = b}};
        const char *mk[2] = {"format", "config"}, *mv[2] = {"rnnreg", "lr = 0.01\nlayers = 8\n"};
        char p[1100];
        snprintf(p, sizeof p, "%s/seed.safetensors", dir);
        if (st_save(p, ts, 3, 2, mk, mv) == 0) add_seed_file(&st, p, 0, 8);
    }
    add_seed_file(&st, "tests/fixtures/reg_cl_recseq.safetensors", 0, 8);
    /* config: the experiment configs (copied next to the input, so their includes resolve) and the
     * resolved text of the defaults. */
    static const char *const confs[] = {"convlstm.conf", "convlstm_tiny.conf", "convlstm_quick.conf",
                                        "predrnn_pp.conf", "predrnn_pp_tiny.conf"};
    for (size_t i = 0; i < sizeof confs / sizeof *confs; i++) {
        char from[300], to[1300];
        snprintf(from, sizeof from, "experiments/configs/%s", confs[i]);
        snprintf(to, sizeof to, "%s/%s", cdir, confs[i]);
        copy_file(from, to);
        add_seed_file(&cfg, from, (size_t)-1, 0);
    }
    {
        Config c;
        config_defaults(&c);
        char *t = config_to_text(&c);
        add_seed(&cfg, t, strlen(t), (size_t)-1, 0);
        free(t);
    }
    /* JSON: the safetensors headers and a few hand-written documents (escapes, numbers, nesting). */
    for (int i = 0; i < st.n_seeds && i < 2; i++) {
        const Seed *s = &st.seeds[i];
        uint64_t h = 0;
        for (int j = 7; j >= 0; j--) h = h << 8 | s->b[j];
        if (h <= s->n - 8) add_seed(&js, s->b + 8, (size_t)h, (size_t)-1, 0);
    }
    static const char *const docs[] = {
        "{\"a\": [1, -2.5e10, 0.0, -0, 1E+2, true, false, null], \"b\": {\"c\": {}, \"d\": []}}",
        "[\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\", \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", \"\"]",
        "{\"n\": 9223372036854775807, \"m\": -9223372036854775808, \"big\": 1.8446744073709551616e19, \"f\": 1.7976931348623157e308}",
        "[[[[[[[[[[[[[[[[[[[[{\"deep\": [[[[[[[[1]]]]]]]]}]]]]]]]]]]]]]]]]]]]]",
        "{\"__metadata__\": {\"format\": \"pt\"}, \"x\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 24]}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) add_seed(&js, docs[i], strlen(docs[i]), (size_t)-1, 0);

    /* Every seed itself is valid (else the mutations start from nothing). */
    for (int i = 0; i < js.n_seeds; i++) {
        JsonValue v;
        char err[200];
        if (json_parse((const char *)js.seeds[i].b, js.seeds[i].n, &v, err, sizeof err) == 0) json_free(&v);
        else CHECK(0, "fuzz json: seed %d parses (%s)", i, err);
    }

    Format *formats[4] = {&npy, &st, &cfg, &js};
    Runner runners[4] = {run_npy, run_safetensors, run_config, run_json};
    double t0 = rr_now();
    long total = 0;
    for (int i = 0; i < 4; i++) {
        int wanted = argc <= 3;
        for (int a = 3; a < argc; a++) wanted |= !strcmp(argv[a], formats[i]->name);
        if (!wanted) continue;
        if (formats[i]->n_seeds == 0) {
            CHECK(0, "fuzz %s: no seed files", formats[i]->name);
            continue;
        }
        run_format(formats[i], i, runners[i], n);
        total += n;
    }
    printf("fuzz: %ld inputs in all, %.1f s\n", total, rr_now() - t0);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < formats[i]->n_seeds; j++) free(formats[i]->seeds[j].b);
    munmap(sh, sizeof *sh);
    return tests_exit();
}

/* fuzz_cov.c — coverage-guided fuzzing (clang's libFuzzer, with ASan + UBSan) of the four readers of
 * untrusted bytes, the companion of the deterministic mutator in tests/test_fuzz.c: the environment
 * variable FUZZ_FORMAT picks npy | safetensors | config | json. Built and run by `make fuzz-cov`
 * (tests/fuzz.mk). A property violation aborts, so libFuzzer reports it like a crash and saves the
 * input: a rejected input must give -1 and one error line free of control bytes that names the file
 * (JSON: "... at byte K" with K within the input); an accepted .npy / safetensors input is read in
 * full (every byte its header describes); an accepted config's resolved text must read back to
 * itself. File formats are written to $FUZZ_DIR/input.<ext> (includes of a config resolve next to
 * it, where the make target copies the experiment configs). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "json.h"
#include "npy.h"
#include "safetensors.h"

static enum { F_NPY, F_ST, F_CONFIG, F_JSON } format;
static char path[1024];

static void put(const uint8_t *d, size_t n) {
    unlink(path);
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    if (n && fwrite(d, 1, n, fp) != n) abort();
    fclose(fp);
}

/* A rejected input's error: one line, no control byte, naming the file. */
static void check_error(void) {
    const char *m = rr_last_error();
    if (!*m || !strstr(m, path)) abort();
    for (const unsigned char *p = (const unsigned char *)m; *p; p++)
        if (*p < 0x20 || *p == 0x7f) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *f = getenv("FUZZ_FORMAT"), *dir = getenv("FUZZ_DIR");
    if (!f || !dir) {
        fprintf(stderr, "fuzz_cov: set FUZZ_FORMAT=npy|safetensors|config|json and FUZZ_DIR\n");
        exit(2);
    }
    format = !strcmp(f, "npy") ? F_NPY : !strcmp(f, "safetensors") ? F_ST : !strcmp(f, "config") ? F_CONFIG : F_JSON;
    snprintf(path, sizeof path, "%s/input.%s", dir, format == F_NPY ? "npy" : format == F_ST ? "safetensors" : "conf");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    volatile unsigned char sink = 0;
    switch (format) {
    case F_NPY: {
        put(d, n);
        NpyArray a;
        if (npy_load(path, &a)) {
            check_error();
            break;
        }
        for (size_t i = 0; i < a.nbytes; i++) sink ^= ((const unsigned char *)a.data)[i];
        npy_free(&a);
        break;
    }
    case F_ST: {
        put(d, n);
        StFile f;
        if (st_load(path, &f)) {
            check_error();
            break;
        }
        for (int i = 0; i < f.n; i++)
            for (int64_t j = 0; j < f.tensors[i].count * 4; j++) sink ^= ((const unsigned char *)f.tensors[i].data)[j];
        st_free(&f);
        break;
    }
    case F_CONFIG: {
        put(d, n);
        Config c, e;
        config_defaults(&c);
        if (config_load_file(&c, path)) {
            check_error();
            break;
        }
        char *text = config_to_text(&c);
        config_defaults(&e);
        if (config_load_text(&e, text, "resolved")) abort();
        char *again = config_to_text(&e);
        if (strcmp(text, again)) abort();
        free(text);
        free(again);
        break;
    }
    case F_JSON: {
        JsonValue v;
        char err[300];
        if (json_parse((const char *)d, n, &v, err, sizeof err) == 0) {
            json_free(&v);
            break;
        }
        const char *at = strstr(err, " at byte ");
        if (!at || (size_t)strtoull(at + 9, NULL, 10) > n) abort();
        break;
    }
    }
    (void)sink;
    return 0;
}

/* test_files.h — scratch-file helpers shared by the file-format tests (test_npy.c, test_safetensors.c,
 * test_config.c, test_fuzz.c): names under $BUILD/tests, plain writes of raw bytes, leftover temp files
 * of failed atomic writes, a time bound for calls that could block (a FIFO), untrusted-text checks on
 * error messages, the truncation/byte-flip fuzz driver and the random mutator of test_fuzz.c.
 * Header-only (static functions) like test.h. */
#ifndef RR_TEST_FILES_H
#define RR_TEST_FILES_H

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "test.h"

static char test_dir[512];

/* test_dir = $BUILD/tests (created); the directory every scratch file of a format test lives in. */
static inline void test_files_init(void) {
    const char *build = getenv("BUILD");
    snprintf(test_dir, sizeof test_dir, "%s/tests", build && *build ? build : "build");
    rr_mkdir_p(test_dir);
}

/* test_dir/name, in one of 8 rotating buffers (so a few can be alive at once). */
static inline const char *tmp(const char *name) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 1024, "%s/%s", test_dir, name);
    return p;
}

/* Plain write of n raw bytes (no fsync: the fuzz loops write thousands of files). */
static inline void put_file(const char *path, const void *data, size_t n) {
    unlink(path); /* a new file, not a truncated one (ext4 flushes those on close: slow fuzz loops) */
    FILE *fp = fopen(path, "wb");
    if (!fp) return;
    if (n) fwrite(data, 1, n, fp);
    fclose(fp);
}

/* How many temp files of an atomic write (<prefix>*.tmp.*) are left in dir. */
static inline int count_tmp_leftovers(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

/* ---- time bound ------------------------------------------------------------------------------
 * hang_guard(what, s): if the calls until hang_guard_off() take more than s seconds (a read that
 * blocks on a FIFO, a loop that never ends), print one FAIL line naming `what` and exit 1. */
static const char *volatile hang_what = "";

static void hang_alarm(int sig) {
    (void)sig;
    char line[512];
    int n = snprintf(line, sizeof line, "FAIL %s: %s: still running after the time bound (blocked or hung)\n",
                     tests_name, hang_what);
    if (n > 0) (void)!write(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    _exit(1);
}

static inline void hang_guard(const char *what, unsigned seconds) {
    hang_what = what;
    signal(SIGALRM, hang_alarm);
    alarm(seconds);
}

static inline void hang_guard_off(void) { alarm(0); }

/* An error line safe for a terminal: one line, no byte below 0x20 or 0x7f (an ESC would start a
 * terminal escape sequence). */
static inline int error_is_clean(const char *msg) {
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

/* Result of one fuzzed load: the reader failed (-1), or loaded and touched only bytes inside a file of
 * file_size bytes (0), or loaded and described more bytes than the file has (1). */
typedef int (*FuzzLoad)(const char *path, size_t file_size);

/* Fuzz a reader with the n bytes b (a valid file): every truncation must fail, and every single-byte
 * change to one of vals must either fail or load in bounds; a failure's one-line message must name the
 * file. Scratch file: path. */
static inline void fuzz_file(const char *label, char *b, size_t n, const char *path, const unsigned char *vals,
                      size_t nvals, FuzzLoad load) {
    int cut_ok = 1, flip_ok = 1, flips = 0, loaded = 0;
    for (size_t len = 0; len < n; len++) {
        put_file(path, b, len);
        if (load(path, len) != -1 || !strstr(rr_last_error(), path)) {
            if (cut_ok) printf("    cut at %zu: \"%s\"\n", len, rr_last_error());
            cut_ok = 0;
        }
    }
    CHECK(cut_ok, "fuzz %s: all %zu truncations give -1 and an error naming the file", label, n);
    for (size_t pos = 0; pos < n; pos++) {
        for (size_t v = 0; v < nvals; v++) {
            char keep = b[pos];
            b[pos] = (char)vals[v];
            put_file(path, b, n);
            b[pos] = keep;
            flips++;
            int rc = load(path, n);
            if (rc >= 0) loaded++;
            if (rc == 1 || (rc == -1 && (!strstr(rr_last_error(), path) || strchr(rr_last_error(), '\n'))))
                flip_ok = 0;
        }
    }
    CHECK(flip_ok, "fuzz %s: %d single-byte changes load in bounds or fail naming the file (%d still load)", label,
          flips, loaded);
}

/* ---- mutator (test_fuzz.c) -------------------------------------------------------------------
 * Deterministic: a splitmix64 stream from the seed picks 1 to 4 stacked mutations of a valid input
 * (bit flips, interesting bytes, interesting numbers written over a run of digits, little-endian
 * length fields at the given offsets set to boundary values, truncation, insertion, deletion,
 * duplication of a chunk, a splice from another seed). */
typedef struct {
    uint64_t s;
} FuzzRng;

static inline uint64_t fuzz_next(FuzzRng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline size_t fuzz_below(FuzzRng *r, size_t n) { return n ? (size_t)(fuzz_next(r) % n) : 0; }

typedef struct {
    unsigned char *b;
    size_t n, cap;
} FuzzBuf;

static inline void fuzz_reserve(FuzzBuf *f, size_t n) {
    if (n <= f->cap) return;
    f->cap = n * 2 + 64;
    f->b = rr_realloc(f->b, f->cap);
}

static inline void fuzz_insert(FuzzBuf *f, size_t at, const void *src, size_t n) {
    fuzz_reserve(f, f->n + n);
    memmove(f->b + at + n, f->b + at, f->n - at);
    memcpy(f->b + at, src, n);
    f->n += n;
}

static inline void fuzz_erase(FuzzBuf *f, size_t at, size_t n) {
    memmove(f->b + at, f->b + at + n, f->n - at - n);
    f->n -= n;
}

/* One mutated copy of seed (n bytes) into out; other: a second seed for splices; len_at[0..nlen): byte
 * offsets of little-endian length fields of len_width bytes (npy header length, safetensors N). */
static inline void fuzz_mutate(FuzzRng *r, const unsigned char *seed, size_t n, const unsigned char *other, size_t on,
                        const size_t *len_at, int nlen, int len_width, FuzzBuf *out) {
    static const unsigned char bytes[] = {0, 1, 0x7f, 0x80, 0xff, 0x1b, 0x07, '\n', '\r', '\t', ' ', '#', '=',
                                          ',', ':', '\'', '"', '\\', '(', ')', '[', ']', '{', '}', '-', '+',
                                          '.', 'e', 'L', '0', '9', 0xc3, 0xa9, 0xed, 0xf4, 0xc2, 0x9b};
    static const char *const numbers[] = {"0", "-1", "1", "-0", "255", "256", "65535", "65536", "2147483647",
                                          "2147483648", "-2147483648", "4294967296", "9223372036854775807",
                                          "9223372036854775808", "18446744073709551615", "99999999999999999999",
                                          "1e308", "1e999", "nan", "inf", "0.5", "00", "1e-320"};
    static const uint64_t lens[] = {0, 1, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0xffffffff,
                                    100000000, 100000001, 0xffffffffffffffffull, 0x8000000000000000ull};
    out->n = 0;
    fuzz_reserve(out, n + 64);
    memcpy(out->b, seed, n);
    out->n = n;
    int k = 1 + (int)fuzz_below(r, 4);
    for (int m = 0; m < k; m++) {
        size_t pos = fuzz_below(r, out->n + 1);
        switch (fuzz_below(r, 10)) {
        case 0: /* bit flip */
            if (out->n) out->b[fuzz_below(r, out->n)] ^= (unsigned char)(1u << fuzz_below(r, 8));
            break;
        case 1: /* interesting byte */
        case 2:
            if (out->n) out->b[fuzz_below(r, out->n)] = bytes[fuzz_below(r, sizeof bytes)];
            break;
        case 3: { /* an interesting number over the digit run at or after pos */
            size_t a = pos;
            while (a < out->n && !(out->b[a] >= '0' && out->b[a] <= '9')) a++;
            if (a >= out->n) break;
            size_t e = a;
            while (e < out->n && out->b[e] >= '0' && out->b[e] <= '9') e++;
            const char *num = numbers[fuzz_below(r, sizeof numbers / sizeof *numbers)];
            fuzz_erase(out, a, e - a);
            fuzz_insert(out, a, num, strlen(num));
            break;
        }
        case 4: /* a length field */
            if (nlen) {
                size_t at = len_at[fuzz_below(r, (size_t)nlen)];
                uint64_t v = fuzz_below(r, 3) ? lens[fuzz_below(r, sizeof lens / sizeof *lens)] : fuzz_next(r);
                if (fuzz_below(r, 2)) v += fuzz_below(r, 3) - 1; /* off by one either way */
                for (int i = 0; i < len_width && at + (size_t)i < out->n; i++) out->b[at + (size_t)i] = (unsigned char)(v >> (8 * i));
            }
            break;
        case 5: /* truncate */
            out->n = pos;
            break;
        case 6: { /* insert 1..8 random or interesting bytes */
            unsigned char ins[8];
            size_t c = 1 + fuzz_below(r, 8);
            for (size_t i = 0; i < c; i++)
                ins[i] = fuzz_below(r, 2) ? (unsigned char)fuzz_next(r) : bytes[fuzz_below(r, sizeof bytes)];
            fuzz_insert(out, pos, ins, c);
            break;
        }
        case 7: /* delete a chunk */
            if (pos < out->n) fuzz_erase(out, pos, 1 + fuzz_below(r, out->n - pos < 32 ? out->n - pos : 32));
            break;
        case 8: /* duplicate a chunk of itself somewhere else */
            if (out->n) {
                size_t a = fuzz_below(r, out->n), c = 1 + fuzz_below(r, out->n - a < 64 ? out->n - a : 64);
                unsigned char *tmpc = rr_malloc(c);
                memcpy(tmpc, out->b + a, c);
                fuzz_insert(out, fuzz_below(r, out->n + 1), tmpc, c);
                free(tmpc);
            }
            break;
        default: /* splice: our head, the other seed's tail */
            if (other && on) {
                size_t a = fuzz_below(r, on);
                out->n = pos;
                fuzz_insert(out, pos, other + a, on - a);
            }
            break;
        }
    }
}

#endif

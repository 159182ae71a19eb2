/* test_files.h — scratch-file helpers shared by the file-format tests (test_npy.c, test_safetensors.c):
 * names under $BUILD/tests, plain writes of raw bytes, leftover temp files of failed atomic writes, and
 * the truncation/byte-flip fuzz driver. Header-only (static functions) like test.h. */
#ifndef RR_TEST_FILES_H
#define RR_TEST_FILES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "test.h"

static char test_dir[512];

/* test_dir = $BUILD/tests (created); the directory every scratch file of a format test lives in. */
static void test_files_init(void) {
    const char *build = getenv("BUILD");
    snprintf(test_dir, sizeof test_dir, "%s/tests", build && *build ? build : "build");
    rr_mkdir_p(test_dir);
}

/* test_dir/name, in one of 8 rotating buffers (so a few can be alive at once). */
static const char *tmp(const char *name) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 1024, "%s/%s", test_dir, name);
    return p;
}

/* Plain write of n raw bytes (no fsync: the fuzz loops write thousands of files). */
static void put_file(const char *path, const void *data, size_t n) {
    unlink(path); /* a new file, not a truncated one (ext4 flushes those on close: slow fuzz loops) */
    FILE *fp = fopen(path, "wb");
    if (!fp) return;
    if (n) fwrite(data, 1, n, fp);
    fclose(fp);
}

/* How many temp files of an atomic write (<prefix>*.tmp.*) are left in dir. */
static int count_tmp_leftovers(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

/* Result of one fuzzed load: the reader failed (-1), or loaded and touched only bytes inside a file of
 * file_size bytes (0), or loaded and described more bytes than the file has (1). */
typedef int (*FuzzLoad)(const char *path, size_t file_size);

/* Fuzz a reader with the n bytes b (a valid file): every truncation must fail, and every single-byte
 * change to one of vals must either fail or load in bounds; a failure's one-line message must name the
 * file. Scratch file: path. */
static void fuzz_file(const char *label, char *b, size_t n, const char *path, const unsigned char *vals,
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

#endif

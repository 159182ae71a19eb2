/* common.c — error buffer, checked allocation, atomic temp-file-and-rename output, small file helpers. */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char last_error[1024];

int rr_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

const char *rr_last_error(void) { return last_error; }

void rr_die(const char *fmt, ...) {
    va_list ap;
    fputs("rnnreg: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void rr_die_last(void) { rr_die("%s", last_error[0] ? last_error : "unknown error"); }

void *rr_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) rr_die("out of memory allocating %zu bytes", n);
    return p;
}

void *rr_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) rr_die("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *rr_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) rr_die("out of memory reallocating %zu bytes", n);
    return q;
}

char *rr_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = rr_malloc(n);
    memcpy(d, s, n);
    return d;
}

void *rr_aligned_alloc(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64)) rr_die("out of memory allocating %zu aligned bytes", n);
    return p;
}

int rr_atomic_open(RRAtomicFile *af, const char *path) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path) + 32;
    af->path = rr_strdup(path);
    af->tmp_path = rr_malloc(n);
    snprintf(af->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp) {
        int e = errno;
        free(af->path);
        free(af->tmp_path);
        af->path = af->tmp_path = NULL;
        return rr_error("%s: cannot create: %s", path, strerror(e));
    }
    return 0;
}

void rr_atomic_abort(RRAtomicFile *af) {
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
}

int rr_atomic_commit(RRAtomicFile *af) {
    int bad = ferror(af->fp) || fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0;
    int e = errno;
    if (fclose(af->fp) != 0) bad = 1;
    af->fp = NULL;
    if (bad) {
        rr_error("%s: write failed: %s", af->path, strerror(e));
        rr_atomic_abort(af);
        return -1;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        e = errno;
        rr_error("%s: cannot rename temp file into place: %s", af->path, strerror(e));
        rr_atomic_abort(af);
        return -1;
    }
    free(af->path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
    return 0;
}

int rr_write_file_atomic(const char *path, const void *data, size_t n) {
    RRAtomicFile af;
    if (rr_atomic_open(&af, path)) return -1;
    if (n && fwrite(data, 1, n, af.fp) != n) {
        rr_atomic_abort(&af);
        return rr_error("%s: short write", path);
    }
    return rr_atomic_commit(&af);
}

int rr_read_file(const char *path, char **data, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return rr_error("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = rr_malloc(cap);
    for (;;) {
        if (len + 1 >= cap) buf = rr_realloc(buf, cap *= 2);
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        return rr_error("%s: read error", path);
    }
    buf[len] = 0;
    *data = buf;
    if (n) *n = len;
    return 0;
}

int rr_mkdir_p(const char *path) {
    char *p = rr_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            rr_error("%s: cannot create directory: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        rr_error("%s: cannot create directory: %s", p, strerror(errno));
        free(p);
        return -1;
    }
    free(p);
    return 0;
}

double rr_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

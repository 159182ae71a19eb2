/* common.h — error reporting, checked allocation and atomic (temp + rename) file output shared by
 * every part of rnnreg.
 *
 * Error convention: library functions return 0 on success and -1 on failure after calling
 * rr_error("...") with one line that names the file/key and the problem. The message is kept in a
 * thread-local buffer (rr_last_error()). Command-line front ends print it as "rnnreg: <msg>" and exit
 * non-zero (rr_die). Nothing in the library calls exit() except the *_or_die helpers. */
#ifndef RNNREG_COMMON_H
#define RNNREG_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define RR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define RR_NORETURN __attribute__((noreturn))
#else
#define RR_PRINTF(a, b)
#define RR_NORETURN
#endif

/* Record one error line (printf-style, no trailing newline). Always returns -1. */
int rr_error(const char *fmt, ...) RR_PRINTF(1, 2);
/* The last recorded error line of this thread ("" if none). */
const char *rr_last_error(void);
/* Print "rnnreg: <fmt>" to stderr and exit(1). */
void rr_die(const char *fmt, ...) RR_PRINTF(1, 2) RR_NORETURN;
/* Print "rnnreg: <last error>" and exit(1). */
void rr_die_last(void) RR_NORETURN;

/* Allocation that dies with a clear message on failure. */
void *rr_malloc(size_t n);
void *rr_calloc(size_t count, size_t size);
void *rr_realloc(void *p, size_t n);
char *rr_strdup(const char *s);
/* 64-byte aligned allocation (free with free()). */
void *rr_aligned_alloc(size_t n);

/* Atomic output: write to "<path>.tmp.<pid>" and rename onto path only when complete.
 *   RRAtomicFile af; if (rr_atomic_open(&af, path)) return -1;
 *   fwrite(..., af.fp); ...; if (rr_atomic_commit(&af)) return -1;   // or rr_atomic_abort(&af)
 * commit flushes, fsyncs, closes and renames; on any write error it removes the temp file and
 * records an error naming path. */
typedef struct {
    FILE *fp;
    char *path;
    char *tmp_path;
} RRAtomicFile;
int rr_atomic_open(RRAtomicFile *af, const char *path);
int rr_atomic_commit(RRAtomicFile *af);
void rr_atomic_abort(RRAtomicFile *af);
/* Write a whole buffer atomically. */
int rr_write_file_atomic(const char *path, const void *data, size_t n);
/* Read a whole file into a malloc'd, NUL-terminated buffer (size without the NUL in *n). */
int rr_read_file(const char *path, char **data, size_t *n);

/* Make a directory and its parents (like mkdir -p). */
int rr_mkdir_p(const char *path);
/* Monotonic wall clock in seconds. */
double rr_now(void);

#endif

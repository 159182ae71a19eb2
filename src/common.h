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

/* Untrusted text (file header keys, config lines, names read from a file) made safe to print: bytes
 * 0x20..0x7e and valid UTF-8 other than C1 controls are kept, a backslash and every other byte is
 * written \xNN, and text beyond max_chars input bytes is cut with "...". Writes at most cap bytes
 * (NUL included) into out and returns out. rr_esc: the same for a NUL-terminated string with
 * max_chars 64, in one of 8 rotating thread-local buffers (for several in one message). */
char *rr_escape(const char *s, size_t n, size_t max_chars, char *out, size_t cap);
const char *rr_esc(const char *s);

/* Atomic output: write to a new temp file "<path>.tmp.<pid>.<random>.<host>" (created with O_EXCL|O_NOFOLLOW
 * in path's directory, so a planted file or symlink is never written through; mode 0666 less the
 * umask, as fopen) and rename onto path only when complete.
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
/* Remove the temp files of atomic writes onto dir/names[i] that a killed process left behind:
 * "<name>.tmp.<pid>", "<name>.tmp.<pid>.<hex>" or "<name>.tmp.<pid>.<hex>.<host>" of this host whose
 * <pid> is not a live process. A temp of a live process (another run writing now) or of another
 * machine (a shared file system) is never touched. Returns how many were removed. */
int rr_remove_stale_temps(const char *dir, const char *const *names, int n);

/* Open path for reading without ever blocking: a FIFO, device, socket or directory is refused with
 * "<path>: not a regular file" (checked before the open and again on the open descriptor), a file of
 * more than max_size bytes (0 = no limit) with "<path>: N bytes, larger than the <limit> limit for
 * <what>". On success *fd is a blocking descriptor and *size the file's size. */
int rr_open_regular(const char *path, size_t max_size, const char *what, int *fd, size_t *size);
/* Read a whole regular file (rr_open_regular) into a malloc'd, NUL-terminated buffer (size without
 * the NUL in *n). rr_read_file_max refuses files over max_size bytes (what: the kind of file, for the
 * message); rr_read_file has no size limit. */
int rr_read_file(const char *path, char **data, size_t *n);
int rr_read_file_max(const char *path, size_t max_size, const char *what, char **data, size_t *n);

/* Make a directory and its parents (like mkdir -p). */
int rr_mkdir_p(const char *path);
/* Monotonic wall clock in seconds. */
double rr_now(void);

#endif

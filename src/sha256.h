/* sha256.h — SHA-256 (FIPS 180-4, computed by nettle) of memory and of files, and a cached file hash for the training
 * data (a run records the sha256 of its data file and refuses to resume on other content).
 *
 * Cache: hashing the 819 MB Moving MNIST file costs seconds (sha256_file_cached's comment has the
 * measured figure), so the hash of FILE is kept in the sidecar "FILE.sha256", one line
 *   rnnreg-sha256-1 <size> <mtime_ns> <ctime_ns> <dev> <inode> <64 hex digits>
 * and trusted only while FILE's stat still matches all of size, mtime, ctime, device and inode
 * (ctime cannot be set back by a user, so rewriting the file in place invalidates the entry even when
 * its mtime is forged). The sidecar is written atomically (temp + rename); a sidecar that cannot be
 * written (read-only directory) is skipped silently — the hash is then computed every time. */
#ifndef RNNREG_SHA256_H
#define RNNREG_SHA256_H

#include <nettle/sha2.h>
#include <stddef.h>
#include <stdint.h>

/* SHA-256 of a stream of bytes, computed by nettle (Debian nettle-dev). */
typedef struct {
    struct sha256_ctx ctx;
} Sha256;

void sha256_begin(Sha256 *s);
void sha256_add(Sha256 *s, const void *data, size_t n);
/* 32-byte digest; hex (65 bytes with the NUL) when hex is non-NULL. */
void sha256_end(Sha256 *s, unsigned char digest[32], char *hex);

/* The sha256 of a regular file's content as 64 lowercase hex digits (out[65]). Errors name the path. */
int sha256_file(const char *path, char out[65]);
/* The same through the sidecar cache described above; *cached (may be NULL) tells whether the
 * sidecar answered. */
int sha256_file_cached(const char *path, char out[65], int *cached);

#endif

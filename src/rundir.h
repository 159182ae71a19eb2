/* rundir.h — who owns a run directory, and what a run directory holds.
 *
 * Lock: a run (`rnnreg train --out DIR`, and `eval` / `predict` writing into DIR) holds an exclusive
 * flock(2) on DIR/.lock for as long as it works there; the file holds the owner's pid (text) for the
 * message the next one gets. The descriptor is O_CLOEXEC, so nothing the process starts inherits
 * the lock, and the kernel drops it when the process ends however it ends (kill -9 included), so
 * there are no stale locks to clean up. The file itself stays (removing it would let a third process
 * lock a new file while the second still holds the old one). `flock DIR/.lock CMD` (util-linux)
 * takes the same lock.
 *
 * Trainer outputs: config, log.jsonl, last.safetensors, best.safetensors, metrics.json,
 * predictions.npy, truth.npy (run.h). Other files (the pipeline's run.conf, inputs.sha256,
 * train.log, done.json) are not the trainer's and are left alone. */
#ifndef RNNREG_RUNDIR_H
#define RNNREG_RUNDIR_H

#include <stddef.h>

#define RUNDIR_LOCK ".lock"

/* Lock dir (which must exist). wait = 0: when another process holds it, fail with one line naming
 * the directory and, when known, the holder's pid; wait = 1: say so on stderr once and block until
 * it is free. Returns the descriptor to keep (>= 0; rundir_unlock releases) or -1 (rr_error). */
int rundir_lock(const char *dir, int wait);
void rundir_unlock(int fd);

/* For a command writing the file `path`: when its directory is a run directory (it holds .lock or
 * last.safetensors), lock it as rundir_lock does (no waiting). Returns the descriptor, -2 when the
 * directory is not a run directory (nothing to lock), or -1 (rr_error). */
int rundir_lock_for_output(const char *path);

/* The trainer outputs present in dir other than last.safetensors, as a comma-separated list in
 * buf ("" when none). Returns how many. */
int rundir_other_outputs(const char *dir, char *buf, size_t n);

#endif

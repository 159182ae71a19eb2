/* rundir.c — the run-directory lock (flock on DIR/.lock) and the list of trainer outputs (rundir.h). */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = rr_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The pid recorded in an open lock file, or 0. */
static long holder_pid(int fd) {
    char buf[32];
    ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
    if (got <= 0) return 0;
    buf[got] = 0;
    char *end;
    long pid = strtol(buf, &end, 10);
    return end != buf && (*end == '\n' || !*end) && pid > 0 ? pid : 0;
}

static void holder_text(int fd, char *buf, size_t n) {
    long pid = holder_pid(fd);
    if (pid) snprintf(buf, n, " (pid %ld)", pid);
    else buf[0] = 0;
}

/* wait < 0: never wait, and the message does not offer --wait (eval, predict) */
static int lock_dir(const char *dir, int wait) {
    char *path = join(dir, RUNDIR_LOCK);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
        rr_error("%s: cannot open the run directory's lock file: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        rr_error("%s: the run directory's lock file is not a regular file", path);
        close(fd);
        free(path);
        return -1;
    }
    while (flock(fd, LOCK_EX | LOCK_NB)) {
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) {
            rr_error("%s: cannot lock: %s", path, strerror(errno));
            close(fd);
            free(path);
            return -1;
        }
        char who[48];
        holder_text(fd, who, sizeof who);
        if (wait <= 0) {
            rr_error("%s: in use by another rnnreg process%s holding %s: wait for it to finish%s, or choose "
                     "another directory", dir, who, path, wait == 0 ? " (or pass --wait)" : "");
            close(fd);
            free(path);
            return -1;
        }
        fprintf(stderr, "%s: in use by another rnnreg process%s; waiting for it to finish\n", dir, who);
        int rc;
        while ((rc = flock(fd, LOCK_EX)) && errno == EINTR) {}
        if (rc) {
            rr_error("%s: cannot lock: %s", path, strerror(errno));
            close(fd);
            free(path);
            return -1;
        }
        break;
    }
    /* ours now: record the pid for whoever comes next */
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)len, 0) != len) {
        /* the lock holds without the pid; only the message of a second process loses it */
    }
    free(path);
    return fd;
}

int rundir_lock(const char *dir, int wait) { return lock_dir(dir, wait ? 1 : 0); }

void rundir_unlock(int fd) {
    if (fd >= 0) close(fd); /* closing the only descriptor releases the flock */
}

int rundir_lock_for_output(const char *path) {
    char *copy = rr_strdup(path);
    char *dir = rr_strdup(dirname(copy));
    free(copy);
    char *lock = join(dir, RUNDIR_LOCK), *last = join(dir, "last.safetensors");
    struct stat sb;
    const int is_run = !lstat(lock, &sb) || !stat(last, &sb);
    free(lock);
    free(last);
    int fd = is_run ? lock_dir(dir, -1) : -2;
    free(dir);
    return fd;
}

int rundir_other_outputs(const char *dir, char *buf, size_t n) {
    static const char *const outputs[] = {"config", "log.jsonl", "best.safetensors", "metrics.json", "predictions.npy",
                                          "truth.npy"};
    int count = 0;
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
        char *p = join(dir, outputs[i]);
        struct stat sb;
        if (!lstat(p, &sb)) {
            if (used < n) used += (size_t)snprintf(buf + used, n - used, "%s%s", count ? ", " : "", outputs[i]);
            count++;
        }
        free(p);
    }
    return count;
}

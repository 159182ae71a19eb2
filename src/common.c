/* common.c — error buffer, checked allocation, escaping of untrusted text, atomic temp-file-and-rename
 * output, stale-temp cleanup and non-blocking regular-file reading. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char last_error[1024];

/* ---- escaping ------------------------------------------------------------------------------ */

/* Length of a valid UTF-8 sequence at s[0..avail) that is safe to print (not a C1 control
 * U+0080..U+009F, which some terminals obey like ESC), or 0. */
static size_t printable_utf8_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if (c == 0xC2) lo = 0xA0;
    if (avail < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

/* s[0..n) into out (cap bytes), control and invalid bytes as \xNN; a backslash too unless keep_bs
 * (the error sink keeps the backslashes of fields escaped before). Input past max_in bytes, or what
 * does not fit, is cut with "...". */
static char *escape_into(const char *s, size_t n, size_t max_in, int keep_bs, char *out, size_t cap) {
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    if (!cap) return out;
    while (i < n) {
        char piece[8];
        size_t len, used;
        if (u[i] >= 0x20 && u[i] < 0x7F && (u[i] != '\\' || keep_bs)) {
            piece[0] = (char)u[i];
            len = used = 1;
        } else if (u[i] >= 0x80 && (len = printable_utf8_len(u + i, n - i)) > 0) {
            memcpy(piece, u + i, len);
            used = len;
        } else {
            snprintf(piece, sizeof piece, "\\x%02x", u[i]);
            len = 4;
            used = 1;
        }
        if (i + used > max_in || o + len + 4 > cap) { /* room for "..." and the NUL */
            if (o + 4 <= cap) memcpy(out + o, "...", 3), o += 3;
            break;
        }
        memcpy(out + o, piece, len);
        o += len;
        i += used;
    }
    out[o < cap ? o : cap - 1] = 0;
    return out;
}

char *rr_escape(const char *s, size_t n, size_t max_chars, char *out, size_t cap) {
    return escape_into(s, n, max_chars, 0, out, cap);
}

const char *rr_esc(const char *s) {
    static _Thread_local char bufs[8][64 * 4 + 8];
    static _Thread_local int k;
    char *b = bufs[k++ & 7];
    return escape_into(s ? s : "(null)", s ? strlen(s) : 6, 64, 0, b, sizeof bufs[0]);
}

/* ---- errors ------------------------------------------------------------------------------- */

/* Every error line passes through here: whatever a caller put in it (a name read from a file, a
 * path), no terminal control byte or newline reaches the terminal. */
int rr_error(const char *fmt, ...) {
    char raw[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    escape_into(raw, strlen(raw), sizeof raw, 1, last_error, sizeof last_error);
    return -1;
}

const char *rr_last_error(void) { return last_error; }

void rr_die(const char *fmt, ...) {
    char raw[sizeof last_error], safe[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    fprintf(stderr, "rnnreg: %s\n", escape_into(raw, strlen(raw), sizeof raw, 1, safe, sizeof safe));
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

/* 16 random hex digits for a temp name (getrandom; the clock and a counter if it is unavailable). */
static void random_suffix(char out[17]) {
    static _Thread_local uint64_t counter;
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ (++counter * 0x9E3779B97F4A7C15ull);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)r);
}

/* This machine's name for temp names: letters, digits and '-' only (at most 40; "" if unknown). A
 * run directory on a shared file system (a cluster's NFS) may hold temps of other machines, whose
 * pids mean nothing here. */
static void host_tag(char out[41]) {
    char h[256] = "";
    size_t k = 0;
    if (gethostname(h, sizeof h - 1) != 0) h[0] = 0;
    for (size_t i = 0; h[i] && k < 40; i++) {
        char c = h[i];
        out[k++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '-';
    }
    out[k] = 0;
}

int rr_atomic_open(RRAtomicFile *af, const char *path) {
    memset(af, 0, sizeof *af);
    char host[41];
    host_tag(host);
    size_t n = strlen(path) + 128;
    af->path = rr_strdup(path);
    af->tmp_path = rr_malloc(n);
    int fd = -1, e = 0;
    /* O_EXCL: never an existing file, and (with O_CREAT) never through a symlink, dangling or not;
     * O_NOFOLLOW says the same for kernels that would. A name taken by someone else: another name. */
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        char rnd[17];
        random_suffix(rnd);
        snprintf(af->tmp_path, n, "%s.tmp.%ld.%s%s%s", path, (long)getpid(), rnd, *host ? "." : "", host);
        fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        e = errno;
        if (fd < 0 && e != EEXIST) break;
    }
    if (fd >= 0 && !(af->fp = fdopen(fd, "wb"))) {
        e = errno;
        close(fd);
        unlink(af->tmp_path);
        fd = -1;
    }
    if (fd < 0) {
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

int rr_remove_stale_temps(const char *dir, const char *const *names, int n) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    char host[41];
    host_tag(host);
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        for (int i = 0; i < n; i++) {
            size_t len = strlen(names[i]);
            if (strncmp(e->d_name, names[i], len) || strncmp(e->d_name + len, ".tmp.", 5)) continue;
            /* "<pid>", "<pid>.<hex>" or "<pid>.<hex>.<host>" (rr_atomic_open writes the last) */
            const char *p = e->d_name + len + 5, *end = p + strspn(p, "0123456789");
            if (end == p || end - p > 9) continue;
            if (*end) {
                if (*end != '.') continue;
                const char *hex = end + 1, *hend = hex + strspn(hex, "0123456789abcdefABCDEF");
                if (hend == hex || (*hend && *hend != '.')) continue;
                if (*hend && strcmp(hend + 1, host)) continue; /* another machine's temp: its pid means nothing here */
            }
            long pid = strtol(p, NULL, 10);
            /* Only a process that provably no longer exists (ESRCH) leaves its temp to us; a live pid,
             * ours or another's, or a pid we may not signal (EPERM: alive), keeps it. */
            if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
            size_t pn = strlen(dir) + strlen(e->d_name) + 2;
            char *path = rr_malloc(pn);
            snprintf(path, pn, "%s/%s", dir, e->d_name);
            if (unlink(path) == 0) removed++;
            free(path);
        }
    }
    closedir(d);
    return removed;
}

static const char *file_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
           : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a plain file";
}

static void format_limit(char *out, size_t cap, size_t limit) {
    if (limit >= (1u << 20) && limit % (1u << 20) == 0) snprintf(out, cap, "%zu MiB", limit >> 20);
    else if (limit >= 1024 && limit % 1024 == 0) snprintf(out, cap, "%zu KiB", limit >> 10);
    else snprintf(out, cap, "%zu-byte", limit);
}

int rr_open_regular(const char *path, size_t max_size, const char *what, int *fd_out, size_t *size_out) {
    struct stat st;
    *fd_out = -1;
    /* stat first: a FIFO or device is refused without being opened (opening some has effects). */
    if (stat(path, &st) != 0) return rr_error("%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return rr_error("%s: not a regular file (%s)", path, file_kind(st.st_mode));
    /* O_NONBLOCK: if the name was swapped for a FIFO since, the open still returns at once. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return rr_error("%s: cannot open: %s", path, strerror(errno));
    int flags;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return rr_error("%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return rr_error("%s: not a regular file (%s)", path, file_kind(st.st_mode));
    }
    if (max_size && (uint64_t)st.st_size > max_size) {
        char lim[32];
        format_limit(lim, sizeof lim, max_size);
        close(fd);
        return rr_error("%s: %lld bytes, larger than the %s limit for %s", path, (long long)st.st_size, lim,
                        what ? what : "this file");
    }
    if ((flags = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
        int e = errno;
        close(fd);
        return rr_error("%s: cannot open: %s", path, strerror(e));
    }
    *fd_out = fd;
    *size_out = (size_t)st.st_size;
    return 0;
}

int rr_read_file_max(const char *path, size_t max_size, const char *what, char **data, size_t *n) {
    int fd;
    size_t size;
    if (rr_open_regular(path, max_size, what, &fd, &size)) return -1;
    size_t cap = size + 1 > 4096 ? size + 1 : 4096, len = 0;
    char *buf = rr_malloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (max_size && len > max_size) break; /* grew past the limit while being read */
            buf = rr_realloc(buf, cap *= 2);
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return rr_error("%s: read error: %s", path, strerror(e));
        }
        if (got == 0) break;
        len += (size_t)got;
    }
    close(fd);
    if (max_size && len > max_size) {
        char lim[32];
        format_limit(lim, sizeof lim, max_size);
        free(buf);
        return rr_error("%s: more than %zu bytes, larger than the %s limit for %s", path, max_size, lim,
                        what ? what : "this file");
    }
    buf[len] = 0;
    *data = buf;
    if (n) *n = len;
    return 0;
}

int rr_read_file(const char *path, char **data, size_t *n) { return rr_read_file_max(path, 0, NULL, data, n); }

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

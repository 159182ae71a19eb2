/* emu_selftest.c — the CUDA emulator's own checks catch what they claim to (tests/gpu/emu/README.md):
 * each mistake runs in a child process, which must die with the emulator's message (or, for cuBLAS and
 * launch errors, with the backend's CUDA_CHECK / CUBLAS_CHECK line naming the call), and the correct
 * use next to it must pass. Built and run by `make test-gpu-emu` only (it needs the emulator). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "cuda_backend.h"
#include "cuda_ops.h"
#include "ops.h"
#include "tensor.h"
#include "test.h"

static Arena dev;
static Tensor dev_tensor(int n) {
    int shape[1] = {n};
    return arena_tensor(&dev, 1, shape);
}

/* Run fn in a child; its stderr must contain `want` and its exit status must be non-zero. */
static void dies_with(const char *what, void (*fn)(void), const char *want) {
    int fds[2];
    if (pipe(fds)) rr_die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    char buf[8192];
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
    buf[len] = 0;
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    const int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    char *nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    CHECK(code != 0 && strstr(buf, want), "%s: the child exits %d with \"%s\"", what, code, buf);
}

static void host_reads_device(void) {
    Tensor t = dev_tensor(16);
    volatile float v = t.data[3]; /* a host load of device memory */
    (void)v;
}

static void host_pointer_to_kernel(void) {
    float host[16] = {0};
    Tensor m = dev_tensor(16), dx = dev_tensor(16);
    Tensor dy = tensor1(host, RR_CUDA, 16); /* claims to be on the device */
    reg_mask_backward_cuda(&m, &dy, &dx);
}

static void bad_leading_dimension(void) {
    Tensor a = dev_tensor(64), b = dev_tensor(64), c = dev_tensor(64);
    rr_cuda_sgemm(0, 0, 8, 8, 8, 1.0f, a.data, 4 /* < K = 8 */, b.data, 8, 0.0f, c.data, 8);
}

/* A separate allocation of n floats (the arena above is one big one). */
static float *own_allocation(int n) {
    void *p;
    if (rr_cuda_alloc_zeroed(&p, sizeof(float) * (size_t)n)) rr_die("%s", rr_last_error());
    return p;
}

static void sgemm_past_allocation(void) {
    Tensor a = dev_tensor(64), b = dev_tensor(64);
    float *c = own_allocation(32); /* C needs 64 floats */
    rr_cuda_sgemm(0, 0, 8, 8, 8, 1.0f, a.data, 8, b.data, 8, 0.0f, c, 8);
}

static void kernel_past_allocation(void) {
    Tensor big = tensor1(own_allocation(1024), RR_CUDA, 4096); /* a view longer than its memory */
    op_fill_cuda(&big, 1.0f);
}

static void correct_use(void) {
    Tensor a = dev_tensor(64), b = dev_tensor(64), c = dev_tensor(64);
    op_fill_cuda(&a, 1.0f);
    op_fill_cuda(&b, 2.0f);
    rr_cuda_sgemm(0, 0, 8, 8, 8, 1.0f, a.data, 8, b.data, 8, 0.0f, c.data, 8);
    float host[64];
    op_to_host_cuda(&c, host);
    for (int i = 0; i < 64; i++)
        if (host[i] != 16.0f) {
            fprintf(stderr, "emu_selftest: C[%d] = %g, want 16\n", i, (double)host[i]);
            exit(1);
        }
    fprintf(stderr, "correct use passed\n");
    exit(7); /* a distinct status the parent recognises */
}

int main(void) {
    TEST_BEGIN("emu_selftest");
    arena_init_plan(&dev, RR_CUDA);
    dev.size = 1 << 20;
    if (arena_allocate(&dev)) {
        CHECK(0, "device arena: %s", rr_last_error());
        return tests_exit();
    }
    dies_with("a host read of device memory", host_reads_device, "HOST code touched device memory");
    dies_with("a host pointer passed to a kernel", host_pointer_to_kernel, "is not device memory");
    dies_with("sgemm with lda below the minimum", bad_leading_dimension, "CUBLAS_STATUS_INVALID_VALUE");
    dies_with("sgemm writing past an allocation", sgemm_past_allocation, "runs past the end of allocation");
    dies_with("a kernel writing past an allocation", kernel_past_allocation, "device code ran past the end");
    dies_with("the correct calls (control)", correct_use, "correct use passed");
    arena_free(&dev);
    return tests_exit();
}

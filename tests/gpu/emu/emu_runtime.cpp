/* emu_runtime.cpp — runs rnnreg's CUDA backend on the CPU, for machines without a GPU
 * (tests/gpu/emu/README.md). Implements the runtime and cuBLAS calls of the shim headers in include/:
 *
 * - Device memory: every cudaMalloc is its own mmap, filled with 0xFF bytes (a NaN for every float, so
 *   a kernel that reads memory nothing wrote shows up as NaN), followed by an inaccessible guard page,
 *   and inaccessible except inside a device call (a kernel, a copy, a memset, a cuBLAS product): one
 *   memory protection key for all of them where the CPU has PKU (a switch is a register write), else
 *   mprotect (then allocations over 64 MiB are left zero, not NaN, to keep the switches cheap). So
 *   host code that dereferences a device pointer faults, and the SIGSEGV handler names the allocation;
 *   a kernel running past the end of an allocation faults on the guard page.
 * - Kernels: blocks run one after another; the threads of a block run as fibers (ucontext stacks,
 *   switched with _setjmp/_longjmp) that __syncthreads suspends until every live thread of the block
 *   has arrived. A kernel whose first launch never reached a barrier is afterwards run as plain calls.
 *   Every pointer argument must be NULL or point into a device allocation (a host pointer passed to a
 *   kernel is reported with the kernel's name and the argument's position). Launch-configuration errors
 *   (an empty grid, more than 1024 threads) are returned by cudaGetLastError as on a device.
 * - cuBLAS: column-major sgemm / strided-batched sgemm on the host, with cuBLAS's argument checks
 *   (CUBLAS_STATUS_INVALID_VALUE for a negative size or a leading dimension below the minimum) and a
 *   check that every matrix lies inside one device allocation; with CUBLAS_TF32_TENSOR_OP_MATH the
 *   inputs of the products are rounded to TF32. C is not read when beta = 0 (cuBLAS semantics).
 * Everything is synchronous; stream 0 order is program order. */
#undef _FORTIFY_SOURCE /* longjmp between fiber stacks: no __longjmp_chk */
#include <execinfo.h>
#include <math.h>
#include <stdarg.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <map>
#include <unordered_map>
#include <vector>

#include "cublas_v2.h"
#include "cuda_runtime.h"

dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace {

[[noreturn]] void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("rnnreg CUDA emulator: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    void *frames[32];
    int n = backtrace(frames, 32);
    backtrace_symbols_fd(frames, n, 2);
    _exit(86);
}

/* ---------------------------------------------------------------------------------------------- */
/* Device memory */

struct Region {
    char *map;      /* the mmap: [map, map + mapped) with the guard page at its end */
    size_t mapped;  /* bytes mapped, guard included */
    size_t usable;  /* bytes before the guard page (rounded up to pages) */
    size_t size;    /* bytes asked for; the allocation starts at map + usable - round256(size) */
};
std::map<uintptr_t, Region> regions; /* by allocation start */
int scope_depth = 0;
cudaError_t last_error = cudaSuccess;
long page_size = 4096;

/* With memory protection keys (x86 PKU) every device allocation carries one key and a switch is a
 * write of this thread's PKRU register; without them, an mprotect of every allocation. */
int pkey = -1;

void protect_all(int prot) {
    if (pkey >= 0) {
        if (pkey_set(pkey, prot == PROT_NONE ? PKEY_DISABLE_ACCESS : 0)) fatal("pkey_set failed");
        return;
    }
    for (auto &kv : regions)
        if (mprotect(kv.second.map, kv.second.usable, prot)) fatal("mprotect failed");
}

/* The region holding p (p may be one past the end), or NULL. */
const Region *region_of(const void *p, uintptr_t *start) {
    const uintptr_t a = (uintptr_t)p;
    auto it = regions.upper_bound(a);
    if (it == regions.begin()) return NULL;
    --it;
    if (a > it->first + it->second.size) return NULL;
    if (start) *start = it->first;
    return &it->second;
}

void segv_handler(int sig, siginfo_t *si, void *) {
    const uintptr_t a = (uintptr_t)si->si_addr;
    for (auto &kv : regions) {
        const Region &r = kv.second;
        if (a >= (uintptr_t)r.map && a < (uintptr_t)r.map + r.mapped) {
            char msg[256];
            if (scope_depth == 0)
                snprintf(msg, sizeof msg,
                         "rnnreg CUDA emulator: HOST code touched device memory at %p (allocation %p, %zu bytes)\n",
                         si->si_addr, (void *)kv.first, r.size);
            else
                snprintf(msg, sizeof msg,
                         "rnnreg CUDA emulator: device code ran past the end of allocation %p (%zu bytes) at %p\n",
                         (void *)kv.first, r.size, si->si_addr);
            ssize_t w = write(2, msg, strlen(msg));
            (void)w;
            void *frames[32];
            int n = backtrace(frames, 32);
            backtrace_symbols_fd(frames, n, 2);
            _exit(86);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

struct Init {
    Init() {
        page_size = sysconf(_SC_PAGESIZE);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = segv_handler;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        if (!getenv("RR_EMU_NO_PKEYS")) pkey = pkey_alloc(0, PKEY_DISABLE_ACCESS); /* -1: mprotect instead */
    }
} init_once;

/* ---------------------------------------------------------------------------------------------- */
/* Fibers */

enum { READY, AT_BARRIER, DONE };
struct Fiber {
    ucontext_t uc;
    jmp_buf jb;
    int state;
    char *stack;
};
constexpr size_t FIBER_STACK = 256 * 1024;
std::vector<Fiber *> fibers;
jmp_buf sched_jb;
int cur_fiber = -1;       /* the fiber running, -1: the scheduler */
int creating = -1;        /* the fiber being created */
const std::function<void()> *body = NULL;
bool barrier_seen = false;
bool plain_mode = false;
const char *kernel_name = "";

void fiber_main() {
    Fiber *f = fibers[creating];
    for (;;) {
        if (_setjmp(f->jb) == 0) _longjmp(sched_jb, 1); /* park until there is a thread to run */
        (*body)();
        f->state = DONE;
    }
}

/* A new fiber, started: it parks in fiber_main at once (its jb then resumes it). */
void start_fiber() {
    Fiber *f = new Fiber();
    f->stack = (char *)malloc(FIBER_STACK);
    if (!f->stack || getcontext(&f->uc)) fatal("cannot create a fiber");
    f->uc.uc_stack.ss_sp = f->stack;
    f->uc.uc_stack.ss_size = FIBER_STACK;
    f->uc.uc_link = NULL;
    makecontext(&f->uc, fiber_main, 0);
    fibers.push_back(f);
    creating = (int)fibers.size() - 1;
    static ucontext_t here;
    if (_setjmp(sched_jb) == 0) swapcontext(&here, &fibers[creating]->uc); /* runs until the fiber parks */
}

Fiber *fiber(int t) {
    while ((int)fibers.size() <= t) start_fiber();
    return fibers[t];
}

void run_block_fibers(int nthreads) {
    for (int t = 0; t < nthreads; t++) fiber(t)->state = READY;
    for (;;) {
        for (volatile int t = 0; t < nthreads; t++) {
            Fiber *f = fibers[t];
            if (f->state != READY) continue;
            threadIdx = dim3((unsigned)t);
            cur_fiber = t;
            if (_setjmp(sched_jb) == 0) _longjmp(f->jb, 1);
            cur_fiber = -1;
        }
        int done = 0, waiting = 0;
        for (int t = 0; t < nthreads; t++) {
            done += fibers[t]->state == DONE;
            waiting += fibers[t]->state == AT_BARRIER;
        }
        if (done == nthreads) return;
        (void)waiting;
        for (int t = 0; t < nthreads; t++)
            if (fibers[t]->state == AT_BARRIER) fibers[t]->state = READY; /* every live thread arrived */
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* cuBLAS */

struct Handle {
    int math = CUBLAS_DEFAULT_MATH;
} the_handle;

inline float tf32(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) { /* finite: round to nearest even on the low 13 bits */
        u += 0x0fffu + ((u >> 13) & 1u);
        u &= ~0x1fffu;
    }
    memcpy(&x, &u, 4);
    return x;
}

/* Index of element (r, c) of op(X) for a column-major X with leading dimension ld. */
inline size_t at(cublasOperation_t op, int r, int c, int ld) {
    return op == CUBLAS_OP_N ? (size_t)r + (size_t)c * ld : (size_t)c + (size_t)r * ld;
}

cublasStatus_t gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float *alpha,
                    const float *A, int lda, long long sA, const float *B, int ldb, long long sB, const float *beta,
                    float *C, int ldc, long long sC, int batch, const char *fn) {
    if (m < 0 || n < 0 || k < 0 || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
    const int arows = ta == CUBLAS_OP_N ? m : k, brows = tb == CUBLAS_OP_N ? k : n;
    if (lda < (arows > 1 ? arows : 1) || ldb < (brows > 1 ? brows : 1) || ldc < (m > 1 ? m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
    rr_emu::device_scope scope;
    char what[96];
    for (int b = 0; b < batch; b++) {
        const float *Ab = A + b * sA, *Bb = B + b * sB;
        float *Cb = C + b * sC;
        if (k > 0) {
            snprintf(what, sizeof what, "%s: A of batch %d", fn, b);
            rr_emu::check_device_range(Ab, 4 * (at(ta, m - 1, k - 1, lda) + 1), what);
            snprintf(what, sizeof what, "%s: B of batch %d", fn, b);
            rr_emu::check_device_range(Bb, 4 * (at(tb, k - 1, n - 1, ldb) + 1), what);
        }
        snprintf(what, sizeof what, "%s: C of batch %d", fn, b);
        rr_emu::check_device_range(Cb, 4 * ((size_t)(m - 1) + (size_t)(n - 1) * ldc + 1), what);
        const bool t32 = the_handle.math == CUBLAS_TF32_TENSOR_OP_MATH;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++) {
                float acc = 0.0f;
                for (int p = 0; p < k; p++) {
                    float a = Ab[at(ta, i, p, lda)], bv = Bb[at(tb, p, j, ldb)];
                    if (t32) a = tf32(a), bv = tf32(bv);
                    acc = fmaf(a, bv, acc);
                }
                float &c = Cb[(size_t)i + (size_t)j * ldc];
                c = *beta == 0.0f ? *alpha * acc : *alpha * acc + *beta * c;
            }
    }
    return CUBLAS_STATUS_SUCCESS;
}

} // namespace

/* ---------------------------------------------------------------------------------------------- */

namespace rr_emu {

device_scope::device_scope() {
    if (scope_depth++ == 0) protect_all(PROT_READ | PROT_WRITE);
}
device_scope::~device_scope() {
    if (--scope_depth == 0) protect_all(PROT_NONE);
}

void check_device_range(const void *p, size_t bytes, const char *what) {
    uintptr_t start;
    const Region *r = region_of(p, &start);
    if (!r) fatal("%s: %p is not device memory", what, p);
    if ((uintptr_t)p + bytes > start + r->size)
        fatal("%s: [%p, +%zu bytes) runs past the end of allocation %p (%zu bytes)", what, p, bytes, (void *)start,
              r->size);
}

void check_kernel_pointer(const void *p, const char *kernel, int index) {
    if (p && !region_of(p, NULL))
        fatal("kernel %s: argument %d (%p) is not device memory (a host pointer passed to a kernel?)", kernel,
              index, p);
}

void run_kernel(const char *name, const void *key, dim3 grid, dim3 block, const std::function<void()> &fn) {
    static std::unordered_map<const void *, bool> uses_barrier; /* known after the first launch */
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0 ||
        (size_t)block.x * block.y * block.z > 1024 || grid.y > 65535 || grid.z > 65535) {
        last_error = cudaErrorInvalidValue; /* "invalid configuration argument", reported by KERNEL_CHECK */
        return;
    }
    if (grid.y != 1 || grid.z != 1 || block.y != 1 || block.z != 1)
        fatal("kernel %s: the emulator runs 1-D launches only", name);
    device_scope scope;
    gridDim = grid;
    blockDim = block;
    kernel_name = name;
    body = &fn;
    auto known = uses_barrier.find(key);
    if (known != uses_barrier.end() && !known->second) {
        plain_mode = true;
        for (unsigned b = 0; b < grid.x; b++) {
            blockIdx = dim3(b);
            for (unsigned t = 0; t < block.x; t++) {
                threadIdx = dim3(t);
                fn();
            }
        }
        plain_mode = false;
    } else {
        barrier_seen = false;
        for (unsigned b = 0; b < grid.x; b++) {
            blockIdx = dim3(b);
            run_block_fibers((int)block.x);
        }
        if (known == uses_barrier.end()) uses_barrier[key] = barrier_seen;
    }
    body = NULL;
}

} // namespace rr_emu

void __syncthreads(void) {
    if (plain_mode) fatal("kernel %s reached __syncthreads, which its first launch never did", kernel_name);
    if (cur_fiber < 0) fatal("__syncthreads called outside a kernel");
    Fiber *f = fibers[cur_fiber];
    barrier_seen = true;
    f->state = AT_BARRIER;
    if (_setjmp(f->jb) == 0) _longjmp(sched_jb, 1);
}

/* ---------------------------------------------------------------------------------------------- */
/* Runtime API */

cudaError_t cudaGetDeviceCount(int *n) {
    const char *e = getenv("RR_EMU_DEVICES");
    *n = e ? atoi(e) : 1;
    return *n > 0 ? cudaSuccess : cudaErrorNoDevice;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device) {
    if (device != 0) return cudaErrorInvalidValue;
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "rnnreg CUDA emulator (host CPU)");
    prop->totalGlobalMem = (size_t)1 << 34;
    prop->major = 9;
    prop->multiProcessorCount = 1;
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument / invalid configuration argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    }
    return "unknown error";
}

const char *cudaGetErrorName(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    }
    return "cudaErrorUnknown";
}

cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

cudaError_t cudaMalloc(void **p, size_t bytes) {
    *p = NULL;
    const char *limit = getenv("RR_EMU_MEMORY_LIMIT"); /* bytes: larger requests fail, as on a small GPU */
    if (limit && bytes > (size_t)strtoull(limit, NULL, 10)) return cudaErrorMemoryAllocation;
    const size_t want = (bytes + 255) / 256 * 256, usable = (want + page_size - 1) / page_size * page_size;
    const size_t mapped = usable + page_size;
    char *map = (char *)mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return cudaErrorMemoryAllocation;
    /* NaN everywhere: cudaMalloc memory is uninitialised. (Not for huge allocations: touching every page
     * would make each protection switch walk them all; their untouched pages read as zeros.) */
    if (usable <= ((size_t)64 << 20) || pkey >= 0) memset(map, 0xff, usable);
    mprotect(map + usable, page_size, PROT_NONE);
    if (pkey >= 0) {
        if (pkey_mprotect(map, usable, PROT_READ | PROT_WRITE, pkey)) fatal("pkey_mprotect failed");
    } else if (scope_depth == 0) {
        mprotect(map, usable, PROT_NONE);
    }
    char *start = map + usable - want;
    regions[(uintptr_t)start] = Region{map, mapped, usable, bytes};
    *p = start;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    if (!p) return cudaSuccess;
    auto it = regions.find((uintptr_t)p);
    if (it == regions.end()) fatal("cudaFree(%p): not an allocation of cudaMalloc", p);
    munmap(it->second.map, it->second.mapped);
    regions.erase(it);
    return cudaSuccess;
}

cudaError_t cudaMemset(void *p, int value, size_t bytes) {
    rr_emu::device_scope scope;
    rr_emu::check_device_range(p, bytes, "cudaMemset");
    memset(p, value, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t) { return cudaMemset(p, value, bytes); }

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    if (bytes == 0) return cudaSuccess;
    rr_emu::device_scope scope;
    const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind == cudaMemcpyHostToHost || kind == cudaMemcpyDefault) fatal("cudaMemcpy: kind %d not emulated", (int)kind);
    if (dst_dev) rr_emu::check_device_range(dst, bytes, "cudaMemcpy destination");
    else if (region_of(dst, NULL)) fatal("cudaMemcpy: destination %p is device memory, the kind says host", dst);
    if (src_dev) rr_emu::check_device_range(src, bytes, "cudaMemcpy source");
    else if (region_of(src, NULL)) fatal("cudaMemcpy: source %p is device memory, the kind says host", src);
    memmove(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, bytes, kind);
}

/* ---------------------------------------------------------------------------------------------- */
/* cuBLAS API */

cublasStatus_t cublasCreate(cublasHandle_t *handle) {
    *handle = (cublasHandle_t)&the_handle;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t mode) {
    the_handle.math = mode;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetAtomicsMode(cublasHandle_t, cublasAtomicsMode_t) { return CUBLAS_STATUS_SUCCESS; }
const char *cublasGetStatusString(cublasStatus_t s) {
    return s == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS"
           : s == CUBLAS_STATUS_INVALID_VALUE ? "CUBLAS_STATUS_INVALID_VALUE"
                                               : "CUBLAS_STATUS_NOT_INITIALIZED";
}

cublasStatus_t cublasSgemm(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc) {
    return gemm(transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, "cublasSgemm");
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb, int m,
                                         int n, int k, const float *alpha, const float *A, int lda, long long strideA,
                                         const float *B, int ldb, long long strideB, const float *beta, float *C,
                                         int ldc, long long strideC, int batchCount) {
    return gemm(transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batchCount,
                "cublasSgemmStridedBatched");
}

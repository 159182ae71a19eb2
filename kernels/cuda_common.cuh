/* cuda_common.cuh — what every kernel file (kernels/NAME.cu) shares: error-checking macros (CUDA_CHECK, CUBLAS_CHECK,
 * KERNEL_CHECK), launch sizing for one-thread-per-element kernels, a fixed-order block reduction in
 * double, and the device twins of the scalar activation formulas of src/ops_internal.h.
 *
 * Conventions of the CUDA backend:
 * - Everything runs on the legacy default stream (stream 0), cuBLAS included, so consecutive ops are
 *   ordered without explicit synchronisation; the only synchronising calls are the device → host
 *   copies (op_to_host and the reductions that return a double to the host).
 * - Reductions are deterministic: a fixed launch shape (never derived from the device's SM count),
 *   each thread sums a fixed strided subsequence, then a fixed-order shared-memory tree. Results
 *   agree with the CPU's sequential double sums up to double rounding (then rounded to float).
 * - Kernels are compiled with -fmad=false (Makefile NVFLAGS): a*b+c is never contracted into an FMA,
 *   so float expressions round like the CPU's (gcc -std=c11 does not contract either); explicit
 *   fmaf() stays an FMA on both sides. */
#ifndef RNNREG_CUDA_COMMON_CUH
#define RNNREG_CUDA_COMMON_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" {
#include "layernorm.h"
#include "causal_lstm_cell.h"
#include "ops.h"
#include "tensor.h"
}
#include "cuda_backend.h"
#include "cuda_ops.h"

/* Abort with file, line and the failing call (library rule exception: a CUDA error after launch is
 * not recoverable input, it is a broken device or a programming error). */
#define CUDA_CHECK(call)                                                                              \
    do {                                                                                              \
        cudaError_t err_ = (call);                                                                    \
        if (err_ != cudaSuccess) {                                                                    \
            fprintf(stderr, "rnnreg: %s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call,         \
                    cudaGetErrorString(err_), cudaGetErrorName(err_));                                \
            exit(1);                                                                                  \
        }                                                                                             \
    } while (0)

#define CUBLAS_CHECK(call)                                                                            \
    do {                                                                                              \
        cublasStatus_t st_ = (call);                                                                  \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                           \
            fprintf(stderr, "rnnreg: %s:%d: %s failed: %s (%d)\n", __FILE__, __LINE__, #call,         \
                    cublasGetStatusString(st_), (int)st_);                                            \
            exit(1);                                                                                  \
        }                                                                                             \
    } while (0)

/* After every launch: launch-configuration errors now; with RR_CUDA_SYNC=1 in the environment also
 * a device synchronisation, so an asynchronous fault is reported at the kernel that caused it. */
#define KERNEL_CHECK(name)                                                                            \
    do {                                                                                              \
        CUDA_CHECK(cudaGetLastError());                                                               \
        if (rr_cuda_debug_sync()) {                                                                   \
            cudaError_t e_ = cudaDeviceSynchronize();                                                 \
            if (e_ != cudaSuccess) {                                                                  \
                fprintf(stderr, "rnnreg: %s:%d: kernel %s failed: %s\n", __FILE__, __LINE__, name,    \
                        cudaGetErrorString(e_));                                                      \
                exit(1);                                                                              \
            }                                                                                         \
        }                                                                                             \
    } while (0)

/* Backend internals (cuda_backend.cu). */
int rr_cuda_debug_sync(void);              /* RR_CUDA_SYNC=1 */
cublasHandle_t rr_cuda_cublas(void);       /* the one handle, on stream 0, math mode per the TF32 flag */
void *rr_cuda_workspace(size_t bytes);     /* a device buffer of at least `bytes`, reused by every op */

/* Shared by conv_kernels.cu and regularize_kernels.cu: y (B, C, HW) (+)= bias[c] (accumulate 1: +=,
 * the CPU's y + b; 0: =), n = B·C·HW; and db[c] += Σ_{s,p} dy[s, c, p] (double, one block per channel,
 * fixed-order tree). */
void rr_cuda_bias_add(float *y, const float *bias, int C, int64_t HW, int64_t n, int accumulate);
void rr_cuda_bias_grad(const float *dy, int B, int C, int64_t HW, float *db);

/* One thread per element: RR_THREADS per block, as many blocks as needed (grid-stride loops inside,
 * so a capped grid still covers every element). */
#define RR_THREADS 256
#define RR_MAX_BLOCKS 65535
static inline unsigned rr_blocks(int64_t n) {
    int64_t b = (n + RR_THREADS - 1) / RR_THREADS;
    if (b < 1) b = 1;
    return (unsigned)(b > RR_MAX_BLOCKS ? RR_MAX_BLOCKS : b);
}
/* LAUNCH(kernel, n, args...): one thread per element of n (nothing when n is 0), then KERNEL_CHECK.
 * D(t): a tensor's device pointer, or NULL for an absent optional tensor. RR_KERNEL_LAUNCH is the
 * <<<grid, block>>> launch; the CPU emulation (tests/gpu/emu) defines its own. */
#ifndef RR_KERNEL_LAUNCH
#define RR_KERNEL_LAUNCH(kernel, grid, block) kernel<<<grid, block>>>
#endif
#define LAUNCH(kernel, count, ...)                                                                    \
    do {                                                                                              \
        if ((count) > 0) {                                                                            \
            RR_KERNEL_LAUNCH(kernel, rr_blocks(count), RR_THREADS)(__VA_ARGS__);                      \
            KERNEL_CHECK(#kernel);                                                                    \
        }                                                                                             \
    } while (0)
#define D(t) ((t) ? (t)->data : NULL)
#define RR_GRID_LOOP(i, n)                                                                            \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                         \
         i += (int64_t)gridDim.x * blockDim.x)

/* Threads of the reduction blocks (a power of two). */
#define RR_REDUCE_THREADS 256

/* Sum of v over the block in a fixed order: shared-memory tree, halving strides. Every thread of the
 * block must call it; the result is valid in thread 0 (and returned to all threads). blockDim.x must
 * be RR_REDUCE_THREADS. `sh` is __shared__ double[RR_REDUCE_THREADS]. */
__device__ __forceinline__ double rr_block_sum(double v, double *sh) {
    const unsigned t = threadIdx.x;
    __syncthreads(); /* sh may still be read by a previous call */
    sh[t] = v;
    __syncthreads();
    for (unsigned s = RR_REDUCE_THREADS / 2; s > 0; s >>= 1) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    return sh[0];
}

/* Device twins of src/ops_internal.h (same formulas, same float operation order). */
__device__ __forceinline__ float dev_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
__device__ __forceinline__ float dev_hard_sigmoid(float x) {
    float y = __fmul_rn(x, 0.2f);
    y = __fadd_rn(y, 0.5f);
    return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
}
__device__ __forceinline__ float dev_act(int a, float x) {
    switch (a) {
    case ACT_SIGMOID: return dev_sigmoid(x);
    case ACT_TANH: return tanhf(x);
    case ACT_RELU: return x < 0.0f ? 0.0f : x;
    case ACT_HARD_SIGMOID: return dev_hard_sigmoid(x);
    default: return x;
    }
}
__device__ __forceinline__ float dev_act_grad(int a, float y) {
    switch (a) {
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case ACT_HARD_SIGMOID: return (y > 0.0f && y < 1.0f) ? 0.2f : 0.0f;
    default: return 1.0f;
    }
}

#endif

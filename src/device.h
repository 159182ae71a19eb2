/* device.h — the device a run computes on, chosen once: the `backend` config value resolved to RR_CPU
 * or RR_CUDA (with the TF32 mode set here and nowhere else), device memory for arenas, and the backend
 * table each op entry (ops_dispatch.c) calls into. The one place in src/ that knows whether the CUDA
 * backend (kernels/) was compiled in; everything else asks these functions. Compare darknet's
 * gpu_index and ggml's backend object. */
#ifndef RNNREG_DEVICE_H
#define RNNREG_DEVICE_H

#include <stddef.h>

#include "tensor.h"

/* The device of a `backend` config value ("cpu" → RR_CPU, "cuda" → RR_CUDA) for model_create, after
 * checking that it can run here; for cuda also sets the cuBLAS math mode (tf32 1: TF32 tensor cores,
 * 0: FP32). -1 + rr_error with one line naming the key on "cuda" in a build without the CUDA backend
 * or on a machine where no GPU is visible, and on tf32 = 1 with backend cpu when strict_tf32 (training:
 * the option would have no effect; evaluation of a TF32-trained run on the CPU passes 0). */
int device_select(const char *backend, int tf32, int strict_tf32, int *device);

/* Whether this build has the CUDA backend; how many CUDA devices are visible (0 without it); whether
 * one is (asked once and remembered: the ops' dispatch asks it every call). */
int device_cuda_compiled(void);
int device_cuda_count(void);
int device_cuda_available(void);
/* "cpu", or the GPU's name ("NVIDIA H100 80GB HBM3") for RR_CUDA, into buf. */
void device_name(int device, char *buf, int n);
/* cuBLAS TF32 tensor-core products on (1) or off (0, FP32); nothing without the CUDA backend. Runs set
 * it through device_select; tests and benchmarks switch it directly. */
void device_set_tf32(int on);

/* Operand precision of the CPU convolutions (config key `precision`): RR_FP32, or RR_BF16 = bf16
 * operands with fp32 accumulation and fp32 results; weights, optimizer state, cell states, norms,
 * losses and metrics stay fp32 either way. Set once per run, like TF32. */
typedef enum { RR_FP32 = 0, RR_BF16 = 1 } RRPrecision;
/* "fp32", "bf16" or "auto" resolved for `device` into *used, and set for the ops. -1 + rr_error (one
 * line naming the key) when bf16 cannot run: a CPU without bf16 instructions (device_cpu_bf16_isa), a
 * build whose CPU convolutions are not oneDNN's (conv_cpu_engine), or backend cuda. "auto" takes bf16
 * where it can run and fp32 elsewhere. */
int device_select_precision(const char *precision, int device, RRPrecision *used);
/* Why bf16 cannot run on `device` here (one clause, the reason device_select_precision gives), or NULL
 * when it can. */
const char *device_bf16_unavailable(int device);
/* The precision the CPU convolutions use now (tests and benchmarks switch it directly). */
void device_set_precision(RRPrecision p);
RRPrecision device_precision(void);
const char *precision_name(RRPrecision p);
/* The CPU's best bf16 matrix instructions, from cpuid: "amx_bf16", "avx512_bf16", or NULL. The
 * environment variable RNNREG_TEST_NO_BF16=1 makes it NULL (tests of the refusal on a bf16 CPU). */
const char *device_cpu_bf16_isa(void);

/* `bytes` zeroed bytes of memory on the device into *out: 0, or -1 after rr_error (never exits: running
 * out of GPU memory is a user-facing condition). device_free releases it. */
int device_alloc_zeroed(int device, size_t bytes, void **out);
void device_free(int device, void *p);
/* Wait for every queued kernel of the device (timings); nothing on the CPU. */
void device_synchronize(int device);
/* Row-major C = alpha op(A) op(B) + beta C on the device's memory (rr_sgemm's contract, blas.h). */
void device_sgemm(int device, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc);

#endif

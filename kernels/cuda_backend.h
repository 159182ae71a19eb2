/* cuda_backend.h — the CUDA backend's entry points visible to C code: device discovery, the TF32
 * switch, device memory for arenas. Compiled only when nvcc is found (or CUDA=1); the op kernels are
 * declared in cuda_ops.h. */
#ifndef RNNREG_CUDA_BACKEND_H
#define RNNREG_CUDA_BACKEND_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Number of CUDA devices visible (0 when there is no GPU or no driver; never fails). */
int rr_cuda_device_count(void);
/* "NVIDIA H100 80GB HBM3" etc. into buf, or "" when there is no device. */
void rr_cuda_device_name(int device, char *buf, int n);
/* rr_cuda_device_count() > 0, asked once and remembered (src/device.c asks it for every op on CUDA). */
int rr_cuda_available(void);

/* Matrix products (conv2d) in TF32 on tensor cores (1) or in plain FP32 (0, the default, which
 * agrees with the CPU backend to float rounding). Set once per run by src/device.c's device_select
 * (the --tf32 / config option). */
void rr_cuda_set_tf32(int on);
int rr_cuda_tf32(void);

/* Device memory for an arena: `bytes` zeroed bytes into *out. 0, or -1 after rr_error naming the
 * CUDA error (never exits: running out of GPU memory is a user-facing condition). */
int rr_cuda_alloc_zeroed(void **out, size_t bytes);
void rr_cuda_free(void *p);
/* Wait for every queued kernel (timings, tests). */
void rr_cuda_synchronize(void);

#ifdef __cplusplus
}
#endif

#endif

/* cuda_backend.h — the CUDA backend's entry points visible to C code. Compiled only when nvcc is
 * found (or CUDA=1); the op kernels themselves come with the CUDA-backend stage of the project. */
#ifndef RNNREG_CUDA_BACKEND_H
#define RNNREG_CUDA_BACKEND_H

#ifdef __cplusplus
extern "C" {
#endif

/* Number of CUDA devices visible (0 when there is no GPU or no driver; never fails). */
int rr_cuda_device_count(void);
/* "NVIDIA H100 80GB HBM3" etc. into buf, or "" when there is no device. */
void rr_cuda_device_name(int device, char *buf, int n);

#ifdef __cplusplus
}
#endif

#endif

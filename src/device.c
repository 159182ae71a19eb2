/* device.c — the device chosen once per run (device.h): the backend config value resolved and the
 * TF32 mode set, device memory, and the backend table of each device. The only file of src/ that
 * looks at whether the CUDA backend (kernels/, -DRR_USE_CUDA) was compiled in. */
#include "device.h"

#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "common.h"
#include "ops_internal.h"
#ifdef RR_USE_CUDA
#include "cuda_backend.h"
#include "cuda_ops.h"
extern const OpsTable rr_cuda_ops; /* kernels/cuda_ops_table.cu */
#endif

int device_select(const char *backend, int tf32, int strict_tf32, int *device) {
    *device = RR_CPU;
    if (!strcmp(backend, "cpu")) {
        if (tf32 && strict_tf32)
            return rr_error("tf32: 1 needs backend = cuda (TF32 is a cuBLAS tensor-core mode; the cpu backend "
                            "computes in FP32)");
        return 0;
    }
    if (strcmp(backend, "cuda")) return rr_error("backend: '%s' is unknown (cpu, cuda)", backend);
    if (!device_cuda_compiled())
        return rr_error("backend: cuda: this build has no CUDA backend (built without nvcc, or with CUDA=0): "
                        "rebuild with CUDA=1 where the CUDA toolkit is installed, or use backend = cpu");
    if (!device_cuda_available())
        return rr_error("backend: cuda: no CUDA device is visible here (this build has the CUDA backend, but "
                        "cudaGetDeviceCount finds no GPU): run on a machine with a GPU, or use backend = cpu");
    device_set_tf32(tf32);
    *device = RR_CUDA;
    return 0;
}

#ifdef RR_USE_CUDA

int device_cuda_compiled(void) { return 1; }
int device_cuda_count(void) { return rr_cuda_device_count(); }
int device_cuda_available(void) { return rr_cuda_available(); }
void device_set_tf32(int on) { rr_cuda_set_tf32(on); }

void device_name(int device, char *buf, int n) {
    if (device == RR_CUDA) rr_cuda_device_name(0, buf, n);
    else if (n > 0) snprintf(buf, (size_t)n, "cpu");
}

int device_alloc_zeroed(int device, size_t bytes, void **out) {
    if (device == RR_CUDA) return rr_cuda_alloc_zeroed(out, bytes);
    *out = rr_aligned_alloc(bytes);
    memset(*out, 0, bytes);
    return 0;
}

void device_free(int device, void *p) {
    if (device == RR_CUDA) rr_cuda_free(p);
    else free(p);
}

void device_synchronize(int device) {
    if (device == RR_CUDA) rr_cuda_synchronize();
}

void device_sgemm(int device, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (device == RR_CUDA) rr_cuda_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else rr_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const OpsTable *device_ops(int device) { return device == RR_CUDA ? &rr_cuda_ops : &ops_cpu; }

#else /* CPU only: the checks (require_device, device_select) keep every tensor on RR_CPU */

int device_cuda_compiled(void) { return 0; }
int device_cuda_count(void) { return 0; }
int device_cuda_available(void) { return 0; }
void device_set_tf32(int on) { (void)on; }

void device_name(int device, char *buf, int n) {
    (void)device;
    if (n > 0) snprintf(buf, (size_t)n, "cpu");
}

int device_alloc_zeroed(int device, size_t bytes, void **out) {
    (void)device; /* RR_CPU: tensor.c refuses the others */
    *out = rr_aligned_alloc(bytes);
    memset(*out, 0, bytes);
    return 0;
}

void device_free(int device, void *p) {
    (void)device;
    free(p);
}

void device_synchronize(int device) { (void)device; }

void device_sgemm(int device, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    (void)device;
    rr_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const OpsTable *device_ops(int device) {
    (void)device;
    return &ops_cpu;
}

#endif

/* cuda_backend.cu — the CUDA backend's shared state: device discovery, the cuBLAS handle and its
 * TF32 switch, arena memory, the reusable reduction workspace, and the RR_CUDA_SYNC debug switch. */
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"

extern "C" {
#include "common.h"
}

extern "C" int rr_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); /* clear the sticky "no driver" error */
        return 0;
    }
    return n;
}

extern "C" void rr_cuda_device_name(int device, char *buf, int n) {
    cudaDeviceProp prop;
    if (n <= 0) return;
    buf[0] = 0;
    if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
        cudaGetLastError();
        return;
    }
    strncpy(buf, prop.name, (size_t)n - 1);
    buf[n - 1] = 0;
}

extern "C" int rr_cuda_available(void) {
    static int known = -1;
    if (known < 0) known = rr_cuda_device_count() > 0;
    return known;
}

/* ------------------------------------------------------------------------------------------------ */

static int tf32_on = 0;
static cublasHandle_t handle = NULL;
static int handle_tf32 = -1; /* the math mode the handle was last set to */

extern "C" void rr_cuda_set_tf32(int on) { tf32_on = on != 0; }
extern "C" int rr_cuda_tf32(void) { return tf32_on; }

cublasHandle_t rr_cuda_cublas(void) {
    if (!handle) {
        CUBLAS_CHECK(cublasCreate(&handle));
        CUBLAS_CHECK(cublasSetStream(handle, 0));
        /* no atomics: every product is reduced in a fixed order (cuBLAS reproducibility notes) */
        CUBLAS_CHECK(cublasSetAtomicsMode(handle, CUBLAS_ATOMICS_NOT_ALLOWED));
    }
    if (handle_tf32 != tf32_on) {
        CUBLAS_CHECK(cublasSetMathMode(handle, tf32_on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
        handle_tf32 = tf32_on;
    }
    return handle;
}

int rr_cuda_debug_sync(void) {
    static int on = -1;
    if (on < 0) {
        const char *e = getenv("RR_CUDA_SYNC");
        on = e && *e && strcmp(e, "0") != 0;
    }
    return on;
}

void *rr_cuda_workspace(size_t bytes) {
    static void *buf = NULL;
    static size_t size = 0;
    if (bytes > size) {
        if (buf) { /* growing (rare: the first calls of a run): queued kernels may still read the old one */
            CUDA_CHECK(cudaDeviceSynchronize());
            CUDA_CHECK(cudaFree(buf));
        }
        size_t n = bytes < 4096 ? 4096 : bytes;
        CUDA_CHECK(cudaMalloc(&buf, n));
        size = n;
    }
    return buf;
}

/* ------------------------------------------------------------------------------------------------ */

extern "C" int rr_cuda_alloc_zeroed(void **out, size_t bytes) {
    *out = NULL;
    if (bytes == 0) bytes = 256;
    cudaError_t e = cudaMalloc(out, bytes);
    if (e == cudaSuccess) e = cudaMemset(*out, 0, bytes);
    if (e != cudaSuccess) {
        cudaGetLastError();
        if (*out) cudaFree(*out);
        *out = NULL;
        return rr_error("arena: cannot allocate %zu bytes on the GPU: %s", bytes, cudaGetErrorString(e));
    }
    return 0;
}

extern "C" void rr_cuda_free(void *p) {
    if (!p) return;
    CUDA_CHECK(cudaDeviceSynchronize()); /* no queued kernel may still use it */
    CUDA_CHECK(cudaFree(p));
}

extern "C" void rr_cuda_synchronize(void) { CUDA_CHECK(cudaDeviceSynchronize()); }

/* cuda_backend.cu — device discovery for the CUDA backend (which device, how many). */
#include <cuda_runtime.h>
#include <string.h>

#include "cuda_backend.h"

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

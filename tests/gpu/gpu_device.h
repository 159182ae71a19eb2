/* gpu_device.h — what the GPU test programs (test_gpu_ops.c, test_gpu_model.c) ask first: how many
 * CUDA devices there are, why there are none, and the name of device 0; and the TF32 switch.
 * Header-only like test.h. */
#ifndef RR_GPU_DEVICE_H
#define RR_GPU_DEVICE_H

#include <stdio.h>

#ifdef RR_USE_CUDA
#include "cuda_backend.h"
#endif

/* The number of CUDA devices; when 0, *why says why (for the skip lines). */
static int gpu_device_count(const char **why) {
#ifdef RR_USE_CUDA
    *why = "no CUDA device (rr_cuda_device_count() == 0)";
    return rr_cuda_device_count();
#else
    *why = "this build has no CUDA backend (CUDA=0)";
    return 0;
#endif
}

/* cuBLAS TF32 tensor-core math on (1) or off (0); nothing without CUDA. */
static void set_tf32(int on) {
#ifdef RR_USE_CUDA
    rr_cuda_set_tf32(on);
#else
    (void)on;
#endif
}

/* Prints "# <test>: device 0 = <name>, <n> device(s)". */
static void gpu_print_device(const char *test, int devices) {
#ifdef RR_USE_CUDA
    char name[256];
    rr_cuda_device_name(0, name, sizeof name);
    printf("# %s: device 0 = %s, %d device(s)\n", test, name, devices);
#else
    (void)test;
    (void)devices;
#endif
}

#endif

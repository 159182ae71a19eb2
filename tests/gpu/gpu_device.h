/* gpu_device.h — what the GPU test programs (test_gpu_ops.c, test_gpu_model.c) ask first: how many
 * CUDA devices there are, why there are none, and the name of device 0; and the TF32 switch.
 * Header-only like test.h. */
#ifndef RR_GPU_DEVICE_H
#define RR_GPU_DEVICE_H

#include <stdio.h>

#include "device.h"

/* The number of CUDA devices; when 0, *why says why (for the skip lines). */
static int gpu_device_count(const char **why) {
    *why = device_cuda_compiled() ? "no CUDA device (rr_cuda_device_count() == 0)"
                                  : "this build has no CUDA backend (CUDA=0)";
    return device_cuda_count();
}

/* cuBLAS TF32 tensor-core math on (1) or off (0); nothing without CUDA. */
static void set_tf32(int on) { device_set_tf32(on); }

/* Prints "# <test>: device 0 = <name>, <n> device(s)". */
static void gpu_print_device(const char *test, int devices) {
    if (!device_cuda_compiled()) return;
    char name[256];
    device_name(RR_CUDA, name, sizeof name);
    printf("# %s: device 0 = %s, %d device(s)\n", test, name, devices);
}

#endif

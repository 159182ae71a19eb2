/* emu.h — force-included (-include) into every kernels/NAME.cu compiled as host C++ for the emulation
 * build: CUDA's function and variable qualifiers become host C++ (a __shared__ array is a static,
 * shared by the threads of the one block that runs at a time; __device__ helpers are static inline so
 * that same-named helpers of different files never merge), and the IEEE intrinsics are plain float
 * operations (one rounding each, as on the device). */
#ifndef RR_EMU_H
#define RR_EMU_H

#include <math.h>

#include "cuda_runtime.h"

#define __global__ static
#define __device__ static
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__

static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fsqrt_rn(float a) { return sqrtf(a); }

#endif

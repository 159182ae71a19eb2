/* regularize_kernels.cu — CUDA twins of the mask ops of src/regularize.c: the inverted-dropout mask
 * m[i] = 1/(1-p) where rr_keep(seed, stream, i, p) else 0 — src/rng.h's Philox functions are
 * __host__ __device__ under nvcc, so every element is bit-identical to the CPU's mask — and
 * dx += dy ⊙ mask. (y = x ⊙ mask is op_mul.) */
#include "cuda_common.cuh"

extern "C" {
#include "rng.h"
}

__global__ void dropout_mask_kernel(float *m, uint64_t seed, uint64_t stream, float p, float scale, int64_t n) {
    RR_GRID_LOOP(i, n) m[i] = rr_keep(seed, stream, (uint64_t)i, p) ? scale : 0.0f;
}

__global__ void mask_backward_kernel(const float *mask, const float *dy, float *dx, int64_t n) {
    RR_GRID_LOOP(i, n) dx[i] += dy[i] * mask[i];
}

extern "C" void reg_dropout_mask_cuda(Tensor *mask, uint64_t seed, uint64_t stream, float p) {
    const float scale = 1.0f / (1.0f - p); /* on the host, as the CPU op */
    if (mask->count == 0) return;
    dropout_mask_kernel<<<rr_blocks(mask->count), RR_THREADS>>>(mask->data, seed, stream, p, scale, mask->count);
    KERNEL_CHECK("dropout_mask_kernel");
}

extern "C" void reg_mask_backward_cuda(const Tensor *mask, const Tensor *dy, Tensor *dx) {
    if (dy->count == 0) return;
    mask_backward_kernel<<<rr_blocks(dy->count), RR_THREADS>>>(mask->data, dy->data, dx->data, dy->count);
    KERNEL_CHECK("mask_backward_kernel");
}

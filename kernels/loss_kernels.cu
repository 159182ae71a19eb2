/* loss_kernels.cu — CUDA twin of src/loss.c: Σ (pred - target)² in double through the deterministic
 * reduction of elementwise_kernels.cu (fixed launch shape and tree order; equal to the CPU's
 * sequential sum up to double rounding), and dpred += 2 (pred - target) / divisor per element with
 * the CPU's float expression (bit-identical). */
#include "cuda_common.cuh"

__global__ void mse_backward_kernel(const float *p, const float *t, float scale, float *d, int64_t n) {
    RR_GRID_LOOP(i, n) d[i] += scale * (p[i] - t[i]);
}

extern "C" double mse_sum_forward_cuda(const Tensor *pred, const Tensor *target) {
    return rr_cuda_sum_sq_diff(pred->data, target->data, pred->count);
}

extern "C" void mse_sum_backward_cuda(const Tensor *pred, const Tensor *target, double divisor, Tensor *dpred) {
    const float scale = (float)(2.0 / divisor);
    if (pred->count == 0) return;
    mse_backward_kernel<<<rr_blocks(pred->count), RR_THREADS>>>(pred->data, target->data, scale, dpred->data,
                                                                pred->count);
    KERNEL_CHECK("mse_backward_kernel");
}

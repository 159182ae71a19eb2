/* batchnorm_kernels.cu — CUDA twin of src/batchnorm.c (PyTorch BatchNorm2d semantics; equations in
 * that file). Training statistics and the backward sums: one block per channel, each thread summing
 * a fixed strided subset of the channel's B·H·W values in double, then a fixed-order tree
 * (rr_block_sum) — deterministic, and equal to the CPU's sequential double sums up to double
 * rounding. The per-element formulas are the CPU's float/double expressions verbatim. */
#include "cuda_common.cuh"

/* Offset of the i-th (s, p) element of channel ch in (B, C, HW). */
__device__ __forceinline__ int64_t bn_at(int64_t i, int ch, int C, int64_t HW) {
    return ((i / HW) * C + ch) * HW + i % HW;
}

__global__ void bn_forward_train_kernel(const float *x, const float *gamma, const float *beta, float *y,
                                        float *save_mean, float *save_invstd, float *running_mean,
                                        float *running_var, int B, int C, int64_t HW, float momentum, float eps) {
    __shared__ double sh[RR_REDUCE_THREADS];
    const int ch = blockIdx.x;
    const int64_t N = (int64_t)B * HW;
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < N; i += RR_REDUCE_THREADS) acc += x[bn_at(i, ch, C, HW)];
    const double mean = rr_block_sum(acc, sh) / (double)N;
    acc = 0.0;
    for (int64_t i = threadIdx.x; i < N; i += RR_REDUCE_THREADS) { /* two-pass variance */
        double d = x[bn_at(i, ch, C, HW)] - mean;
        acc += d * d;
    }
    const double var = rr_block_sum(acc, sh) / (double)N;
    const double invstd = 1.0 / sqrt(var + (double)eps);
    if (threadIdx.x == 0) {
        save_mean[ch] = (float)mean;
        save_invstd[ch] = (float)invstd;
        if (running_mean)
            running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + (double)momentum * mean);
        if (running_var)
            running_var[ch] = (float)((1.0 - momentum) * running_var[ch] +
                                      (double)momentum * var * (double)N / (double)(N - 1));
    }
    const double g = gamma ? gamma[ch] : 1.0, b = beta ? beta[ch] : 0.0;
    const float mean_f = (float)mean, scale = (float)(g * invstd), shift = (float)b;
    for (int64_t i = threadIdx.x; i < N; i += RR_REDUCE_THREADS) {
        const int64_t at = bn_at(i, ch, C, HW);
        y[at] = (x[at] - mean_f) * scale + shift;
    }
}

__global__ void bn_forward_eval_kernel(const float *x, const float *gamma, const float *beta, float *y,
                                       const float *running_mean, const float *running_var, int C, int64_t HW,
                                       int64_t n, float eps) {
    RR_GRID_LOOP(i, n) {
        const int ch = (int)((i / HW) % C);
        const double invstd = 1.0 / sqrt((double)running_var[ch] + (double)eps);
        const double g = gamma ? gamma[ch] : 1.0, b = beta ? beta[ch] : 0.0;
        y[i] = (x[i] - running_mean[ch]) * (float)(g * invstd) + (float)b;
    }
}

__global__ void bn_backward_kernel(const float *x, const float *gamma, const float *save_mean,
                                   const float *save_invstd, const float *dy, float *dx, float *dgamma,
                                   float *dbeta, int B, int C, int64_t HW) {
    __shared__ double sh[RR_REDUCE_THREADS];
    const int ch = blockIdx.x;
    const int64_t N = (int64_t)B * HW;
    const double mean = save_mean[ch], invstd = save_invstd[ch];
    double a_dy = 0.0, a_dy_xhat = 0.0;
    for (int64_t i = threadIdx.x; i < N; i += RR_REDUCE_THREADS) {
        const int64_t at = bn_at(i, ch, C, HW);
        a_dy += dy[at];
        a_dy_xhat += dy[at] * ((x[at] - mean) * invstd);
    }
    const double sum_dy = rr_block_sum(a_dy, sh);
    const double sum_dy_xhat = rr_block_sum(a_dy_xhat, sh);
    if (threadIdx.x == 0) {
        if (dbeta) dbeta[ch] += (float)sum_dy;
        if (dgamma) dgamma[ch] += (float)sum_dy_xhat;
    }
    if (!dx) return;
    const float k = (float)((gamma ? gamma[ch] : 1.0) * invstd), mu = save_mean[ch], is = save_invstd[ch];
    const float mean_dy = (float)(sum_dy / (double)N), mean_dy_xhat = (float)(sum_dy_xhat / (double)N);
    for (int64_t i = threadIdx.x; i < N; i += RR_REDUCE_THREADS) {
        const int64_t at = bn_at(i, ch, C, HW);
        dx[at] += k * (dy[at] - mean_dy - (x[at] - mu) * is * mean_dy_xhat);
    }
}


extern "C" void batchnorm_forward_train_cuda(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                             Tensor *save_mean, Tensor *save_invstd, Tensor *running_mean,
                                             Tensor *running_var, float momentum, float eps) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3];
    if (C == 0) return;
    bn_forward_train_kernel<<<C, RR_REDUCE_THREADS>>>(x->data, D(gamma), D(beta), y->data, save_mean->data,
                                                      save_invstd->data, D(running_mean), D(running_var), B,
                                                      C, HW, momentum, eps);
    KERNEL_CHECK("bn_forward_train_kernel");
}

extern "C" void batchnorm_forward_eval_cuda(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                            const Tensor *running_mean, const Tensor *running_var, float eps) {
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3];
    if (x->count == 0) return;
    bn_forward_eval_kernel<<<rr_blocks(x->count), RR_THREADS>>>(x->data, D(gamma), D(beta), y->data,
                                                                running_mean->data, running_var->data,
                                                                x->shape[1], HW, x->count, eps);
    KERNEL_CHECK("bn_forward_eval_kernel");
}

extern "C" void batchnorm_backward_cuda(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                                        const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                                        Tensor *dbeta) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3];
    if (C == 0) return;
    bn_backward_kernel<<<C, RR_REDUCE_THREADS>>>(x->data, D(gamma), save_mean->data, save_invstd->data,
                                                 dy->data, D(dx), D(dgamma), D(dbeta), B, C, HW);
    KERNEL_CHECK("bn_backward_kernel");
}

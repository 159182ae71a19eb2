/* layernorm_kernels.cu — CUDA twin of src/layernorm.c (PredRNN++ tensor layer norm, layernorm.h):
 * per-sample statistics over (C, H, W) in double — one block per sample, two passes (mean, then mean
 * squared deviation, as tf.nn.moments), fixed-order trees — then one thread per element for the
 * affine map; backward sums per channel (dgamma, dbeta: one block per channel) and per sample (the
 * two means of dx: one block per sample, into the backend workspace), then one thread per element.
 * Element formulas are the CPU's float/double expressions verbatim. */
#include <math.h>

#include "cuda_common.cuh"

__global__ void ln_stats_kernel(const float *x, int64_t N, float eps, float *save_mean, float *save_invstd) {
    __shared__ double sh[RR_REDUCE_THREADS];
    const int b = blockIdx.x;
    const float *xb = x + (int64_t)b * N;
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < N; i += RR_REDUCE_THREADS) acc += xb[i];
    const double mean = rr_block_sum(acc, sh) / (double)N;
    acc = 0.0;
    for (int64_t i = threadIdx.x; i < N; i += RR_REDUCE_THREADS) {
        double d = xb[i] - mean;
        acc += d * d;
    }
    const double q = rr_block_sum(acc, sh);
    if (threadIdx.x == 0) {
        save_mean[b] = (float)mean;
        save_invstd[b] = (float)(1.0 / sqrt(q / (double)N + (double)eps));
    }
}

__global__ void ln_apply_kernel(const float *x, const float *gamma, const float *beta, const float *save_mean,
                                const float *save_invstd, float *y, int C, int64_t HW, int64_t n) {
    RR_GRID_LOOP(i, n) {
        const int64_t r = i / HW;
        const int b = (int)(r / C), c = (int)(r % C);
        y[i] = (x[i] - save_mean[b]) * save_invstd[b] * gamma[c] + beta[c];
    }
}

/* dgamma[c] += Σ_{b,p} dy x̂, dbeta[c] += Σ_{b,p} dy; one block per channel. */
__global__ void ln_param_grad_kernel(const float *x, const float *save_mean, const float *save_invstd,
                                     const float *dy, float *dgamma, float *dbeta, int B, int C, int64_t HW) {
    __shared__ double sh[RR_REDUCE_THREADS];
    const int c = blockIdx.x;
    const int64_t n = (int64_t)B * HW;
    double sg = 0.0, sb = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += RR_REDUCE_THREADS) {
        const int b = (int)(i / HW);
        const int64_t at = ((int64_t)b * C + c) * HW + i % HW;
        const float mean = save_mean[b], inv = save_invstd[b];
        sg += (double)dy[at] * ((x[at] - mean) * inv);
        sb += dy[at];
    }
    sg = rr_block_sum(sg, sh);
    sb = rr_block_sum(sb, sh);
    if (threadIdx.x == 0) {
        if (dgamma) dgamma[c] += (float)sg;
        if (dbeta) dbeta[c] += (float)sb;
    }
}

/* means[2b], means[2b+1] = mean(g), mean(g x̂) over sample b, g = gamma[c] dy; one block per sample. */
__global__ void ln_dx_means_kernel(const float *x, const float *gamma, const float *save_mean,
                                   const float *save_invstd, const float *dy, int64_t HW, int64_t N, float *means) {
    __shared__ double sh[RR_REDUCE_THREADS];
    const int b = blockIdx.x;
    const float mean = save_mean[b], inv = save_invstd[b];
    const float *xb = x + (int64_t)b * N, *dyb = dy + (int64_t)b * N;
    double s1 = 0.0, s2 = 0.0;
    for (int64_t i = threadIdx.x; i < N; i += RR_REDUCE_THREADS) {
        const double g = (double)gamma[i / HW] * dyb[i];
        s1 += g;
        s2 += g * ((xb[i] - mean) * inv);
    }
    s1 = rr_block_sum(s1, sh);
    s2 = rr_block_sum(s2, sh);
    if (threadIdx.x == 0) {
        means[2 * b] = (float)(s1 / (double)N);
        means[2 * b + 1] = (float)(s2 / (double)N);
    }
}

__global__ void ln_dx_kernel(const float *x, const float *gamma, const float *save_mean, const float *save_invstd,
                             const float *dy, const float *means, float *dx, int C, int64_t HW, int64_t n) {
    RR_GRID_LOOP(i, n) {
        const int64_t r = i / HW;
        const int b = (int)(r / C), c = (int)(r % C);
        const float mean = save_mean[b], inv = save_invstd[b], m1 = means[2 * b], m2 = means[2 * b + 1];
        const float xhat = (x[i] - mean) * inv;
        dx[i] += inv * (gamma[c] * dy[i] - m1 - xhat * m2);
    }
}

extern "C" void tensor_layernorm_forward_cuda(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                              Tensor *save_mean, Tensor *save_invstd, float eps) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    if (B == 0 || N == 0) return;
    ln_stats_kernel<<<B, RR_REDUCE_THREADS>>>(x->data, N, eps, save_mean->data, save_invstd->data);
    KERNEL_CHECK("ln_stats_kernel");
    ln_apply_kernel<<<rr_blocks(x->count), RR_THREADS>>>(x->data, gamma->data, beta->data, save_mean->data,
                                                         save_invstd->data, y->data, C, HW, x->count);
    KERNEL_CHECK("ln_apply_kernel");
}

extern "C" void tensor_layernorm_backward_cuda(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                                               const Tensor *save_invstd, const Tensor *dy, Tensor *dx,
                                               Tensor *dgamma, Tensor *dbeta) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    if (B == 0 || N == 0) return;
    if (dgamma || dbeta) {
        ln_param_grad_kernel<<<C, RR_REDUCE_THREADS>>>(x->data, save_mean->data, save_invstd->data, dy->data,
                                                       dgamma ? dgamma->data : NULL, dbeta ? dbeta->data : NULL, B,
                                                       C, HW);
        KERNEL_CHECK("ln_param_grad_kernel");
    }
    if (!dx) return;
    float *means = (float *)rr_cuda_workspace(sizeof(float) * 2 * (size_t)B);
    ln_dx_means_kernel<<<B, RR_REDUCE_THREADS>>>(x->data, gamma->data, save_mean->data, save_invstd->data, dy->data,
                                                 HW, N, means);
    KERNEL_CHECK("ln_dx_means_kernel");
    ln_dx_kernel<<<rr_blocks(x->count), RR_THREADS>>>(x->data, gamma->data, save_mean->data, save_invstd->data,
                                                      dy->data, means, dx->data, C, HW, x->count);
    KERNEL_CHECK("ln_dx_kernel");
}

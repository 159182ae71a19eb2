/* conv_kernels.cu — CUDA twin of src/conv.c: 2-D convolution (stride 1, zero "same" padding, odd k)
 * as im2col + cublasSgemm per sample, the same decomposition and scratch as the CPU backend
 * (Chellapilla, Puri & Simard 2006; the Caffe/Darknet im2col layout):
 *   col_b (K × HW), K = Cin·k·k:  y_b (Cout × HW) (+)= W (Cout × K) · col_b  (+ bias first)
 *   dW += dy_b · col_bᵀ;  dcol_b = Wᵀ · dy_b, then col2im adds dcol_b into dx_b;  db += Σ dy
 * cuBLAS is column-major: a row-major C = op(A)·op(B) is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so
 * rr_cuda_sgemm swaps the operands and the M/N roles (a row-major matrix with leading dimension ld is
 * its own transpose in column-major with the same ld). FP32 by default; TF32 tensor-core math when
 * rr_cuda_set_tf32(1). */
#include "cuda_common.cuh"

extern "C" void rr_cuda_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                              int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    CUBLAS_CHECK(cublasSgemm(rr_cuda_cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                             trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda, &beta, C,
                             ldc));
}

/* col (C·k·k rows × HW) from one sample x (C, H, W); one thread per col element. */
__global__ void im2col_kernel(const float *x, int C, int H, int W, int k, float *col) {
    const int pad = k / 2, HW = H * W;
    const int64_t n = (int64_t)C * k * k * HW;
    RR_GRID_LOOP(i, n) {
        const int r = (int)(i / HW), q = (int)(i % HW);
        const int h = q / W, w = q % W;
        const int c = r / (k * k), ki = (r / k) % k, kj = r % k;
        const int ih = h + ki - pad, iw = w + kj - pad;
        col[i] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[(int64_t)c * HW + ih * W + iw] : 0.0f;
    }
}

/* dx (C, H, W) += col2im(dcol); one thread per dx element, adding its k·k contributions in the
 * CPU's (ki, kj) order onto the old value, so the float sums round exactly as src/conv.c's. */
__global__ void col2im_add_kernel(const float *dcol, int C, int H, int W, int k, float *dx) {
    const int pad = k / 2, HW = H * W;
    const int64_t n = (int64_t)C * HW;
    RR_GRID_LOOP(i, n) {
        const int c = (int)(i / HW), q = (int)(i % HW);
        const int ih = q / W, iw = q % W;
        float acc = dx[i];
        for (int ki = 0; ki < k; ki++) {
            const int h = ih - ki + pad;
            if (h < 0 || h >= H) continue;
            for (int kj = 0; kj < k; kj++) {
                const int w = iw - kj + pad;
                if (w < 0 || w >= W) continue;
                acc += dcol[((int64_t)(c * k + ki) * k + kj) * HW + h * W + w];
            }
        }
        dx[i] = acc;
    }
}

/* y (B, Cout, HW) = bias[co] (accumulate 0) or += bias[co] (accumulate 1). */
__global__ void bias_fill_kernel(float *y, const float *bias, int Cout, int HW, int64_t n, int accumulate) {
    RR_GRID_LOOP(i, n) {
        const float b = bias[(i / HW) % Cout];
        y[i] = accumulate ? y[i] + b : b;
    }
}

/* db[co] += Σ_{s, p} dy[s, co, p] in double; one block per channel, fixed-order tree. */
__global__ void bias_grad_kernel(const float *dy, int B, int Cout, int HW, float *db) {
    __shared__ double sh[RR_REDUCE_THREADS];
    const int co = blockIdx.x;
    const int64_t n = (int64_t)B * HW;
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += RR_REDUCE_THREADS) {
        const int64_t s = i / HW, p = i % HW;
        acc += dy[(s * Cout + co) * HW + p];
    }
    acc = rr_block_sum(acc, sh);
    if (threadIdx.x == 0) db[co] += (float)acc;
}

extern "C" void conv2d_forward_cuda(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                                    float *scratch) {
    const int B = x->shape[0], Cin = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int Cout = w->shape[0], k = w->shape[2], K = Cin * k * k, HW = H * W;
    const float beta = (accumulate || b) ? 1.0f : 0.0f;
    if (b && y->count > 0) {
        bias_fill_kernel<<<rr_blocks(y->count), RR_THREADS>>>(y->data, b->data, Cout, HW, y->count, accumulate);
        KERNEL_CHECK("bias_fill_kernel");
    }
    for (int s = 0; s < B; s++) {
        const float *xs = x->data + (int64_t)s * Cin * HW;
        float *ys = y->data + (int64_t)s * Cout * HW;
        const float *col = xs;
        if (k > 1) {
            im2col_kernel<<<rr_blocks((int64_t)K * HW), RR_THREADS>>>(xs, Cin, H, W, k, scratch);
            KERNEL_CHECK("im2col_kernel");
            col = scratch;
        }
        rr_cuda_sgemm(0, 0, Cout, HW, K, 1.0f, w->data, K, col, HW, beta, ys, HW);
    }
}

extern "C" void conv2d_backward_cuda(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw,
                                     Tensor *db, float *scratch) {
    const int B = x->shape[0], Cin = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int Cout = w->shape[0], k = w->shape[2], K = Cin * k * k, HW = H * W;
    if (db && Cout > 0) {
        bias_grad_kernel<<<Cout, RR_REDUCE_THREADS>>>(dy->data, B, Cout, HW, db->data);
        KERNEL_CHECK("bias_grad_kernel");
    }
    if (!dx && !dw) return;
    for (int s = 0; s < B; s++) {
        const float *xs = x->data + (int64_t)s * Cin * HW;
        const float *dys = dy->data + (int64_t)s * Cout * HW;
        if (k == 1) {
            if (dw) rr_cuda_sgemm(0, 1, Cout, Cin, HW, 1.0f, dys, HW, xs, HW, 1.0f, dw->data, Cin);
            if (dx) rr_cuda_sgemm(1, 0, Cin, HW, Cout, 1.0f, w->data, Cin, dys, HW, 1.0f,
                                  dx->data + (int64_t)s * Cin * HW, HW);
            continue;
        }
        if (dw) {
            im2col_kernel<<<rr_blocks((int64_t)K * HW), RR_THREADS>>>(xs, Cin, H, W, k, scratch);
            KERNEL_CHECK("im2col_kernel");
            rr_cuda_sgemm(0, 1, Cout, K, HW, 1.0f, dys, HW, scratch, HW, 1.0f, dw->data, K);
        }
        if (dx) {
            rr_cuda_sgemm(1, 0, K, HW, Cout, 1.0f, w->data, K, dys, HW, 0.0f, scratch, HW);
            col2im_add_kernel<<<rr_blocks((int64_t)Cin * HW), RR_THREADS>>>(scratch, Cin, H, W, k,
                                                                          dx->data + (int64_t)s * Cin * HW);
            KERNEL_CHECK("col2im_add_kernel");
        }
    }
}

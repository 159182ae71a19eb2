/* conv_kernels.cu — CUDA twin of src/conv.c: 2-D convolution (stride 1, zero "same" padding, odd k)
 * as im2col + cuBLAS sgemm (Chellapilla, Puri & Simard 2006; the Caffe/Darknet im2col layout), the
 * same decomposition as the CPU backend but over CHUNKS of S samples at once, so that a convolution is
 * a handful of launches instead of two per sample:
 *   col (K × S·HW), K = Cin·k·k: row (ci, ki, kj), column s·HW + (h, w) = x[s, ci, h+ki-pad, w+kj-pad]
 *   forward   y_s (Cout × HW) (+)= W (Cout × K) · col[:, s·HW : (s+1)·HW]   one strided-batched sgemm
 *             (bias first, then beta = 1); for k = 1 the product reads x_s directly (no im2col)
 *   backward  dW (Cout × K) += dyT (Cout × S'·HW) · col[:, S' samples]ᵀ     dyT = dy transposed to
 *             channel-major over the S' samples (one sgemm whose inner dimension is S'·HW; S' < 2
 *             falls back to one sgemm per sample, straight from dy)
 *             dcol (K × S·HW) = Wᵀ · dy_s per sample (strided-batched), then col2im adds it into dx
 *             (for k = 1: dx_s += Wᵀ · dy_s directly);  db += Σ dy (fixed-order per-channel tree)
 * Scratch (conv2d_scratch_floats on a CUDA tensor → conv2d_scratch_floats_cuda): two regions of
 * S·K·HW floats, col/dcol and dyT, with S = rr_cuda_conv_chunk(B, K·HW) (chunks of at most
 * rr_cuda_conv_chunk_floats = RR_CONV_CHUNK_FLOATS floats per region; tests lower it to exercise the
 * chunk and sub-chunk loops). dcol reuses the col region after the dW products, which
 * the stream orders before it.
 * cuBLAS is column-major: a row-major C = op(A)·op(B) is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so
 * rr_cuda_sgemm(_strided) swap the operands and the M/N roles (a row-major matrix with leading
 * dimension ld is its own transpose in column-major with the same ld). FP32 by default; TF32
 * tensor-core math when rr_cuda_set_tf32(1). Products are reduced in cuBLAS's order (not the CPU's):
 * results agree with the CPU to float rounding, and are deterministic (atomics disallowed on the
 * handle, fixed shapes → fixed kernels). */
#include "cuda_common.cuh"

extern "C" void rr_cuda_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                              int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    CUBLAS_CHECK(cublasSgemm(rr_cuda_cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                             trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda, &beta, C,
                             ldc));
}

/* `batch` row-major products C_i = alpha op(A_i) op(B_i) + beta C_i with X_i = X + i·strideX (a stride
 * of 0 shares one matrix), as rr_cuda_sgemm. */
static void rr_cuda_sgemm_strided(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                                  int lda, long long strideA, const float *B, int ldb, long long strideB,
                                  float beta, float *C, int ldc, long long strideC, int batch) {
    if (M <= 0 || N <= 0 || batch <= 0) return;
    if (batch == 1) {
        rr_cuda_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    CUBLAS_CHECK(cublasSgemmStridedBatched(rr_cuda_cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                           trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, strideB,
                                           A, lda, strideA, &beta, C, ldc, strideC, batch));
}

int64_t rr_cuda_conv_chunk_floats = RR_CONV_CHUNK_FLOATS; /* C linkage: declared in cuda_ops.h */

extern "C" int rr_cuda_conv_chunk(int B, int64_t khw) {
    int64_t s = khw > 0 ? rr_cuda_conv_chunk_floats / khw : B;
    if (s < 1) s = 1;
    return (int)(s < B ? s : B);
}

extern "C" int64_t conv2d_scratch_floats_cuda(const Tensor *x, int k) {
    const int64_t khw = (int64_t)x->shape[1] * k * k * x->shape[2] * x->shape[3];
    return 2 * (int64_t)rr_cuda_conv_chunk(x->shape[0], khw) * khw;
}

/* col (K rows × S·HW) of samples x[0..S) (S, C, H, W); one thread per col element. */
__global__ void im2col_kernel(const float *x, int S, int C, int H, int W, int k, float *col) {
    const int pad = k / 2;
    const int64_t HW = (int64_t)H * W, SHW = S * HW, n = (int64_t)C * k * k * SHW;
    RR_GRID_LOOP(i, n) {
        const int64_t r = i / SHW, sq = i % SHW, s = sq / HW, q = sq % HW;
        const int h = (int)(q / W), w = (int)(q % W);
        const int c = (int)(r / (k * k)), ki = (int)((r / k) % k), kj = (int)(r % k);
        const int ih = h + ki - pad, iw = w + kj - pad;
        col[i] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[(s * C + c) * HW + (int64_t)ih * W + iw] : 0.0f;
    }
}

/* dx (S, C, H, W) += col2im(dcol (K × S·HW)); one thread per dx element, adding its k·k contributions
 * in the CPU's (ki, kj) order onto the old value, so each float sum rounds as src/conv.c's. */
__global__ void col2im_add_kernel(const float *dcol, int S, int C, int H, int W, int k, float *dx) {
    const int pad = k / 2;
    const int64_t HW = (int64_t)H * W, SHW = S * HW, n = (int64_t)S * C * HW;
    RR_GRID_LOOP(i, n) {
        const int64_t s = i / ((int64_t)C * HW), c = (i / HW) % C, q = i % HW;
        const int ih = (int)(q / W), iw = (int)(q % W);
        float acc = dx[i];
        for (int ki = 0; ki < k; ki++) {
            const int h = ih - ki + pad;
            if (h < 0 || h >= H) continue;
            for (int kj = 0; kj < k; kj++) {
                const int w = iw - kj + pad;
                if (w < 0 || w >= W) continue;
                acc += dcol[((c * k + ki) * k + kj) * SHW + s * HW + (int64_t)h * W + w];
            }
        }
        dx[i] = acc;
    }
}

/* dyT (Cout × S·HW) from dy (S, Cout, HW); one thread per element. */
__global__ void channel_major_kernel(const float *dy, int S, int Cout, int64_t HW, float *dyT) {
    const int64_t SHW = S * HW, n = (int64_t)Cout * SHW;
    RR_GRID_LOOP(i, n) {
        const int64_t co = i / SHW, s = (i % SHW) / HW, q = i % HW;
        dyT[i] = dy[(s * Cout + co) * HW + q];
    }
}

/* y (B, C, HW) = bias[c] (accumulate 0) or += bias[c] (accumulate 1). */
__global__ void bias_fill_kernel(float *y, const float *bias, int C, int64_t HW, int64_t n, int accumulate) {
    RR_GRID_LOOP(i, n) {
        const float b = bias[(i / HW) % C];
        y[i] = accumulate ? y[i] + b : b;
    }
}

/* db[c] += Σ_{s, p} dy[s, c, p] in double; one block per channel, fixed-order tree. */
__global__ void bias_grad_kernel(const float *dy, int B, int C, int64_t HW, float *db) {
    __shared__ double sh[RR_REDUCE_THREADS];
    const int c = blockIdx.x;
    const int64_t n = (int64_t)B * HW;
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += RR_REDUCE_THREADS) {
        const int64_t s = i / HW, p = i % HW;
        acc += dy[(s * C + c) * HW + p];
    }
    acc = rr_block_sum(acc, sh);
    if (threadIdx.x == 0) db[c] += (float)acc;
}

void rr_cuda_bias_add(float *y, const float *bias, int C, int64_t HW, int64_t n, int accumulate) {
    if (n <= 0) return;
    bias_fill_kernel<<<rr_blocks(n), RR_THREADS>>>(y, bias, C, HW, n, accumulate);
    KERNEL_CHECK("bias_fill_kernel");
}

void rr_cuda_bias_grad(const float *dy, int B, int C, int64_t HW, float *db) {
    if (C <= 0) return;
    bias_grad_kernel<<<C, RR_REDUCE_THREADS>>>(dy, B, C, HW, db);
    KERNEL_CHECK("bias_grad_kernel");
}

static void im2col(const float *x, int S, int C, int H, int W, int k, float *col) {
    const int64_t n = (int64_t)S * C * k * k * H * W;
    if (n <= 0) return;
    im2col_kernel<<<rr_blocks(n), RR_THREADS>>>(x, S, C, H, W, k, col);
    KERNEL_CHECK("im2col_kernel");
}

extern "C" void conv2d_forward_cuda(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                                    float *scratch) {
    const int B = x->shape[0], Cin = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int Cout = w->shape[0], k = w->shape[2], K = Cin * k * k, HW = H * W;
    const float beta = (accumulate || b) ? 1.0f : 0.0f;
    if (y->count == 0) return;
    if (b) rr_cuda_bias_add(y->data, b->data, Cout, HW, y->count, accumulate);
    if (k == 1) { /* y_s (+)= W · x_s for every sample in one batched product */
        rr_cuda_sgemm_strided(0, 0, Cout, HW, K, 1.0f, w->data, K, 0, x->data, HW, (long long)Cin * HW, beta,
                              y->data, HW, (long long)Cout * HW, B);
        return;
    }
    const int S = rr_cuda_conv_chunk(B, (int64_t)K * HW);
    for (int s0 = 0; s0 < B; s0 += S) {
        const int n = B - s0 < S ? B - s0 : S;
        im2col(x->data + (int64_t)s0 * Cin * HW, n, Cin, H, W, k, scratch);
        rr_cuda_sgemm_strided(0, 0, Cout, HW, K, 1.0f, w->data, K, 0, scratch, n * HW, HW, beta,
                              y->data + (int64_t)s0 * Cout * HW, HW, (long long)Cout * HW, n);
    }
}

extern "C" void conv2d_backward_cuda(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw,
                                     Tensor *db, float *scratch) {
    const int B = x->shape[0], Cin = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int Cout = w->shape[0], k = w->shape[2], K = Cin * k * k, HW = H * W;
    if (B == 0) return;
    if (db) rr_cuda_bias_grad(dy->data, B, Cout, HW, db->data);
    if (!dx && !dw) return;
    if (k == 1 && dx) /* dx_s += Wᵀ · dy_s, all samples in one batched product */
        rr_cuda_sgemm_strided(1, 0, Cin, HW, Cout, 1.0f, w->data, Cin, 0, dy->data, HW, (long long)Cout * HW, 1.0f,
                              dx->data, HW, (long long)Cin * HW, B);
    if (k == 1 && dw && !scratch) { /* no workspace: one product per sample, x_s is its own col */
        for (int s = 0; s < B; s++)
            rr_cuda_sgemm(0, 1, Cout, Cin, HW, 1.0f, dy->data + (int64_t)s * Cout * HW, HW,
                          x->data + (int64_t)s * Cin * HW, HW, 1.0f, dw->data, Cin);
        return;
    }
    if (k == 1 && !dw) return;
    const int S = rr_cuda_conv_chunk(B, (int64_t)K * HW);
    for (int s0 = 0; s0 < B; s0 += S) {
        const int n = B - s0 < S ? B - s0 : S;
        const float *xs = x->data + (int64_t)s0 * Cin * HW, *dys = dy->data + (int64_t)s0 * Cout * HW;
        float *col = scratch, *dyT = scratch + (int64_t)n * K * HW; /* two regions of n·K·HW floats */
        if (dw) {
            im2col(xs, n, Cin, H, W, k, col);
            /* dyT holds n·K·HW floats: sub-chunks of n2 samples, Cout·n2·HW <= n·K·HW */
            const int n2 = (int)((int64_t)n * K / Cout < n ? (int64_t)n * K / Cout : n);
            if (n2 >= 2) {
                for (int s1 = 0; s1 < n; s1 += n2) {
                    const int m = n - s1 < n2 ? n - s1 : n2;
                    const int64_t cnt = (int64_t)Cout * m * HW;
                    channel_major_kernel<<<rr_blocks(cnt), RR_THREADS>>>(dys + (int64_t)s1 * Cout * HW, m, Cout, HW,
                                                                         dyT);
                    KERNEL_CHECK("channel_major_kernel");
                    rr_cuda_sgemm(0, 1, Cout, K, m * HW, 1.0f, dyT, m * HW, col + (int64_t)s1 * HW, n * HW, 1.0f,
                                  dw->data, K);
                }
            } else {
                for (int s = 0; s < n; s++)
                    rr_cuda_sgemm(0, 1, Cout, K, HW, 1.0f, dys + (int64_t)s * Cout * HW, HW, col + (int64_t)s * HW,
                                  n * HW, 1.0f, dw->data, K);
            }
        }
        if (dx && k > 1) { /* dcol_s = Wᵀ · dy_s into the col region (after the dW products), then col2im */
            rr_cuda_sgemm_strided(1, 0, K, HW, Cout, 1.0f, w->data, K, 0, dys, HW, (long long)Cout * HW, 0.0f, col,
                                  n * HW, HW, n);
            const int64_t cnt = (int64_t)n * Cin * HW;
            col2im_add_kernel<<<rr_blocks(cnt), RR_THREADS>>>(col, n, Cin, H, W, k, dx->data + (int64_t)s0 * Cin * HW);
            KERNEL_CHECK("col2im_add_kernel");
        }
    }
}

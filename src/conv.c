/* conv.c — 2-D convolution (stride 1, zero "same" padding, odd k; PyTorch weight layout
 * (Cout, Cin, k, k)), forward and backward, as im2col + sgemm (Chellapilla, Puri & Simard 2006,
 * "High performance convolutional neural networks for document processing"; the Caffe/Darknet
 * im2col layout).
 *
 * Per sample b, with K = Cin·k·k and HW = H·W:
 *   col_b (K × HW): row (ci, ki, kj), column (h, w) holds x[b, ci, h + ki - pad, w + kj - pad] (0 outside)
 *   forward   y_b (Cout × HW)  (+)= W (Cout × K) · col_b           (+ bias per row)
 *   backward  dW  (Cout × K)   += dy_b (Cout × HW) · col_bᵀ
 *             dcol_b (K × HW)   = Wᵀ · dy_b, then col2im adds dcol_b into dx_b
 *             db (Cout)        += Σ_{b,h,w} dy
 * For k == 1, col_b is x_b itself (no copy).
 * Scratch: one col_b (K × HW floats), reused for dcol_b in the backward pass (CPU tensors; the CUDA
 * twin, kernels/conv_kernels.cu, works on chunks of samples and sizes its own).
 * One sgemm per sample: for 16×16 maps (HW = 256) the products are still 256 × 256 × K with K ≥ 1600,
 * large enough for OpenBLAS. Batching all samples into one product (col of K × B·HW, output
 * Cout × B·HW, then a scatter to NCHW) measured 0.6-0.8× as fast on 2 cores (larger working set, an
 * extra pass) and needs Cout·B·HW more scratch (tests/bench_ops.c has the benchmark).
 * im2col/col2im are parallel over rows/channels with OpenMP when ops_use_openmp() allows it; every
 * output element is written by one thread in a fixed order, so results do not depend on the thread
 * count beyond what sgemm does. */
#include <string.h>

#include "blas.h"
#include "ops_internal.h"

RRSgemmFn conv_sgemm = rr_sgemm;

/* The engine of the CPU entries: this file's im2col path, unless the build has oneDNN's
 * (conv_onednn.c defines the three functions then). */
#ifndef RR_USE_ONEDNN
const char *conv_cpu_engine(void) { return "im2col"; }

void cpu_conv2d_forward(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                        float *scratch) {
    conv2d_forward_im2col(x, w, b, y, accumulate, scratch);
}

void cpu_conv2d_backward(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw, Tensor *db,
                         float *scratch) {
    conv2d_backward_im2col(x, w, dy, dx, dw, db, scratch);
}
#endif

static void conv_check(const char *op, const Tensor *x, const Tensor *w, const Tensor *b, const Tensor *y) {
    require_4d(op, "x", x);
    require_4d(op, "w", w);
    require_4d(op, "y", y);
    require_device(op, x);
    require_device(op, w);
    require_device(op, b);
    require_device(op, y);
    int k = w->shape[2];
    int ok = w->shape[3] == k && k % 2 == 1 && w->shape[1] == x->shape[1] && y->shape[0] == x->shape[0] &&
             y->shape[1] == w->shape[0] && y->shape[2] == x->shape[2] && y->shape[3] == x->shape[3] &&
             (!b || (b->count == w->shape[0]));
    if (!ok) {
        char sx[96], sw[96], sb[96], sy[96];
        rr_die("%s: shapes do not fit x (B, Cin, H, W), w (Cout, Cin, k, k) with k odd, b (Cout), "
               "y (B, Cout, H, W): x %s, w %s, b %s, y %s", op, tensor_shape_str(x, sx, sizeof sx),
               tensor_shape_str(w, sw, sizeof sw), b ? tensor_shape_str(b, sb, sizeof sb) : "NULL",
               tensor_shape_str(y, sy, sizeof sy));
    }
}

/* The workspace follows the device x will run on: the CUDA twin's is chunked (conv_kernels.cu). No
 * other checks: planning passes tensors without data. */
int conv2d_scratch_floats_check(const Tensor *x, int k) {
    (void)k;
    return x->device == RR_CUDA && device_cuda_compiled() ? RR_CUDA : RR_CPU;
}

int64_t cpu_conv2d_scratch_floats(const Tensor *x, int k) {
    if (k <= 1) return 0;
    return (int64_t)x->shape[1] * k * k * x->shape[2] * x->shape[3];
}

/* col (C·k·k rows of H·W, row stride ldcol) from one sample x (C, H, W). */
static void im2col(const float *x, int C, int H, int W, int k, float *col, int64_t ldcol) {
    const int pad = k / 2, rows = C * k * k;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && rows * H * W > 32768)
    for (int r = 0; r < rows; r++) {
        const int c = r / (k * k), ki = (r / k) % k, kj = r % k;
        const int dj = kj - pad;                               /* input column = w + dj */
        const int w0 = dj < 0 ? -dj : 0, w1 = dj > 0 ? W - dj : W; /* valid w in [w0, w1) */
        const float *xc = x + (int64_t)c * H * W;
        float *dst = col + r * ldcol;
        for (int h = 0; h < H; h++) {
            const int ih = h + ki - pad;
            float *d = dst + (int64_t)h * W;
            if (ih < 0 || ih >= H || w1 <= w0) {
                memset(d, 0, sizeof(float) * (size_t)W);
                continue;
            }
            const float *s = xc + (int64_t)ih * W + dj;
            for (int w = 0; w < w0; w++) d[w] = 0.0f;
            memcpy(d + w0, s + w0, sizeof(float) * (size_t)(w1 - w0));
            for (int w = w1; w < W; w++) d[w] = 0.0f;
        }
    }
}

/* dx (C, H, W) += col2im(dcol): the adjoint of im2col. Parallel over channels; each dx element
 * sums its k·k contributions in (ki, kj) order. */
static void col2im_add(const float *dcol, int C, int H, int W, int k, int64_t ldcol, float *dx) {
    const int pad = k / 2;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && C * k * k * H * W > 32768)
    for (int c = 0; c < C; c++) {
        float *dxc = dx + (int64_t)c * H * W;
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                const int dj = kj - pad;
                const int w0 = dj < 0 ? -dj : 0, w1 = dj > 0 ? W - dj : W;
                const float *src = dcol + ((int64_t)(c * k + ki) * k + kj) * ldcol;
                for (int h = 0; h < H; h++) {
                    const int ih = h + ki - pad;
                    if (ih < 0 || ih >= H) continue;
                    float *d = dxc + (int64_t)ih * W + dj;
                    const float *s = src + (int64_t)h * W;
                    for (int w = w0; w < w1; w++) d[w] += s[w];
                }
            }
    }
}

int conv2d_forward_check(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                         float *scratch) {
    (void)accumulate;
    conv_check("conv2d_forward", x, w, b, y);
    const int k = w->shape[2];
    if (k > 1 && !scratch) rr_die("conv2d_forward: k = %d needs scratch", k);
    return ops_device("conv2d_forward", x, w, b, y);
}

void conv2d_forward_im2col(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int accumulate,
                           float *scratch) {
    const int B = x->shape[0], Cin = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int Cout = w->shape[0], k = w->shape[2], K = Cin * k * k, HW = H * W;
    const float beta = (accumulate || b) ? 1.0f : 0.0f;
    for (int s = 0; s < B; s++) {
        const float *xs = x->data + (int64_t)s * Cin * HW;
        float *ys = y->data + (int64_t)s * Cout * HW;
        const float *col = xs;
        if (k > 1) {
            im2col(xs, Cin, H, W, k, scratch, HW);
            col = scratch;
        }
        if (b) /* y (+)= bias first, then the product is added with beta = 1 */
            for (int co = 0; co < Cout; co++) {
                float *row = ys + (int64_t)co * HW, bias = b->data[co];
                if (accumulate)
                    for (int p = 0; p < HW; p++) row[p] += bias;
                else
                    for (int p = 0; p < HW; p++) row[p] = bias;
            }
        conv_sgemm(0, 0, Cout, HW, K, 1.0f, w->data, K, col, HW, beta, ys, HW);
    }
}

int conv2d_backward_check(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw, Tensor *db,
                          float *scratch) {
    conv_check("conv2d_backward", x, w, NULL, dy);
    if (dx) {
        require_device("conv2d_backward", dx);
        require_same_shape("conv2d_backward (dx vs x)", dx, x);
    }
    if (dw) {
        require_device("conv2d_backward", dw);
        require_same_count("conv2d_backward (dw vs w)", dw, w);
    }
    if (db) {
        require_device("conv2d_backward", db);
        if (db->count != w->shape[0]) rr_die("conv2d_backward: db has %lld elements, Cout is %d",
                                             (long long)db->count, w->shape[0]);
    }
    const int k = w->shape[2];
    if (k > 1 && (dx || dw) && !scratch) rr_die("conv2d_backward: k = %d needs scratch", k);
    return ops_device("conv2d_backward", x, w, dy, dx, dw, db);
}

void conv2d_backward_im2col(const Tensor *x, const Tensor *w, const Tensor *dy, Tensor *dx, Tensor *dw,
                            Tensor *db, float *scratch) {
    const int B = x->shape[0], Cin = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int Cout = w->shape[0], k = w->shape[2], K = Cin * k * k, HW = H * W;
    if (db) { /* per channel, double sum over (b, h, w) in a fixed order */
#pragma omp parallel for schedule(static) if (ops_use_openmp() && (int64_t)B * Cout * HW > 65536)
        for (int co = 0; co < Cout; co++) {
            double acc = 0.0;
            for (int s = 0; s < B; s++) {
                const float *row = dy->data + ((int64_t)s * Cout + co) * HW;
                for (int p = 0; p < HW; p++) acc += row[p];
            }
            db->data[co] += (float)acc;
        }
    }
    if (!dx && !dw) return;
    for (int s = 0; s < B; s++) {
        const float *xs = x->data + (int64_t)s * Cin * HW;
        const float *dys = dy->data + (int64_t)s * Cout * HW;
        if (k == 1) {
            if (dw) conv_sgemm(0, 1, Cout, Cin, HW, 1.0f, dys, HW, xs, HW, 1.0f, dw->data, Cin);
            if (dx) conv_sgemm(1, 0, Cin, HW, Cout, 1.0f, w->data, Cin, dys, HW, 1.0f, dx->data + (int64_t)s * Cin * HW, HW);
            continue;
        }
        if (dw) {
            im2col(xs, Cin, H, W, k, scratch, HW);
            conv_sgemm(0, 1, Cout, K, HW, 1.0f, dys, HW, scratch, HW, 1.0f, dw->data, K);
        }
        if (dx) {
            conv_sgemm(1, 0, K, HW, Cout, 1.0f, w->data, K, dys, HW, 0.0f, scratch, HW);
            col2im_add(scratch, Cin, H, W, k, HW, dx->data + (int64_t)s * Cin * HW);
        }
    }
}


/* layernorm.c — CPU implementation of the PredRNN++ tensor layer norm (layernorm.h): per-sample
 * statistics over (C, H, W), per-channel affine. Sums run in double in a fixed order (per sample: c,
 * then h·w), so results do not depend on the thread count. */
#include "layernorm.h"

#include <math.h>

#include "ops_internal.h"

static void ln_check(const char *op, const Tensor *x, const Tensor *gamma, const Tensor *other,
                     const Tensor *mean, const Tensor *invstd) {
    require_4d(op, "x", x);
    require_device(op, x);
    require_device(op, gamma);
    require_device(op, other);
    require_device(op, mean);
    require_device(op, invstd);
    if (gamma->count != x->shape[1] || mean->count != x->shape[0] || invstd->count != x->shape[0]) {
        char sx[96], sg[96], sm[96], si[96];
        rr_die("%s: shapes do not fit x (B, C, H, W), gamma (C), mean/invstd (B): x %s, gamma %s, "
               "mean %s, invstd %s", op, tensor_shape_str(x, sx, sizeof sx),
               tensor_shape_str(gamma, sg, sizeof sg), tensor_shape_str(mean, sm, sizeof sm),
               tensor_shape_str(invstd, si, sizeof si));
    }
}

int tensor_layernorm_forward_check(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                   Tensor *save_mean, Tensor *save_invstd, float eps) {
    (void)eps; /* not checked */
    const char *op = "tensor_layernorm_forward";
    ln_check(op, x, gamma, beta, save_mean, save_invstd);
    require_same_shape(op, x, y);
    require_device(op, y);
    require_same_count(op, gamma, beta);
    return ops_device("tensor_layernorm_forward", x, gamma, beta, y, save_mean, save_invstd);
}

void cpu_tensor_layernorm_forward(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                  Tensor *save_mean, Tensor *save_invstd, float eps) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    /* two passes per sample (mean, then mean squared deviation), as tf.nn.moments */
#pragma omp parallel for schedule(static) if (ops_use_openmp() && B > 1 && N > 4096)
    for (int b = 0; b < B; b++) {
        const float *xb = x->data + b * N;
        double s = 0.0;
        for (int64_t i = 0; i < N; i++) s += xb[i];
        const double mean = s / (double)N;
        double q = 0.0;
        for (int64_t i = 0; i < N; i++) {
            double d = xb[i] - mean;
            q += d * d;
        }
        save_mean->data[b] = (float)mean;
        save_invstd->data[b] = (float)(1.0 / sqrt(q / (double)N + (double)eps));
    }
#pragma omp parallel for schedule(static) if ((int64_t)B * N > 16384)
    for (int r = 0; r < B * C; r++) {
        const int b = r / C, c = r % C;
        const float mean = save_mean->data[b], inv = save_invstd->data[b];
        const float g = gamma->data[c], be = beta->data[c];
        const float *xr = x->data + (int64_t)r * HW;
        float *yr = y->data + (int64_t)r * HW;
        for (int64_t p = 0; p < HW; p++) yr[p] = (xr[p] - mean) * inv * g + be;
    }
}

int tensor_layernorm_backward_check(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                                    const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                                    Tensor *dbeta) {
    const char *op = "tensor_layernorm_backward";
    ln_check(op, x, gamma, NULL, save_mean, save_invstd);
    require_same_shape(op, x, dy);
    require_device(op, dy);
    if (dx) {
        require_device(op, dx);
        require_same_shape(op, x, dx);
    }
    if (dgamma) {
        require_device(op, dgamma);
        require_same_count(op, gamma, dgamma);
    }
    if (dbeta) {
        require_device(op, dbeta);
        require_same_count(op, gamma, dbeta);
    }
    return ops_device("tensor_layernorm_backward", x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
}

void cpu_tensor_layernorm_backward(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                                   const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                                   Tensor *dbeta) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;

    if (dgamma || dbeta) { /* per channel, sums over (b, h, w) in a fixed order */
#pragma omp parallel for schedule(static) if ((int64_t)B * N > 16384)
        for (int c = 0; c < C; c++) {
            double sg = 0.0, sb = 0.0;
            for (int b = 0; b < B; b++) {
                const float mean = save_mean->data[b], inv = save_invstd->data[b];
                const float *xr = x->data + b * N + c * HW, *dyr = dy->data + b * N + c * HW;
                for (int64_t p = 0; p < HW; p++) {
                    sg += (double)dyr[p] * ((xr[p] - mean) * inv);
                    sb += dyr[p];
                }
            }
            if (dgamma) dgamma->data[c] += (float)sg;
            if (dbeta) dbeta->data[c] += (float)sb;
        }
    }
    if (!dx) return;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && B > 1 && N > 4096)
    for (int b = 0; b < B; b++) {
        const float mean = save_mean->data[b], inv = save_invstd->data[b];
        const float *xb = x->data + b * N, *dyb = dy->data + b * N;
        double s1 = 0.0, s2 = 0.0; /* Σ g, Σ g x̂ with g = gamma[c] dy */
        for (int c = 0; c < C; c++) {
            const float gm = gamma->data[c];
            for (int64_t p = 0; p < HW; p++) {
                const int64_t i = c * HW + p;
                const double g = (double)gm * dyb[i];
                s1 += g;
                s2 += g * ((xb[i] - mean) * inv);
            }
        }
        const float m1 = (float)(s1 / (double)N), m2 = (float)(s2 / (double)N);
        float *dxb = dx->data + b * N;
        for (int c = 0; c < C; c++) {
            const float gm = gamma->data[c];
            for (int64_t p = 0; p < HW; p++) {
                const int64_t i = c * HW + p;
                const float xhat = (xb[i] - mean) * inv;
                dxb[i] += inv * (gm * dyb[i] - m1 - xhat * m2);
            }
        }
    }
}

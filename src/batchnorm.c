/* batchnorm.c — batch normalisation over (B, H, W) per channel with PyTorch BatchNorm2d semantics
 * (Ioffe & Szegedy 2015; torch.nn.functional.batch_norm):
 *   training: μ = mean(x), σ² = biased var(x), x̂ = (x - μ)/sqrt(σ² + eps), y = γ x̂ + β,
 *             running_mean = (1-m) running_mean + m μ, running_var = (1-m) running_var + m σ² N/(N-1)
 *   eval:     x̂ = (x - running_mean)/sqrt(running_var + eps)
 *   backward (N = B·H·W): dβ += Σ dy, dγ += Σ dy x̂,
 *             dx += γ invstd (dy - Σdy/N - x̂ Σ(dy x̂)/N)
 * Statistics and sums are accumulated in double, channel by channel in a fixed order (one thread
 * per channel). gamma/beta may be NULL (1 and 0), running stats may be NULL (not tracked). */
#include "ops_internal.h"

static void bn_check(const char *op, const Tensor *x, const Tensor *y, const Tensor **per_channel, int n_pc) {
    require_4d(op, "x", x);
    require_device(op, x);
    require_device(op, y);
    require_same_shape(op, x, y);
    for (int i = 0; i < n_pc; i++) {
        const Tensor *t = per_channel[i];
        if (!t) continue;
        require_device(op, t);
        if (t->count != x->shape[1]) {
            char sx[96], st[96];
            rr_die("%s: per-channel tensor %s does not match the %d channels of x %s", op,
                   tensor_shape_str(t, st, sizeof st), x->shape[1], tensor_shape_str(x, sx, sizeof sx));
        }
    }
}

/* y[:, ch] = (x[:, ch] - mean) * scale + shift; subtracting the mean first keeps the precision when
 * |mean| >> std (x * scale + (shift - mean * scale) would cancel). */
static void bn_apply(const Tensor *x, Tensor *y, int ch, float mean, float scale, float shift) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3];
    for (int s = 0; s < B; s++) {
        const float *xs = x->data + ((int64_t)s * C + ch) * HW;
        float *ys = y->data + ((int64_t)s * C + ch) * HW;
        for (int64_t p = 0; p < HW; p++) ys[p] = (xs[p] - mean) * scale + shift;
    }
}

int batchnorm_forward_train_check(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                  Tensor *save_mean, Tensor *save_invstd, Tensor *running_mean,
                                  Tensor *running_var, float momentum, float eps) {
    (void)momentum, (void)eps; /* not checked */
    const char *op = "batchnorm_forward_train";
    const Tensor *pc[] = {gamma, beta, save_mean, save_invstd, running_mean, running_var};
    bn_check(op, x, y, pc, 6);
    if (!save_mean || !save_invstd) rr_die("%s: save_mean and save_invstd are required", op);
    const int64_t N = (int64_t)x->shape[0] * x->shape[2] * x->shape[3];
    if (N < 2) rr_die("%s: expected more than 1 value per channel when training, got x of %lld per channel", op,
                      (long long)N);
    return ops_device("batchnorm_forward_train", x, gamma, beta, y, save_mean, save_invstd, running_mean, running_var);
}

void cpu_batchnorm_forward_train(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                 Tensor *save_mean, Tensor *save_invstd, Tensor *running_mean,
                                 Tensor *running_var, float momentum, float eps) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = (int64_t)B * HW;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && N * C > 16384)
    for (int ch = 0; ch < C; ch++) {
        double sum = 0.0, sq = 0.0;
        for (int s = 0; s < B; s++) {
            const float *xs = x->data + ((int64_t)s * C + ch) * HW;
            for (int64_t p = 0; p < HW; p++) sum += xs[p];
        }
        const double mean = sum / (double)N;
        for (int s = 0; s < B; s++) { /* two-pass variance: no cancellation */
            const float *xs = x->data + ((int64_t)s * C + ch) * HW;
            for (int64_t p = 0; p < HW; p++) {
                double d = xs[p] - mean;
                sq += d * d;
            }
        }
        const double var = sq / (double)N;
        const double invstd = 1.0 / sqrt(var + (double)eps);
        save_mean->data[ch] = (float)mean;
        save_invstd->data[ch] = (float)invstd;
        if (running_mean)
            running_mean->data[ch] = (float)((1.0 - momentum) * running_mean->data[ch] + (double)momentum * mean);
        if (running_var)
            running_var->data[ch] = (float)((1.0 - momentum) * running_var->data[ch] +
                                            (double)momentum * var * (double)N / (double)(N - 1));
        const double g = gamma ? gamma->data[ch] : 1.0, b = beta ? beta->data[ch] : 0.0;
        bn_apply(x, y, ch, (float)mean, (float)(g * invstd), (float)b);
    }
}

int batchnorm_forward_eval_check(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                 const Tensor *running_mean, const Tensor *running_var, float eps) {
    (void)eps; /* not checked */
    const char *op = "batchnorm_forward_eval";
    const Tensor *pc[] = {gamma, beta, running_mean, running_var};
    bn_check(op, x, y, pc, 4);
    if (!running_mean || !running_var) rr_die("%s: running_mean and running_var are required", op);
    return ops_device("batchnorm_forward_eval", x, gamma, beta, y, running_mean, running_var);
}

void cpu_batchnorm_forward_eval(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                const Tensor *running_mean, const Tensor *running_var, float eps) {
    const int C = x->shape[1];
#pragma omp parallel for schedule(static) if (ops_use_openmp() && x->count > 16384)
    for (int ch = 0; ch < C; ch++) {
        const double invstd = 1.0 / sqrt((double)running_var->data[ch] + (double)eps);
        const double g = gamma ? gamma->data[ch] : 1.0, b = beta ? beta->data[ch] : 0.0;
        bn_apply(x, y, ch, running_mean->data[ch], (float)(g * invstd), (float)b);
    }
}

int batchnorm_backward_check(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                             const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                             Tensor *dbeta) {
    const char *op = "batchnorm_backward";
    const Tensor *pc[] = {gamma, save_mean, save_invstd, dgamma, dbeta};
    bn_check(op, x, dy, pc, 5);
    if (dx) {
        require_device(op, dx);
        require_same_shape(op, x, dx);
    }
    if (!save_mean || !save_invstd) rr_die("%s: save_mean and save_invstd are required", op);
    return ops_device("batchnorm_backward", x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
}

void cpu_batchnorm_backward(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                            const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                            Tensor *dbeta) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = (int64_t)B * HW;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && N * C > 16384)
    for (int ch = 0; ch < C; ch++) {
        const double mean = save_mean->data[ch], invstd = save_invstd->data[ch];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int s = 0; s < B; s++) {
            const int64_t off = ((int64_t)s * C + ch) * HW;
            const float *xs = x->data + off, *dys = dy->data + off;
            for (int64_t p = 0; p < HW; p++) {
                sum_dy += dys[p];
                sum_dy_xhat += dys[p] * ((xs[p] - mean) * invstd);
            }
        }
        if (dbeta) dbeta->data[ch] += (float)sum_dy;
        if (dgamma) dgamma->data[ch] += (float)sum_dy_xhat;
        if (!dx) continue;
        /* dx += k (dy - mean_dy - x̂ mean_dy_xhat), k = γ invstd, x̂ = (x - μ) invstd */
        const float k = (float)((gamma ? gamma->data[ch] : 1.0) * invstd), mu = save_mean->data[ch];
        const float is = save_invstd->data[ch];
        const float mean_dy = (float)(sum_dy / (double)N), mean_dy_xhat = (float)(sum_dy_xhat / (double)N);
        for (int s = 0; s < B; s++) {
            const int64_t off = ((int64_t)s * C + ch) * HW;
            const float *xs = x->data + off, *dys = dy->data + off;
            float *dxs = dx->data + off;
            for (int64_t p = 0; p < HW; p++) dxs[p] += k * (dys[p] - mean_dy - (xs[p] - mu) * is * mean_dy_xhat);
        }
    }
}

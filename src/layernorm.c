/* layernorm.c — CPU implementation of the PredRNN++ tensor layer norm (layernorm.h): per-sample
 * statistics over (C, H, W), per-channel affine. Sums run in double in a fixed order (per sample: c,
 * then h·w), so results do not depend on the thread count. */
#include "layernorm.h"

#include <math.h>

#include "ops_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* The sums below are chains of double additions in a fixed order (each sample's or channel's own
 * order, as the formulas read), so they cannot be vectorized or reassociated without changing the
 * rounding; one chain alone waits for each addition (a few cycles per element). Independent chains
 * (samples, channels) therefore run side by side, LN_LANES at a time: the same additions in the same
 * order per chain, several in flight at once. Groups of lanes are split across threads where ops may
 * use OpenMP; each chain stays on one thread, so results depend on nothing but the data. */
#define LN_LANES 8

/* Threads for `work` elements of LN work split into `chains` independent chains. */
static int ln_threads(int chains, int64_t work) {
#ifdef _OPENMP
    if (ops_use_openmp() && chains > 1 && work > 16384) {
        const int t = omp_get_max_threads();
        return t < chains ? t : chains;
    }
#endif
    (void)chains;
    (void)work;
    return 1;
}

/* Lanes per group for `chains` chains on `threads` threads: as many as fit, spread evenly. */
static int ln_lanes(int chains, int threads) {
    int lanes = (chains + threads - 1) / threads;
    return lanes > LN_LANES ? LN_LANES : lanes;
}

/* Mean and 1/sqrt(var + eps) of samples b0 .. b0+nb-1 (N floats each, in x): two passes per sample
 * (mean, then mean squared deviation), as tf.nn.moments; nb is a constant in each caller below. */
static inline __attribute__((always_inline)) void ln_stats_lanes(const float *x, int64_t N, int b0, const int nb,
                                                                 float eps, float *save_mean, float *save_invstd) {
    const float *xs[LN_LANES];
    double s[LN_LANES], mean[LN_LANES], q[LN_LANES];
    for (int g = 0; g < nb; g++) {
        xs[g] = x + (int64_t)(b0 + g) * N;
        s[g] = 0.0;
        q[g] = 0.0;
    }
    for (int64_t i = 0; i < N; i++)
#pragma GCC unroll 8
        for (int g = 0; g < nb; g++) s[g] += xs[g][i];
    for (int g = 0; g < nb; g++) mean[g] = s[g] / (double)N;
    for (int64_t i = 0; i < N; i++)
#pragma GCC unroll 8
        for (int g = 0; g < nb; g++) {
            double d = xs[g][i] - mean[g];
            q[g] += d * d;
        }
    for (int g = 0; g < nb; g++) {
        save_mean[b0 + g] = (float)mean[g];
        save_invstd[b0 + g] = (float)(1.0 / sqrt(q[g] / (double)N + (double)eps));
    }
}

static void ln_stats(const float *x, int64_t N, int b0, int nb, float eps, float *mean, float *invstd) {
    switch (nb) {
#define LN_STATS_CASE(k) \
    case k: ln_stats_lanes(x, N, b0, k, eps, mean, invstd); break;
        LN_STATS_CASE(1) LN_STATS_CASE(2) LN_STATS_CASE(3) LN_STATS_CASE(4)
        LN_STATS_CASE(5) LN_STATS_CASE(6) LN_STATS_CASE(7) LN_STATS_CASE(8)
#undef LN_STATS_CASE
    }
}

void cpu_tensor_layernorm_forward(const Tensor *x, const Tensor *gamma, const Tensor *beta, Tensor *y,
                                  Tensor *save_mean, Tensor *save_invstd, float eps) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    const int threads = ln_threads(B, (int64_t)B * N), lanes = ln_lanes(B, threads);
    const int groups = (B + lanes - 1) / lanes;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int gi = 0; gi < groups; gi++) {
        const int b0 = gi * lanes, nb = B - b0 < lanes ? B - b0 : lanes;
        ln_stats(x->data, N, b0, nb, eps, save_mean->data, save_invstd->data);
    }
    /* y = (x - mean)·inv·gamma + beta, rows split across threads where ops may use OpenMP (this loop ran
     * on OpenMP whatever the BLAS; with a pthreads OpenBLAS waking the pool cost more than the loop) */
    const int row_threads = ln_threads(B * C, (int64_t)B * N);
#pragma omp parallel for schedule(static) num_threads(row_threads) if (row_threads > 1)
    for (int r = 0; r < B * C; r++) {
        const int b = r / C, c = r % C;
        const float mean = save_mean->data[b], inv = save_invstd->data[b];
        const float g = gamma->data[c], be = beta->data[c];
        const float *xr = x->data + (int64_t)r * HW;
        float *yr = y->data + (int64_t)r * HW;
#pragma omp simd
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

/* dgamma, dbeta of channels c0 .. c0+nc-1 (+=): per channel, sums over (b, h, w) in that order. */
static inline __attribute__((always_inline)) void ln_param_grad_lanes(const Tensor *x, const Tensor *save_mean,
                                                                      const Tensor *save_invstd, const Tensor *dy,
                                                                      int c0, const int nc, Tensor *dgamma,
                                                                      Tensor *dbeta) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    double sg[LN_LANES], sb[LN_LANES];
    for (int g = 0; g < nc; g++) sg[g] = sb[g] = 0.0;
    for (int b = 0; b < B; b++) {
        const float mean = save_mean->data[b], inv = save_invstd->data[b];
        const float *xr = x->data + b * N + c0 * HW, *dyr = dy->data + b * N + c0 * HW;
        for (int64_t p = 0; p < HW; p++)
#pragma GCC unroll 8
            for (int g = 0; g < nc; g++) {
                const float xv = xr[g * HW + p], dv = dyr[g * HW + p];
                sg[g] += (double)dv * ((xv - mean) * inv);
                sb[g] += dv;
            }
    }
    for (int g = 0; g < nc; g++) {
        if (dgamma) dgamma->data[c0 + g] += (float)sg[g];
        if (dbeta) dbeta->data[c0 + g] += (float)sb[g];
    }
}

#ifdef __SSE2__
/* The same sums for 4 channels c0 .. c0+3 (nc <= 4 of them real; missing lanes repeat channel c0 and
 * are dropped) with SSE2, for HW a multiple of 4: per sample, x̂ = (x - mean)·inv of 4 pixels of each
 * channel (the float formula, 4 at a time), a 4x4 transpose so that one register holds the 4 channels
 * at one pixel, then per pixel in order sg += (double)dy · (double)x̂ and sb += dy, two channels per
 * double register: each channel's additions stay in the scalar loop's order. */
static void ln_param_grad_quad(const Tensor *x, const Tensor *save_mean, const Tensor *save_invstd,
                               const Tensor *dy, int c0, int nc, Tensor *dgamma, Tensor *dbeta) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    __m128d sg01 = _mm_setzero_pd(), sg23 = _mm_setzero_pd(), sb01 = _mm_setzero_pd(), sb23 = _mm_setzero_pd();
    for (int b = 0; b < B; b++) {
        const __m128 vm = _mm_set1_ps(save_mean->data[b]), vi = _mm_set1_ps(save_invstd->data[b]);
        const float *xr[4], *dr[4];
        for (int g = 0; g < 4; g++) {
            const int c = c0 + (g < nc ? g : 0);
            xr[g] = x->data + b * N + c * HW;
            dr[g] = dy->data + b * N + c * HW;
        }
        for (int64_t p = 0; p < HW; p += 4) {
            __m128 x0 = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(xr[0] + p), vm), vi);
            __m128 x1 = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(xr[1] + p), vm), vi);
            __m128 x2 = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(xr[2] + p), vm), vi);
            __m128 x3 = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(xr[3] + p), vm), vi);
            __m128 d0 = _mm_loadu_ps(dr[0] + p), d1 = _mm_loadu_ps(dr[1] + p), d2 = _mm_loadu_ps(dr[2] + p),
                   d3 = _mm_loadu_ps(dr[3] + p);
            _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
            _MM_TRANSPOSE4_PS(d0, d1, d2, d3);
            const __m128 xs[4] = {x0, x1, x2, x3}, ds[4] = {d0, d1, d2, d3};
            for (int k = 0; k < 4; k++) {
                const __m128d xl = _mm_cvtps_pd(xs[k]), xh = _mm_cvtps_pd(_mm_movehl_ps(xs[k], xs[k]));
                const __m128d dl = _mm_cvtps_pd(ds[k]), dh = _mm_cvtps_pd(_mm_movehl_ps(ds[k], ds[k]));
                sg01 = _mm_add_pd(sg01, _mm_mul_pd(dl, xl));
                sg23 = _mm_add_pd(sg23, _mm_mul_pd(dh, xh));
                sb01 = _mm_add_pd(sb01, dl);
                sb23 = _mm_add_pd(sb23, dh);
            }
        }
    }
    double sg[4], sb[4];
    _mm_storeu_pd(sg, sg01);
    _mm_storeu_pd(sg + 2, sg23);
    _mm_storeu_pd(sb, sb01);
    _mm_storeu_pd(sb + 2, sb23);
    for (int g = 0; g < nc; g++) {
        if (dgamma) dgamma->data[c0 + g] += (float)sg[g];
        if (dbeta) dbeta->data[c0 + g] += (float)sb[g];
    }
}
#endif

static void ln_param_grad(const Tensor *x, const Tensor *save_mean, const Tensor *save_invstd, const Tensor *dy,
                          int c0, int nc, Tensor *dgamma, Tensor *dbeta) {
#ifdef __SSE2__
    if (x->shape[2] * x->shape[3] % 4 == 0) {
        for (int q = 0; q < nc; q += 4)
            ln_param_grad_quad(x, save_mean, save_invstd, dy, c0 + q, nc - q < 4 ? nc - q : 4, dgamma, dbeta);
        return;
    }
#endif
    switch (nc) {
#define LN_PARAM_CASE(k) \
    case k: ln_param_grad_lanes(x, save_mean, save_invstd, dy, c0, k, dgamma, dbeta); break;
        LN_PARAM_CASE(1) LN_PARAM_CASE(2) LN_PARAM_CASE(3) LN_PARAM_CASE(4)
        LN_PARAM_CASE(5) LN_PARAM_CASE(6) LN_PARAM_CASE(7) LN_PARAM_CASE(8)
#undef LN_PARAM_CASE
    }
}

/* The two per-sample sums of dx for samples b0 .. b0+nb-1: Σ g and Σ g x̂ with g = gamma[c] dy, over
 * (c, h, w) in that order; returns their means over N in m1, m2. */
static inline __attribute__((always_inline)) void ln_dx_sums_lanes(const Tensor *x, const Tensor *gamma,
                                                                   const Tensor *save_mean, const Tensor *save_invstd,
                                                                   const Tensor *dy, int b0, const int nb, float *m1,
                                                                   float *m2) {
    const int C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;
    const float *xb[LN_LANES], *dyb[LN_LANES];
    float mean[LN_LANES], inv[LN_LANES];
    double s1[LN_LANES], s2[LN_LANES];
    for (int g = 0; g < nb; g++) {
        xb[g] = x->data + (b0 + g) * N;
        dyb[g] = dy->data + (b0 + g) * N;
        mean[g] = save_mean->data[b0 + g];
        inv[g] = save_invstd->data[b0 + g];
        s1[g] = s2[g] = 0.0;
    }
    for (int c = 0; c < C; c++) {
        const float gm = gamma->data[c];
        for (int64_t p = 0; p < HW; p++) {
            const int64_t i = c * HW + p;
#pragma GCC unroll 8
            for (int g = 0; g < nb; g++) {
                const double gv = (double)gm * dyb[g][i];
                s1[g] += gv;
                s2[g] += gv * ((xb[g][i] - mean[g]) * inv[g]);
            }
        }
    }
    for (int g = 0; g < nb; g++) {
        m1[g] = (float)(s1[g] / (double)N);
        m2[g] = (float)(s2[g] / (double)N);
    }
}

static void ln_dx_sums(const Tensor *x, const Tensor *gamma, const Tensor *save_mean, const Tensor *save_invstd,
                       const Tensor *dy, int b0, int nb, float *m1, float *m2) {
    switch (nb) {
#define LN_DX_CASE(k) \
    case k: ln_dx_sums_lanes(x, gamma, save_mean, save_invstd, dy, b0, k, m1, m2); break;
        LN_DX_CASE(1) LN_DX_CASE(2) LN_DX_CASE(3) LN_DX_CASE(4)
        LN_DX_CASE(5) LN_DX_CASE(6) LN_DX_CASE(7) LN_DX_CASE(8)
#undef LN_DX_CASE
    }
}

void cpu_tensor_layernorm_backward(const Tensor *x, const Tensor *gamma, const Tensor *save_mean,
                                   const Tensor *save_invstd, const Tensor *dy, Tensor *dx, Tensor *dgamma,
                                   Tensor *dbeta) {
    const int B = x->shape[0], C = x->shape[1];
    const int64_t HW = (int64_t)x->shape[2] * x->shape[3], N = C * HW;

    if (dgamma || dbeta) { /* channel lanes */
        const int threads = ln_threads(C, (int64_t)B * N);
        const int lanes = ln_lanes(C, threads), groups = (C + lanes - 1) / lanes;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
        for (int gi = 0; gi < groups; gi++) {
            const int c0 = gi * lanes, nc = C - c0 < lanes ? C - c0 : lanes;
            ln_param_grad(x, save_mean, save_invstd, dy, c0, nc, dgamma, dbeta);
        }
    }
    if (!dx) return;
    /* sample lanes: the means m1, m2 of each sample, then dx += inv (gamma dy - m1 - x̂ m2) */
    const int threads = ln_threads(B, (int64_t)B * N), lanes = ln_lanes(B, threads);
    const int groups = (B + lanes - 1) / lanes;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int gi = 0; gi < groups; gi++) {
        const int b0 = gi * lanes, nb = B - b0 < lanes ? B - b0 : lanes;
        float m1[LN_LANES], m2[LN_LANES];
        ln_dx_sums(x, gamma, save_mean, save_invstd, dy, b0, nb, m1, m2);
        for (int g = 0; g < nb; g++) {
            const int b = b0 + g;
            const float mean = save_mean->data[b], inv = save_invstd->data[b];
            const float *xb = x->data + b * N, *dyb = dy->data + b * N;
            float *dxb = dx->data + b * N;
            for (int c = 0; c < C; c++) {
                const float gm = gamma->data[c];
#pragma omp simd
                for (int64_t p = 0; p < HW; p++) {
                    const int64_t i = c * HW + p;
                    const float xhat = (xb[i] - mean) * inv;
                    dxb[i] += inv * (gm * dyb[i] - m1[g] - xhat * m2[g]);
                }
            }
        }
    }
}

/* regularize_kernels.cu — CUDA twins of the regularizer ops of src/regularize.c (equations and
 * conventions in src/regularize.h): the inverted-dropout mask m[i] = 1/(1-p) where
 * rr_keep(seed, stream, i, p) else 0 and the zoneout keep mask d[i] = [rr_rand_uniform(seed, stream, i)
 * < p] — src/rng.h's Philox functions are __host__ __device__ under nvcc, so every mask element is
 * bit-identical to the CPU's — dx += dy ⊙ mask, the split ConvLSTM cell (state / output halves), the
 * channel-block copy of the per-gate masked convolution, channel bias, zoneout, and the L2 penalty.
 * One thread per element with the CPU loop's float expressions in the CPU's order (nvcc -fmad=false:
 * no contraction), so everything but the activations' expf/tanhf (a few ulp) and the L2 sum (double,
 * tree order) is bit-identical to the CPU. (y = x ⊙ mask is op_mul; the masked Causal LSTM stages are
 * in causal_lstm_cell_kernels.cu.) */
#include "cuda_common.cuh"

extern "C" {
#include "rng.h"
}


/* ------------------------------------------------------------------------------------------------ */
/* Masks */

__global__ void dropout_mask_kernel(float *m, uint64_t seed, uint64_t stream, float p, float scale, int64_t n) {
    RR_GRID_LOOP(i, n) m[i] = rr_keep(seed, stream, (uint64_t)i, p) ? scale : 0.0f;
}

__global__ void zoneout_mask_kernel(float *d, uint64_t seed, uint64_t stream, float p, int64_t n) {
    RR_GRID_LOOP(i, n) d[i] = rr_rand_uniform(seed, stream, (uint64_t)i) < p ? 1.0f : 0.0f;
}

__global__ void mask_backward_kernel(const float *mask, const float *dy, float *dx, int64_t n) {
    RR_GRID_LOOP(i, n) dx[i] += dy[i] * mask[i];
}

extern "C" void reg_dropout_mask_cuda(Tensor *mask, uint64_t seed, uint64_t stream, float p) {
    const float scale = 1.0f / (1.0f - p); /* on the host, as the CPU op */
    LAUNCH(dropout_mask_kernel, mask->count, mask->data, seed, stream, p, scale, mask->count);
}

extern "C" void reg_zoneout_mask_cuda(Tensor *d, uint64_t seed, uint64_t stream, float p) {
    LAUNCH(zoneout_mask_kernel, d->count, d->data, seed, stream, p, d->count);
}

extern "C" void reg_mask_backward_cuda(const Tensor *mask, const Tensor *dy, Tensor *dx) {
    LAUNCH(mask_backward_kernel, dy->count, mask->data, dy->data, dx->data, dy->count);
}

/* ------------------------------------------------------------------------------------------------ */
/* Split ConvLSTM cell. One thread per element e of the state (B, n, H, W); gate block k (i, f, g, o)
 * of the same (sample s, channel j, pixel p) sits at (s·4n + k·n + j)·HW + p of the (B, 4n, H, W)
 * gate tensors. */

/* Offset of gate block 0 of state element e. */
__device__ __forceinline__ int64_t gate0(int64_t e, int n, int64_t HW) {
    const int64_t bj = e / HW, p = e % HW, s = bj / n, j = bj % n;
    return (s * 4 * n + j) * HW + p;
}

__global__ void lstm_state_forward_kernel(const float *pre, const float *c_prev, const float *gmask, float *gates,
                                          float *c, int n, int64_t HW, int64_t count, int ga, int ca) {
    const int64_t nHW = (int64_t)n * HW;
    RR_GRID_LOOP(e, count) {
        const int64_t o0 = gate0(e, n, HW);
        const float i = dev_act(ga, pre[o0]), f = dev_act(ga, pre[o0 + nHW]);
        const float g = dev_act(ca, pre[o0 + 2 * nHW]), o = dev_act(ga, pre[o0 + 3 * nHW]);
        gates[o0] = i;
        gates[o0 + nHW] = f;
        gates[o0 + 2 * nHW] = g;
        gates[o0 + 3 * nHW] = o;
        c[e] = (c_prev ? f * c_prev[e] : 0.0f) + i * (gmask ? g * gmask[e] : g);
    }
}

__global__ void lstm_output_forward_kernel(const float *gates, const float *cs, float *h, int n, int64_t HW,
                                           int64_t count, int ca) {
    const int64_t nHW = (int64_t)n * HW;
    RR_GRID_LOOP(e, count) h[e] = gates[gate0(e, n, HW) + 3 * nHW] * dev_act(ca, cs[e]);
}

__global__ void lstm_output_backward_kernel(const float *gates, const float *cs, const float *dh, float *dpre,
                                            float *dcs, int n, int64_t HW, int64_t count, int ga, int ca) {
    const int64_t nHW = (int64_t)n * HW;
    RR_GRID_LOOP(e, count) {
        const int64_t oo = gate0(e, n, HW) + 3 * nHW; /* block o */
        const float go = gates[oo], d = dh[e];
        const float tc = dev_act(ca, cs[e]);
        dpre[oo] = d * tc * dev_act_grad(ga, go);
        dcs[e] += d * go * dev_act_grad(ca, tc);
    }
}

__global__ void lstm_state_backward_kernel(const float *gates, const float *c_prev, const float *gmask,
                                           const float *dc, float *dpre, float *dc_prev, int n, int64_t HW,
                                           int64_t count, int ga, int ca) {
    const int64_t nHW = (int64_t)n * HW;
    RR_GRID_LOOP(e, count) {
        const int64_t o0 = gate0(e, n, HW);
        const float i = gates[o0], f = gates[o0 + nHW], g = gates[o0 + 2 * nHW];
        const float m = gmask ? gmask[e] : 1.0f, d = dc[e];
        dpre[o0] = d * g * m * dev_act_grad(ga, i);
        dpre[o0 + nHW] = c_prev ? d * c_prev[e] * dev_act_grad(ga, f) : 0.0f;
        dpre[o0 + 2 * nHW] = d * i * m * dev_act_grad(ca, g);
        if (dc_prev) dc_prev[e] = d * f;
    }
}

#define NHW_OF(t) ((int64_t)(t)->shape[2] * (t)->shape[3])

extern "C" void reg_lstm_state_forward_cuda(const Tensor *pre, const Tensor *c_prev, const Tensor *gmask,
                                            Tensor *gates, Tensor *c, Activation gate_act, Activation cell_act) {
    LAUNCH(lstm_state_forward_kernel, c->count, pre->data, D(c_prev), D(gmask), gates->data, c->data, c->shape[1],
           NHW_OF(c), c->count, (int)gate_act, (int)cell_act);
}

extern "C" void reg_lstm_output_forward_cuda(const Tensor *gates, const Tensor *cs, Tensor *h, Activation cell_act) {
    LAUNCH(lstm_output_forward_kernel, cs->count, gates->data, cs->data, h->data, cs->shape[1], NHW_OF(cs), cs->count,
           (int)cell_act);
}

extern "C" void reg_lstm_output_backward_cuda(const Tensor *gates, const Tensor *cs, const Tensor *dh, Tensor *dpre,
                                              Tensor *dcs, Activation gate_act, Activation cell_act) {
    LAUNCH(lstm_output_backward_kernel, cs->count, gates->data, cs->data, dh->data, dpre->data, dcs->data,
           cs->shape[1], NHW_OF(cs), cs->count, (int)gate_act, (int)cell_act);
}

extern "C" void reg_lstm_state_backward_cuda(const Tensor *gates, const Tensor *c_prev, const Tensor *gmask,
                                             const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                                             Activation cell_act) {
    LAUNCH(lstm_state_backward_kernel, dc->count, gates->data, D(c_prev), D(gmask), dc->data, dpre->data,
           D(dc_prev), dc->shape[1], NHW_OF(dc), dc->count, (int)gate_act, (int)cell_act);
}

/* ------------------------------------------------------------------------------------------------ */
/* Channel block j of big (B, K·n, H, W) <-> small (B, n, H, W), one thread per small element:
 * to_big 1: big block (+)= small (add 1: +=), to_big 0: small = big block. */
__global__ void block_copy_kernel(float *big, float *small, int K, int j, int64_t nhw, int to_big, int add,
                                  int64_t count) {
    RR_GRID_LOOP(e, count) {
        const int64_t at = (e / nhw * K + j) * nhw + e % nhw;
        if (!to_big) small[e] = big[at];
        else if (add) big[at] += small[e];
        else big[at] = small[e];
    }
}

extern "C" void reg_block_copy_cuda(Tensor *big, Tensor *small, int j, int to_big, int add) {
    const int n = small->shape[1];
    if (n == 0) return;
    const int64_t nhw = (int64_t)n * small->shape[2] * small->shape[3];
    LAUNCH(block_copy_kernel, small->count, big->data, small->data, big->shape[1] / n, j, nhw, to_big, add,
           small->count);
}

/* ------------------------------------------------------------------------------------------------ */
/* Channel bias: conv_kernels.cu's bias add and fixed-order per-channel gradient sum. */

extern "C" void reg_bias_forward_cuda(Tensor *y, const Tensor *b) {
    rr_cuda_bias_add(y->data, b->data, y->shape[1], NHW_OF(y), y->count, 1);
}

extern "C" void reg_bias_backward_cuda(const Tensor *dy, Tensor *db) {
    rr_cuda_bias_grad(dy->data, dy->shape[0], dy->shape[1], NHW_OF(dy), db->data);
}

/* ------------------------------------------------------------------------------------------------ */
/* Zoneout */

__global__ void zoneout_forward_kernel(const float *prev, const float *upd, const float *d, float p, float *out,
                                       int64_t n) {
    RR_GRID_LOOP(i, n) {
        const float k = d ? d[i] : p, old = prev ? prev[i] : 0.0f;
        out[i] = k * old + (1.0f - k) * upd[i];
    }
}

/* dupd may be dout itself: each thread reads its element before writing it. */
__global__ void zoneout_backward_kernel(const float *d, const float *dout, float *dprev, float *dupd, int64_t n) {
    RR_GRID_LOOP(i, n) {
        const float g = dout[i], k = d[i];
        if (dprev) dprev[i] += k * g;
        dupd[i] = (1.0f - k) * g;
    }
}

extern "C" void reg_zoneout_forward_cuda(const Tensor *prev, const Tensor *upd, const Tensor *d, float p, Tensor *out) {
    LAUNCH(zoneout_forward_kernel, out->count, D(prev), upd->data, D(d), p, out->data, out->count);
}

extern "C" void reg_zoneout_backward_cuda(const Tensor *d, const Tensor *dout, Tensor *dprev, Tensor *dupd) {
    LAUNCH(zoneout_backward_kernel, dout->count, d->data, dout->data, D(dprev), dupd->data, dout->count);
}

/* ------------------------------------------------------------------------------------------------ */
/* L2: λ·Σ w² through the deterministic double reduction of elementwise_kernels.cu (the CPU's sum up to
 * double rounding), g += 2λ·w with the CPU's float expression (bit-identical). */

__global__ void l2_grad_kernel(const float *w, float *g, float two_l, int64_t n) {
    RR_GRID_LOOP(i, n) g[i] += two_l * w[i];
}

extern "C" double reg_l2_apply_cuda(const Tensor *w, Tensor *g, double lambda) {
    const double s = rr_cuda_sum_sq_diff(w->data, NULL, w->count);
    const float two_l = (float)(2.0 * lambda);
    LAUNCH(l2_grad_kernel, w->count, w->data, g->data, two_l, w->count);
    return lambda * s;
}

/* lstm_cell_kernels.cu — CUDA twin of src/lstm_cell.c: the fused pointwise ConvLSTM cell (gate order
 * i, f, g, o along channels), one thread per element (s, j, p) of the state (B, n, H, W). Same float
 * expressions as the CPU loop, so results differ only through expf/tanhf (a few ulp). */
#include "cuda_common.cuh"

/* Element e of a (B, n, HW) state → offset of gate block 0 of the same (s, j, p) in (B, 4n, HW). */
__device__ __forceinline__ int64_t gate_offset(int64_t e, int n, int64_t HW) {
    const int64_t bj = e / HW, p = e % HW, s = bj / n, j = bj % n;
    return (s * 4 * n + j) * HW + p;
}

__global__ void lstm_cell_forward_kernel(const float *pre, const float *c_prev, float *gates, float *c, float *h,
                                         int n, int64_t HW, int64_t count, int ga, int ca) {
    const int64_t nHW = (int64_t)n * HW;
    RR_GRID_LOOP(e, count) {
        const int64_t o0 = gate_offset(e, n, HW);
        const float i = dev_act(ga, pre[o0]), f = dev_act(ga, pre[o0 + nHW]);
        const float g = dev_act(ca, pre[o0 + 2 * nHW]), o = dev_act(ga, pre[o0 + 3 * nHW]);
        const float cv = (c_prev ? f * c_prev[e] : 0.0f) + i * g;
        gates[o0] = i;
        gates[o0 + nHW] = f;
        gates[o0 + 2 * nHW] = g;
        gates[o0 + 3 * nHW] = o;
        c[e] = cv;
        h[e] = o * dev_act(ca, cv);
    }
}

__global__ void lstm_cell_backward_kernel(const float *gates, const float *c_prev, const float *c, const float *dh,
                                          const float *dc, float *dpre, float *dc_prev, int n, int64_t HW,
                                          int64_t count, int ga, int ca) {
    const int64_t nHW = (int64_t)n * HW;
    RR_GRID_LOOP(e, count) {
        const int64_t o0 = gate_offset(e, n, HW);
        const float i = gates[o0], f = gates[o0 + nHW], g = gates[o0 + 2 * nHW], o = gates[o0 + 3 * nHW];
        const float tc = dev_act(ca, c[e]);
        const float dtot = (dc ? dc[e] : 0.0f) + dh[e] * o * dev_act_grad(ca, tc);
        dpre[o0 + 3 * nHW] = dh[e] * tc * dev_act_grad(ga, o);
        dpre[o0] = dtot * g * dev_act_grad(ga, i);
        dpre[o0 + nHW] = c_prev ? dtot * c_prev[e] * dev_act_grad(ga, f) : 0.0f;
        dpre[o0 + 2 * nHW] = dtot * i * dev_act_grad(ca, g);
        if (dc_prev) dc_prev[e] = dtot * f;
    }
}

extern "C" void lstm_cell_forward_cuda(const Tensor *pre, const Tensor *c_prev, Tensor *gates, Tensor *c, Tensor *h,
                                       Activation gate_act, Activation cell_act) {
    const int64_t count = c->count, HW = (int64_t)c->shape[2] * c->shape[3];
    if (count == 0) return;
    lstm_cell_forward_kernel<<<rr_blocks(count), RR_THREADS>>>(pre->data, c_prev ? c_prev->data : NULL,
                                                               gates->data, c->data, h->data, c->shape[1], HW,
                                                               count, (int)gate_act, (int)cell_act);
    KERNEL_CHECK("lstm_cell_forward_kernel");
}

extern "C" void lstm_cell_backward_cuda(const Tensor *gates, const Tensor *c_prev, const Tensor *c, const Tensor *dh,
                                        const Tensor *dc, Tensor *dpre, Tensor *dc_prev, Activation gate_act,
                                        Activation cell_act) {
    const int64_t count = c->count, HW = (int64_t)c->shape[2] * c->shape[3];
    if (count == 0) return;
    lstm_cell_backward_kernel<<<rr_blocks(count), RR_THREADS>>>(
        gates->data, c_prev ? c_prev->data : NULL, c->data, dh->data, dc ? dc->data : NULL, dpre->data,
        dc_prev ? dc_prev->data : NULL, c->shape[1], HW, count, (int)gate_act, (int)cell_act);
    KERNEL_CHECK("lstm_cell_backward_kernel");
}

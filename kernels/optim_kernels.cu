/* optim_kernels.cu — CUDA twin of src/optim_update.c (PyTorch 1.13 torch.optim Adam / AdamW / SGD /
 * RMSprop, operation by operation; see that file for the sources). The scalar coefficients are
 * computed on the host with the CPU's very expressions (double, then rounded to float); each element
 * then runs the CPU's float operations in the CPU's order, written with explicit IEEE round-to-nearest
 * intrinsics (__fmul_rn, __fadd_rn, __fdiv_rn, __fsqrt_rn; fmaf is a correctly rounded FMA on both
 * sides), so the update is bit-identical to the CPU backend's whatever the nvcc flags. */
#include <math.h>

#include "cuda_common.cuh"

struct AdamScalars {
    float decay, b1, b2, one_minus_b1, one_minus_b2, neg_step_size, bc2_sqrt, eps, wd;
    int l2, decoupled;
};

__global__ void adam_kernel(float *p, const float *gs, float *ms, float *vs, AdamScalars c, int64_t n) {
    RR_GRID_LOOP(i, n) {
        float g = gs[i], pi = p[i];
        if (c.l2) g = fmaf(pi, c.wd, g);
        if (c.decoupled) pi = __fmul_rn(pi, c.decay);
        const float mi = fmaf(g, c.one_minus_b1, __fmul_rn(ms[i], c.b1));
        const float vi = fmaf(__fmul_rn(c.one_minus_b2, g), g, __fmul_rn(vs[i], c.b2));
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), c.bc2_sqrt), c.eps);
        p[i] = __fadd_rn(pi, __fdiv_rn(__fmul_rn(c.neg_step_size, mi), denom));
        ms[i] = mi;
        vs[i] = vi;
    }
}

extern "C" void adam_update_cuda(Tensor *param, const Tensor *grad, Tensor *m, Tensor *v, const AdamHyper *h,
                                 int64_t step) {
    const double lr = h->lr, beta1 = h->beta1, beta2 = h->beta2, wd = h->weight_decay;
    AdamScalars c;
    c.decay = (float)(1.0 - lr * wd);
    c.l2 = !h->decoupled && h->weight_decay != 0.0f;
    c.decoupled = h->decoupled != 0;
    c.b1 = h->beta1;
    c.b2 = h->beta2;
    c.one_minus_b1 = (float)(1.0 - beta1);
    c.one_minus_b2 = (float)(1.0 - beta2);
    const double bias_correction1 = 1.0 - pow(beta1, (double)step), bias_correction2 = 1.0 - pow(beta2, (double)step);
    c.neg_step_size = (float)-(lr / bias_correction1);
    c.bc2_sqrt = (float)sqrt(bias_correction2);
    c.eps = h->eps;
    c.wd = h->weight_decay;
    if (param->count == 0) return;
    adam_kernel<<<rr_blocks(param->count), RR_THREADS>>>(param->data, grad->data, m->data, v->data, c, param->count);
    KERNEL_CHECK("adam_kernel");
}

__global__ void sgd_kernel(float *p, const float *gs, float *buf, float neg_lr, float momentum, float wd, int first,
                           int use_momentum, int l2, int nesterov, int64_t n) {
    RR_GRID_LOOP(i, n) {
        float d = gs[i];
        if (l2) d = fmaf(p[i], wd, d);
        if (use_momentum) {
            const float b = first ? d : fmaf(d, 1.0f, __fmul_rn(buf[i], momentum));
            buf[i] = b;
            d = nesterov ? fmaf(b, momentum, d) : b;
        }
        p[i] = fmaf(d, neg_lr, p[i]);
    }
}

extern "C" void sgd_update_cuda(Tensor *param, const Tensor *grad, Tensor *momentum_buf, float lr, float momentum,
                                float weight_decay, int nesterov, int64_t step) {
    const int first = step == 1, use_momentum = momentum != 0.0f, l2 = weight_decay != 0.0f;
    if (param->count == 0) return;
    sgd_kernel<<<rr_blocks(param->count), RR_THREADS>>>(param->data, grad->data,
                                                        momentum_buf ? momentum_buf->data : NULL, -lr, momentum,
                                                        weight_decay, first, use_momentum, l2, nesterov != 0,
                                                        param->count);
    KERNEL_CHECK("sgd_kernel");
}

__global__ void rmsprop_kernel(float *p, const float *gs, float *sa, float neg_lr, float alpha, float one_minus_alpha,
                               float eps, float wd, int l2, int64_t n) {
    RR_GRID_LOOP(i, n) {
        float g = gs[i];
        if (l2) g = fmaf(p[i], wd, g);
        const float s = fmaf(__fmul_rn(one_minus_alpha, g), g, __fmul_rn(sa[i], alpha));
        sa[i] = s;
        const float avg = __fadd_rn(__fsqrt_rn(s), eps);
        p[i] = __fadd_rn(p[i], __fdiv_rn(__fmul_rn(neg_lr, g), avg));
    }
}

extern "C" void rmsprop_update_cuda(Tensor *param, const Tensor *grad, Tensor *square_avg, float lr, float alpha,
                                    float eps, float weight_decay) {
    const int l2 = weight_decay != 0.0f;
    const float one_minus_alpha = (float)(1.0 - (double)alpha);
    if (param->count == 0) return;
    rmsprop_kernel<<<rr_blocks(param->count), RR_THREADS>>>(param->data, grad->data, square_avg->data, -lr, alpha,
                                                            one_minus_alpha, eps, weight_decay, l2, param->count);
    KERNEL_CHECK("rmsprop_kernel");
}

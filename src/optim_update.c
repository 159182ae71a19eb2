/* optim_update.c — one optimizer step on one parameter tensor, following PyTorch 1.13 torch.optim
 * (_single_tensor_adam / _single_tensor_adamw / _single_tensor_sgd / _single_tensor_rmsprop in
 * torch/optim/{adam,adamw,sgd,rmsprop}.py) operation by operation, so that the float32 results agree
 * bit for bit with PyTorch's CPU kernels on an AVX2 machine:
 *   - scalar coefficients (1 - beta, lr / bias_correction1, sqrt(bias_correction2), 1 - lr·wd) are
 *     computed in double, as Python does, then rounded to float when applied;
 *   - t.add_(u, alpha=a) and t.addcmul_(u, w, value=a) are fused multiply-adds in ATen's vectorised
 *     CPU kernels (fmadd(u, a, t) and fmadd(a·u, w, t)), so we use fmaf; t.addcdiv_(u, w, value=a) is
 *     t + (a·u)/w, unfused.
 * Hyperparameters arrive as float: PyTorch fed the same float-rounded values computes the same bits.
 * Step counts start at 1. */
#include "ops_internal.h"

#define PAR_MIN 65536

static void optim_check(const char *op, const Tensor *param, const Tensor *grad, const Tensor *s1,
                        const Tensor *s2) {
    require_device(op, param);
    require_device(op, grad);
    require_same_count(op, param, grad);
    if (s1) {
        require_device(op, s1);
        require_same_count(op, param, s1);
    }
    if (s2) {
        require_device(op, s2);
        require_same_count(op, param, s2);
    }
}

int adam_update_check(Tensor *param, const Tensor *grad, Tensor *m, Tensor *v, const AdamHyper *h, int64_t step) {
    const char *op = h->decoupled ? "adamw_update" : "adam_update";
    optim_check(op, param, grad, m, v);
    if (!m || !v) rr_die("%s: the moment buffers m and v are required", op);
    if (step < 1) rr_die("%s: step %lld, steps count from 1", op, (long long)step);
    return ops_device(op, param, grad, m, v);
}

void cpu_adam_update(Tensor *param, const Tensor *grad, Tensor *m, Tensor *v, const AdamHyper *h, int64_t step) {
    const double lr = h->lr, beta1 = h->beta1, beta2 = h->beta2, wd = h->weight_decay;
    const float decay = (float)(1.0 - lr * wd);                  /* AdamW: param.mul_(1 - lr*wd) */
    const int l2 = !h->decoupled && h->weight_decay != 0.0f;     /* Adam: grad.add(param, alpha=wd) */
    const int decoupled = h->decoupled != 0;
    const float b1 = h->beta1, b2 = h->beta2, one_minus_b1 = (float)(1.0 - beta1), one_minus_b2 = (float)(1.0 - beta2);
    const double bias_correction1 = 1.0 - rr_pow_int(beta1, step), bias_correction2 = 1.0 - rr_pow_int(beta2, step);
    const float neg_step_size = (float)-(lr / bias_correction1);
    const float bc2_sqrt = (float)sqrt(bias_correction2), eps = h->eps, wdf = h->weight_decay;
    float *p = param->data, *ms = m->data, *vs = v->data;
    const float *gs = grad->data;
    const int64_t n = param->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float g = gs[i], pi = p[i];
        if (l2) g = fmaf(pi, wdf, g);
        if (decoupled) pi = pi * decay;
        float mi = fmaf(g, one_minus_b1, ms[i] * b1);
        float vi = fmaf(one_minus_b2 * g, g, vs[i] * b2);
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = pi + (neg_step_size * mi) / denom;
        ms[i] = mi;
        vs[i] = vi;
    }
}

int sgd_update_check(Tensor *param, const Tensor *grad, Tensor *momentum_buf, float lr, float momentum,
                     float weight_decay, int nesterov, int64_t step) {
    (void)lr, (void)weight_decay; /* not checked */
    const char *op = "sgd_update";
    optim_check(op, param, grad, momentum_buf, NULL);
    if (momentum != 0.0f && !momentum_buf) rr_die("%s: momentum %g needs a momentum buffer", op, momentum);
    if (nesterov && momentum <= 0.0f) rr_die("%s: nesterov needs momentum > 0", op);
    if (step < 1) rr_die("%s: step %lld, steps count from 1", op, (long long)step);
    return ops_device(op, param, grad, momentum_buf);
}

void cpu_sgd_update(Tensor *param, const Tensor *grad, Tensor *momentum_buf, float lr, float momentum,
                    float weight_decay, int nesterov, int64_t step) {
    const int first = step == 1, use_momentum = momentum != 0.0f, l2 = weight_decay != 0.0f;
    const float neg_lr = -lr;
    float *p = param->data, *buf = momentum_buf ? momentum_buf->data : NULL;
    const float *gs = grad->data;
    const int64_t n = param->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float d = gs[i];
        if (l2) d = fmaf(p[i], weight_decay, d);
        if (use_momentum) {
            /* first step: buf = clone(d); then buf.mul_(momentum).add_(d, alpha=1 - dampening), dampening 0 */
            float b = first ? d : fmaf(d, 1.0f, buf[i] * momentum);
            buf[i] = b;
            d = nesterov ? fmaf(b, momentum, d) : b;
        }
        p[i] = fmaf(d, neg_lr, p[i]);
    }
}

int rmsprop_update_check(Tensor *param, const Tensor *grad, Tensor *square_avg, float lr, float alpha, float eps,
                         float weight_decay) {
    (void)lr, (void)alpha, (void)eps, (void)weight_decay; /* not checked */
    const char *op = "rmsprop_update";
    optim_check(op, param, grad, square_avg, NULL);
    if (!square_avg) rr_die("%s: square_avg is required", op);
    return ops_device(op, param, grad, square_avg);
}

void cpu_rmsprop_update(Tensor *param, const Tensor *grad, Tensor *square_avg, float lr, float alpha, float eps,
                        float weight_decay) {
    const int l2 = weight_decay != 0.0f;
    const float one_minus_alpha = (float)(1.0 - (double)alpha), neg_lr = -lr;
    float *p = param->data, *sa = square_avg->data;
    const float *gs = grad->data;
    const int64_t n = param->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float g = gs[i];
        if (l2) g = fmaf(p[i], weight_decay, g);
        float s = fmaf(one_minus_alpha * g, g, sa[i] * alpha);
        sa[i] = s;
        float avg = sqrtf(s) + eps;
        p[i] = p[i] + (neg_lr * g) / avg;
    }
}

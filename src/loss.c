/* loss.c — mean-squared-error loss of one time step (ops.h): the forward returns the plain sum of
 * squared errors (double, fixed order); the backward adds 2 (pred - target) / divisor, divisor being
 * the element count of the whole sequence, so the total is PyTorch's nn.MSELoss(reduction='mean'). */
#include "ops_internal.h"

int mse_sum_forward_check(const Tensor *pred, const Tensor *target) {
    require_device("mse_sum_forward", pred);
    require_device("mse_sum_forward", target);
    require_same_count("mse_sum_forward", pred, target);
    return ops_device("mse_sum_forward", pred, target);
}

double cpu_mse_sum_forward(const Tensor *pred, const Tensor *target) {
    double acc = 0.0;
    for (int64_t i = 0; i < pred->count; i++) {
        double d = (double)pred->data[i] - (double)target->data[i];
        acc += d * d;
    }
    return acc;
}

int mse_sum_backward_check(const Tensor *pred, const Tensor *target, double divisor, Tensor *dpred) {
    require_device("mse_sum_backward", pred);
    require_device("mse_sum_backward", target);
    require_device("mse_sum_backward", dpred);
    require_same_count("mse_sum_backward", pred, target);
    require_same_count("mse_sum_backward", pred, dpred);
    if (!(divisor > 0)) rr_die("mse_sum_backward: divisor must be positive, got %g", divisor);
    return ops_device("mse_sum_backward", pred, target, dpred);
}

void cpu_mse_sum_backward(const Tensor *pred, const Tensor *target, double divisor, Tensor *dpred) {
    const float scale = (float)(2.0 / divisor);
    const float *p = pred->data, *t = target->data;
    float *d = dpred->data;
    const int64_t n = pred->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > 65536)
    for (int64_t i = 0; i < n; i++) d[i] += scale * (p[i] - t[i]);
}

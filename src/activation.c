/* activation.c — elementwise activations (identity, sigmoid, tanh, relu, tf.keras 2 hard_sigmoid),
 * forward y = act(x) and backward dx += dy · act'(x) computed from the output y. The scalar
 * formulas are in ops_internal.h (shared with the fused LSTM cell). In-place (x == y) is allowed. */
#include <string.h>

#include "ops_internal.h"
#include "vector_math.h"

static const char *const activation_names[] = {"identity", "sigmoid", "tanh", "relu", "hard_sigmoid"};

const char *activation_name(Activation a) {
    return (a >= ACT_IDENTITY && a <= ACT_HARD_SIGMOID) ? activation_names[a] : "unknown";
}

int activation_parse(const char *name, Activation *a) {
    for (int i = ACT_IDENTITY; i <= ACT_HARD_SIGMOID; i++)
        if (strcmp(name, activation_names[i]) == 0) {
            *a = (Activation)i;
            return 0;
        }
    if (strcmp(name, "linear") == 0) { /* Keras' name for the identity */
        *a = ACT_IDENTITY;
        return 0;
    }
    return rr_error("activation '%s': unknown (identity|linear, sigmoid, tanh, relu, hard_sigmoid)", name);
}

int activation_forward_check(Activation a, const Tensor *x, Tensor *y) {
    require_device("activation_forward", x);
    require_device("activation_forward", y);
    require_same_count("activation_forward", x, y);
    require_activation("activation_forward", a);
    return ops_device("activation_forward", x, y);
}

void act_apply_array(Activation a, const float *x, float *y, int64_t n) {
    switch (a) {
    case ACT_SIGMOID: vm_sigmoid(x, y, n); break;
    case ACT_TANH: vm_tanhf(x, y, n); break;
    case ACT_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = act_apply(ACT_RELU, x[i]);
        break;
    case ACT_HARD_SIGMOID:
        for (int64_t i = 0; i < n; i++) y[i] = act_hard_sigmoid(x[i]);
        break;
    case ACT_IDENTITY:
        if (y != x) memmove(y, x, sizeof(float) * (size_t)n);
        break;
    default: rr_die("act_apply_array: unknown activation %d", (int)a);
    }
}

void cpu_activation_forward(Activation a, const Tensor *x, Tensor *y) {
    const float *xs = x->data;
    float *ys = y->data;
    const int64_t n = x->count;
    if (a == ACT_IDENTITY) {
        if (ys != xs) memmove(ys, xs, sizeof(float) * (size_t)n);
        return;
    }
    /* act_apply_array (vector sigmoid and tanh) on 4096 elements per OpenMP iteration */
    const int64_t chunks = (n + 4095) / 4096;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > 65536)
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t i0 = c * 4096;
        act_apply_array(a, xs + i0, ys + i0, n - i0 < 4096 ? n - i0 : 4096);
    }
}

int activation_backward_check(Activation a, const Tensor *y, const Tensor *dy, Tensor *dx) {
    require_device("activation_backward", y);
    require_device("activation_backward", dy);
    require_device("activation_backward", dx);
    require_same_count("activation_backward (dy vs y)", dy, y);
    require_same_count("activation_backward (dx vs y)", dx, y);
    require_activation("activation_backward", a);
    return ops_device("activation_backward", y, dy, dx);
}

void cpu_activation_backward(Activation a, const Tensor *y, const Tensor *dy, Tensor *dx) {
    const float *ys = y->data, *dys = dy->data;
    float *dxs = dx->data;
    const int64_t n = y->count;
#pragma omp parallel for schedule(static) if (ops_use_openmp() && n > 65536)
    for (int64_t i = 0; i < n; i++) dxs[i] += dys[i] * act_grad_from_output(a, ys[i]);
}

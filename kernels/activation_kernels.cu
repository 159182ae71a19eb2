/* activation_kernels.cu — CUDA twin of src/activation.c: y = act(x), dx += dy · act'(y), one thread
 * per element; the scalar formulas are cuda_common.cuh's device copies of src/ops_internal.h. CUDA's
 * expf/tanhf differ from glibc's by a few ulp (CUDA C Programming Guide, "Mathematical Functions":
 * 2 ulp), so sigmoid/tanh agree with the CPU to ~1e-6 relative; relu, hard_sigmoid and identity are
 * bit-identical. In place (x == y) is allowed. */
#include "cuda_common.cuh"

__global__ void activation_forward_kernel(int a, const float *x, float *y, int64_t n) {
    RR_GRID_LOOP(i, n) y[i] = dev_act(a, x[i]);
}

__global__ void activation_backward_kernel(int a, const float *y, const float *dy, float *dx, int64_t n) {
    RR_GRID_LOOP(i, n) dx[i] += dy[i] * dev_act_grad(a, y[i]);
}

extern "C" void activation_forward_cuda(Activation a, const Tensor *x, Tensor *y) {
    const int64_t n = x->count;
    if (n == 0) return;
    if (a == ACT_IDENTITY) {
        if (y->data != x->data) CUDA_CHECK(cudaMemcpyAsync(y->data, x->data, sizeof(float) * (size_t)n,
                                                           cudaMemcpyDeviceToDevice, 0));
        return;
    }
    activation_forward_kernel<<<rr_blocks(n), RR_THREADS>>>((int)a, x->data, y->data, n);
    KERNEL_CHECK("activation_forward_kernel");
}

extern "C" void activation_backward_cuda(Activation a, const Tensor *y, const Tensor *dy, Tensor *dx) {
    const int64_t n = y->count;
    if (n == 0) return;
    activation_backward_kernel<<<rr_blocks(n), RR_THREADS>>>((int)a, y->data, dy->data, dx->data, n);
    KERNEL_CHECK("activation_backward_kernel");
}

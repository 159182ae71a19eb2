/* elementwise_kernels.cu — CUDA twin of src/elementwise.c: fill, copy, add, axpy, scale, mul (one
 * thread per element, bit-identical to the CPU: one rounding per float operation, no contraction),
 * the per-sample select of scheduled sampling (use_a in host memory, one device copy per sample),
 * host <-> device copies, and the deterministic double reduction shared with loss_kernels.cu. */
#include "cuda_common.cuh"

__global__ void fill_kernel(float *y, float v, int64_t n) { RR_GRID_LOOP(i, n) y[i] = v; }
__global__ void add_kernel(const float *a, const float *b, float *y, int64_t n) {
    RR_GRID_LOOP(i, n) y[i] = a[i] + b[i];
}
__global__ void axpy_kernel(float alpha, const float *x, float *y, int64_t n) {
    RR_GRID_LOOP(i, n) y[i] += alpha * x[i];
}
__global__ void scale_kernel(float *y, float alpha, int64_t n) { RR_GRID_LOOP(i, n) y[i] *= alpha; }
__global__ void mul_kernel(const float *a, const float *b, float *y, int64_t n) {
    RR_GRID_LOOP(i, n) y[i] = a[i] * b[i];
}
__global__ void acc_kernel(float *d, const float *g, int64_t n) { RR_GRID_LOOP(i, n) d[i] += g[i]; }

extern "C" void op_fill_cuda(Tensor *y, float value) {
    if (y->count == 0) return;
    fill_kernel<<<rr_blocks(y->count), RR_THREADS>>>(y->data, value, y->count);
    KERNEL_CHECK("fill_kernel");
}

extern "C" void op_copy_cuda(const Tensor *x, Tensor *y) {
    if (x->data != y->data && x->count)
        CUDA_CHECK(cudaMemcpyAsync(y->data, x->data, sizeof(float) * (size_t)x->count, cudaMemcpyDeviceToDevice, 0));
}

extern "C" void op_add_cuda(const Tensor *a, const Tensor *b, Tensor *y) {
    if (y->count == 0) return;
    add_kernel<<<rr_blocks(y->count), RR_THREADS>>>(a->data, b->data, y->data, y->count);
    KERNEL_CHECK("add_kernel");
}

extern "C" void op_axpy_cuda(float alpha, const Tensor *x, Tensor *y) {
    if (y->count == 0) return;
    axpy_kernel<<<rr_blocks(y->count), RR_THREADS>>>(alpha, x->data, y->data, y->count);
    KERNEL_CHECK("axpy_kernel");
}

extern "C" void op_scale_cuda(Tensor *y, float alpha) {
    if (y->count == 0) return;
    scale_kernel<<<rr_blocks(y->count), RR_THREADS>>>(y->data, alpha, y->count);
    KERNEL_CHECK("scale_kernel");
}

extern "C" void op_mul_cuda(const Tensor *a, const Tensor *b, Tensor *y) {
    if (y->count == 0) return;
    mul_kernel<<<rr_blocks(y->count), RR_THREADS>>>(a->data, b->data, y->data, y->count);
    KERNEL_CHECK("mul_kernel");
}

extern "C" void op_select_samples_cuda(const unsigned char *use_a, const Tensor *a, const Tensor *b, Tensor *y) {
    const int64_t m = y->shape[0] ? y->count / y->shape[0] : 0;
    if (m == 0) return;
    for (int s = 0; s < y->shape[0]; s++) {
        const float *src = (use_a[s] ? a->data : b->data) + s * m;
        if (src != y->data + s * m)
            CUDA_CHECK(cudaMemcpyAsync(y->data + s * m, src, sizeof(float) * (size_t)m, cudaMemcpyDeviceToDevice, 0));
    }
}

extern "C" void op_select_samples_backward_cuda(const unsigned char *use_a, const Tensor *dy, Tensor *da, Tensor *db) {
    const int64_t m = dy->shape[0] ? dy->count / dy->shape[0] : 0;
    if (m == 0) return;
    for (int s = 0; s < dy->shape[0]; s++) {
        Tensor *dst = use_a[s] ? da : db;
        if (!dst) continue;
        acc_kernel<<<rr_blocks(m), RR_THREADS>>>(dst->data + s * m, dy->data + s * m, m);
        KERNEL_CHECK("acc_kernel");
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Deterministic Σ (x - b)² (or Σ x² when b is NULL) in double: REDUCE_BLOCKS blocks of
 * RR_REDUCE_THREADS threads (a fixed shape, whatever the device), thread t of block k summing
 * elements t + k·RR_REDUCE_THREADS + j·(REDUCE_BLOCKS·RR_REDUCE_THREADS) in order of j, a tree per
 * block into partial[k], then one block's tree over the partials. */
#define REDUCE_BLOCKS 256

__global__ void sum_sq_partial_kernel(const float *x, const float *b, int64_t n, double *partial) {
    __shared__ double sh[RR_REDUCE_THREADS];
    double acc = 0.0;
    const int64_t stride = (int64_t)REDUCE_BLOCKS * RR_REDUCE_THREADS;
    for (int64_t i = (int64_t)blockIdx.x * RR_REDUCE_THREADS + threadIdx.x; i < n; i += stride) {
        /* the CPU's expressions: loss.c (double)p - (double)t squared; elementwise.c (double)x * x */
        const double d = b ? (double)x[i] - (double)b[i] : (double)x[i];
        acc += d * d;
    }
    acc = rr_block_sum(acc, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void sum_partials_kernel(const double *partial, double *out) {
    __shared__ double sh[RR_REDUCE_THREADS];
    double acc = 0.0;
    for (int i = threadIdx.x; i < REDUCE_BLOCKS; i += RR_REDUCE_THREADS) acc += partial[i];
    acc = rr_block_sum(acc, sh);
    if (threadIdx.x == 0) out[0] = acc;
}

extern "C" double rr_cuda_sum_sq_diff(const float *x, const float *b, int64_t n) {
    if (n == 0) return 0.0;
    double *partial = (double *)rr_cuda_workspace(sizeof(double) * (REDUCE_BLOCKS + 1)), *out = partial + REDUCE_BLOCKS;
    sum_sq_partial_kernel<<<REDUCE_BLOCKS, RR_REDUCE_THREADS>>>(x, b, n, partial);
    KERNEL_CHECK("sum_sq_partial_kernel");
    sum_partials_kernel<<<1, RR_REDUCE_THREADS>>>(partial, out);
    KERNEL_CHECK("sum_partials_kernel");
    double result = 0.0;
    CUDA_CHECK(cudaMemcpy(&result, out, sizeof result, cudaMemcpyDeviceToHost)); /* waits for the kernels */
    return result;
}

extern "C" double op_sum_squares_cuda(const Tensor *x) { return rr_cuda_sum_sq_diff(x->data, NULL, x->count); }

/* Σ over i of (Σ x_i²), x_i = the n tensors: per tensor the reduction above into its own slot (no
 * host round trip in between), then one thread adds the n slots in order, and one copy to the host. */
__global__ void sum_slots_kernel(const double *slots, int n, double *out) {
    double acc = 0.0;
    for (int i = 0; i < n; i++) acc += slots[i];
    out[0] = acc;
}

static double sum_squares_slots(const Tensor *const *xs, int n) {
    if (n <= 0) return 0.0;
    double *partial = (double *)rr_cuda_workspace(sizeof(double) * ((size_t)REDUCE_BLOCKS + (size_t)n + 1));
    double *slots = partial + REDUCE_BLOCKS, *out = slots + n;
    for (int i = 0; i < n; i++) {
        if (xs[i]->count == 0) {
            CUDA_CHECK(cudaMemsetAsync(slots + i, 0, sizeof(double), 0));
            continue;
        }
        sum_sq_partial_kernel<<<REDUCE_BLOCKS, RR_REDUCE_THREADS>>>(xs[i]->data, NULL, xs[i]->count, partial);
        KERNEL_CHECK("sum_sq_partial_kernel");
        sum_partials_kernel<<<1, RR_REDUCE_THREADS>>>(partial, slots + i); /* partial is reused: stream order */
        KERNEL_CHECK("sum_partials_kernel");
    }
    sum_slots_kernel<<<1, 1>>>(slots, n, out);
    KERNEL_CHECK("sum_slots_kernel");
    double result = 0.0;
    CUDA_CHECK(cudaMemcpy(&result, out, sizeof result, cudaMemcpyDeviceToHost)); /* waits for the kernels */
    return result;
}

/* Chunks of 128 tensors (one wait for the device each), their sums added on the host in order. */
extern "C" double op_sum_squares_many_cuda(const Tensor *const *xs, int n) {
    double sum = 0.0;
    for (int i0 = 0; i0 < n; i0 += 128) sum += sum_squares_slots(xs + i0, n - i0 < 128 ? n - i0 : 128);
    return sum;
}

extern "C" void op_to_host_cuda(const Tensor *x, float *host) {
    if (x->count) CUDA_CHECK(cudaMemcpy(host, x->data, sizeof(float) * (size_t)x->count, cudaMemcpyDeviceToHost));
}

extern "C" void op_from_host_cuda(const float *host, Tensor *y) {
    if (y->count) CUDA_CHECK(cudaMemcpy(y->data, host, sizeof(float) * (size_t)y->count, cudaMemcpyHostToDevice));
}

/* cuda_runtime.h (emulator) — the part of the CUDA runtime API that kernels/ uses, for the CPU emulation
 * build of the CUDA backend (tests/gpu/emu/README.md): device memory, copies, error strings, device
 * queries and kernel launches, all executed on the host by emu_runtime.cpp. Not NVIDIA's header: only
 * what rnnreg's kernels call, with the semantics they rely on. */
#ifndef RR_EMU_CUDA_RUNTIME_H
#define RR_EMU_CUDA_RUNTIME_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorNoDevice = 100,
} cudaError_t;

typedef enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
} cudaMemcpyKind;

typedef struct CUstream_st *cudaStream_t;

struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int major, minor, multiProcessorCount;
};

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device);
cudaError_t cudaGetLastError(void);
const char *cudaGetErrorString(cudaError_t e);
const char *cudaGetErrorName(cudaError_t e);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaMalloc(void **p, size_t bytes);
cudaError_t cudaFree(void *p);
cudaError_t cudaMemset(void *p, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t stream = 0);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = 0);

/* Built-in variables of the emulated thread (set by the launcher). */
extern dim3 threadIdx, blockIdx, blockDim, gridDim;
void __syncthreads(void);

namespace rr_emu {
/* Device memory is accessible to the host only inside device_scope (kernels, copies, cuBLAS); any
 * other host access faults and is reported (emu_runtime.cpp). */
struct device_scope {
    device_scope();
    ~device_scope();
};
/* Abort unless [p, p + bytes) lies inside one device allocation (what names the caller). */
void check_device_range(const void *p, size_t bytes, const char *what);
/* A pointer argument of a kernel: NULL, or inside a device allocation. */
void check_kernel_pointer(const void *p, const char *kernel, int index);
void run_kernel(const char *name, const void *key, dim3 grid, dim3 block, const std::function<void()> &body);

template <class T> inline void check_arg(const T &, const char *, int) {}
template <class T> inline void check_arg(T *const &p, const char *kernel, int index) {
    check_kernel_pointer((const void *)p, kernel, index);
}

/* An argument converted to its parameter type as a call would (implicitly); NULL (an integer zero by
 * the time it arrives here) becomes a null pointer. */
template <class P, class A> inline P convert_arg(A &&a) {
    if constexpr (std::is_pointer<P>::value && std::is_integral<typename std::decay<A>::type>::value) {
        return a == 0 ? nullptr : throw "rr_emu: an integer passed for a pointer parameter";
    } else {
        P p = std::forward<A>(a);
        return p;
    }
}

template <class... P> struct Launch {
    void (*kernel)(P...);
    const char *name;
    dim3 grid, block;
    template <class... A> void operator()(A &&...a) const {
        static_assert(sizeof...(A) == sizeof...(P), "rr_emu_launch: wrong number of kernel arguments");
        std::tuple<P...> args(convert_arg<P>(std::forward<A>(a))...); /* the kernel's own parameter types */
        int index = 0;
        std::apply([&](auto &...x) { (check_arg(x, name, index++), ...); }, args);
        auto k = kernel;
        run_kernel(name, (const void *)k, grid, block, [&]() { std::apply(k, args); });
    }
};
template <class... P> Launch<P...> make_launch(void (*kernel)(P...), const char *name, dim3 grid, dim3 block) {
    return Launch<P...>{kernel, name, grid, block};
}
} // namespace rr_emu

/* `kernel<<<grid, block>>>(args)` is rewritten to `rr_emu_launch(kernel, grid, block)(args)` by the
 * emulation build (kernels/cuda.mk). */
#define rr_emu_launch(kernel, ...) rr_emu::make_launch(kernel, #kernel, __VA_ARGS__)
/* ... and a launch written in a header (kernels/cuda_common.cuh's LAUNCH), which that rewrite does not
 * reach, goes through this macro. */
#define RR_KERNEL_LAUNCH(kernel, grid, block) rr_emu_launch(kernel, grid, block)

#endif

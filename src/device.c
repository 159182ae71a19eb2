/* device.c — the device chosen once per run (device.h): the backend config value resolved and the
 * TF32 mode set, device memory, and the backend table of each device. The only file of src/ that
 * looks at whether the CUDA backend (kernels/, -DRR_USE_CUDA) was compiled in. */
#include "device.h"

#include <cpuid.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "common.h"
#include "ops_internal.h"
#ifdef RR_USE_CUDA
#include "cuda_backend.h"
#include "cuda_ops.h"
extern const OpsTable rr_cuda_ops; /* kernels/cuda_ops_table.cu */
#endif

int device_select(const char *backend, int tf32, int strict_tf32, int *device) {
    *device = RR_CPU;
    if (!strcmp(backend, "cpu")) {
        if (tf32 && strict_tf32)
            return rr_error("tf32: 1 needs backend = cuda (TF32 is a cuBLAS tensor-core mode; the cpu backend "
                            "computes in FP32)");
        return 0;
    }
    if (strcmp(backend, "cuda")) return rr_error("backend: '%s' is unknown (cpu, cuda)", backend);
    if (!device_cuda_compiled())
        return rr_error("backend: cuda: this build has no CUDA backend (built without nvcc, or with CUDA=0): "
                        "rebuild with CUDA=1 where the CUDA toolkit is installed, or use backend = cpu");
    if (!device_cuda_available())
        return rr_error("backend: cuda: no CUDA device is visible here (this build has the CUDA backend, but "
                        "cudaGetDeviceCount finds no GPU): run on a machine with a GPU, or use backend = cpu");
    device_set_tf32(tf32);
    *device = RR_CUDA;
    return 0;
}

static RRPrecision g_precision = RR_FP32;

void device_set_precision(RRPrecision p) { g_precision = p; }
RRPrecision device_precision(void) { return g_precision; }
const char *precision_name(RRPrecision p) { return p == RR_BF16 ? "bf16" : "fp32"; }

/* cpuid leaf 7: subleaf 0 EDX bit 22 = AMX-BF16, subleaf 1 EAX bit 5 = AVX512_BF16 (Intel SDM vol. 2A,
 * CPUID). AMX tiles also need the kernel's permission (arch_prctl ARCH_REQ_XCOMP_PERM), which oneDNN
 * asks for itself. */
const char *device_cpu_bf16_isa(void) {
    const char *no = getenv("RNNREG_TEST_NO_BF16");
    if (no && !strcmp(no, "1")) return NULL;
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) < 7) return NULL;
    __cpuid_count(7, 0, a, b, c, d);
    const int amx = (d >> 22) & 1;
    const unsigned max_sub = a;
    int avx512bf16 = 0;
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        avx512bf16 = (a >> 5) & 1;
    }
    return amx ? "amx_bf16" : avx512bf16 ? "avx512_bf16" : NULL;
}

const char *device_bf16_unavailable(int device) {
    if (device == RR_CUDA) return "backend cuda computes in FP32 or TF32 (tf32 = 1); bf16 is a CPU convolution mode";
    if (strcmp(conv_cpu_engine(), "onednn"))
        return "this build's CPU convolutions are im2col + sgemm (built with CONV=im2col or without oneDNN); "
               "bf16 needs the oneDNN engine (libdnnl-dev, make CONV=onednn)";
    if (!device_cpu_bf16_isa()) return "this CPU has no bf16 instructions (neither amx_bf16 nor avx512_bf16 in cpuid)";
    return NULL;
}

int device_select_precision(const char *precision, int device, RRPrecision *used) {
    *used = RR_FP32;
    device_set_precision(RR_FP32);
    if (!strcmp(precision, "fp32")) return 0;
    const int want_auto = !strcmp(precision, "auto");
    if (strcmp(precision, "bf16") && !want_auto)
        return rr_error("precision: '%s' is unknown (fp32, bf16, auto)", precision);
    const char *why = device_bf16_unavailable(device);
    if (why) return want_auto ? 0 : rr_error("precision: bf16 cannot run here: %s; use precision = fp32 or auto", why);
    device_set_precision(RR_BF16);
    *used = RR_BF16;
    return 0;
}

#ifdef RR_USE_CUDA

int device_cuda_compiled(void) { return 1; }
int device_cuda_count(void) { return rr_cuda_device_count(); }
int device_cuda_available(void) { return rr_cuda_available(); }
void device_set_tf32(int on) { rr_cuda_set_tf32(on); }

void device_name(int device, char *buf, int n) {
    if (device == RR_CUDA) rr_cuda_device_name(0, buf, n);
    else if (n > 0) snprintf(buf, (size_t)n, "cpu");
}

int device_alloc_zeroed(int device, size_t bytes, void **out) {
    if (device == RR_CUDA) return rr_cuda_alloc_zeroed(out, bytes);
    *out = rr_aligned_alloc(bytes);
    memset(*out, 0, bytes);
    return 0;
}

void device_free(int device, void *p) {
    if (device == RR_CUDA) rr_cuda_free(p);
    else free(p);
}

void device_synchronize(int device) {
    if (device == RR_CUDA) rr_cuda_synchronize();
}

void device_sgemm(int device, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (device == RR_CUDA) rr_cuda_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else rr_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const OpsTable *device_ops(int device) { return device == RR_CUDA ? &rr_cuda_ops : &ops_cpu; }

#else /* CPU only: the checks (require_device, device_select) keep every tensor on RR_CPU */

int device_cuda_compiled(void) { return 0; }
int device_cuda_count(void) { return 0; }
int device_cuda_available(void) { return 0; }
void device_set_tf32(int on) { (void)on; }

void device_name(int device, char *buf, int n) {
    (void)device;
    if (n > 0) snprintf(buf, (size_t)n, "cpu");
}

int device_alloc_zeroed(int device, size_t bytes, void **out) {
    (void)device; /* RR_CPU: tensor.c refuses the others */
    *out = rr_aligned_alloc(bytes);
    memset(*out, 0, bytes);
    return 0;
}

void device_free(int device, void *p) {
    (void)device;
    free(p);
}

void device_synchronize(int device) { (void)device; }

void device_sgemm(int device, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    (void)device;
    rr_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const OpsTable *device_ops(int device) {
    (void)device;
    return &ops_cpu;
}

#endif

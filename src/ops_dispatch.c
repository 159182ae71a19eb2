/* ops_dispatch.c — the one dispatching entry of every op in ops_list.h, and the CPU backend table.
 * Each public op (ops.h, layernorm.h, causal_lstm_cell.h, regularize.h) is generated here as
 *   <name>(args): device = <name>_check(args); device_ops(device)-><name>(args)
 * so shapes and devices are checked once, whatever the backend, and the CPU code (cpu_<name> in
 * src/<family>.c) and the CUDA code (<name>_cuda in kernels/<family>_kernels.cu) only compute. With
 * profiling on (profile.h) the entry also times the call. */
#include "ops_internal.h"
#include "profile.h"

/* With profiling on (profile.h, `rnnreg bench --profile`) the entry times the op's call and counts
 * its FLOPs: op_flops_<name>(args), 0 for every op but the convolutions, whose macros below replace
 * the generated default (the defaults are defined first, so the macros do not rename them). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define OPS_FLOPS_VOID(name, params, args) static inline double op_flops_##name params { return 0.0; }
#define OPS_FLOPS_VALUE(type, name, params, args) OPS_FLOPS_VOID(name, params, args)
RR_OPS(OPS_FLOPS_VOID, OPS_FLOPS_VALUE)
#pragma GCC diagnostic pop
#define op_flops_conv2d_forward(x, w, b, y, accumulate, scratch) profile_conv_flops(x, w)
#define op_flops_conv2d_backward(x, w, dy, dx, dw, db, scratch) \
    (((dx) != NULL) + ((dw) != NULL)) * profile_conv_flops(x, w)

/* A timed call: on a GPU the op's queued work is waited for before the clock is read. */
#define OPS_TIMED(name, args, call)                     \
    const ProfileMark t0_ = profile_enter();            \
    call;                                               \
    if (device_ == RR_CUDA) device_synchronize(RR_CUDA); \
    profile_leave(PROFILE_OP_##name, t0_, op_flops_##name args)

#define OPS_ENTRY_VOID(name, params, args)                                 \
    void name params {                                                     \
        const int device_ = name##_check args;                             \
        if (__builtin_expect(!profile_on, 1)) {                            \
            device_ops(device_)->name args;                                \
            return;                                                        \
        }                                                                  \
        OPS_TIMED(name, args, device_ops(device_)->name args);             \
    }
#define OPS_ENTRY_VALUE(type, name, params, args)                          \
    type name params {                                                     \
        const int device_ = name##_check args;                             \
        if (__builtin_expect(!profile_on, 1)) return device_ops(device_)->name args; \
        type value_;                                                       \
        OPS_TIMED(name, args, value_ = device_ops(device_)->name args);    \
        return value_;                                                     \
    }
RR_OPS(OPS_ENTRY_VOID, OPS_ENTRY_VALUE)

#define OPS_CPU_SLOT_VOID(name, params, args) cpu_##name,
#define OPS_CPU_SLOT_VALUE(type, name, params, args) cpu_##name,
const OpsTable ops_cpu = {RR_OPS(OPS_CPU_SLOT_VOID, OPS_CPU_SLOT_VALUE)};

int ops_device_list(const char *op, const Tensor *const *ts, int n) {
    int dev = -1;
    for (int i = 0; i < n; i++) {
        if (!ts[i]) continue;
        if (dev < 0) dev = ts[i]->device;
        else if (ts[i]->device != dev)
            rr_die("%s: tensors on different devices (%s and %s)", op, dev == RR_CUDA ? "CUDA" : "CPU",
                   ts[i]->device == RR_CUDA ? "CUDA" : "CPU");
    }
    if (dev != RR_CUDA) return RR_CPU;
    if (!device_cuda_available()) rr_die("%s: a tensor is on CUDA, but no CUDA device is available", op);
    return RR_CUDA;
}

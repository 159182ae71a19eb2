/* ops_dispatch.c — the one dispatching entry of every op in ops_list.h, and the CPU backend table.
 * Each public op (ops.h, layernorm.h, causal_lstm_cell.h, regularize.h) is generated here as
 *   <name>(args): device = <name>_check(args); device_ops(device)-><name>(args)
 * so shapes and devices are checked once, whatever the backend, and the CPU code (cpu_<name> in
 * src/<family>.c) and the CUDA code (<name>_cuda in kernels/<family>_kernels.cu) only compute. */
#include "ops_internal.h"

#define OPS_ENTRY_VOID(name, params, args) \
    void name params { device_ops(name##_check args)->name args; }
#define OPS_ENTRY_VALUE(type, name, params, args) \
    type name params { return device_ops(name##_check args)->name args; }
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

/* cuda_ops_table.cu — the CUDA backend table: one slot per op of src/ops_list.h, filled with the
 * op's CUDA twin <name>_cuda (kernels/<family>_kernels.cu), in list order. src/device.c hands it to
 * the op entries (src/ops_dispatch.c) for tensors on RR_CUDA. */
#include "cuda_common.cuh"

#define RR_CUDA_SLOT_VOID(name, params, args) name##_cuda,
#define RR_CUDA_SLOT_VALUE(type, name, params, args) name##_cuda,
extern "C" const OpsTable rr_cuda_ops = {RR_OPS(RR_CUDA_SLOT_VOID, RR_CUDA_SLOT_VALUE)};

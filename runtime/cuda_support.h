// CUDA execution of Halide kernels on caller memory: device pointers are wrapped in place, in
// the device's primary context, on the calling thread's stream (nnf_cuda_set_stream).
// A build without CUDA kernels (NNFUSE_CUDA=OFF) links cuda_unavailable.cpp instead, whose
// functions fail with the reason; drivers never reach them, as they find no CUDA kernels.
#pragma once

#include <type_traits>

#include "HalideRuntime.h"
#include "nnfuse/detail/kernel_support.h"
#include "nnfuse/nnfuse.h"

namespace nnf::rt {

// run_with_cuda_buffers, copy_from_cuda and cuda_driver_available: nnfuse/detail/kernel_support.h.

// run_with_cuda_buffers for any callable `call(halide_buffer_t *wrapped)`.
template<typename Call>
int run_on_cuda(int device_id, halide_buffer_t *buffers, int count, Call &&call) {
    auto thunk = [](void *context, halide_buffer_t *wrapped) {
        return (*static_cast<std::remove_reference_t<Call> *>(context))(wrapped);
    };
    return run_with_cuda_buffers(device_id, buffers, count, thunk, &call);
}

// Halide's CUDA device interface, for halide_device_malloc and copies inside run_on_cuda
// (nullptr in a build without CUDA kernels, whose Halide runtime has no CUDA).
const halide_device_interface_t *cuda_device_interface();

// The CUDA twins of CPU kernels. The generated wrappers of the softmax, prelu, rrelu and loss
// families hand their drivers CPU kernels only (compiler/nnfc emits them so), so the drivers
// look up the kernel that the same generator, with the same parameters, compiled for
// NNFUSE_CUDA_TARGET: it has the CPU kernel's exact C signature. runtime/CMakeLists.txt
// generates the table (cuda_twin_table.cpp) from the kernels it builds.

// The rows kernels of a row-reducing family exist twice on CUDA: a warp per row (short rows)
// and a block per row (long rows); every other CUDA kernel is `any`.
enum class CudaRowGroup { any, warp, block };

// Halide's AOT functions all return int but take different arguments: the table holds them as
// one pointer type and casts back to the caller's kernel type, which twin() below has checked.
using AnyKernel = void (*)();

struct CudaTwin {
    AnyKernel cpu;
    AnyKernel cuda;
    CudaRowGroup group;
};

// A table entry; a CPU kernel and its twin of another signature do not compile.
template<typename Kernel>
inline CudaTwin twin(Kernel *cpu, Kernel *cuda, CudaRowGroup group) {
    return {reinterpret_cast<AnyKernel>(cpu), reinterpret_cast<AnyKernel>(cuda), group};
}

// cross_entropy's gradient kernels: the CPU one stores the exps in the gradient's memory (an
// `exps` argument, the gradient's buffer again), the CUDA one recomputes them and has no such
// argument. The driver finds it with find_cuda_twin and casts it to the CUDA kernel's type.
template<typename CpuKernel, typename CudaKernel>
inline CudaTwin twin_recomputing_exps(CpuKernel *cpu, CudaKernel *cuda, CudaRowGroup group) {
    return {reinterpret_cast<AnyKernel>(cpu), reinterpret_cast<AnyKernel>(cuda), group};
}

// nullptr when `cpu` has no CUDA twin of that group (or the build has no CUDA kernels).
AnyKernel find_cuda_twin(AnyKernel cpu, CudaRowGroup group);

template<typename Kernel>
Kernel *cuda_twin_of(Kernel *cpu, CudaRowGroup group = CudaRowGroup::any) {
    return reinterpret_cast<Kernel *>(find_cuda_twin(reinterpret_cast<AnyKernel>(cpu), group));
}

}  // namespace nnf::rt

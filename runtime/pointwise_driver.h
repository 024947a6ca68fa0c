// The runtime driver of the pointwise family: validates the arguments of a generated wrapper,
// plans the layout and calls the kernel once per 2-D slice, on the CPU or on a CUDA device.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <type_traits>

#include "cuda_support.h"
#include "error.h"
#include "tensor.h"

namespace nnf::rt {

struct PointwisePlan {
    Layout layout;
    bool empty = false;
    Backend backend = Backend::cpu;
    int device_id = 0;
};

// Validation and planning. On failure nothing is planned and the error is recorded.
nnf_status prepare_pointwise(const char *function, const TensorArg *inputs, int num_inputs, const TensorArg &output,
                             bool cuda_kernels, PointwisePlan *plan);

// Turns a kernel's return code into a status (with Halide's message on failure).
nnf_status kernel_status(const char *function, int halide_result);

// kernel(inputs, output) calls the Halide function with the inputs' buffers in order. The CUDA
// kernel is nullptr in a build without CUDA kernels.
template<typename CpuKernel, typename CudaKernel>
nnf_status run_pointwise(const char *function, std::initializer_list<TensorArg> inputs, const TensorArg &output,
                         CpuKernel &&cpu_kernel, CudaKernel &&cuda_kernel) {
    constexpr bool has_cuda = !std::is_same_v<std::decay_t<CudaKernel>, std::nullptr_t>;
    PointwisePlan plan;
    if (nnf_status s = prepare_pointwise(function, inputs.begin(), static_cast<int>(inputs.size()), output, has_cuda,
                                         &plan)) {
        return s;
    }
    if (plan.empty) return NNF_OK;
    clear_kernel_error();
    // plan_layout put the output first.
    if constexpr (has_cuda) {
        if (plan.backend == Backend::cuda) {
            const char *why = nullptr;
            if (!cuda_driver_available(&why)) return fail(function, NNF_ERR_RUNTIME_FAILURE, "%s", why);
            auto launch = [](void *kernel, halide_buffer_t *buffers) {
                return (*static_cast<std::decay_t<CudaKernel> *>(kernel))(buffers + 1, buffers);
            };
            return kernel_status(function, for_each_slice(plan.layout, [&](halide_buffer_t *buffers) {
                                     return run_with_cuda_buffers(plan.device_id, buffers, plan.layout.num_tensors,
                                                                  launch, &cuda_kernel);
                                 }));
        }
    }
    return kernel_status(function, for_each_slice(plan.layout, [&](halide_buffer_t *buffers) {
                             return cpu_kernel(buffers + 1, buffers);
                         }));
}

}  // namespace nnf::rt

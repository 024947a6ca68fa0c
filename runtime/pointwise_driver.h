// The runtime driver of the pointwise family: validates the arguments of a generated wrapper,
// plans the layout and calls the kernel once per 2-D slice.
#pragma once

#include <initializer_list>

#include "error.h"
#include "tensor.h"

namespace nnf::rt {

// Validation and planning; sets *empty for a successful no-op. On failure nothing is planned.
nnf_status prepare_pointwise(const char *function, const TensorArg *inputs, int num_inputs, const TensorArg &output,
                             Layout *layout, bool *empty);

// Turns a kernel's return code into a status (with Halide's message on failure).
nnf_status kernel_status(const char *function, int halide_result);

// kernel(inputs, output) calls the Halide function with the inputs' buffers in order.
template<typename Kernel>
nnf_status run_pointwise(const char *function, std::initializer_list<TensorArg> inputs, const TensorArg &output,
                         Kernel &&kernel) {
    Layout layout;
    bool empty = false;
    if (nnf_status s = prepare_pointwise(function, inputs.begin(), static_cast<int>(inputs.size()), output, &layout,
                                         &empty)) {
        return s;
    }
    if (empty) return NNF_OK;
    clear_kernel_error();
    // plan_layout put the output first.
    const int result = for_each_slice(layout, [&](halide_buffer_t *buffers) { return kernel(buffers + 1, buffers); });
    return kernel_status(function, result);
}

}  // namespace nnf::rt

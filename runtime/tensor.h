// DLTensor validation and the layout plan that turns N-d strided tensors into the 2-D
// halide_buffer_t slices the kernels take.
#pragma once

#include <cstdint>

#include "HalideRuntime.h"
#include "nnfuse/detail/kernel_support.h"
#include "nnfuse/nnfuse.h"

namespace nnf::rt {

// TensorArg: nnfuse/detail/kernel_support.h.

inline int64_t abs64(int64_t v) {
    return v < 0 ? -v : v;
}

// stride_of, element0 and element_count: nnfuse/detail/kernel_support.h.

// Checks a float32 tensor argument: not NULL, dtype, rank, non-negative shape, data present and
// aligned when not empty. Returns NNF_OK or the failure (already recorded).
nnf_status check_tensor(const char *function, const TensorArg &arg);

// Backend and check_devices: nnfuse/detail/kernel_support.h.

// Checks that `b` has exactly the shape of `a` (NNF_ERR_SHAPE_MISMATCH otherwise).
nnf_status check_same_shape(const char *function, const TensorArg &a, const TensorArg &b);

// Checks that an output has no two elements at one address and overlaps `input` either not at
// all or exactly (the same view: in-place). Both are non-empty and already checked.
nnf_status check_output_aliasing(const char *function, const TensorArg &output, const TensorArg &input);
nnf_status check_no_self_overlap(const char *function, const TensorArg &output);

// The layout of K same-shaped tensors reduced to its simplest equivalent: dimensions of extent
// 1 dropped, dimensions ordered by the output's strides (innermost first), and neighbours that
// are contiguous in every tensor merged. Elementwise kernels see the same element pairs.
struct Layout {
    static constexpr int kMaxTensors = 4;
    int num_tensors = 0;
    int rank = 0;  // 0 for a single element
    int64_t extent[NNF_MAX_DIMS] = {};
    int64_t stride[kMaxTensors][NNF_MAX_DIMS] = {};  // in elements
    char *base[kMaxTensors] = {};                    // address of element 0 of each tensor
};

// tensors[0] is the output (its strides choose the order). All have the same shape.
Layout plan_layout(const DLTensor *const *tensors, int num_tensors);

// The largest index span one kernel call may cover. Halide indexes buffers with int32 (without
// its large_buffers feature), so larger tensors are cut into slices below this span (2^30).
int64_t max_span_per_call();
// For tests of the slicing: lowers the span limit (0 restores the default).
void set_max_span_per_call_for_testing(int64_t span);

// Calls `call(buffers)` once per 2-D slice of `layout`, each slice a set of halide_buffer_t
// views (one per tensor, same order) whose index spans stay within max_span_per_call().
// Stops at the first non-zero return and returns it.
template<typename Call>
int for_each_slice(const Layout &layout, Call &&call);

}  // namespace nnf::rt

#include "tensor_slices.inl"

#include "prelu_driver.h"

#include <cinttypes>
#include <vector>

#include "cpu_dispatch.h"
#include "dim_view.h"
#include "error.h"
#include "pointwise_driver.h"
#include "tensor.h"

namespace nnf::rt {
namespace {

// PyTorch's channel dim: 1, or none (a single channel) below 2 dims.
int channel_dim(const DLTensor &x) {
    return x.ndim >= 2 ? 1 : -1;
}

int64_t channel_count(const DLTensor &x) {
    return x.ndim >= 2 ? x.shape[1] : 1;
}

// Stride in elements of a 0-d or 1-d tensor.
int64_t vector_stride(const DLTensor &t) {
    return t.ndim == 1 && t.strides ? t.strides[0] : 1;
}


// weight: a scalar or 1-D tensor of 1 or C elements (ATen's prelu checks the same).
nnf_status check_weight(const char *function, const DLTensor &x, const DLTensor &weight) {
    if (weight.ndim > 1) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT, "weight has %d dimensions; expected a scalar or a 1-D tensor",
                    weight.ndim);
    }
    const int64_t count = element_count(weight), channels = channel_count(x);
    if (count != 1 && count != channels) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT,
                    "weight has %" PRId64 " elements; expected 1 or the %" PRId64 " channels of x (its dim 1)", count,
                    channels);
    }
    return NNF_OK;
}

// The weight as the kernels read it: one element per channel of the view, stride 0 when shared.
halide_buffer_t weight_buffer(const DLTensor &weight, int64_t channels, halide_dimension_t *dim) {
    const bool shared = element_count(weight) == 1;
    *dim = halide_dimension_t(0, static_cast<int32_t>(channels),
                              shared || channels == 1 ? 0 : static_cast<int32_t>(vector_stride(weight)));
    halide_buffer_t b = halide_buffer_t();
    b.host = reinterpret_cast<uint8_t *>(element0(weight));
    b.type = halide_type_t(halide_type_float, 32);
    b.dimensions = 1;
    b.dim = dim;
    return b;
}

nnf_status check_view_fits(const char *function, const DimView &view) {
    if (dim_span(view) <= max_span_per_call()) return NNF_OK;
    return fail(function, NNF_ERR_INVALID_ARGUMENT,
                "the channel dim spans %" PRId64 " elements in memory; at most %" PRId64 " are supported",
                dim_span(view), max_span_per_call());
}

}  // namespace

nnf_status run_prelu_forward(const char *function, const DLTensor *x, const DLTensor *weight, DLTensor *y,
                             PreluForwardKernel kernel) {
    const TensorArg args[] = {{"x", x}, {"weight", weight}, {"y", y}};
    for (const TensorArg &a : args) {
        if (nnf_status s = check_tensor(function, a)) return s;
    }
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, args, 3, /*cuda_kernels=*/false, &backend, &device_id)) return s;
    if (nnf_status s = check_same_shape(function, args[0], args[2])) return s;
    if (nnf_status s = check_weight(function, *x, *weight)) return s;
    if (element_count(*x) == 0) return NNF_OK;
    if (nnf_status s = check_no_self_overlap(function, args[2])) return s;
    if (nnf_status s = check_output_aliasing(function, args[2], args[0])) return s;
    if (nnf_status s = check_output_aliasing(function, args[2], args[1])) return s;

    const DLTensor *tensors[] = {x, y};
    const DimView view = plan_dim_view(tensors, 2, channel_dim(*x));
    if (nnf_status s = check_view_fits(function, view)) return s;
    halide_dimension_t weight_dim;
    halide_buffer_t w = weight_buffer(*weight, view.extent[1], &weight_dim);
    mark_kernels_started();
    clear_kernel_error();
    const int result = for_each_dim_slice(view, [&](halide_buffer_t *b) { return kernel(&b[0], &w, &b[1]); });
    return kernel_status(function, result);
}

nnf_status run_prelu_backward(const char *function, const DLTensor *grad_output, const DLTensor *x,
                              const DLTensor *weight, DLTensor *grad_input, DLTensor *grad_weight,
                              PreluBackwardKernel kernel) {
    const TensorArg args[] = {{"grad_output", grad_output},
                              {"x", x},
                              {"weight", weight},
                              {"grad_input", grad_input},
                              {"grad_weight", grad_weight}};
    for (const TensorArg &a : args) {
        if (nnf_status s = check_tensor(function, a)) return s;
    }
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, args, 5, /*cuda_kernels=*/false, &backend, &device_id)) return s;
    if (nnf_status s = check_same_shape(function, args[1], args[0])) return s;
    if (nnf_status s = check_same_shape(function, args[1], args[3])) return s;
    if (nnf_status s = check_weight(function, *x, *weight)) return s;
    if (nnf_status s = check_same_shape(function, args[2], args[4])) return s;
    const bool empty = element_count(*x) == 0;
    if (!empty) {
        if (nnf_status s = check_no_self_overlap(function, args[3])) return s;
        for (int i = 0; i < 3; ++i) {
            if (nnf_status s = check_output_aliasing(function, args[3], args[i])) return s;
        }
    }
    // grad_weight is written after the kernels ran, so it may share weight's memory; it must not
    // touch the tensors the kernels read or write.
    if (nnf_status s = check_no_self_overlap(function, args[4])) return s;
    if (!empty) {
        for (int i : {0, 1, 3}) {
            if (nnf_status s = check_output_aliasing(function, args[4], args[i])) return s;
            if (element_count(*grad_weight) > 0 && element_count(*args[i].tensor) > 0) {
                // check_output_aliasing accepts an exact same view; these never may be one.
                if (element0(*grad_weight) == element0(*args[i].tensor)) {
                    return fail(function, NNF_ERR_INVALID_ARGUMENT, "grad_weight overlaps %s", args[i].name);
                }
            }
        }
    }

    const int64_t channels = channel_count(*x);
    std::vector<double> sums(static_cast<size_t>(channels), 0.0);
    if (!empty) {
        const DLTensor *tensors[] = {grad_output, x, grad_input};
        const DimView view = plan_dim_view(tensors, 3, channel_dim(*x));
        if (nnf_status s = check_view_fits(function, view)) return s;
        halide_dimension_t weight_dim, partial_dim;
        halide_buffer_t w = weight_buffer(*weight, view.extent[1], &weight_dim);
        std::vector<float> partial(static_cast<size_t>(view.extent[1]));
        partial_dim = halide_dimension_t(0, static_cast<int32_t>(view.extent[1]), 1);
        halide_buffer_t partial_buffer = halide_buffer_t();
        partial_buffer.host = reinterpret_cast<uint8_t *>(partial.data());
        partial_buffer.type = halide_type_t(halide_type_float, 32);
        partial_buffer.dimensions = 1;
        partial_buffer.dim = &partial_dim;
        mark_kernels_started();
        clear_kernel_error();
        const int result = for_each_dim_slice(view, [&](halide_buffer_t *b) {
            if (int r = kernel(&b[0], &b[1], &w, &partial_buffer, &b[2])) return r;
            for (size_t c = 0; c < partial.size(); ++c) sums[c] += partial[c];
            return 0;
        });
        if (nnf_status s = kernel_status(function, result)) return s;
    }
    // An empty x gives a zero weight gradient, as a sum over nothing.
    float *out = reinterpret_cast<float *>(element0(*grad_weight));
    const int64_t stride = vector_stride(*grad_weight);
    if (element_count(*weight) == 1) {
        double total = 0;
        for (double s : sums) total += s;
        out[0] = static_cast<float>(total);
    } else {
        for (int64_t c = 0; c < channels; ++c) out[c * stride] = static_cast<float>(sums[static_cast<size_t>(c)]);
    }
    return NNF_OK;
}

}  // namespace nnf::rt

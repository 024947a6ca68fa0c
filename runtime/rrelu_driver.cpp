#include "rrelu_driver.h"

#include "cpu_dispatch.h"
#include "cpu_tensor_checks.h"
#include "error.h"
#include "pointwise_driver.h"
#include "tensor.h"

namespace nnf::rt {
namespace {

// PyTorch passes (lower + upper) / 2, computed in double, to leaky_relu.
float mean_slope(float lower, float upper) {
    return static_cast<float>((static_cast<double>(lower) + static_cast<double>(upper)) / 2);
}

// ATen trains with the drawn noise only when the range is wider than 1e-6.
bool uses_noise(float lower, float upper, bool training) {
    return training && static_cast<double>(upper) - static_cast<double>(lower) > 1e-6;
}

// An output that must not share any byte with `other` (not even as the same view).
nnf_status check_disjoint(const char *function, const TensorArg &output, const TensorArg &other) {
    if (nnf_status s = check_output_aliasing(function, output, other)) return s;
    const char *a = static_cast<const char *>(output.tensor->data) + output.tensor->byte_offset;
    const char *b = static_cast<const char *>(other.tensor->data) + other.tensor->byte_offset;
    if (a == b) return fail(function, NNF_ERR_INVALID_ARGUMENT, "%s must not be the same memory as %s", output.name, other.name);
    return NNF_OK;
}

}  // namespace

nnf_status run_rrelu_forward(const char *function, const DLTensor *x, DLTensor *y, DLTensor *noise, float lower,
                             float upper, bool training, uint64_t seed, RreluTrainForwardKernel train_kernel,
                             LeakyReluForwardKernel eval_kernel) {
    if (!training) {
        const float slope = mean_slope(lower, upper);
        return run_pointwise(
            function, {{"x", x}}, {"y", y},
            [&](halide_buffer_t *in, halide_buffer_t *out) { return eval_kernel(&in[0], slope, out); }, nullptr);
    }
    const TensorArg args[] = {{"x", x}, {"y", y}, {"noise", noise}};
    if (nnf_status s = check_cpu_tensors(function, args, 3)) return s;
    if (nnf_status s = check_same_shape(function, args[0], args[1])) return s;
    if (nnf_status s = check_same_shape(function, args[0], args[2])) return s;
    if (element_count(*x) == 0) return NNF_OK;
    if (nnf_status s = check_no_self_overlap(function, args[1])) return s;
    if (nnf_status s = check_no_self_overlap(function, args[2])) return s;
    if (nnf_status s = check_output_aliasing(function, args[1], args[0])) return s;  // y may be x (in place)
    // noise is computed from x before y is: it may not replace x or y.
    if (nnf_status s = check_disjoint(function, args[2], args[0])) return s;
    if (nnf_status s = check_disjoint(function, args[2], args[1])) return s;

    // The virtual index tensor: row-major strides over x's shape, "addresses" 4 x the logical
    // element index (data NULL, so a slice's host pointer / 4 is its first element's index). It
    // is never dereferenced; it makes plan_layout merge dims only where the logical index is
    // contiguous too, and carries the permutation into the slices' index strides.
    DLTensor index = *x;
    index.data = nullptr;
    index.byte_offset = 0;
    index.strides = nullptr;
    const DLTensor *tensors[] = {y, noise, x, &index};
    const Layout layout = plan_layout(tensors, 4);
    mark_kernels_started();
    clear_kernel_error();
    const int result = for_each_slice(layout, [&](halide_buffer_t *b) {
        const int64_t base = static_cast<int64_t>(reinterpret_cast<uintptr_t>(b[3].host) / 4);
        return train_kernel(&b[2], lower, upper, seed, base, b[3].dim[0].stride, b[3].dim[1].stride, &b[1], &b[0]);
    });
    return kernel_status(function, result);
}

nnf_status run_rrelu_backward(const char *function, const DLTensor *grad_output, const DLTensor *x,
                              const DLTensor *noise, DLTensor *grad_input, float lower, float upper, bool training,
                              RreluTrainBackwardKernel train_kernel, LeakyReluBackwardKernel eval_kernel) {
    if (!uses_noise(lower, upper, training)) {
        const float slope = mean_slope(lower, upper);
        return run_pointwise(
            function, {{"grad_output", grad_output}, {"x", x}}, {"grad_input", grad_input},
            [&](halide_buffer_t *in, halide_buffer_t *out) { return eval_kernel(&in[0], &in[1], slope, out); },
            nullptr);
    }
    // x is not read (the gradient is grad_output * noise) but is still the saved tensor of the
    // C ABI: it must be a valid tensor of the same shape.
    if (nnf_status s = check_tensor(function, {"x", x})) return s;
    if (nnf_status s = check_same_shape(function, {"x", x}, {"grad_output", grad_output})) return s;
    return run_pointwise(
        function, {{"grad_output", grad_output}, {"noise", noise}}, {"grad_input", grad_input},
        [&](halide_buffer_t *in, halide_buffer_t *out) { return train_kernel(&in[0], &in[1], out); }, nullptr);
}

}  // namespace nnf::rt

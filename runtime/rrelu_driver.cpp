#include "rrelu_driver.h"

#include "cpu_dispatch.h"
#include "cuda_support.h"
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

// run_pointwise with `kernel` on the CPU and its CUDA twin (cuda_support.h) on kDLCUDA tensors;
// a build without CUDA kernels has no twin, and CUDA tensors get NNF_ERR_NOT_BUILT_FOR_TARGET.
// `call(kernel, inputs, output)` calls either kernel, which share one signature.
template<typename Kernel, typename Call>
nnf_status run_elementwise(const char *function, std::initializer_list<TensorArg> inputs, const TensorArg &output,
                           Kernel *kernel, Call &&call) {
    auto with = [&call](Kernel *k) {
        return [&call, k](halide_buffer_t *in, halide_buffer_t *out) { return call(k, in, out); };
    };
    if (Kernel *cuda = cuda_twin_of(kernel)) return run_pointwise(function, inputs, output, with(kernel), with(cuda));
    return run_pointwise(function, inputs, output, with(kernel), nullptr);
}

}  // namespace

nnf_status run_rrelu_forward(const char *function, const DLTensor *x, DLTensor *y, DLTensor *noise, float lower,
                             float upper, bool training, uint64_t seed, RreluTrainForwardKernel train_kernel,
                             LeakyReluForwardKernel eval_kernel) {
    if (!training) {
        const float slope = mean_slope(lower, upper);
        return run_elementwise(function, {{"x", x}}, {"y", y}, eval_kernel,
                               [&](auto *k, halide_buffer_t *in, halide_buffer_t *out) { return k(&in[0], slope, out); });
    }
    const TensorArg args[] = {{"x", x}, {"y", y}, {"noise", noise}};
    for (const TensorArg &a : args) {
        if (nnf_status s = check_tensor(function, a)) return s;
    }
    RreluTrainForwardKernel cuda_kernel = cuda_twin_of(train_kernel);
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, args, 3, cuda_kernel != nullptr, &backend, &device_id)) return s;
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
    if (backend == Backend::cuda) {
        const char *why = nullptr;
        if (!cuda_driver_available(&why)) return fail(function, NNF_ERR_RUNTIME_FAILURE, "%s", why);
    } else {
        mark_kernels_started();
    }
    clear_kernel_error();
    const int result = for_each_slice(layout, [&](halide_buffer_t *b) {
        const int64_t base = static_cast<int64_t>(reinterpret_cast<uintptr_t>(b[3].host) / 4);
        auto launch = [&](RreluTrainForwardKernel kernel, halide_buffer_t *d) {
            return kernel(&d[2], lower, upper, seed, base, b[3].dim[0].stride, b[3].dim[1].stride, &d[1], &d[0]);
        };
        if (backend == Backend::cpu) return launch(train_kernel, b);
        // y, noise and x hold device addresses; the index tensor is arithmetic only, never wrapped.
        return run_on_cuda(device_id, b, 3, [&](halide_buffer_t *d) { return launch(cuda_kernel, d); });
    });
    return kernel_status(function, result);
}

nnf_status run_rrelu_backward(const char *function, const DLTensor *grad_output, const DLTensor *x,
                              const DLTensor *noise, DLTensor *grad_input, float lower, float upper, bool training,
                              RreluTrainBackwardKernel train_kernel, LeakyReluBackwardKernel eval_kernel) {
    if (!uses_noise(lower, upper, training)) {
        const float slope = mean_slope(lower, upper);
        return run_elementwise(function, {{"grad_output", grad_output}, {"x", x}}, {"grad_input", grad_input},
                               eval_kernel, [&](auto *k, halide_buffer_t *in, halide_buffer_t *out) {
                                   return k(&in[0], &in[1], slope, out);
                               });
    }
    // x is not read (the gradient is grad_output * noise) but is still the saved tensor of the
    // C ABI: it must be a valid tensor of the same shape, on the device of the others.
    const TensorArg args[] = {{"grad_output", grad_output}, {"x", x}, {"noise", noise}, {"grad_input", grad_input}};
    for (const TensorArg &a : args) {
        if (nnf_status s = check_tensor(function, a)) return s;
    }
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, args, 4, cuda_twin_of(train_kernel) != nullptr, &backend, &device_id)) {
        return s;
    }
    if (nnf_status s = check_same_shape(function, args[1], args[0])) return s;
    return run_elementwise(function, {args[0], args[2]}, args[3], train_kernel,
                           [](auto *k, halide_buffer_t *in, halide_buffer_t *out) { return k(&in[0], &in[1], out); });
}

}  // namespace nnf::rt

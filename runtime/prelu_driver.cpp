#include "prelu_driver.h"

#include <cinttypes>
#include <vector>

#include "cpu_dispatch.h"
#include "cuda_support.h"
#include "dim_view.h"
#include "error.h"
#include "pointwise_driver.h"
#include "tensor.h"

namespace nnf::rt {
namespace {

// Elements per CPU backward call: grad_output and x of a slice (1 MiB) stay in a core's L2
// (2 MiB here) between the kernel's two passes. Measured at 64M elements (avx512, G elements/s,
// 1 / 2 threads): whole slices 0.54 / 0.95; 64K per call 0.87 / 1.27; 128K 0.84 / 1.34;
// 256K 0.74 / 0.87 (noisy).
constexpr int64_t kBackwardElementsPerCall = 128 * 1024;

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

nnf_status check_cuda_driver(const char *function) {
    const char *why = nullptr;
    if (cuda_driver_available(&why)) return NNF_OK;
    return fail(function, NNF_ERR_RUNTIME_FAILURE, "%s", why);
}

// A 1-D float buffer of `extent` elements `stride` apart at `data` (host or device memory).
halide_buffer_t vector_buffer(void *data, int64_t extent, int64_t stride, halide_dimension_t *dim) {
    *dim = halide_dimension_t(0, static_cast<int32_t>(extent), extent > 1 ? static_cast<int32_t>(stride) : 0);
    halide_buffer_t b = halide_buffer_t();
    b.host = static_cast<uint8_t *>(data);
    b.type = halide_type_t(halide_type_float, 32);
    b.dimensions = 1;
    b.dim = dim;
    return b;
}

// The backward pass on CUDA tensors (validated by the caller). A shared weight is viewed with a
// single channel (every element inner), so the kernel's grad_weight is already the total. When
// the view is one kernel call (the usual case) the kernel writes the caller's grad_weight on
// the device directly: no copy, no wait. Views cut into several calls (dims that do not merge,
// or more than max_span_per_call() elements) add the calls' per-channel sums in double on the
// host, as the CPU path does; that path waits for each call's sums.
nnf_status run_prelu_backward_cuda(const char *function, const DLTensor *grad_output, const DLTensor *x,
                                   const DLTensor *weight, DLTensor *grad_input, DLTensor *grad_weight,
                                   PreluBackwardKernel kernel, int device_id) {
    if (nnf_status s = check_cuda_driver(function)) return s;
    const bool shared = element_count(*weight) == 1;
    halide_dimension_t grad_weight_dim;
    if (element_count(*x) == 0) {
        // A sum over nothing: zeros, written with a copy to the device (there is no kernel to run).
        std::vector<float> zeros(static_cast<size_t>(element_count(*weight)), 0.0f);
        halide_buffer_t gw = vector_buffer(element0(*grad_weight), element_count(*weight),
                                           vector_stride(*grad_weight), &grad_weight_dim);
        clear_kernel_error();
        return kernel_status(function, run_on_cuda(device_id, &gw, 1, [&](halide_buffer_t *d) {
                                 d->host = reinterpret_cast<uint8_t *>(zeros.data());
                                 d->set_host_dirty(true);
                                 const int r = halide_copy_to_device(nullptr, d, cuda_device_interface());
                                 d->host = nullptr;
                                 return r;
                             }));
    }
    const DLTensor *tensors[] = {grad_output, x, grad_input};
    const DimView view = plan_dim_view(tensors, 3, shared ? -1 : channel_dim(*x));
    if (nnf_status s = check_view_fits(function, view)) return s;
    const int64_t channels = view.extent[1];
    halide_dimension_t weight_dim;
    const halide_buffer_t w = weight_buffer(*weight, channels, &weight_dim);
    int calls = 0;
    for_each_dim_slice(view, [&](halide_buffer_t *) { return ++calls, 0; });
    clear_kernel_error();
    if (calls == 1) {
        const halide_buffer_t gw =
            vector_buffer(element0(*grad_weight), channels, vector_stride(*grad_weight), &grad_weight_dim);
        return kernel_status(function, for_each_dim_slice(view, [&](halide_buffer_t *b) {
                                 halide_buffer_t wrapped[] = {b[0], b[1], w, gw, b[2]};
                                 return run_on_cuda(device_id, wrapped, 5, [&](halide_buffer_t *d) {
                                     return kernel(&d[0], &d[1], &d[2], &d[3], &d[4]);
                                 });
                             }));
    }
    // Several calls: each writes its sums into a scratch device vector, copied back and added up.
    std::vector<float> partial(static_cast<size_t>(channels));
    std::vector<double> sums(static_cast<size_t>(channels), 0.0);
    halide_dimension_t partial_dim;
    halide_buffer_t scratch = vector_buffer(partial.data(), channels, 1, &partial_dim);
    int result = for_each_dim_slice(view, [&](halide_buffer_t *b) {
        halide_buffer_t wrapped[] = {b[0], b[1], w, b[2]};
        return run_on_cuda(device_id, wrapped, 4, [&](halide_buffer_t *d) {
            if (!scratch.device) {
                if (int r = halide_device_malloc(nullptr, &scratch, cuda_device_interface())) return r;
            }
            if (int r = kernel(&d[0], &d[1], &d[2], &scratch, &d[3])) return r;
            if (int r = halide_copy_to_host(nullptr, &scratch)) return r;
            for (size_t c = 0; c < partial.size(); ++c) sums[c] += partial[c];
            return 0;
        });
    });
    if (scratch.device) {
        run_on_cuda(device_id, &scratch, 0, [&](halide_buffer_t *) { return halide_device_free(nullptr, &scratch); });
    }
    if (result == 0) {
        for (size_t c = 0; c < partial.size(); ++c) partial[c] = static_cast<float>(sums[c]);
        halide_buffer_t gw =
            vector_buffer(element0(*grad_weight), channels, vector_stride(*grad_weight), &grad_weight_dim);
        result = run_on_cuda(device_id, &gw, 1, [&](halide_buffer_t *d) {
            d->host = reinterpret_cast<uint8_t *>(partial.data());
            d->set_host_dirty(true);
            const int r = halide_copy_to_device(nullptr, d, cuda_device_interface());
            d->host = nullptr;
            return r;
        });
    }
    return kernel_status(function, result);
}

}  // namespace

nnf_status run_prelu_forward(const char *function, const DLTensor *x, const DLTensor *weight, DLTensor *y,
                             PreluForwardKernel kernel) {
    const TensorArg args[] = {{"x", x}, {"weight", weight}, {"y", y}};
    for (const TensorArg &a : args) {
        if (nnf_status s = check_tensor(function, a)) return s;
    }
    PreluForwardKernel cuda_kernel = cuda_twin_of(kernel);
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, args, 3, cuda_kernel != nullptr, &backend, &device_id)) return s;
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
    if (backend == Backend::cuda) {
        if (nnf_status s = check_cuda_driver(function)) return s;
        clear_kernel_error();
        const int result = for_each_dim_slice(view, [&](halide_buffer_t *b) {
            halide_buffer_t wrapped[] = {b[0], w, b[1]};  // x, weight, y: all device pointers
            return run_on_cuda(device_id, wrapped, 3,
                               [&](halide_buffer_t *d) { return cuda_kernel(&d[0], &d[1], &d[2]); });
        });
        return kernel_status(function, result);
    }
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
    PreluBackwardKernel cuda_kernel = cuda_twin_of(kernel);
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, args, 5, cuda_kernel != nullptr, &backend, &device_id)) return s;
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

    if (backend == Backend::cuda) {
        return run_prelu_backward_cuda(function, grad_output, x, weight, grad_input, grad_weight, cuda_kernel,
                                       device_id);
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
        // The kernel makes two passes over its slice, the weight sums and then grad_input (one
        // loop nest for both is out of Halide's reach here: compute_with does not take the
        // specialized stages). Slices of kBackwardElementsPerCall elements keep the second
        // pass's reads in cache, so grad_output and x come from memory once.
        const int result = for_each_dim_slice(
            view,
            [&](halide_buffer_t *b) {
                if (int r = kernel(&b[0], &b[1], &w, &partial_buffer, &b[2])) return r;
                for (size_t c = 0; c < partial.size(); ++c) sums[c] += partial[c];
                return 0;
            },
            kBackwardElementsPerCall);
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

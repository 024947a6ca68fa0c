#include "softmax_driver.h"

#include <cinttypes>

#include "cpu_dispatch.h"
#include "dim_view.h"
#include "error.h"
#include "pointwise_driver.h"
#include "tensor.h"

namespace nnf::rt {
namespace {

// PyTorch's dim wrapping: dim in [-n, n) with n = max(ndim, 1) (a 0-d tensor takes 0 or -1).
// Returns the dim to view around, -1 for a 0-d tensor (one element, its own row).
nnf_status normalize_dim(const char *function, const DLTensor &x, int dim, int *normalized) {
    const int n = x.ndim > 0 ? x.ndim : 1;
    if (dim < -n || dim >= n) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT, "dim %d out of range for a %d-d input (expected -%d to %d)", dim,
                    x.ndim, n, n - 1);
    }
    *normalized = x.ndim == 0 ? -1 : (dim < 0 ? dim + n : dim);
    return NNF_OK;
}

// Validation shared by both passes; `output` may alias inputs[k] only as the same view.
nnf_status prepare(const char *function, const TensorArg *inputs, int num_inputs, const TensorArg &output, int dim,
                   int *normalized, bool *empty) {
    for (int i = 0; i < num_inputs; ++i) {
        if (nnf_status s = check_tensor(function, inputs[i])) return s;
    }
    if (nnf_status s = check_tensor(function, output)) return s;
    TensorArg all[3];
    for (int i = 0; i < num_inputs; ++i) all[i] = inputs[i];
    all[num_inputs] = output;
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, all, num_inputs + 1, /*cuda_kernels=*/false, &backend, &device_id)) {
        return s;
    }
    for (int i = 1; i < num_inputs; ++i) {
        if (nnf_status s = check_same_shape(function, inputs[0], inputs[i])) return s;
    }
    if (nnf_status s = check_same_shape(function, inputs[0], output)) return s;
    if (nnf_status s = normalize_dim(function, *inputs[0].tensor, dim, normalized)) return s;
    *empty = element_count(*output.tensor) == 0;
    if (*empty) return NNF_OK;
    if (nnf_status s = check_no_self_overlap(function, output)) return s;
    for (int i = 0; i < num_inputs; ++i) {
        if (nnf_status s = check_output_aliasing(function, output, inputs[i])) return s;
    }
    return NNF_OK;
}

// Runs `kernel(buffers)` per slice of the view: 2-D (dim, outer) buffers when nothing follows
// dim (the rows kernel), else 3-D ones (the columns kernel).
template<typename Call>
nnf_status run_view(const char *function, const DLTensor *const *tensors, int num_tensors, int dim, Call &&call) {
    const DimView view = plan_dim_view(tensors, num_tensors, dim);
    if (dim_span(view) > max_span_per_call()) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT,
                    "dim %d spans %" PRId64 " elements in memory; at most %" PRId64 " are supported", dim,
                    dim_span(view), max_span_per_call());
    }
    const bool rows = view.extent[0] == 1;
    mark_kernels_started();
    clear_kernel_error();
    const int result = for_each_dim_slice(view, [&](halide_buffer_t *b) {
        if (rows) {
            for (int t = 0; t < num_tensors; ++t) {
                b[t].dim += 1;  // drop the unit inner dim: (dim, outer)
                b[t].dimensions = 2;
            }
        }
        return call(rows, b);
    });
    return kernel_status(function, result);
}

}  // namespace

nnf_status run_softmax_forward(const char *function, const DLTensor *x, DLTensor *y, int dim, float beta,
                               SoftmaxForwardKernel rows_kernel, SoftmaxForwardKernel columns_kernel) {
    const TensorArg inputs[] = {{"x", x}};
    int normalized = 0;
    bool empty = false;
    if (nnf_status s = prepare(function, inputs, 1, {"y", y}, dim, &normalized, &empty)) return s;
    if (empty) return NNF_OK;
    const DLTensor *tensors[] = {x, y};
    return run_view(function, tensors, 2, normalized, [&](bool rows, halide_buffer_t *b) {
        return (rows ? rows_kernel : columns_kernel)(&b[0], beta, &b[1]);
    });
}

nnf_status run_softmax_backward(const char *function, const DLTensor *grad_output, const DLTensor *y,
                                DLTensor *grad_input, int dim, float beta, SoftmaxBackwardKernel rows_kernel,
                                SoftmaxBackwardKernel columns_kernel) {
    const TensorArg inputs[] = {{"grad_output", grad_output}, {"y", y}};
    int normalized = 0;
    bool empty = false;
    if (nnf_status s = prepare(function, inputs, 2, {"grad_input", grad_input}, dim, &normalized, &empty)) return s;
    if (empty) return NNF_OK;
    const DLTensor *tensors[] = {grad_output, y, grad_input};
    return run_view(function, tensors, 3, normalized, [&](bool rows, halide_buffer_t *b) {
        return (rows ? rows_kernel : columns_kernel)(&b[0], &b[1], beta, &b[2]);
    });
}

}  // namespace nnf::rt

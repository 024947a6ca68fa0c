#include "softmax_driver.h"

#include <cinttypes>
#include <type_traits>

#include "cpu_dispatch.h"
#include "cuda_support.h"
#include "dim_view.h"
#include "error.h"
#include "pointwise_driver.h"
#include "tensor.h"

namespace nnf::rt {
namespace {

struct Placement {
    Backend backend = Backend::cpu;
    int device_id = 0;
};

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
                   bool cuda_kernels, Placement *where, int *normalized, bool *empty) {
    for (int i = 0; i < num_inputs; ++i) {
        if (nnf_status s = check_tensor(function, inputs[i])) return s;
    }
    if (nnf_status s = check_tensor(function, output)) return s;
    TensorArg all[3];
    for (int i = 0; i < num_inputs; ++i) all[i] = inputs[i];
    all[num_inputs] = output;
    if (nnf_status s = check_devices(function, all, num_inputs + 1, cuda_kernels, &where->backend, &where->device_id)) {
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

// A kernel of each layout: the CPU's, and their CUDA twins (nullptr in a build without them).
template<typename Kernel>
struct SoftmaxKernels {
    Kernel *rows, *columns;
    Kernel *rows_warp, *rows_block, *columns_cuda;

    SoftmaxKernels(Kernel *cpu_rows, Kernel *cpu_columns)
        : rows(cpu_rows),
          columns(cpu_columns),
          rows_warp(cuda_twin_of(cpu_rows, CudaRowGroup::warp)),
          rows_block(cuda_twin_of(cpu_rows, CudaRowGroup::block)),
          columns_cuda(cuda_twin_of(cpu_columns)) {}

    bool on_cuda() const { return rows_warp && rows_block && columns_cuda; }

    // On CUDA, rows up to kWarpPerRowMaxLength get a warp (32 lanes, each reducing up to 32
    // elements); longer ones a block of 256 threads, whose partials cost a shared-memory round
    // trip that short rows would not repay. Both kernels are correct for any length.
    Kernel *pick(Backend backend, bool rows, int64_t row_length) const {
        constexpr int64_t kWarpPerRowMaxLength = 1024;
        if (backend == Backend::cpu) return rows ? this->rows : columns;
        if (!rows) return columns_cuda;
        return row_length <= kWarpPerRowMaxLength ? rows_warp : rows_block;
    }
};

// Runs `call(kernel, buffers)` per slice of the view, with the kernel for its layout and
// backend: 2-D (dim, outer) buffers when nothing follows dim (the rows kernel), else 3-D ones
// (the columns kernel). On CUDA the buffers hold device pointers and are wrapped per slice.
template<typename Kernel, typename Call>
nnf_status run_view(const char *function, const DLTensor *const *tensors, int num_tensors, int dim,
                    const Placement &where, const SoftmaxKernels<Kernel> &kernels, Call &&call) {
    const DimView view = plan_dim_view(tensors, num_tensors, dim);
    if (dim_span(view) > max_span_per_call()) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT,
                    "dim %d spans %" PRId64 " elements in memory; at most %" PRId64 " are supported", dim,
                    dim_span(view), max_span_per_call());
    }
    const bool rows = view.extent[0] == 1;
    Kernel *kernel = kernels.pick(where.backend, rows, view.extent[1]);
    if (where.backend == Backend::cuda) {
        const char *why = nullptr;
        if (!cuda_driver_available(&why)) return fail(function, NNF_ERR_RUNTIME_FAILURE, "%s", why);
    } else {
        mark_kernels_started();
    }
    clear_kernel_error();
    const int result = for_each_dim_slice(view, [&](halide_buffer_t *b) {
        if (rows) {
            for (int t = 0; t < num_tensors; ++t) {
                b[t].dim += 1;  // drop the unit inner dim: (dim, outer)
                b[t].dimensions = 2;
            }
        }
        if (where.backend == Backend::cpu) return call(kernel, b);
        return run_on_cuda(where.device_id, b, num_tensors,
                           [&](halide_buffer_t *wrapped) { return call(kernel, wrapped); });
    });
    return kernel_status(function, result);
}

}  // namespace

nnf_status run_softmax_forward(const char *function, const DLTensor *x, DLTensor *y, int dim, float beta,
                               SoftmaxForwardKernel rows_kernel, SoftmaxForwardKernel columns_kernel) {
    const SoftmaxKernels<std::remove_pointer_t<SoftmaxForwardKernel>> kernels(rows_kernel, columns_kernel);
    const TensorArg inputs[] = {{"x", x}};
    Placement where;
    int normalized = 0;
    bool empty = false;
    if (nnf_status s = prepare(function, inputs, 1, {"y", y}, dim, kernels.on_cuda(), &where, &normalized, &empty)) {
        return s;
    }
    if (empty) return NNF_OK;
    const DLTensor *tensors[] = {x, y};
    return run_view(function, tensors, 2, normalized, where, kernels,
                    [&](auto *kernel, halide_buffer_t *b) { return kernel(&b[0], beta, &b[1]); });
}

nnf_status run_softmax_backward(const char *function, const DLTensor *grad_output, const DLTensor *y,
                                DLTensor *grad_input, int dim, float beta, SoftmaxBackwardKernel rows_kernel,
                                SoftmaxBackwardKernel columns_kernel) {
    const SoftmaxKernels<std::remove_pointer_t<SoftmaxBackwardKernel>> kernels(rows_kernel, columns_kernel);
    const TensorArg inputs[] = {{"grad_output", grad_output}, {"y", y}};
    Placement where;
    int normalized = 0;
    bool empty = false;
    if (nnf_status s = prepare(function, inputs, 2, {"grad_input", grad_input}, dim, kernels.on_cuda(), &where,
                               &normalized, &empty)) {
        return s;
    }
    if (empty) return NNF_OK;
    const DLTensor *tensors[] = {grad_output, y, grad_input};
    return run_view(function, tensors, 3, normalized, where, kernels,
                    [&](auto *kernel, halide_buffer_t *b) { return kernel(&b[0], &b[1], beta, &b[2]); });
}

}  // namespace nnf::rt

#include "pointwise_driver.h"

#include "cpu_dispatch.h"

namespace nnf::rt {

nnf_status prepare_pointwise(const char *function, const TensorArg *inputs, int num_inputs, const TensorArg &output,
                             bool cuda_kernels, PointwisePlan *plan) {
    for (int i = 0; i < num_inputs; ++i) {
        if (nnf_status s = check_tensor(function, inputs[i])) return s;
    }
    if (nnf_status s = check_tensor(function, output)) return s;
    TensorArg all[Layout::kMaxTensors];
    for (int i = 0; i < num_inputs; ++i) all[i] = inputs[i];
    all[num_inputs] = output;
    if (nnf_status s = check_devices(function, all, num_inputs + 1, cuda_kernels, &plan->backend, &plan->device_id)) {
        return s;
    }
    for (int i = 1; i < num_inputs; ++i) {
        if (nnf_status s = check_same_shape(function, inputs[0], inputs[i])) return s;
    }
    if (nnf_status s = check_same_shape(function, inputs[0], output)) return s;
    plan->empty = element_count(*output.tensor) == 0;
    if (plan->empty) return NNF_OK;
    if (nnf_status s = check_no_self_overlap(function, output)) return s;
    for (int i = 0; i < num_inputs; ++i) {
        if (nnf_status s = check_output_aliasing(function, output, inputs[i])) return s;
    }
    const DLTensor *tensors[Layout::kMaxTensors] = {output.tensor};
    for (int i = 0; i < num_inputs; ++i) tensors[i + 1] = inputs[i].tensor;
    plan->layout = plan_layout(tensors, num_inputs + 1);
    if (plan->backend == Backend::cpu) mark_kernels_started();
    return NNF_OK;
}

nnf_status kernel_status(const char *function, int halide_result) {
    if (halide_result == 0) return NNF_OK;
    return fail(function, NNF_ERR_RUNTIME_FAILURE, "kernel failed with Halide error %d: %s", halide_result,
                kernel_error());
}

}  // namespace nnf::rt

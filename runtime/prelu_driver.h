// The runtime driver of the prelu family: validates the arguments of a generated wrapper, views
// the tensors as (inner, channel, outer) slices around dim 1 and calls the kernel per slice.
// kDLCUDA tensors run the kernels' CUDA twins (cuda_support.h) on the device pointers.
#pragma once

#include "HalideRuntime.h"
#include "nnfuse/nnfuse.h"

namespace nnf::rt {

using PreluForwardKernel = int (*)(halide_buffer_t *x, halide_buffer_t *weight, halide_buffer_t *y);
using PreluBackwardKernel = int (*)(halide_buffer_t *grad_output, halide_buffer_t *x, halide_buffer_t *weight,
                                    halide_buffer_t *grad_weight, halide_buffer_t *grad_input);

nnf_status run_prelu_forward(const char *function, const DLTensor *x, const DLTensor *weight, DLTensor *y,
                             PreluForwardKernel kernel);

// grad_weight (the shape of weight) is written only after every kernel call succeeded.
nnf_status run_prelu_backward(const char *function, const DLTensor *grad_output, const DLTensor *x,
                              const DLTensor *weight, DLTensor *grad_input, DLTensor *grad_weight,
                              PreluBackwardKernel kernel);

}  // namespace nnf::rt

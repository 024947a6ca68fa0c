// The runtime driver of the softmax family: validates the arguments of a generated wrapper,
// normalizes `dim` (negative counts from the end), views the tensors as (inner, dim, outer)
// slices (dim_view.h) and calls the rows kernel (nothing after dim: 2-D (dim, outer) slices) or
// the columns kernel (3-D slices, vectorized over the inner dims). kDLCUDA tensors run the
// kernels' CUDA twins (cuda_support.h): rows by a warp or a block per row, by row length.
#pragma once

#include "HalideRuntime.h"
#include "nnfuse/nnfuse.h"

namespace nnf::rt {

using SoftmaxForwardKernel = int (*)(halide_buffer_t *x, float beta, halide_buffer_t *y);
using SoftmaxBackwardKernel = int (*)(halide_buffer_t *grad_output, halide_buffer_t *y, float beta,
                                      halide_buffer_t *grad_input);

nnf_status run_softmax_forward(const char *function, const DLTensor *x, DLTensor *y, int dim, float beta,
                               SoftmaxForwardKernel rows_kernel, SoftmaxForwardKernel columns_kernel);
nnf_status run_softmax_backward(const char *function, const DLTensor *grad_output, const DLTensor *y,
                                DLTensor *grad_input, int dim, float beta, SoftmaxBackwardKernel rows_kernel,
                                SoftmaxBackwardKernel columns_kernel);

}  // namespace nnf::rt

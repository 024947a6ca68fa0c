// The runtime driver of the rrelu family. Training draws a slope per element from a counter-based
// generator keyed by (seed, row-major element index); the kernels see the runtime's permuted,
// merged 2-D slices, so the driver lays out a virtual "index tensor" (row-major strides) with
// the real ones and hands each slice the affine map from its (i, j) to the logical index.
// kDLCUDA tensors run the kernels' CUDA twins (cuda_support.h; leaky_relu's for evaluation), which
// draw the same slopes as the CPU bit for bit (compiler/ops/rrelu_ops.cpp).
#pragma once

#include <cstdint>

#include "HalideRuntime.h"
#include "nnfuse/nnfuse.h"

namespace nnf::rt {

using RreluTrainForwardKernel = int (*)(halide_buffer_t *x, float lower, float upper, uint64_t seed, int64_t index_base,
                                        int64_t index_stride0, int64_t index_stride1, halide_buffer_t *noise,
                                        halide_buffer_t *y);
using RreluTrainBackwardKernel = int (*)(halide_buffer_t *grad_output, halide_buffer_t *noise,
                                         halide_buffer_t *grad_input);
using LeakyReluForwardKernel = int (*)(halide_buffer_t *x, float negative_slope, halide_buffer_t *y);
using LeakyReluBackwardKernel = int (*)(halide_buffer_t *grad_output, halide_buffer_t *x, float negative_slope,
                                        halide_buffer_t *grad_input);

// Training writes y and noise; evaluation writes y only (noise may be NULL) with slope
// (lower + upper) / 2.
nnf_status run_rrelu_forward(const char *function, const DLTensor *x, DLTensor *y, DLTensor *noise, float lower,
                             float upper, bool training, uint64_t seed, RreluTrainForwardKernel train_kernel,
                             LeakyReluForwardKernel eval_kernel);

// ATen's rrelu_with_noise_backward: grad_output * noise in training when upper - lower > 1e-6,
// else leaky_relu's gradient at (lower + upper) / 2 (noise may then be NULL).
nnf_status run_rrelu_backward(const char *function, const DLTensor *grad_output, const DLTensor *x,
                              const DLTensor *noise, DLTensor *grad_input, float lower, float upper, bool training,
                              RreluTrainBackwardKernel train_kernel, LeakyReluBackwardKernel eval_kernel);

}  // namespace nnf::rt

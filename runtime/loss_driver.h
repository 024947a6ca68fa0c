// The runtime driver of the loss family: validates the arguments of a generated wrapper
// (compiler/nnfc/loss_emitter.cpp), checks class indices before anything is written, plans the
// views and calls the Halide kernels, and combines per-slice or per-row partial losses in double.
// nll_loss's forward calls no kernel: it is a gather of one element per row, which the driver
// checks, gathers and sums on the host in one pass (loss_driver.cpp, "Class-index rows").
#pragma once

#include <cstdint>

#include "HalideRuntime.h"
#include "nnfuse/nnfuse.h"

namespace nnf::rt {

// Elementwise losses (mse, l1, smooth_l1, huber) on 2-D slices (runtime/tensor.h); `width` is
// beta or delta.
using ElementwiseLossForwardKernel = int (*)(halide_buffer_t *x, halide_buffer_t *target, float width,
                                             halide_buffer_t *y);
using ElementwiseLossSumKernel = int (*)(halide_buffer_t *x, halide_buffer_t *target, float width,
                                         halide_buffer_t *row_sum);
using ElementwiseLossBackwardKernel = int (*)(halide_buffer_t *grad_output, halide_buffer_t *x,
                                              halide_buffer_t *target, float width, float scale,
                                              halide_buffer_t *grad_input);
struct ElementwiseLossKernels {
    ElementwiseLossForwardKernel none;
    ElementwiseLossSumKernel sum;
    ElementwiseLossBackwardKernel backward;
};

nnf_status run_elementwise_loss_forward(const char *function, const DLTensor *input, const DLTensor *target,
                                        DLTensor *output, nnf_reduction reduction, float width,
                                        const ElementwiseLossKernels &kernels);
nnf_status run_elementwise_loss_backward(const char *function, const DLTensor *grad_output, const DLTensor *input,
                                         const DLTensor *target, DLTensor *grad_input, nnf_reduction reduction,
                                         float width, const ElementwiseLossKernels &kernels);

// Classification losses (nll_loss, cross_entropy) on blocks of rows (c, i, o).
// cross_entropy's gradient kernels take grad_input's memory twice: as `exps`, where they store
// exp(x - row max) and sum it, then as grad_input, which they write over it in place
// (compiler/generators/loss_generator.cpp): no memory beyond the gradient. nll_loss's backward
// has no exps.
using ClassificationForwardKernel = int (*)(halide_buffer_t *x, halide_buffer_t *target, halide_buffer_t *weight,
                                            int64_t ignore_index, float label_smoothing, halide_buffer_t *row_loss);
using NllBackwardKernel = int (*)(halide_buffer_t *x, halide_buffer_t *target, halide_buffer_t *weight,
                                  int64_t ignore_index, float label_smoothing, halide_buffer_t *grad_scale,
                                  float scale, halide_buffer_t *grad_input);
using CrossEntropyBackwardKernel = int (*)(halide_buffer_t *x, halide_buffer_t *target, halide_buffer_t *weight,
                                           int64_t ignore_index, float label_smoothing, halide_buffer_t *grad_scale,
                                           float scale, halide_buffer_t *exps, halide_buffer_t *grad_input);
using ClassificationForwardBackwardKernel = int (*)(halide_buffer_t *x, halide_buffer_t *target,
                                                    halide_buffer_t *weight, int64_t ignore_index,
                                                    float label_smoothing, halide_buffer_t *grad_scale, float scale,
                                                    halide_buffer_t *row_loss, halide_buffer_t *exps,
                                                    halide_buffer_t *grad_input);
// Either backward kernel: the generated wrappers name the kernel, the type picks the member.
struct ClassificationBackwardKernel {
    NllBackwardKernel without_exps = nullptr;
    CrossEntropyBackwardKernel with_exps = nullptr;
    ClassificationBackwardKernel() = default;
    ClassificationBackwardKernel(NllBackwardKernel k) : without_exps(k) {}
    ClassificationBackwardKernel(CrossEntropyBackwardKernel k) : with_exps(k) {}
    bool defined() const { return without_exps || with_exps; }
};
struct ClassificationKernels {
    ClassificationForwardKernel forward = nullptr;  // nll_loss: the CUDA kernel's twin key (the CPU gathers on the host)
    ClassificationBackwardKernel backward;
    ClassificationForwardBackwardKernel forward_backward = nullptr;  // nullptr: not fused for this op
};

enum class ClassificationMode { forward, backward, forward_backward };

struct ClassificationCall {
    ClassificationMode mode = ClassificationMode::forward;
    bool log_probabilities = false;  // nll_loss: the input is log-probabilities
    const DLTensor *input = nullptr, *target = nullptr, *weight = nullptr, *grad_output = nullptr;
    DLTensor *output = nullptr, *total_weight = nullptr, *grad_input = nullptr;
    nnf_reduction reduction = NNF_REDUCTION_MEAN;
    int64_t ignore_index = -100;
    float label_smoothing = 0.0f;
    ClassificationKernels index_kernels;        // int64 class-index targets
    ClassificationKernels probability_kernels;  // float32 probability targets (cross_entropy only)
};

nnf_status run_classification_loss(const char *function, const ClassificationCall &call);

// For tests of the blocking: caps the rows per kernel call (0 restores the default, a block
// of about 64K logits, which stays in L2 between the row reductions and the gradient).
void set_loss_rows_per_call_for_testing(int64_t rows);

}  // namespace nnf::rt

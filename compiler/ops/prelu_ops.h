// Algorithms of the prelu family: y = f(x, weight[c]) per element, with c the element's index
// in the channel dim. Pure Halide expressions, no scheduling (that lives in schedules/).
#pragma once

#include "Halide.h"

namespace nnf::ops {

// ATen's _prelu_kernel: x > 0 ? x : weight x.
Halide::Expr prelu_forward(const Halide::Expr &x, const Halide::Expr &weight);
// ATen's _prelu_kernel_backward, input gradient: x > 0 ? grad : weight grad.
Halide::Expr prelu_grad_input(const Halide::Expr &grad_output, const Halide::Expr &x, const Halide::Expr &weight);
// The same kernel's per-element weight gradient, x > 0 ? 0 : x grad, which is summed over every
// dim but the channel dim.
Halide::Expr prelu_grad_weight_term(const Halide::Expr &grad_output, const Halide::Expr &x);

}  // namespace nnf::ops

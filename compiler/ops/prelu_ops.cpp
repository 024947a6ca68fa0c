#include "ops/prelu_ops.h"

namespace nnf::ops {

using Halide::Expr;
using Halide::select;

// strict_float keeps the compare IEEE: NaN > 0 is false, so NaN takes the weight branch and stays
// NaN, and -0 gives weight * -0, as in ATen.
Expr prelu_forward(const Expr &x, const Expr &weight) {
    return Halide::strict_float(select(x > 0.0f, x, weight * x));
}

// A NaN x takes the weight branch: grad_input = weight grad (finite), as ATen's vector loop.
Expr prelu_grad_input(const Expr &grad_output, const Expr &x, const Expr &weight) {
    return Halide::strict_float(select(x > 0.0f, grad_output, weight * grad_output));
}

// A NaN x contributes NaN to its channel's weight gradient (x * grad), as in ATen.
Expr prelu_grad_weight_term(const Expr &grad_output, const Expr &x) {
    return Halide::strict_float(select(x > 0.0f, 0.0f, x * grad_output));
}

}  // namespace nnf::ops

#include "ops/softmax_ops.h"

#include <stdexcept>

#include "math/nnf_math.h"

namespace nnf::ops {

using namespace Halide;

SoftmaxKind softmax_kind(const std::string &op) {
    if (op == "softmax") return SoftmaxKind::softmax;
    if (op == "log_softmax") return SoftmaxKind::log_softmax;
    if (op == "softmin") return SoftmaxKind::softmin;
    throw std::invalid_argument("no softmax-family algorithm for op '" + op + "'");
}

namespace {

// The Func's args with the reduced one replaced by `r`.
std::vector<Expr> at(const SoftmaxShape &shape, const Expr &r) {
    std::vector<Expr> index(shape.args.begin(), shape.args.end());
    index[static_cast<size_t>(shape.reduced)] = r;
    return index;
}

// The args without the reduced one (a row's coordinates).
std::vector<Var> row_args(const SoftmaxShape &shape) {
    std::vector<Var> row = shape.args;
    row.erase(row.begin() + shape.reduced);
    return row;
}

// NaN test on the bits: under Halide's no-NaNs float flags LLVM may fold a float is_nan
// compare to false (measured: a NaN row came out finite), an integer compare it cannot.
Expr is_nan_bits(const Expr &v) {
    return (reinterpret<uint32_t>(v) & Expr(uint32_t{0x7fffffff})) > Expr(uint32_t{0x7f800000});
}

// beta for softmax and log_softmax; softmin(x) is softmax(-x), so -beta.
Expr signed_beta(SoftmaxKind kind, const Expr &beta) {
    return kind == SoftmaxKind::softmin ? -beta : beta;
}

}  // namespace

// Numerically stable: the row max is subtracted before exp (so no exp overflows), and the sum
// is accumulated in double (a row of n terms loses n * 2^-53, not n * 2^-24). A row of all
// -inf has max -inf and shifted -inf - -inf = NaN: the row is NaN, as in PyTorch; -inf entries
// in a finite row give exp(-inf) = 0.
SoftmaxForwardStages softmax_forward(SoftmaxKind kind, Func x, const Expr &beta, const SoftmaxShape &shape) {
    SoftmaxForwardStages s{Func("row_max"), Func("shifted"), Func("exps"), Func("row_sum"), Func("y")};
    const std::vector<Var> row = row_args(shape);
    const std::vector<Expr> row_e(row.begin(), row.end());
    const Expr scale = signed_beta(kind, beta);
    // Rows are never empty (the driver returns before any kernel for an empty tensor), so the
    // max starts from the row's first element.
    RDom rest(1, shape.extent - 1, "rest");
    s.row_max(row) = scale * x(at(shape, 0));
    // A plain max (schedules can vectorize it with rfactor). x86's max may drop a NaN, but a NaN
    // element still makes its row NaN: its shifted value is NaN, so is the sum (below).
    s.row_max(row) = Halide::max(s.row_max(row_e), scale * x(at(shape, rest)));
    RDom r(0, shape.extent, "r");
    std::vector<Expr> row_of_element;
    for (int d = 0; d < static_cast<int>(shape.args.size()); ++d) {
        if (d != shape.reduced) row_of_element.push_back(shape.args[static_cast<size_t>(d)]);
    }
    std::vector<Expr> all(shape.args.begin(), shape.args.end());
    // strict_float: under Halide's no-infs/no-NaNs flags, inf - inf (a row holding +inf, or all
    // -inf) need not give NaN, and PyTorch's NaN row would turn into zeros.
    s.shifted(shape.args) = strict_float(scale * x(all) - s.row_max(row_of_element));
    // A NaN must stay NaN through exp, whatever exp does with NaN under the fast-math flags.
    s.exps(shape.args) = select(is_nan_bits(s.shifted(all)), s.shifted(all), math::exp(s.shifted(all)));
    s.row_sum(row) = cast<double>(0);
    s.row_sum(row) += cast<double>(s.exps(at(shape, r)));
    if (kind == SoftmaxKind::log_softmax) {
        // A NaN sum (a NaN or +inf in the row) must give NaN whatever log does with NaN under
        // the fast-math flags.
        Expr sum = cast<float>(s.row_sum(row_of_element));
        s.y(shape.args) = s.shifted(all) - select(is_nan_bits(sum), sum, math::log(sum));
    } else {
        s.y(shape.args) = s.exps(all) * cast<float>(Internal::make_const(Float(64), 1.0) / Expr(s.row_sum(row_of_element)));
    }
    return s;
}

// From the saved output y (ATen's _softmax_backward_data / _log_softmax_backward_data), times
// the chain rule's factor for z = s x:
//   softmax, softmin: s y (grad - sum(grad y));   log_softmax: s (grad - exp(y) sum(grad)).
SoftmaxBackwardStages softmax_backward(SoftmaxKind kind, Func grad_output, Func y, const Expr &beta,
                                       const SoftmaxShape &shape) {
    SoftmaxBackwardStages s{Func("terms"), Func("row_sum"), Func("grad_input")};
    const std::vector<Var> row = row_args(shape);
    std::vector<Expr> row_of_element;
    for (int d = 0; d < static_cast<int>(shape.args.size()); ++d) {
        if (d != shape.reduced) row_of_element.push_back(shape.args[static_cast<size_t>(d)]);
    }
    std::vector<Expr> all(shape.args.begin(), shape.args.end());
    const Expr scale = signed_beta(kind, beta);
    RDom r(0, shape.extent, "r");
    if (kind == SoftmaxKind::log_softmax) {
        s.terms(shape.args) = grad_output(all);
    } else {
        s.terms(shape.args) = grad_output(all) * y(all);
    }
    s.row_sum(row) = cast<double>(0);
    s.row_sum(row) += cast<double>(s.terms(at(shape, r)));
    const Expr sum = cast<float>(s.row_sum(row_of_element));
    if (kind == SoftmaxKind::log_softmax) {
        s.grad_input(shape.args) = scale * (grad_output(all) - math::exp(y(all)) * sum);
    } else {
        s.grad_input(shape.args) = scale * (y(all) * (grad_output(all) - sum));
    }
    return s;
}

}  // namespace nnf::ops

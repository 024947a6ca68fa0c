// Algorithms of the pointwise family: y = f(x) elementwise, and its backward.
// Pure Halide expressions, no scheduling (that lives in schedules/).
#pragma once

#include <map>
#include <string>

#include "Halide.h"

namespace nnf::ops {

// The parameters one kernel sees: runtime scalars by name, and the value of the op's
// compile-time enum parameter (empty when it has none).
struct PointwiseParams {
    std::map<std::string, Halide::Expr> scalars;
    std::string variant;

    Halide::Expr scalar(const std::string &name) const;
};

struct PointwiseAlgorithm {
    // y = f(x)
    Halide::Expr (*forward)(const Halide::Expr &x, const PointwiseParams &params);
    // grad_input from grad_output and the saved tensor (x or y, as the registry says).
    Halide::Expr (*backward)(const Halide::Expr &grad_output, const Halide::Expr &saved,
                             const PointwiseParams &params);
};

// Throws std::invalid_argument if the registry names an op that has no algorithm here.
const PointwiseAlgorithm &pointwise_algorithm(const std::string &op);

}  // namespace nnf::ops

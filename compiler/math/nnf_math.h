// nnf::math — vectorizable float32 transcendental functions as Halide Exprs.
//
// Every function takes and returns a Float(32) Expr and is built only from
// arithmetic, comparisons, select, reinterpret and integer ops, so it vectorizes
// on every Halide target (x86 SSE2/AVX2/AVX-512, ARM NEON, CUDA) with no calls
// into libm. Accuracy is measured over all 2^32 float inputs against a double
// reference by tools/ulp_sweep (results and the ULP definition: docs/math.md):
//
//   exp, expm1, log, log1p                               <= 1 ULP
//   tanh, erf, erfc, sigmoid, softplus, log_sigmoid      <= 2 ULP
//
// Special values follow the correctly rounded result: NaN -> NaN, +-inf,
// signed zeros (expm1(-0) = -0, tanh(-0) = -0, ...), overflow to inf and
// underflow to 0 / denormals, log(0) = -inf, log(x < 0) = NaN,
// log1p(-1) = -inf, and exact +-1 / 0 for tanh, erf, erfc and sigmoid where
// the correctly rounded result is exactly that.
//
// The results do not depend on whether LLVM contracts a*b+c into an FMA: the
// steps that need exact arithmetic are wrapped in Halide::strict_float, and the
// rest is accurate either way (all three x86 paths are swept).
#pragma once

#include <vector>

#include "Halide.h"

namespace nnf::math {

Halide::Expr exp(const Halide::Expr &x);
Halide::Expr expm1(const Halide::Expr &x);
Halide::Expr log(const Halide::Expr &x);
Halide::Expr log1p(const Halide::Expr &x);
Halide::Expr tanh(const Halide::Expr &x);
Halide::Expr erf(const Halide::Expr &x);
Halide::Expr erfc(const Halide::Expr &x);

// 1 / (1 + exp(-x)), never overflows.
Halide::Expr sigmoid(const Halide::Expr &x);
// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).
Halide::Expr softplus(const Halide::Expr &x);
// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)).
Halide::Expr log_sigmoid(const Halide::Expr &x);

// GELU with approximate = "none": x Phi(x), Phi the standard normal CDF, and its derivative
// Phi(x) + x phi(x). Both keep their relative accuracy in the negative tail (where PyTorch's
// (1 + erf(x/sqrt2))/2 cancels) down to the underflow; NaN gives NaN, +-inf as PyTorch's formulas
// (gelu(inf) = inf, gelu(-inf) = NaN, derivative NaN at both).
Halide::Expr gelu(const Halide::Expr &x);
Halide::Expr gelu_derivative(const Halide::Expr &x);

// The functions above as a table, for tools, tests and benchmarks.
struct FunctionInfo {
    const char *name;
    Halide::Expr (*fn)(const Halide::Expr &);
    double max_ulp;  // the bound the function is held to over all float inputs
};
const std::vector<FunctionInfo> &functions();
// nullptr when no function has that name.
const FunctionInfo *find_function(const char *name);

}  // namespace nnf::math

// Algorithms of the rrelu family: the training pass, y = x * noise with a slope drawn per
// element. Pure Halide expressions, no scheduling. (Evaluation is leaky_relu with slope
// (lower + upper) / 2 and uses leaky_relu's kernels.)
#pragma once

#include "Halide.h"

namespace nnf::ops {

// A uniform draw in [0, 1) with 24 random bits, k 2^-24 with k a splitmix64 hash of (seed,
// element index), as a double (exact). Integer arithmetic only, so every ISA path (and any
// other target) draws the same value.
Halide::Expr rrelu_uniform(const Halide::Expr &seed, const Halide::Expr &element_index);

// ATen's rrelu_with_noise in training: noise = 1 where x > 0 (NaN included: ATen tests x <= 0),
// else the float slope lower + (upper - lower) u, clamped to upper against rounding. The slope
// is evaluated in double (see rrelu_ops.cpp), so every target, CUDA included, gets the same bits.
Halide::Expr rrelu_noise(const Halide::Expr &x, const Halide::Expr &lower, const Halide::Expr &upper,
                         const Halide::Expr &uniform);

// y = x * noise: x where noise = 1, and x * slope (-0 stays -0) elsewhere.
Halide::Expr rrelu_forward(const Halide::Expr &x, const Halide::Expr &noise);

// ATen's rrelu_with_noise_backward in training: grad * noise.
Halide::Expr rrelu_backward(const Halide::Expr &grad_output, const Halide::Expr &noise);

}  // namespace nnf::ops

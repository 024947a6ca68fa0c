#include "ops/rrelu_ops.h"

namespace nnf::ops {

using Halide::Expr;
using Halide::UInt;
using Halide::cast;
using Halide::select;

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio, splitmix64's increment

// splitmix64's output function (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014): a bijective avalanche mix of 64 bits.
Expr splitmix64_mix(Expr z) {
    z = (z ^ (z >> 30)) * Expr(uint64_t{0xBF58476D1CE4E5B9ull});
    z = (z ^ (z >> 27)) * Expr(uint64_t{0x94D049BB133111EBull});
    return z ^ (z >> 31);
}

}  // namespace

// The element's counter is (index + 1) steps of splitmix64 from a state keyed by the mixed seed,
// i.e. exactly the index-th output of a splitmix64 stream; the top 24 bits make the float.
Expr rrelu_uniform(const Expr &seed, const Expr &element_index) {
    Expr key = splitmix64_mix(cast<uint64_t>(seed));
    Expr state = key + (cast<uint64_t>(element_index) + Expr(uint64_t{1})) * Expr(kGolden);
    Expr bits = cast<uint32_t>(splitmix64_mix(state) >> 40);
    return cast<float>(bits) * (1.0f / 16777216.0f);
}

// strict_float: the slope must not depend on whether LLVM contracts the multiply-add into an
// FMA (AVX2 and AVX-512 would, baseline would not), so every path draws bit-identical slopes.
Expr rrelu_noise(const Expr &x, const Expr &lower, const Expr &upper, const Expr &uniform) {
    Expr slope = Halide::min(lower + (upper - lower) * uniform, upper);
    return Halide::strict_float(select(x > 0.0f || Halide::is_nan(x), 1.0f, slope));
}

Expr rrelu_forward(const Expr &x, const Expr &noise) {
    return Halide::strict_float(x * noise);
}

Expr rrelu_backward(const Expr &grad_output, const Expr &noise) {
    return grad_output * noise;
}

}  // namespace nnf::ops

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
// i.e. exactly the index-th output of a splitmix64 stream; its top 24 bits, scaled by 2^-24.
Expr rrelu_uniform(const Expr &seed, const Expr &element_index) {
    Expr key = splitmix64_mix(cast<uint64_t>(seed));
    Expr state = key + (cast<uint64_t>(element_index) + Expr(uint64_t{1})) * Expr(kGolden);
    Expr bits = cast<uint32_t>(splitmix64_mix(state) >> 40);
    return cast<double>(bits) * Expr(1.0 / 16777216.0);
}

// Why double: a float `lower + (upper - lower) * u` rounds twice unfused and once when the
// compiler contracts it into an FMA, and strict_float does not stop Halide 21's PTX backend
// from contracting (it emits fma.rn.f32), so a GPU's slopes could differ from the CPU's in the
// last bit. In double, (upper - lower) (a float, 24 significant bits) times u (24 bits) is
// exact in 53 bits, so fused or not the sum is rounded once, to the same double; rounding that
// to float is then the same on every target. upper - lower stays a float subtraction: in
// double it could need more than 29 bits and the product would round again.
Expr rrelu_noise(const Expr &x, const Expr &lower, const Expr &upper, const Expr &uniform) {
    Expr width = cast<double>(Halide::strict_float(upper - lower));
    Expr slope = cast<float>(cast<double>(lower) + width * uniform);
    return Halide::strict_float(select(x > 0.0f || Halide::is_nan(x), 1.0f, Halide::min(slope, upper)));
}

Expr rrelu_forward(const Expr &x, const Expr &noise) {
    return Halide::strict_float(x * noise);
}

Expr rrelu_backward(const Expr &grad_output, const Expr &noise) {
    return grad_output * noise;
}

}  // namespace nnf::ops

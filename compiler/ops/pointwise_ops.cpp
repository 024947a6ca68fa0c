#include "ops/pointwise_ops.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "math/nnf_math.h"

namespace nnf::ops {

using Halide::Expr;
using Halide::select;

Expr PointwiseParams::scalar(const std::string &name) const {
    auto it = scalars.find(name);
    if (it == scalars.end()) throw std::invalid_argument("no scalar parameter '" + name + "'");
    return it->second;
}

namespace {

// Halide compiles float code with LLVM's no-NaNs / no-signed-zeros flags and simplifies
// select(x < 0, 0, x) to max(x, 0). Where PyTorch's NaN and -0 behaviour depends on the exact
// comparison, the expression is strict_float, which keeps IEEE semantics for it alone.
Expr ieee(const Expr &e) {
    return Halide::strict_float(e);
}

// relu is clamp_min(x, 0) in PyTorch: it keeps x (so -0 and NaN payloads) unless x < 0.
Expr relu_forward(const Expr &x, const PointwiseParams &) {
    return ieee(select(x < 0.0f, 0.0f, x));
}
// ATen's threshold_backward: 0 where x <= 0, else grad. NaN compares false there and keeps
// grad; Halide rewrites x <= 0 as !(0 < x), so the NaN case is spelled out.
Expr relu_backward(const Expr &grad, const Expr &x, const PointwiseParams &) {
    return ieee(select(x > 0.0f || Halide::is_nan(x), grad, 0.0f));
}

Expr sigmoid_forward(const Expr &x, const PointwiseParams &) {
    return math::sigmoid(x);
}
Expr sigmoid_backward(const Expr &grad, const Expr &y, const PointwiseParams &) {
    return grad * (y * (1.0f - y));
}

constexpr float kSqrt1_2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1/sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;
constexpr float kGeluKappa = 0.044715f;

// The high 12 significant bits of a float (the rest zero), for Dekker's exact product.
Expr high_half(const Expr &v) {
    return reinterpret(Halide::Float(32), reinterpret(Halide::UInt(32), v) & Halide::UInt(32).max() << 12);
}
float high_half(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    bits &= 0xfffff000u;
    std::memcpy(&v, &bits, 4);
    return v;
}

// Phi(x) = erfc(-x/sqrt2)/2. Unlike PyTorch's (1 + erf(x/sqrt2))/2 it does not cancel to 0
// for x below about -5, so gelu keeps its relative accuracy in the negative tail.
// Rounding z = -x/sqrt2 to float alone would cost 2 z^2 ulp there (1e-5 relative at x = -13),
// so z = z_hi + z_lo is carried exactly (Dekker's product, strict_float) and
// erfc(z_hi + z_lo) = erfc(z_hi) (1 - 2 z_hi z_lo) to first order, with erfc'/erfc ~ -2z
// (off by at most 1.2 z_lo, under 0.2 ulp, for small z). For z <= 0 (x > 0) erfc lies in
// (1, 2] and barely depends on z's last bit, so the correction is skipped.
Expr normal_cdf(const Expr &x) {
    constexpr float kSqrt1_2Hi = 0.70710677f;     // float(1/sqrt2)
    constexpr float kSqrt1_2Lo = 1.21016175e-08f;  // 1/sqrt2 - kSqrt1_2Hi
    const float c_hh = high_half(kSqrt1_2Hi), c_hl = kSqrt1_2Hi - c_hh;
    Expr x_h = high_half(x), x_l = ieee(x - x_h);
    Expr product = x * kSqrt1_2Hi;  // rounded; the exact x * kSqrt1_2Hi is product + error
    Expr error = ieee(((x_h * c_hh - product) + x_h * c_hl + x_l * c_hh) + x_l * c_hl);
    Expr z_hi = -product;
    Expr z_lo = -(error + x * kSqrt1_2Lo);
    Expr tail = math::erfc(z_hi);
    // erfc(z) underflows to 0 beyond z = 10.1; the bound also keeps z_hi * z_lo finite.
    return 0.5f * select(z_hi > 0.0f && z_hi < 11.0f, tail * (1.0f - 2.0f * z_hi * z_lo), tail);
}

// 0.5 x (1 + tanh(u)) = x sigmoid(2u): the same value without the cancellation of 1 + tanh(u)
// for negative u.
Expr gelu_tanh_inner(const Expr &x) {
    return kSqrt2OverPi * (x + kGeluKappa * x * x * x);
}

Expr gelu_forward(const Expr &x, const PointwiseParams &params) {
    if (params.variant == "tanh") return x * math::sigmoid(2.0f * gelu_tanh_inner(x));
    return x * normal_cdf(x);
}

Expr gelu_backward(const Expr &grad, const Expr &x, const PointwiseParams &params) {
    if (params.variant == "tanh") {
        // d/dx [x s(2u)] = s + 2 x s (1 - s) u'(x), with 1 - s = s(-2u) computed directly.
        Expr u = gelu_tanh_inner(x);
        Expr s = math::sigmoid(2.0f * u);
        Expr one_minus_s = math::sigmoid(-2.0f * u);
        Expr du = kSqrt2OverPi * (1.0f + 3.0f * kGeluKappa * x * x);
        return grad * (s + 2.0f * x * s * one_minus_s * du);
    }
    Expr pdf = kInvSqrt2Pi * math::exp(-0.5f * x * x);
    return grad * (normal_cdf(x) + x * pdf);
}

const std::map<std::string, PointwiseAlgorithm> &algorithms() {
    static const std::map<std::string, PointwiseAlgorithm> table = {
        {"relu", {relu_forward, relu_backward}},
        {"sigmoid", {sigmoid_forward, sigmoid_backward}},
        {"gelu", {gelu_forward, gelu_backward}},
    };
    return table;
}

}  // namespace

const PointwiseAlgorithm &pointwise_algorithm(const std::string &op) {
    auto it = algorithms().find(op);
    if (it == algorithms().end()) throw std::invalid_argument("no pointwise algorithm for op '" + op + "'");
    return it->second;
}

}  // namespace nnf::ops

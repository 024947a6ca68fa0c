#include "ops/pointwise_ops.h"

#include <limits>
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

// The gradient mask of ATen's hardtanh_backward (and so of relu6): grad where
// min < x < max, else 0. Its vectorized loop computes the mask with ordered compares, so a NaN
// x gets 0 (the scalar tail would pass grad; nnfuse follows the vector loop, which sees almost
// every element).
Expr clamp_gradient(const Expr &grad, const Expr &x, const Expr &lo, const Expr &hi) {
    return ieee(select(x > lo && x < hi, grad, 0.0f));
}
// clamp(x, lo, hi) as ATen's: NaN propagates (both compares are false) and -0 stays -0.
Expr clamp_nan_propagating(const Expr &x, const Expr &lo, const Expr &hi) {
    return ieee(select(x < lo, lo, select(x > hi, hi, x)));
}

// relu6 is at::hardtanh(x, 0, 6) in PyTorch; its backward is hardtanh_backward.
Expr relu6_forward(const Expr &x, const PointwiseParams &) {
    return clamp_nan_propagating(x, 0.0f, 6.0f);
}
Expr relu6_backward(const Expr &grad, const Expr &x, const PointwiseParams &) {
    return clamp_gradient(grad, x, 0.0f, 6.0f);
}

Expr hardtanh_forward(const Expr &x, const PointwiseParams &p) {
    return clamp_nan_propagating(x, p.scalar("min_val"), p.scalar("max_val"));
}
Expr hardtanh_backward(const Expr &grad, const Expr &x, const PointwiseParams &p) {
    return clamp_gradient(grad, x, p.scalar("min_val"), p.scalar("max_val"));
}

// ATen: x > 0 ? x : x * negative_slope, so NaN gives NaN * slope = NaN and -0 gives -0.
Expr leaky_relu_forward(const Expr &x, const PointwiseParams &p) {
    return ieee(select(x > 0.0f, x, x * p.scalar("negative_slope")));
}
// ATen: x > 0 ? grad : grad * negative_slope (NaN takes the slope).
Expr leaky_relu_backward(const Expr &grad, const Expr &x, const PointwiseParams &p) {
    return ieee(select(x > 0.0f, grad, grad * p.scalar("negative_slope")));
}

Expr tanh_forward(const Expr &x, const PointwiseParams &) {
    return math::tanh(x);
}
// ATen's tanh_backward is grad (1 - y^2). (1 - y)(1 + y) is the same value without the
// cancellation of 1 - y^2 near saturation: 1 - y is exact for y in [0.5, 1] (Sterbenz), so the
// derivative keeps its relative accuracy where it is tiny.
Expr tanh_backward(const Expr &grad, const Expr &y, const PointwiseParams &) {
    return grad * ((1.0f - y) * (1.0f + y));
}

// ATen: (beta x) > threshold ? x : log1p(exp(beta x)) / beta. math::softplus never overflows.
Expr softplus_forward(const Expr &x, const PointwiseParams &p) {
    Expr beta = p.scalar("beta"), scaled = x * beta;
    return select(scaled > p.scalar("threshold"), x, math::softplus(scaled) / beta);
}
// ATen: grad z / (z + 1) with z = exp(beta x), i.e. grad sigmoid(beta x), which cannot overflow.
Expr softplus_backward(const Expr &grad, const Expr &x, const PointwiseParams &p) {
    // A NaN x must give NaN, as in ATen; under the no-NaNs flags this select gave grad (measured),
    // so NaN is passed through explicitly.
    Expr scaled = x * p.scalar("beta");
    return select(Halide::is_nan(x), x, scaled > p.scalar("threshold"), grad, grad * math::sigmoid(scaled));
}

// The ELU family as ATen computes it (elu_kernel with alpha, scale, input_scale):
// x >= 0 ? scale x : alpha scale expm1(input_scale x). The compare sends NaN to the expm1
// branch, which returns NaN; -0 takes the linear branch and stays -0.
Expr elu_family_forward(const Expr &x, const Expr &alpha, const Expr &scale, const Expr &input_scale) {
    return select(x >= 0.0f, x * scale, (alpha * scale) * math::expm1(x * input_scale));
}
// elu_backward(is_result = false), from the input: x > 0 ? grad scale :
// grad alpha scale input_scale exp(input_scale x). The vectorized ATen loop tests x > 0, so 0 and
// NaN take the exponential branch (NaN gives NaN).
Expr elu_family_backward(const Expr &grad, const Expr &x, const Expr &negative_coefficient, const Expr &scale,
                         const Expr &input_scale) {
    return select(x > 0.0f, grad * scale, grad * (negative_coefficient * math::exp(x * input_scale)));
}

Expr elu_forward(const Expr &x, const PointwiseParams &p) {
    return elu_family_forward(x, p.scalar("alpha"), 1.0f, 1.0f);
}
Expr elu_backward(const Expr &grad, const Expr &x, const PointwiseParams &p) {
    return elu_family_backward(grad, x, p.scalar("alpha"), 1.0f, 1.0f);
}

// at::celu is at::elu(x, alpha, 1, 1/alpha). nnfuse divides by alpha instead of multiplying by
// the rounded 1/alpha, and the backward's alpha * (1/alpha) is exactly 1 here.
Expr celu_forward(const Expr &x, const PointwiseParams &p) {
    Expr alpha = p.scalar("alpha");
    return select(x >= 0.0f, x, alpha * math::expm1(x / alpha));
}
Expr celu_backward(const Expr &grad, const Expr &x, const PointwiseParams &p) {
    return select(x > 0.0f, grad, grad * math::exp(x / p.scalar("alpha")));
}

// PyTorch's SELU constants (torch/csrc/api and ATen's SELU_ALPHA, SELU_SCALE), rounded to float as
// ATen's float kernel rounds them.
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
Expr selu_forward(const Expr &x, const PointwiseParams &) {
    return elu_family_forward(x, kSeluAlpha, kSeluScale, 1.0f);
}
Expr selu_backward(const Expr &grad, const Expr &x, const PointwiseParams &) {
    return elu_family_backward(grad, x, kSeluAlpha * kSeluScale, kSeluScale, 1.0f);
}

// F.softsign is x / (1 + |x|) in Python, so +-inf gives inf / inf = NaN; kept on purpose.
Expr softsign_forward(const Expr &x, const PointwiseParams &) {
    return x / (1.0f + Halide::abs(x));
}
// Autograd of that formula: grad / (1 + |x|) - grad x sgn(x) / (1 + |x|)^2 = grad / (1 + |x|)^2,
// except at +-inf, where PyTorch's form evaluates inf / inf and gives NaN; nnfuse matches.
Expr softsign_backward(const Expr &grad, const Expr &x, const PointwiseParams &) {
    Expr denominator = 1.0f + Halide::abs(x);
    return select(Halide::is_inf(x), Halide::Expr(std::numeric_limits<float>::quiet_NaN()),
                  grad / (denominator * denominator));
}

// F.tanhshrink is x - tanh(x), which cancels near 0 (all bits are lost below |x| ~ 1e-3). Below
// |x| = 0.6 nnfuse sums the Taylor series of x - tanh(x) = x^3/3 - 2x^5/15 + ... instead: nine
// terms bring the truncation under 1e-8 relative there (each term is about 0.15x the previous at
// 0.6), and above 0.6 the subtraction loses at most 2 ulp of tanh, under 2e-6 relative.
Expr tanhshrink_forward(const Expr &x, const PointwiseParams &) {
    static const double kCoefficients[] = {1.0 / 3,
                                           -2.0 / 15,
                                           17.0 / 315,
                                           -62.0 / 2835,
                                           1382.0 / 155925,
                                           -21844.0 / 6081075,
                                           929569.0 / 638512875,
                                           -6404582.0 / 10854718875,
                                           443861162.0 / 1856156927625};
    Expr x2 = x * x;
    Expr series = static_cast<float>(kCoefficients[8]);
    for (int i = 7; i >= 0; --i) series = series * x2 + static_cast<float>(kCoefficients[i]);
    // Zero results (x = -0, and an x^3 that underflows) are +0, as x - tanh(x) gives there. A
    // select rather than a strict "+ 0": strict_float would cover the polynomial too and keep
    // its steps from contracting into FMAs (64K elements, AVX-512, 1 thread: 1.63 against 1.84 G/s).
    Expr cubic = x * x2 * series;
    Expr near_zero = select(cubic == 0.0f, 0.0f, cubic);
    // Under Halide's no-NaNs float flags a NaN x came out of this select as 0 (measured on all
    // three x86 paths), so NaN is passed through explicitly.
    return select(Halide::is_nan(x), x, Halide::abs(x) < 0.6f, near_zero, x - math::tanh(x));
}
// Autograd of x - tanh(x): grad - grad (1 - t^2) = grad t^2, computed without the cancellation.
Expr tanhshrink_backward(const Expr &grad, const Expr &x, const PointwiseParams &) {
    Expr t = math::tanh(x);
    return grad * (t * t);
}

Expr log_sigmoid_forward(const Expr &x, const PointwiseParams &) {
    return math::log_sigmoid(x);
}
// ATen's log_sigmoid_backward: grad (max_deriv - sign z / (1 + z)), z = exp(-|x|), which is
// grad sigmoid(-x) on both sides of 0.
Expr log_sigmoid_backward(const Expr &grad, const Expr &x, const PointwiseParams &) {
    return grad * math::sigmoid(-x);
}

// ATen's threshold_kernel: x <= threshold ? value : x. Halide rewrites x <= t as !(t < x), which
// would send NaN to `value`, so the NaN case (kept, as ATen keeps it) is spelled out.
Expr threshold_forward(const Expr &x, const PointwiseParams &p) {
    return ieee(select(x > p.scalar("threshold") || Halide::is_nan(x), x, p.scalar("value")));
}
// threshold_backward: 0 where x <= threshold, else grad (NaN keeps grad).
Expr threshold_backward(const Expr &grad, const Expr &x, const PointwiseParams &p) {
    return ieee(select(x > p.scalar("threshold") || Halide::is_nan(x), grad, 0.0f));
}

// ATen's softshrink (since it propagates NaN): x > l ? x - l : x < -l ? x + l : 0, with NaN kept.
// Inside the band the vectorized loop returns +0 for either sign of x; nnfuse does the same.
Expr softshrink_forward(const Expr &x, const PointwiseParams &p) {
    Expr lambd = p.scalar("lambd");
    return ieee(select(x > lambd, x - lambd, x < -lambd, x + lambd, Halide::is_nan(x), x, 0.0f));
}
// ATen's hardshrink: (x >= -l && x <= l) ? 0 : x, so NaN is kept and the band gives +0.
Expr hardshrink_forward(const Expr &x, const PointwiseParams &p) {
    Expr lambd = p.scalar("lambd");
    return ieee(select(x < -lambd || x > lambd || Halide::is_nan(x), x, 0.0f));
}
// ATen's shrink_backward (both shrinks): grad where x < -l or x > l, else 0. The vectorized loop
// tests exactly that, so NaN gets 0 (the scalar tail would pass grad).
Expr shrink_backward(const Expr &grad, const Expr &x, const PointwiseParams &p) {
    Expr lambd = p.scalar("lambd");
    return ieee(select(x < -lambd || x > lambd, grad, 0.0f));
}

Expr sigmoid_forward(const Expr &x, const PointwiseParams &) {
    return math::sigmoid(x);
}
Expr sigmoid_backward(const Expr &grad, const Expr &y, const PointwiseParams &) {
    return grad * (y * (1.0f - y));
}

constexpr float kSqrt2OverPi = 0.79788456080286535588f;
constexpr float kGeluKappa = 0.044715f;

// 0.5 x (1 + tanh(u)) = x sigmoid(2u): the same value without the cancellation of 1 + tanh(u)
// for negative u.
Expr gelu_tanh_inner(const Expr &x) {
    return kSqrt2OverPi * (x + kGeluKappa * x * x * x);
}

// The tanh form's sigmoid argument 2u, clamped to [-80, 80], beyond which it is `saturated`.
// Below -80, sigmoid(2u) < 2e-35, so x sigmoid(2u) is 0 within 1e-33 for every finite x
// (PyTorch's 0.5 x (1 + tanh(u)) is exactly 0 from u < -9 on); above 80, the backward's
// 1 - sigmoid(2u) term is below 1e-32 and the derivative is 1. The clamp keeps e^{-|2u|} out
// of the subnormal range, where every x86 operation on it takes a microcode assist (measured
// on [-12, 12]: 0.19 G elements/s forward, 0.09 backward, instead of 1.8 and 1.0). Saturated
// lanes compute their limit strictly, so infinite x still gives PyTorch's NaN or inf.
constexpr float kGeluSaturation = 80.0f;
Expr gelu_tanh_argument(const Expr &x) {
    return Halide::clamp(2.0f * gelu_tanh_inner(x), -kGeluSaturation, kGeluSaturation);
}
Expr gelu_tanh_saturated_below(const Expr &x) {
    return 2.0f * gelu_tanh_inner(x) < -kGeluSaturation;
}
Expr gelu_tanh_saturated_above(const Expr &x) {
    return 2.0f * gelu_tanh_inner(x) > kGeluSaturation;
}

Expr gelu_forward(const Expr &x, const PointwiseParams &params) {
    if (params.variant == "tanh") {
        // Above the clamp sigmoid(80) is exactly 1: x sigmoid(t) is x there.
        return select(gelu_tanh_saturated_below(x), Halide::strict_float(x * 0.0f), x * math::sigmoid(gelu_tanh_argument(x)));
    }
    // x Phi(x) from one kernel in |x| (math::gelu, docs/math.md): unlike PyTorch's
    // 0.5 x (1 + erf(x/sqrt2)) it does not cancel to 0 below x = -5.9, so gelu keeps its relative
    // accuracy in the negative tail down to the underflow.
    return math::gelu(x);
}

Expr gelu_backward(const Expr &grad, const Expr &x, const PointwiseParams &params) {
    if (params.variant == "tanh") {
        // d/dx [x s(2u)] = s + 2 x s (1 - s) u'(x), with 1 - s = s(-2u) computed directly.
        // Saturated lanes: below, s = 0 and 1 - s = 1, so the bracket is 0 * (x du); above, s = 1
        // and 1 - s = 0, so it is 1 + 0 * (x du) (NaN for infinite x either way, as PyTorch's).
        // s and 1 - s from one exp and one division: with E = e^{-|t|} and r = 1 / (1 + E) they
        // are r and E r (swapped for t < 0), neither a difference, so each keeps its relative
        // accuracy (a few ULP against the tests' 11) at half the cost of two sigmoids.
        Expr t = gelu_tanh_argument(x);
        Expr e = math::exp(-Halide::abs(t));
        Expr r = 1.0f / (1.0f + e);
        Expr negative = t < 0.0f;
        Expr s = select(negative, e * r, r);
        Expr one_minus_s = select(negative, r, e * r);
        Expr du = kSqrt2OverPi * (1.0f + 3.0f * kGeluKappa * x * x);
        Expr bracket = select(gelu_tanh_saturated_below(x), Halide::strict_float(0.0f * (x * du)),
                              gelu_tanh_saturated_above(x), Halide::strict_float(1.0f + 0.0f * (x * du)),
                              s + 2.0f * x * s * one_minus_s * du);
        return grad * bracket;
    }
    // Phi(x) + x phi(x), with Phi and phi sharing one exponential (math::gelu_derivative).
    return grad * math::gelu_derivative(x);
}

const std::map<std::string, PointwiseAlgorithm> &algorithms() {
    static const std::map<std::string, PointwiseAlgorithm> table = {
        {"relu", {relu_forward, relu_backward}},
        {"relu6", {relu6_forward, relu6_backward}},
        {"leaky_relu", {leaky_relu_forward, leaky_relu_backward}},
        {"tanh", {tanh_forward, tanh_backward}},
        {"softplus", {softplus_forward, softplus_backward}},
        {"elu", {elu_forward, elu_backward}},
        {"celu", {celu_forward, celu_backward}},
        {"selu", {selu_forward, selu_backward}},
        {"softsign", {softsign_forward, softsign_backward}},
        {"tanhshrink", {tanhshrink_forward, tanhshrink_backward}},
        {"log_sigmoid", {log_sigmoid_forward, log_sigmoid_backward}},
        {"hardtanh", {hardtanh_forward, hardtanh_backward}},
        {"threshold", {threshold_forward, threshold_backward}},
        {"softshrink", {softshrink_forward, shrink_backward}},
        {"hardshrink", {hardshrink_forward, shrink_backward}},
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

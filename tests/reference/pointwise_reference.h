// Double-precision reference formulas of the pointwise ops, written independently of the
// Halide algorithms (compiler/ops). Keyed by registry name; a registry op without an entry
// here fails the test suite.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace nnf::test {

struct PointwiseReference {
    // y = f(x; params), params in registry order (enums by index).
    std::function<double(double x, const std::vector<double> &params)> forward;
    // Where the derivative is undefined (kinks), finite differences are skipped.
    std::vector<double> kinks;
    // Tolerance of the float32 kernels against `forward`: |got - ref| <= atol + rtol |ref|.
    double rtol, atol;
    // A range of x that exercises the op (tanh-GELU and friends saturate outside it).
    double lo, hi;
    // For ops whose backward takes the output: x from y (the inverse of forward).
    std::function<double(double y, const std::vector<double> &params)> inverse;
};

inline double sigmoid_ref(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

// Half an ulp of float, relative: the tolerances below count float roundings in these units.
constexpr double kHalfUlp = 0x1p-24;

// clamp(x, lo, hi) with NaN propagating (as torch.clamp and so hardtanh and relu6).
inline double clamp_ref(double x, double lo, double hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

// ELU with PyTorch's (alpha, scale, input_scale) parametrization.
inline double elu_ref(double x, double alpha, double scale, double input_scale) {
    return x > 0 ? scale * x : alpha * scale * std::expm1(x * input_scale);
}

constexpr double kSeluAlphaRef = 1.6732632423543772848170429916717;
constexpr double kSeluScaleRef = 1.0507009873554804934193349852946;

inline const std::map<std::string, PointwiseReference> &pointwise_references() {
    static const std::map<std::string, PointwiseReference> table = {
        {"relu",
         {[](double x, const std::vector<double> &) { return x < 0 ? 0.0 : x; }, {0.0}, 0.0, 0.0, -10, 10, nullptr}},
        {"sigmoid",
         {[](double x, const std::vector<double> &) { return sigmoid_ref(x); }, {}, 3.0 * 0x1p-24, 0.0, -30, 30,
          [](double y, const std::vector<double> &) { return std::log(y / (1.0 - y)); }}},
        {"relu6",
         {[](double x, const std::vector<double> &) { return clamp_ref(x, 0, 6); }, {0.0, 6.0}, 0.0, 0.0, -10, 10,
          nullptr}},
        {"leaky_relu",
         {[](double x, const std::vector<double> &p) { return x > 0 ? x : x * p[0]; }, {0.0}, 0.0, 0.0, -10, 10,
          nullptr}},
        {"tanh",
         {[](double x, const std::vector<double> &) { return std::tanh(x); }, {}, 5 * kHalfUlp, 0.0, -10, 10,
          [](double y, const std::vector<double> &) { return std::atanh(y); }}},
        {"softplus",
         {[](double x, const std::vector<double> &p) {
              const double beta = p[0], threshold = p[1];
              return beta * x > threshold ? x : std::log1p(std::exp(beta * x)) / beta;
          },
          {20.0},
          5 * kHalfUlp,
          1e-40,  // below the float denormals only
          -30,
          30,
          nullptr}},
        {"elu",
         {[](double x, const std::vector<double> &p) { return elu_ref(x, p[0], 1, 1); }, {0.0}, 4 * kHalfUlp, 1e-40,
          -20, 10, nullptr}},
        {"celu",
         {[](double x, const std::vector<double> &p) { return elu_ref(x, p[0], 1, 1 / p[0]); }, {0.0}, 4 * kHalfUlp,
          1e-40, -20, 10, nullptr}},
        {"selu",
         {[](double x, const std::vector<double> &) { return elu_ref(x, kSeluAlphaRef, kSeluScaleRef, 1); }, {0.0},
          6 * kHalfUlp, 1e-40, -20, 10, nullptr}},
        {"softsign",
         {[](double x, const std::vector<double> &) { return x / (1 + std::fabs(x)); }, {}, 3 * kHalfUlp, 0.0, -50, 50,
          nullptr}},
        // x - tanh(x) cancels in double too (to about 1e-16 |x|), so below |x| = 0.01 the
        // reference takes the Taylor series x^3/3 - 2x^5/15 + 17x^7/315 (next term under 1e-13
        // relative there).
        {"tanhshrink",
         {[](double x, const std::vector<double> &) {
              if (std::fabs(x) < 0.01) {
                  const double x2 = x * x;
                  return x * x2 * (1.0 / 3 - x2 * (2.0 / 15 - x2 * 17.0 / 315));
              }
              return x - std::tanh(x);
          },
          {},
          8 * kHalfUlp,
          2.5e-7,
          -10,
          10,
          nullptr}},
        {"log_sigmoid",
         {[](double x, const std::vector<double> &) { return std::min(x, 0.0) - std::log1p(std::exp(-std::fabs(x))); }, {}, 5 * kHalfUlp, 1e-40,
          -30, 30, nullptr}},
        {"hardtanh",
         {[](double x, const std::vector<double> &p) { return clamp_ref(x, p[0], p[1]); }, {-1.0, 1.0}, 0.0, 0.0, -3,
          3, nullptr}},
        {"threshold",
         {[](double x, const std::vector<double> &p) { return x <= p[0] ? p[1] : x; }, {0.0}, 0.0, 0.0, -10, 10,
          nullptr}},
        // PyTorch's softshrink propagates NaN; inside the band it returns +0 (its vector loop).
        {"softshrink",
         {[](double x, const std::vector<double> &p) {
              if (std::isnan(x)) return x;
              return x > p[0] ? x - p[0] : (x < -p[0] ? x + p[0] : 0.0);
          },
          {-0.5, 0.5},
          0.0,
          0.0,
          -3,
          3,
          nullptr}},
        {"hardshrink",
         {[](double x, const std::vector<double> &p) { return std::fabs(x) <= p[0] ? 0.0 : x; }, {-0.5, 0.5}, 0.0, 0.0,
          -3, 3, nullptr}},
        {"gelu",
         {[](double x, const std::vector<double> &params) {
              if (params[0] == 1) {  // approximate = "tanh": 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u))
                  const double u = std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
                  return x / (1.0 + std::exp(-2.0 * u));
              }
              return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
          },
          {},
          1.3e-6,
          1e-6,
          -12,
          12,
          nullptr}},
    };
    return table;
}

}  // namespace nnf::test

// Double-precision reference formulas of the pointwise ops, written independently of the
// Halide algorithms (compiler/ops). Keyed by registry name; a registry op without an entry
// here fails the test suite.
#pragma once

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

inline const std::map<std::string, PointwiseReference> &pointwise_references() {
    static const std::map<std::string, PointwiseReference> table = {
        {"relu",
         {[](double x, const std::vector<double> &) { return x < 0 ? 0.0 : x; }, {0.0}, 0.0, 0.0, -10, 10, nullptr}},
        {"sigmoid",
         {[](double x, const std::vector<double> &) { return sigmoid_ref(x); }, {}, 3.0 * 0x1p-24, 0.0, -30, 30,
          [](double y, const std::vector<double> &) { return std::log(y / (1.0 - y)); }}},
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

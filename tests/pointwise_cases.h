// The pointwise test cases drawn from the registry's op table, and the comparison of a float32
// result with a double reference. Shared by the CPU and CUDA suites.
#pragma once

#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "op_table.h"
#include "reference/pointwise_reference.h"
#include "test_tensor.h"

namespace nnf::test {

struct OpCase {
    const rt::OpInfo *info;
    std::vector<double> params;  // registry order; defaults except the enum under test
    std::string label;
    const PointwiseReference *reference;  // nullptr: the registry op has no reference yet
};

// Test names and ctest listings show the label, not the bytes of the struct.
inline void PrintTo(const OpCase &c, std::ostream *os) {
    *os << c.label;
}

// One case per pointwise op and value of its enum parameter.
inline std::vector<OpCase> pointwise_cases() {
    std::vector<OpCase> cases;
    int count = 0;
    const rt::OpInfo *ops = rt::op_table(&count);
    for (int i = 0; i < count; ++i) {
        const rt::OpInfo &op = ops[i];
        if (std::string(op.family) != "pointwise") continue;
        auto ref = pointwise_references().find(op.name);
        const PointwiseReference *reference = ref == pointwise_references().end() ? nullptr : &ref->second;
        std::vector<double> defaults;
        int enum_index = -1;
        for (int p = 0; p < op.num_params; ++p) {
            defaults.push_back(op.params[p].default_value);
            if (op.params[p].enum_values) enum_index = p;
        }
        if (enum_index < 0) {
            cases.push_back({&op, defaults, op.name, reference});
            continue;
        }
        for (int v = 0; v < op.params[enum_index].enum_values; ++v) {
            std::vector<double> params = defaults;
            params[enum_index] = v;
            cases.push_back(
                {&op, params, std::string(op.name) + "_" + op.params[enum_index].name + std::to_string(v), reference});
        }
    }
    return cases;
}

// |got - ref| <= atol + rtol |ref| (or got is ref correctly rounded), NaN matching NaN,
// infinities exact, and for exact ops the sign of zero too.
inline ::testing::AssertionResult close_to_reference(float got, double ref, const PointwiseReference &r) {
    if (std::isnan(ref) || std::isnan(got)) {
        if (std::isnan(ref) && std::isnan(got)) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref;
    }
    const double expected = static_cast<double>(static_cast<float>(ref));  // overflows to inf as float does
    if (std::isinf(expected) || std::isinf(got)) {
        if (static_cast<double>(got) == expected) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref;
    }
    const double err = std::fabs(static_cast<double>(got) - ref);
    if (err > r.atol + r.rtol * std::fabs(ref) && static_cast<double>(got) != expected) {
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref << " (error " << err << ")";
    }
    if (r.rtol == 0 && r.atol == 0 && std::signbit(got) != std::signbit(ref)) {
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref << " (sign of zero)";
    }
    return ::testing::AssertionSuccess();
}

// Random points in the op's range, moved off its kinks, where the derivative is one-sided and
// finite differences mean nothing.
inline std::vector<float> points_away_from_kinks(int64_t n, const PointwiseReference &r, unsigned seed) {
    std::vector<float> xs = random_floats(n, seed, r.lo, r.hi);
    for (float &x : xs) {
        for (double k : r.kinks) {
            if (std::fabs(x - k) < 1e-3) x = static_cast<float>(k + 1e-2);
        }
    }
    return xs;
}

// Central differences of f at x, h scaled to x: about 1e-9 relative error for smooth f.
template<typename F>
double central_difference(const F &f, double x) {
    const double h = 1e-6 * std::max(1.0, std::fabs(x));
    return (f(x + h) - f(x - h)) / (2 * h);
}

}  // namespace nnf::test

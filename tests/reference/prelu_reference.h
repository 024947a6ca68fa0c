// prelu's reference and the test cases the CPU and GPU suites share: weight of 1 or C
// elements, channel dim 1 (C = 1 below 2 dims).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nnf::test {

inline int64_t channels_of(const std::vector<int64_t> &shape) {
    return shape.size() >= 2 ? shape[1] : 1;
}

// Channel of row-major element i.
inline int64_t channel_of(const std::vector<int64_t> &shape, int64_t i) {
    if (shape.size() < 2) return 0;
    int64_t inner = 1;
    for (size_t d = 2; d < shape.size(); ++d) inner *= shape[d];
    return (i / inner) % shape[1];
}

inline double prelu_ref(double x, double w) {
    return x > 0 ? x : w * x;
}

struct PreluCase {
    std::vector<int64_t> shape;
    std::vector<int64_t> x_strides;  // empty: contiguous
    std::vector<int64_t> out_strides;
    bool shared_weight;
};

}  // namespace nnf::test

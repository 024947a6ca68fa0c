// rrelu's documented slope generator, re-implemented from its description (README, ops.def):
// u = (splitmix64 output number `index` of the stream seeded with mix(seed)) >> 40, times 2^-24;
// slope = min(float(double(lower) + double(upper - lower) u), upper), upper - lower a float
// subtraction. The product is exact in double, so whether this compiler contracts the
// multiply-add into an FMA does not matter: the sum is rounded once either way.
#pragma once

#include <algorithm>
#include <cstdint>

namespace nnf::test {

inline uint64_t splitmix64_output(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// u in [0, 1): 24 random bits times 2^-24, exact in double (and in float).
inline double rrelu_uniform_ref(uint64_t seed, uint64_t element_index) {
    const uint64_t state = splitmix64_output(seed) + (element_index + 1) * 0x9E3779B97F4A7C15ull;
    return static_cast<double>(static_cast<uint32_t>(splitmix64_output(state) >> 40)) / 16777216.0;
}

inline float rrelu_slope_ref(uint64_t seed, uint64_t element_index, float lower, float upper) {
    const double u = rrelu_uniform_ref(seed, element_index);
    const float width = upper - lower;
    return std::min(static_cast<float>(static_cast<double>(lower) + static_cast<double>(width) * u), upper);
}

}  // namespace nnf::test

// rrelu's documented slope generator, re-implemented from its description (README, ops.def):
// u = (splitmix64 output number `index` of the stream seeded with mix(seed)) >> 40, times 2^-24;
// slope = min(lower + (upper - lower) u, upper) in float arithmetic, no FMA.
#pragma once

#include <algorithm>
#include <cstdint>

namespace nnf::test {

inline uint64_t splitmix64_output(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

inline float rrelu_slope_ref(uint64_t seed, uint64_t element_index, float lower, float upper) {
    const uint64_t state = splitmix64_output(seed) + (element_index + 1) * 0x9E3779B97F4A7C15ull;
    const float u = static_cast<float>(static_cast<uint32_t>(splitmix64_output(state) >> 40)) / 16777216.0f;
    // volatile: the product and the sum are rounded separately, as the kernels do.
    volatile float scaled = (upper - lower) * u;
    return std::min(lower + scaled, upper);
}

}  // namespace nnf::test

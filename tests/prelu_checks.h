// What the CPU and GPU prelu suites assert about one call's results against the double
// reference (reference/prelu_reference.h).
#pragma once

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "reference/prelu_reference.h"
#include "test_tensor.h"

namespace nnf::test {

// y and grad_input exactly (a float product is correctly rounded), grad_weight within 1e-6 of
// the sum of |terms| (summed in double per kernel call, rounded to float once per call), and
// nothing written outside the outputs' views.
inline void expect_prelu_results(const PreluCase &c, TestTensor &x, TestTensor &w, TestTensor &grad, TestTensor &y,
                                 TestTensor &grad_input, TestTensor &grad_weight) {
    const int64_t weights = grad_weight.size();
    std::vector<double> expected_weight(static_cast<size_t>(weights), 0.0), magnitude(expected_weight);
    for (int64_t i = 0; i < x.size(); ++i) {
        const int64_t k = c.shared_weight ? 0 : channel_of(c.shape, i);
        const double xi = x.at(i), wi = w.at(k), gi = grad.at(i);
        // A float product is correctly rounded: forward and grad_input are exact.
        ASSERT_EQ(y.at(i), static_cast<float>(prelu_ref(xi, wi))) << "element " << i;
        ASSERT_EQ(grad_input.at(i), static_cast<float>(xi > 0 ? gi : wi * gi)) << "element " << i;
        expected_weight[static_cast<size_t>(k)] += xi > 0 ? 0 : xi * gi;
        magnitude[static_cast<size_t>(k)] += std::fabs(xi * gi);
    }
    for (int64_t k = 0; k < weights; ++k) {
        EXPECT_NEAR(grad_weight.at(k), expected_weight[static_cast<size_t>(k)],
                    1e-6 * magnitude[static_cast<size_t>(k)] + 1e-30)
            << "channel " << k;
    }
    EXPECT_TRUE(y.untouched_outside_view());
    EXPECT_TRUE(grad_input.untouched_outside_view());
}

}  // namespace nnf::test

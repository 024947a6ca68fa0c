// What the CPU and GPU prelu suites assert about one call's results against the double
// reference (reference/prelu_reference.h).
#pragma once

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "reference/prelu_reference.h"
#include "test_tensor.h"

namespace nnf::test {

// The cases both suites run. Contiguous: a 1-D input (one channel, long enough for the schedule
// that cuts one row into parallel tasks), per-channel and shared weights, and 2100 rows of 40
// (the CPU kernel groups short rows into tasks of about 32K elements, 819 rows: several tasks
// and a partial last one).
inline const std::vector<PreluCase> &prelu_contiguous_cases() {
    static const std::vector<PreluCase> cases = {
        {{1000}, {}, {}, true},          {{17}, {3}, {}, true},          {{140001}, {}, {}, true},
        {{8, 5}, {}, {}, false},         {{2, 3, 7, 9}, {}, {}, false},  {{2, 3, 7, 9}, {}, {}, true},
        {{1, 64, 33}, {}, {}, false},    {{3, 1, 5}, {}, {}, false},     {{300, 7, 40}, {}, {}, false},
    };
    return cases;
}
// Layouts the channel dim must survive: NCHW shape in NHWC memory (input, then output), every
// other element of a bigger tensor, a transposed 2-D input, a broadcast (stride 0) batch dim.
inline const std::vector<PreluCase> &prelu_layout_cases() {
    static const std::vector<PreluCase> cases = {
        {{2, 3, 4, 5}, {60, 1, 15, 3}, {}, false},
        {{2, 3, 4, 5}, {}, {60, 1, 15, 3}, false},
        {{4, 6, 10}, {6 * 20 * 2, 20 * 2, 2}, {}, false},
        {{9, 7}, {1, 9}, {}, false},
        {{3, 4, 11}, {0, 11, 1}, {}, false},
    };
    return cases;
}

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

// The in-place backward (grad_input written over grad_output) of a [4, 3, 50] input: its tensors,
// and the results of an out-of-place CPU call on a copy of grad, which the in-place call must
// reproduce.
struct PreluInPlaceCase {
    const std::vector<int64_t> shape = {4, 3, 50};
    TestTensor x{shape}, w{std::vector<int64_t>{3}}, grad{shape}, grad_weight{std::vector<int64_t>{3}};
    TestTensor reference_grad_input{shape}, reference_weight{std::vector<int64_t>{3}};

    PreluInPlaceCase() {
        fill_random(x, 5);
        fill_random(grad, 6, -2, 2);
        fill_random(w, 7, -1, 1);
        TestTensor grad_copy(shape);
        for (int64_t i = 0; i < grad.size(); ++i) grad_copy.at(i) = grad.at(i);
        EXPECT_EQ(nnf_prelu_backward(grad_copy.dl(), x.dl(), w.dl(), reference_grad_input.dl(), reference_weight.dl()),
                  NNF_OK)
            << nnf_last_error();
    }
};

}  // namespace nnf::test

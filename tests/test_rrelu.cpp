// rrelu: evaluation against leaky_relu's formula at (lower + upper) / 2; training slopes against
// the documented counter-based generator (tests/reference/rrelu_reference.h), so every ISA path
// (ctest runs this binary once per path), thread count and layout must draw the same slopes;
// their range and mean; backward in both modes; validation.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "reference/rrelu_reference.h"
#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

nnf_rrelu_params training_params(uint64_t seed) {
    nnf_rrelu_params p = nnf_rrelu_default_params();
    p.training = true;
    p.seed = seed;
    return p;
}

class RreluTest : public ::testing::Test {
protected:
    void SetUp() override { NNF_SKIP_UNLESS_ISA_AVAILABLE(); }

    // Runs training forward on x (row-major values drawn in [lo, hi)) and checks y and noise
    // against the reference generator element by element.
    void check_training(const std::vector<int64_t> &shape, const std::vector<int64_t> &x_strides,
                        const std::vector<int64_t> &out_strides, uint64_t seed) {
        TestTensor x(shape, x_strides), y(shape, out_strides), noise(shape, out_strides);
        fill_random(x, 3, -2, 1);
        const nnf_rrelu_params p = training_params(seed);
        ASSERT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), noise.dl(), &p), NNF_OK) << nnf_last_error();
        for (int64_t i = 0; i < x.size(); ++i) {
            const float xi = x.at(i);
            const float slope = xi > 0 ? 1.0f : rrelu_slope_ref(seed, static_cast<uint64_t>(i), p.lower, p.upper);
            ASSERT_EQ(noise.at(i), slope) << "element " << i << ", x = " << xi;
            ASSERT_EQ(y.at(i), xi * slope) << "element " << i;
        }
        EXPECT_TRUE(y.untouched_outside_view());
        EXPECT_TRUE(noise.untouched_outside_view());
    }
};

TEST_F(RreluTest, EvaluationIsLeakyReluAtTheMeanSlope) {
    TestTensor x({1000}), y({1000});
    fill_random(x, 1, -3, 3);
    x.at(0) = -0.0f;
    x.at(1) = std::numeric_limits<float>::quiet_NaN();
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), nullptr, nullptr), NNF_OK) << nnf_last_error();
    const float slope = static_cast<float>((0.125 + static_cast<double>(1.0f / 3.0f)) / 2);
    EXPECT_TRUE(std::signbit(y.at(0)) && y.at(0) == 0.0f);
    EXPECT_TRUE(std::isnan(y.at(1)));
    for (int64_t i = 2; i < 1000; ++i) ASSERT_EQ(y.at(i), x.at(i) > 0 ? x.at(i) : x.at(i) * slope) << i;

    TestTensor grad({1000}), grad_input({1000});
    fill_random(grad, 2, -1, 1);
    ASSERT_EQ(nnf_rrelu_backward(grad.dl(), x.dl(), nullptr, grad_input.dl(), nullptr), NNF_OK) << nnf_last_error();
    for (int64_t i = 2; i < 1000; ++i) {
        ASSERT_EQ(grad_input.at(i), x.at(i) > 0 ? grad.at(i) : grad.at(i) * slope) << i;
    }
}

TEST_F(RreluTest, TrainingSlopesAreTheDocumentedCounterBasedDraws) {
    check_training({4099}, {}, {}, 0);
    check_training({3, 1000}, {}, {}, 12345);
    check_training({2, 3, 5, 7}, {}, {}, 0xFFFFFFFFFFFFFFFFull);
}

TEST_F(RreluTest, SlopesAreRoundedFromDoubleNotFromAFloatMultiplyAdd) {
    // The slope is evaluated in double so that CUDA (whose PTX backend contracts float
    // multiply-adds into FMAs) draws the CPU's bits. Where the old float formula, product and
    // sum rounded separately, gives another float, every path must give the reference's: this
    // fails if a path goes back to that formula. (A fused float multiply-add rounds the same
    // exact value once; the double route can differ from it only by double rounding, about one
    // draw in 2^29, so it cannot be told apart here.)
    const int64_t n = 1 << 16;
    const float lower = -3.7f, upper = 5.1f;
    const uint64_t seed = 11;
    TestTensor x({n}), y({n}), noise({n});
    for (int64_t i = 0; i < n; ++i) x.at(i) = -1.0f;
    nnf_rrelu_params p = training_params(seed);
    p.lower = lower;
    p.upper = upper;
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), noise.dl(), &p), NNF_OK) << nnf_last_error();
    int64_t float_formula_differs = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float expected = rrelu_slope_ref(seed, static_cast<uint64_t>(i), lower, upper);
        ASSERT_EQ(noise.at(i), expected) << "element " << i;
        // The same draw as a float (exact: 24 bits); volatile keeps the product rounded.
        volatile float product = (upper - lower) * static_cast<float>(rrelu_uniform_ref(seed, static_cast<uint64_t>(i)));
        float_formula_differs += std::min(lower + product, upper) != expected;
    }
    // Without such elements this test could not tell the formulas apart.
    EXPECT_GT(float_formula_differs, 0);
}

TEST_F(RreluTest, TrainingSlopesFollowTheLogicalIndexInAnyLayout) {
    // Transposed input, permuted (channels-last-like) outputs, strided views: the slope of an
    // element depends on its row-major index only.
    check_training({37, 53}, {1, 37}, {}, 7);
    check_training({37, 53}, {}, {1, 37}, 7);
    check_training({3, 37, 53}, {37 * 53 * 2, 53 * 2, 2}, {1, 3 * 53, 3}, 7);
    check_training({4, 1, 6, 5}, {0, 99, 5, 1}, {}, 7);  // broadcast input dim
    // Many kernel calls, as for tensors over 2^31 elements.
    rt::set_max_span_per_call_for_testing(1000);
    check_training({5, 37, 53}, {53, 5 * 53, 1}, {}, 9);
    check_training({3, 5000}, {}, {10000, 2}, 9);
    rt::set_max_span_per_call_for_testing(0);
}

TEST_F(RreluTest, TrainingIsIdenticalForAnyThreadCount) {
    const int64_t n = 1 << 18;
    TestTensor x({n}), y1({n}), n1({n}), y2({n}), n2({n});
    fill_random(x, 4, -1, 1);
    const nnf_rrelu_params p = training_params(42);
    ASSERT_EQ(nnf_set_num_threads(1), NNF_OK);
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), y1.dl(), n1.dl(), &p), NNF_OK) << nnf_last_error();
    ASSERT_EQ(nnf_set_num_threads(4), NNF_OK);
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), y2.dl(), n2.dl(), &p), NNF_OK) << nnf_last_error();
    ASSERT_EQ(nnf_set_num_threads(0), NNF_OK);
    EXPECT_EQ(std::memcmp(y1.storage().data(), y2.storage().data(), n * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(n1.storage().data(), n2.storage().data(), n * sizeof(float)), 0);
}

TEST_F(RreluTest, SlopesLieInTheRangeWithTheUniformMeanAndDependOnTheSeed) {
    const int64_t n = 1 << 17;
    TestTensor x({n}), y({n}), noise_a({n}), noise_b({n});
    for (int64_t i = 0; i < n; ++i) x.at(i) = -1.0f;
    nnf_rrelu_params p = training_params(1);
    p.lower = 0.1f;
    p.upper = 0.3f;
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), noise_a.dl(), &p), NNF_OK) << nnf_last_error();
    p.seed = 2;
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), noise_b.dl(), &p), NNF_OK) << nnf_last_error();
    double sum = 0, sum_squares = 0;
    int64_t same = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float a = noise_a.at(i);
        ASSERT_GE(a, 0.1f);
        ASSERT_LE(a, 0.3f);
        sum += a;
        sum_squares += static_cast<double>(a) * a;
        same += a == noise_b.at(i);
    }
    const double mean = sum / n, variance = sum_squares / n - mean * mean;
    // U(0.1, 0.3): mean 0.2, variance 0.2^2 / 12; the mean of 2^17 draws is within 5 sigma =
    // 5 * 0.0577 / 362 = 8e-4 of it.
    EXPECT_NEAR(mean, 0.2, 8e-4);
    EXPECT_NEAR(variance, 0.04 / 12, 1e-4);
    // Two seeds agree on a 24-bit draw about n / 2^24 times.
    EXPECT_LT(same, 20);
}

TEST_F(RreluTest, TrainingKeepsPositiveNaNAndNegativeZeroLikeATen) {
    // ATen draws only where x <= 0: elsewhere (NaN included) noise is 1 and y is x.
    TestTensor x({4}), y({4}), noise({4});
    x.at(0) = std::numeric_limits<float>::quiet_NaN();
    x.at(1) = -0.0f;
    x.at(2) = 2.0f;
    x.at(3) = -std::numeric_limits<float>::infinity();
    const nnf_rrelu_params p = training_params(5);
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), noise.dl(), &p), NNF_OK) << nnf_last_error();
    EXPECT_TRUE(std::isnan(y.at(0)));
    EXPECT_EQ(noise.at(0), 1.0f);
    EXPECT_TRUE(y.at(1) == 0.0f && std::signbit(y.at(1)));
    EXPECT_GE(noise.at(1), 0.125f);
    EXPECT_EQ(y.at(2), 2.0f);
    EXPECT_EQ(noise.at(2), 1.0f);
    EXPECT_EQ(y.at(3), -std::numeric_limits<float>::infinity());
}

TEST_F(RreluTest, TrainingInPlaceOverX) {
    TestTensor x({2000}), reference_y({2000}), reference_noise({2000}), noise({2000});
    fill_random(x, 6, -1, 1);
    const nnf_rrelu_params p = training_params(8);
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), reference_y.dl(), reference_noise.dl(), &p), NNF_OK);
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), x.dl(), noise.dl(), &p), NNF_OK) << nnf_last_error();
    for (int64_t i = 0; i < 2000; ++i) {
        ASSERT_EQ(x.at(i), reference_y.at(i)) << i;
        ASSERT_EQ(noise.at(i), reference_noise.at(i)) << i;
    }
}

TEST_F(RreluTest, TrainingBackwardMultipliesByTheNoise) {
    // ATen's rrelu_with_noise_backward: grad * noise when training and upper - lower > 1e-6.
    TestTensor x({1000}), y({1000}), noise({1000}), grad({1000}), grad_input({1000});
    fill_random(x, 7, -1, 1);
    fill_random(grad, 8, -2, 2);
    nnf_rrelu_params p = training_params(3);
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), noise.dl(), &p), NNF_OK);
    ASSERT_EQ(nnf_rrelu_backward(grad.dl(), x.dl(), noise.dl(), grad_input.dl(), &p), NNF_OK) << nnf_last_error();
    for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(grad_input.at(i), grad.at(i) * noise.at(i)) << i;
    // A range of at most 1e-6 falls back to leaky_relu's gradient at the mean slope, ignoring noise.
    p.lower = 0.25f;
    p.upper = 0.25f;
    ASSERT_EQ(nnf_rrelu_backward(grad.dl(), x.dl(), nullptr, grad_input.dl(), &p), NNF_OK) << nnf_last_error();
    for (int64_t i = 0; i < 1000; ++i) {
        ASSERT_EQ(grad_input.at(i), x.at(i) > 0 ? grad.at(i) : grad.at(i) * 0.25f) << i;
    }
}

TEST(RreluValidation, BadArgumentsAreRejectedAndNothingIsWritten) {
    TestTensor x({8}), y({8}), noise({8}), grad_input({8});
    for (int64_t i = 0; i < 8; ++i) x.at(i) = -1.0f;
    auto untouched = [](TestTensor &t) {
        for (float v : t.storage()) {
            if (std::memcmp(&v, &TestTensor::kSentinel, sizeof v) != 0) return false;
        }
        return true;
    };
    nnf_rrelu_params p = training_params(1);
    p.lower = 0.5f;
    p.upper = 0.25f;
    EXPECT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), noise.dl(), &p), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_rrelu_forward: params->lower must be <= params->upper"),
              std::string::npos)
        << nnf_last_error();
    EXPECT_EQ(nnf_rrelu_backward(x.dl(), x.dl(), noise.dl(), grad_input.dl(), &p), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(untouched(y) && untouched(noise) && untouched(grad_input));

    p = training_params(1);
    EXPECT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), nullptr, &p), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("noise is NULL"), std::string::npos) << nnf_last_error();
    EXPECT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), x.dl(), &p), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("noise must not be the same memory as x"), std::string::npos)
        << nnf_last_error();
    TestTensor wrong({9});
    EXPECT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), wrong.dl(), &p), NNF_ERR_SHAPE_MISMATCH);
    EXPECT_EQ(nnf_rrelu_backward(x.dl(), x.dl(), nullptr, grad_input.dl(), &p), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("noise is NULL"), std::string::npos) << nnf_last_error();
    EXPECT_TRUE(untouched(y) && untouched(grad_input));
}

}  // namespace
}  // namespace nnf::test

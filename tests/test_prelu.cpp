// prelu against a double-precision reference: weight of 1 or C elements, channel dim 1 (none
// below 2 dims), layouts the channel dim must survive (channels-last, transposed, sliced),
// grad_weight's reduction across kernel-call slices, NaN and -0, and argument validation.
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "prelu_checks.h"
#include "reference/prelu_reference.h"
#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

class PreluTest : public ::testing::Test {
protected:
    void SetUp() override { NNF_SKIP_UNLESS_ISA_AVAILABLE(); }

    void check(const PreluCase &c) {
        const int64_t channels = channels_of(c.shape);
        const int64_t weights = c.shared_weight ? 1 : channels;
        TestTensor x(c.shape, c.x_strides), y(c.shape, c.out_strides), w({weights});
        TestTensor grad(c.shape), grad_input(c.shape, c.out_strides), grad_weight({weights});
        fill_random(x, 1);
        fill_random(grad, 2, -2, 2);
        fill_random(w, 3, -1, 1);
        ASSERT_EQ(nnf_prelu_forward(x.dl(), w.dl(), y.dl()), NNF_OK) << nnf_last_error();
        ASSERT_EQ(nnf_prelu_backward(grad.dl(), x.dl(), w.dl(), grad_input.dl(), grad_weight.dl()), NNF_OK)
            << nnf_last_error();
        expect_prelu_results(c, x, w, grad, y, grad_input, grad_weight);
    }
};

TEST_F(PreluTest, OneDimensionalAndContiguousTensors) {
    for (size_t i = 0; i < prelu_contiguous_cases().size(); ++i) {
        SCOPED_TRACE("case " + std::to_string(i));
        check(prelu_contiguous_cases()[i]);
    }
}

TEST_F(PreluTest, ChannelsLastTransposedSlicedAndBroadcastLayouts) {
    for (size_t i = 0; i < prelu_layout_cases().size(); ++i) {
        SCOPED_TRACE("case " + std::to_string(i));
        check(prelu_layout_cases()[i]);
    }
}

TEST_F(PreluTest, GradWeightAddsUpAcrossKernelCallSlices) {
    // Small enough to cut the inner and outer dims into many calls, large enough for one row of
    // the channel dim (which is never cut).
    rt::set_max_span_per_call_for_testing(1000);
    check({{5, 3, 37, 11}, {}, {}, false});
    check({{5, 3, 400}, {}, {}, true});
    rt::set_max_span_per_call_for_testing(0);
    // Without a span limit the CPU backward still runs in cache-sized calls (128K elements,
    // runtime/prelu_driver.cpp): 240K elements are two calls, cut along the outer dim.
    check({{40, 3, 2000}, {}, {}, false});
    check({{40, 3, 2000}, {}, {}, true});
}

TEST_F(PreluTest, BackwardInPlaceOverGradOutputKeepsGradWeight) {
    PreluInPlaceCase c;
    ASSERT_EQ(nnf_prelu_backward(c.grad.dl(), c.x.dl(), c.w.dl(), c.grad.dl(), c.grad_weight.dl()), NNF_OK)
        << nnf_last_error();
    for (int64_t i = 0; i < c.grad.size(); ++i) ASSERT_EQ(c.grad.at(i), c.reference_grad_input.at(i)) << i;
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(c.grad_weight.at(k), c.reference_weight.at(k)) << k;
}

TEST_F(PreluTest, BackwardMatchesFiniteDifferencesOfTheLoss) {
    // loss = sum(grad * prelu(x, w)); its derivatives by central differences in double.
    const std::vector<int64_t> shape = {3, 4, 5};
    TestTensor x(shape), w({4}), grad(shape), grad_input(shape), grad_weight({4});
    fill_random(x, 8);
    fill_random(grad, 9, -2, 2);
    fill_random(w, 10, -1, 1);
    for (int64_t i = 0; i < x.size(); ++i) {
        if (std::fabs(x.at(i)) < 1e-2) x.at(i) = 0.5f;  // away from the kink
    }
    ASSERT_EQ(nnf_prelu_backward(grad.dl(), x.dl(), w.dl(), grad_input.dl(), grad_weight.dl()), NNF_OK);
    auto loss = [&](const std::vector<double> &xs, const std::vector<double> &ws) {
        double sum = 0;
        for (int64_t i = 0; i < x.size(); ++i) {
            sum += grad.at(i) * prelu_ref(xs[static_cast<size_t>(i)], ws[static_cast<size_t>(channel_of(shape, i))]);
        }
        return sum;
    };
    std::vector<double> xs(static_cast<size_t>(x.size())), ws(4);
    for (int64_t i = 0; i < x.size(); ++i) xs[static_cast<size_t>(i)] = x.at(i);
    for (int64_t k = 0; k < 4; ++k) ws[static_cast<size_t>(k)] = w.at(k);
    const double h = 1e-6;
    for (size_t k = 0; k < ws.size(); ++k) {
        std::vector<double> up = ws, down = ws;
        up[k] += h;
        down[k] -= h;
        EXPECT_NEAR(grad_weight.at(static_cast<int64_t>(k)), (loss(xs, up) - loss(xs, down)) / (2 * h), 1e-5) << k;
    }
    for (size_t i = 0; i < xs.size(); ++i) {
        std::vector<double> up = xs, down = xs;
        up[i] += h;
        down[i] -= h;
        EXPECT_NEAR(grad_input.at(static_cast<int64_t>(i)), (loss(up, ws) - loss(down, ws)) / (2 * h), 1e-5) << i;
    }
}

TEST_F(PreluTest, NaNAndNegativeZeroFollowATen) {
    // ATen: x > 0 ? x : w x, so NaN and -0 take the weight branch; grad_input there is w grad
    // and the NaN reaches its channel's weight gradient only.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    TestTensor x({1, 2, 3}), w({2}), y({1, 2, 3}), grad({1, 2, 3}), grad_input({1, 2, 3}), grad_weight({2});
    const float values[] = {nan, -0.0f, 2.0f, -1.0f, 3.0f, -2.0f};
    for (int i = 0; i < 6; ++i) {
        x.at(i) = values[i];
        grad.at(i) = 1.0f;
    }
    w.at(0) = 0.25f;
    w.at(1) = 0.5f;
    ASSERT_EQ(nnf_prelu_forward(x.dl(), w.dl(), y.dl()), NNF_OK);
    EXPECT_TRUE(std::isnan(y.at(0)));
    EXPECT_TRUE(y.at(1) == 0.0f && std::signbit(y.at(1)));
    EXPECT_EQ(y.at(2), 2.0f);
    EXPECT_EQ(y.at(3), -0.5f);
    ASSERT_EQ(nnf_prelu_backward(grad.dl(), x.dl(), w.dl(), grad_input.dl(), grad_weight.dl()), NNF_OK);
    EXPECT_EQ(grad_input.at(0), 0.25f);
    EXPECT_EQ(grad_input.at(1), 0.25f);
    EXPECT_EQ(grad_input.at(2), 1.0f);
    EXPECT_TRUE(std::isnan(grad_weight.at(0)));
    EXPECT_EQ(grad_weight.at(1), -3.0f);  // -1 + 0 (x = 3 > 0) + -2
}

TEST_F(PreluTest, EmptyInputGivesZeroWeightGradient) {
    TestTensor x({0, 3}), w({3}), y({0, 3}), grad({0, 3}), grad_input({0, 3}), grad_weight({3});
    ASSERT_EQ(nnf_prelu_forward(x.dl(), w.dl(), y.dl()), NNF_OK) << nnf_last_error();
    ASSERT_EQ(nnf_prelu_backward(grad.dl(), x.dl(), w.dl(), grad_input.dl(), grad_weight.dl()), NNF_OK)
        << nnf_last_error();
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(grad_weight.at(k), 0.0f);
}

class PreluValidationTest : public ::testing::Test {
protected:
    void expect_error(nnf_status got, nnf_status expected, const std::string &message_part,
                      std::initializer_list<TestTensor *> outputs) {
        EXPECT_EQ(got, expected) << nnf_status_string(got) << ": " << nnf_last_error();
        EXPECT_NE(std::string(nnf_last_error()).find(message_part), std::string::npos)
            << "message: " << nnf_last_error() << "\nexpected to contain: " << message_part;
        for (TestTensor *t : outputs) {
            for (float v : t->storage()) {
                ASSERT_EQ(std::memcmp(&v, &TestTensor::kSentinel, sizeof v), 0) << "an output byte was written";
            }
        }
    }
    TestTensor x{{2, 4, 3}}, y{{2, 4, 3}}, grad{{2, 4, 3}}, grad_input{{2, 4, 3}};
};

TEST_F(PreluValidationTest, WeightSizeNeitherOneNorChannels) {
    TestTensor w({3}), grad_weight({3});
    expect_error(nnf_prelu_forward(x.dl(), w.dl(), y.dl()), NNF_ERR_INVALID_ARGUMENT,
                 "nnf_prelu_forward: weight has 3 elements; expected 1 or the 4 channels of x", {&y});
    expect_error(nnf_prelu_backward(grad.dl(), x.dl(), w.dl(), grad_input.dl(), grad_weight.dl()),
                 NNF_ERR_INVALID_ARGUMENT, "nnf_prelu_backward: weight has 3 elements", {&grad_input, &grad_weight});
    TestTensor matrix({2, 2});
    expect_error(nnf_prelu_forward(x.dl(), matrix.dl(), y.dl()), NNF_ERR_INVALID_ARGUMENT,
                 "weight has 2 dimensions; expected a scalar or a 1-D tensor", {&y});
}

TEST_F(PreluValidationTest, ShapesAndNulls) {
    TestTensor w({4}), grad_weight({1}), wrong({2, 4, 4});
    expect_error(nnf_prelu_forward(x.dl(), w.dl(), wrong.dl()), NNF_ERR_SHAPE_MISMATCH, "y has shape [2, 4, 4]",
                 {&wrong});
    expect_error(nnf_prelu_backward(grad.dl(), x.dl(), w.dl(), grad_input.dl(), grad_weight.dl()),
                 NNF_ERR_SHAPE_MISMATCH, "grad_weight has shape [1] but weight has shape [4]", {&grad_input, &grad_weight});
    expect_error(nnf_prelu_forward(x.dl(), nullptr, y.dl()), NNF_ERR_INVALID_ARGUMENT, "weight is NULL", {&y});
    // y overlapping the weight it reads.
    expect_error(nnf_prelu_forward(x.dl(), w.dl(), w.dl()), NNF_ERR_SHAPE_MISMATCH, "y has shape [4]", {});
}

}  // namespace
}  // namespace nnf::test

// prelu on a GPU: weight of 1 or C elements, the layouts the channel dim must survive,
// grad_weight in one kernel call (written on the device) and across several (summed on the
// host), in place, NaN, empty input; against double references. Skipped, with the reason,
// without a GPU; the device checks run everywhere.
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda/cuda_test_support.h"
#include "prelu_checks.h"
#include "reference/prelu_reference.h"
#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

// Forward and backward on the GPU, from copies of x, w and grad; y, grad_input and
// grad_weight come back to the host.
void run_prelu_on_gpu(TestTensor &x, TestTensor &w, TestTensor &grad, TestTensor &y, TestTensor &grad_input,
                      TestTensor &grad_weight) {
    OnDevice dx(x), dw(w), dy(y), dgrad(grad), dgrad_input(grad_input), dgrad_weight(grad_weight);
    ASSERT_EQ(nnf_prelu_forward(dx.dl(), dw.dl(), dy.dl()), NNF_OK) << nnf_last_error();
    ASSERT_EQ(nnf_prelu_backward(dgrad.dl(), dx.dl(), dw.dl(), dgrad_input.dl(), dgrad_weight.dl()), NNF_OK)
        << nnf_last_error();
    ASSERT_TRUE(gpu_finished());
    dy.download();
    dgrad_input.download();
    dgrad_weight.download();
}

class CudaPreluTest : public ::testing::Test {
protected:
    void SetUp() override { NNF_SKIP_WITHOUT_GPU(); }

    void check(const PreluCase &c) {
        const int64_t weights = c.shared_weight ? 1 : channels_of(c.shape);
        TestTensor x(c.shape, c.x_strides), y(c.shape, c.out_strides), w({weights});
        TestTensor grad(c.shape), grad_input(c.shape, c.out_strides), grad_weight({weights});
        fill_random(x, 1);
        fill_random(grad, 2, -2, 2);
        fill_random(w, 3, -1, 1);
        run_prelu_on_gpu(x, w, grad, y, grad_input, grad_weight);
        if (HasFatalFailure()) return;
        expect_prelu_results(c, x, w, grad, y, grad_input, grad_weight);
    }
};

TEST_F(CudaPreluTest, OneDimensionalAndContiguousTensors) {
    for (size_t i = 0; i < prelu_contiguous_cases().size(); ++i) {
        SCOPED_TRACE("case " + std::to_string(i));
        check(prelu_contiguous_cases()[i]);
    }
    check({{64, 3, 4096}, {}, {}, false});  // 262144 terms per channel's weight gradient
}

TEST_F(CudaPreluTest, ChannelsLastTransposedSlicedAndBroadcastLayouts) {
    for (size_t i = 0; i < prelu_layout_cases().size(); ++i) {
        SCOPED_TRACE("case " + std::to_string(i));
        check(prelu_layout_cases()[i]);
    }
    check({{2, 3, 4, 5}, {60, 1, 15, 3}, {}, true});
}

TEST_F(CudaPreluTest, GradWeightAddsUpAcrossKernelCallSlices) {
    rt::set_max_span_per_call_for_testing(1000);
    check({{5, 3, 37, 11}, {}, {}, false});
    check({{5, 3, 400}, {}, {}, true});
    rt::set_max_span_per_call_for_testing(0);
}

TEST_F(CudaPreluTest, BackwardInPlaceOverGradOutputKeepsGradWeight) {
    PreluInPlaceCase c;  // with the CPU's answer
    OnDevice dx(c.x), dw(c.w), dgrad(c.grad), dgrad_weight(c.grad_weight);
    ASSERT_EQ(nnf_prelu_backward(dgrad.dl(), dx.dl(), dw.dl(), dgrad.dl(), dgrad_weight.dl()), NNF_OK)
        << nnf_last_error();
    ASSERT_TRUE(gpu_finished());
    dgrad.download();
    dgrad_weight.download();
    for (int64_t i = 0; i < c.grad.size(); ++i) ASSERT_EQ(c.grad.at(i), c.reference_grad_input.at(i)) << i;
    for (int64_t k = 0; k < 3; ++k) EXPECT_NEAR(c.grad_weight.at(k), c.reference_weight.at(k), 1e-5) << k;
}

TEST_F(CudaPreluTest, NaNPropagatesAndNegativeZeroKeepsItsSign) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    TestTensor x({1, 2, 2}), w({2}), y({1, 2, 2}), grad({1, 2, 2}), grad_input({1, 2, 2}), grad_weight({2});
    const float xs[] = {nan, -0.0f, 2.0f, -3.0f};
    for (int i = 0; i < 4; ++i) {
        x.at(i) = xs[i];
        grad.at(i) = 1.0f;
    }
    w.at(0) = 0.25f;
    w.at(1) = 0.5f;
    run_prelu_on_gpu(x, w, grad, y, grad_input, grad_weight);
    if (HasFatalFailure()) return;
    EXPECT_TRUE(std::isnan(y.at(0)));
    EXPECT_TRUE(std::signbit(y.at(1)) && y.at(1) == 0.0f);
    EXPECT_EQ(y.at(2), 2.0f);
    EXPECT_EQ(y.at(3), -1.5f);
    EXPECT_EQ(grad_input.at(0), 0.25f);  // a NaN x takes the weight branch, as ATen's
    EXPECT_TRUE(std::isnan(grad_weight.at(0)));
    EXPECT_EQ(grad_weight.at(1), -3.0f);
}

TEST_F(CudaPreluTest, EmptyInputGivesZeroWeightGradient) {
    TestTensor x({0, 3}), grad({0, 3}), grad_input({0, 3}), w({3}), grad_weight({3});
    fill_random(w, 8);
    for (int64_t k = 0; k < 3; ++k) grad_weight.at(k) = 7.0f;
    DLTensor dx = claimed_on_gpu(x), dgrad = claimed_on_gpu(grad), dgrad_input = claimed_on_gpu(grad_input);
    OnDevice dw(w), dgrad_weight(grad_weight);
    ASSERT_EQ(nnf_prelu_backward(&dgrad, &dx, dw.dl(), &dgrad_input, dgrad_weight.dl()), NNF_OK) << nnf_last_error();
    ASSERT_TRUE(gpu_finished());
    dgrad_weight.download();
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(grad_weight.at(k), 0.0f) << k;
}

// Runs everywhere: device checks come before any device work.
TEST(CudaPreluValidation, MixedDevicesAreRejected) {
    TestTensor x({2, 3, 4}), w({3}), y({2, 3, 4}), grad_weight({3});
    DLTensor w_gpu = claimed_on_gpu(w);
    EXPECT_EQ(nnf_prelu_forward(x.dl(), &w_gpu, y.dl()), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_prelu_forward: weight is on CUDA device 0 but x is on the CPU"),
              std::string::npos)
        << nnf_last_error();
    DLTensor x_gpu = claimed_on_gpu(x), y_gpu = claimed_on_gpu(y), w_gpu1 = claimed_on_gpu(w, 1);
    EXPECT_EQ(nnf_prelu_backward(&x_gpu, &x_gpu, &w_gpu1, &y_gpu, grad_weight.dl()), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_NE(std::string(nnf_last_error()).find("CUDA device 1"), std::string::npos) << nnf_last_error();
    EXPECT_TRUE(y.untouched_outside_view());
    EXPECT_TRUE(grad_weight.untouched_outside_view());
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(grad_weight.at(k), TestTensor::kSentinel);
}

// Runs everywhere: CUDA tensors reach the CUDA kernels (not NNF_ERR_NOT_BUILT_FOR_TARGET); where
// no driver can be loaded the call fails with the reason and writes nothing.
TEST(CudaPreluValidation, CudaTensorsWithoutADriverFailWithTheReason) {
    if (CudaDriver::get().available()) GTEST_SKIP() << "a GPU is present: the numerical tests cover this path";
    TestTensor x({2, 3, 4}), w({3}), y({2, 3, 4}), grad_input({2, 3, 4}), grad_weight({3});
    fill_random(x, 9);
    DLTensor x_gpu = claimed_on_gpu(x), w_gpu = claimed_on_gpu(w), y_gpu = claimed_on_gpu(y),
             gi_gpu = claimed_on_gpu(grad_input), gw_gpu = claimed_on_gpu(grad_weight);
    EXPECT_EQ(nnf_prelu_forward(&x_gpu, &w_gpu, &y_gpu), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_prelu_forward"), std::string::npos) << nnf_last_error();
    EXPECT_EQ(nnf_prelu_backward(&x_gpu, &x_gpu, &w_gpu, &gi_gpu, &gw_gpu), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_prelu_backward"), std::string::npos) << nnf_last_error();
    EXPECT_TRUE(y.untouched_outside_view());
    for (int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.at(i), TestTensor::kSentinel);
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(grad_weight.at(k), TestTensor::kSentinel);
}

}  // namespace
}  // namespace nnf::test

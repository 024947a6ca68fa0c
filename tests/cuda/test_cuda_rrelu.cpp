// rrelu on a GPU: training slopes bit for bit equal to the CPU's (the point of computing them in
// double, compiler/ops/rrelu_ops.cpp) and to the documented generator, in any layout and across
// kernel-call slices, in place over x; evaluation (leaky_relu's CUDA kernels) and both backward
// modes. Skipped, with the reason, without a GPU; the device checks run everywhere.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda/cuda_test_support.h"
#include "reference/rrelu_reference.h"
#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

nnf_rrelu_params training_params(uint64_t seed, float lower = 0.125f, float upper = 1.0f / 3.0f) {
    nnf_rrelu_params p = nnf_rrelu_default_params();
    p.training = true;
    p.seed = seed;
    p.lower = lower;
    p.upper = upper;
    return p;
}

// Equal bits, or NaN on both: a GPU's arithmetic returns its canonical NaN (0x7fffffff) where
// the CPU passes the input's payload on, and PyTorch promises neither.
bool same_bits_or_both_nan(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

class CudaRreluTest : public ::testing::Test {
protected:
    void SetUp() override { NNF_SKIP_WITHOUT_GPU(); }

    // Training forward on the GPU and on the CPU: y and noise must have the same bits, and the
    // slopes must be the reference generator's.
    void check_training(const std::vector<int64_t> &shape, const std::vector<int64_t> &x_strides,
                        const std::vector<int64_t> &out_strides, const nnf_rrelu_params &p) {
        TestTensor x(shape, x_strides), y(shape, out_strides), noise(shape, out_strides);
        TestTensor cpu_y(shape), cpu_noise(shape);
        fill_random(x, 3, -2, 1);
        ASSERT_EQ(nnf_rrelu_forward(x.dl(), cpu_y.dl(), cpu_noise.dl(), &p), NNF_OK) << nnf_last_error();
        OnDevice dx(x), dy(y), dnoise(noise);
        ASSERT_EQ(nnf_rrelu_forward(dx.dl(), dy.dl(), dnoise.dl(), &p), NNF_OK) << nnf_last_error();
        ASSERT_TRUE(gpu_finished());
        dy.download();
        dnoise.download();
        for (int64_t i = 0; i < x.size(); ++i) {
            const float xi = x.at(i);
            ASSERT_TRUE(same_bits_or_both_nan(noise.at(i), cpu_noise.at(i)))
                << "element " << i << ": GPU slope " << noise.at(i) << ", CPU slope " << cpu_noise.at(i);
            ASSERT_TRUE(same_bits_or_both_nan(y.at(i), cpu_y.at(i))) << "element " << i;
            const float slope = xi > 0 ? 1.0f : rrelu_slope_ref(p.seed, static_cast<uint64_t>(i), p.lower, p.upper);
            ASSERT_EQ(noise.at(i), slope) << "element " << i;
        }
        EXPECT_TRUE(y.untouched_outside_view());
        EXPECT_TRUE(noise.untouched_outside_view());
    }
};

TEST_F(CudaRreluTest, TrainingSlopesEqualTheCpusBitForBit) {
    check_training({1}, {}, {}, training_params(0));
    check_training({4099}, {}, {}, training_params(0));
    check_training({3, 1000}, {}, {}, training_params(12345));
    check_training({2, 3, 5, 7}, {}, {}, training_params(0xFFFFFFFFFFFFFFFFull));
    check_training({1 << 20}, {}, {}, training_params(42));
    // Wide and odd ranges, where a float multiply-add fused or not would round differently.
    check_training({65537}, {}, {}, training_params(1, -3.7f, 5.1f));
    check_training({65537}, {}, {}, training_params(2, 1e-3f, 0.999f));
    check_training({65537}, {}, {}, training_params(3, -1e30f, 1e30f));
}

TEST_F(CudaRreluTest, TrainingSlopesFollowTheLogicalIndexInAnyLayout) {
    check_training({37, 53}, {1, 37}, {}, training_params(7));
    check_training({37, 53}, {}, {1, 37}, training_params(7));
    check_training({3, 37, 53}, {37 * 53 * 2, 53 * 2, 2}, {1, 3 * 53, 3}, training_params(7));
    check_training({4, 1, 6, 5}, {0, 99, 5, 1}, {}, training_params(7));
    rt::set_max_span_per_call_for_testing(1000);
    check_training({5, 37, 53}, {53, 5 * 53, 1}, {}, training_params(9));
    check_training({3, 5000}, {}, {10000, 2}, training_params(9));
    rt::set_max_span_per_call_for_testing(0);
}

TEST_F(CudaRreluTest, TrainingInPlaceOverXAndSpecialValues) {
    TestTensor x({2000}), cpu_y({2000}), cpu_noise({2000}), noise({2000});
    fill_random(x, 6, -1, 1);
    x.at(0) = std::numeric_limits<float>::quiet_NaN();
    x.at(1) = -0.0f;
    x.at(2) = -std::numeric_limits<float>::infinity();
    const nnf_rrelu_params p = training_params(8);
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), cpu_y.dl(), cpu_noise.dl(), &p), NNF_OK);
    OnDevice dx(x), dnoise(noise);
    ASSERT_EQ(nnf_rrelu_forward(dx.dl(), dx.dl(), dnoise.dl(), &p), NNF_OK) << nnf_last_error();
    ASSERT_TRUE(gpu_finished());
    dx.download();
    dnoise.download();
    for (int64_t i = 0; i < 2000; ++i) {
        ASSERT_TRUE(same_bits_or_both_nan(x.at(i), cpu_y.at(i))) << i;
        ASSERT_TRUE(same_bits_or_both_nan(noise.at(i), cpu_noise.at(i))) << i;
    }
    EXPECT_TRUE(std::isnan(x.at(0)));
    EXPECT_EQ(noise.at(0), 1.0f);
    EXPECT_TRUE(x.at(1) == 0.0f && std::signbit(x.at(1)));
    EXPECT_EQ(x.at(2), -std::numeric_limits<float>::infinity());
}

TEST_F(CudaRreluTest, EvaluationAndBothBackwardModesMatchTheCpu) {
    const int64_t n = 70001;
    TestTensor x({n}), grad({n}), y({n}), noise({n}), grad_input({n});
    TestTensor cpu_y({n}), cpu_noise({n}), cpu_grad_input({n});
    fill_random(x, 1, -3, 3);
    fill_random(grad, 2, -1, 1);
    x.at(0) = -0.0f;
    x.at(1) = std::numeric_limits<float>::quiet_NaN();
    OnDevice dx(x), dgrad(grad), dy(y), dnoise(noise), dgrad_input(grad_input);
    auto expect_same = [&](TestTensor &gpu, OnDevice &device, TestTensor &cpu, const char *what) {
        ASSERT_TRUE(gpu_finished());
        device.download();
        for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(same_bits_or_both_nan(gpu.at(i), cpu.at(i))) << what << ", element " << i;
    };
    // Evaluation: leaky_relu at (lower + upper) / 2, noise unused.
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), cpu_y.dl(), nullptr, nullptr), NNF_OK);
    ASSERT_EQ(nnf_rrelu_forward(dx.dl(), dy.dl(), nullptr, nullptr), NNF_OK) << nnf_last_error();
    expect_same(y, dy, cpu_y, "evaluation forward");
    ASSERT_EQ(nnf_rrelu_backward(grad.dl(), x.dl(), nullptr, cpu_grad_input.dl(), nullptr), NNF_OK);
    ASSERT_EQ(nnf_rrelu_backward(dgrad.dl(), dx.dl(), nullptr, dgrad_input.dl(), nullptr), NNF_OK) << nnf_last_error();
    expect_same(grad_input, dgrad_input, cpu_grad_input, "evaluation backward");
    // Training: grad_output * noise, with the noise of a GPU forward.
    const nnf_rrelu_params p = training_params(3);
    ASSERT_EQ(nnf_rrelu_forward(x.dl(), cpu_y.dl(), cpu_noise.dl(), &p), NNF_OK);
    ASSERT_EQ(nnf_rrelu_backward(grad.dl(), x.dl(), cpu_noise.dl(), cpu_grad_input.dl(), &p), NNF_OK);
    ASSERT_EQ(nnf_rrelu_forward(dx.dl(), dy.dl(), dnoise.dl(), &p), NNF_OK) << nnf_last_error();
    ASSERT_EQ(nnf_rrelu_backward(dgrad.dl(), dx.dl(), dnoise.dl(), dgrad_input.dl(), &p), NNF_OK) << nnf_last_error();
    expect_same(grad_input, dgrad_input, cpu_grad_input, "training backward");
}

TEST_F(CudaRreluTest, EmptyTensorsAreANoOp) {
    TestTensor x({0, 5}), y({0, 5}), noise({0, 5});
    DLTensor dx = claimed_on_gpu(x), dy = claimed_on_gpu(y), dnoise = claimed_on_gpu(noise);
    const nnf_rrelu_params p = training_params(1);
    EXPECT_EQ(nnf_rrelu_forward(&dx, &dy, &dnoise, &p), NNF_OK) << nnf_last_error();
    EXPECT_EQ(nnf_rrelu_backward(&dx, &dx, &dnoise, &dy, &p), NNF_OK) << nnf_last_error();
}

// Runs everywhere: device checks come before any device work.
TEST(CudaRreluValidation, MixedDevicesAreRejected) {
    TestTensor x({2, 3}), y({2, 3}), noise({2, 3}), grad_input({2, 3});
    const nnf_rrelu_params p = training_params(1);
    DLTensor noise_gpu = claimed_on_gpu(noise);
    EXPECT_EQ(nnf_rrelu_forward(x.dl(), y.dl(), &noise_gpu, &p), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_rrelu_forward: noise is on CUDA device 0 but x is on the CPU"),
              std::string::npos)
        << nnf_last_error();
    // The saved x of training backward is not read, but must be on the others' device too.
    DLTensor x_gpu = claimed_on_gpu(x), gi_gpu = claimed_on_gpu(grad_input);
    EXPECT_EQ(nnf_rrelu_backward(&x_gpu, x.dl(), &noise_gpu, &gi_gpu, &p), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_rrelu_backward: x is on the CPU"), std::string::npos)
        << nnf_last_error();
    EXPECT_TRUE(y.untouched_outside_view());
    for (int64_t i = 0; i < 6; ++i) {
        EXPECT_EQ(y.at(i), TestTensor::kSentinel);
        EXPECT_EQ(noise.at(i), TestTensor::kSentinel);
        EXPECT_EQ(grad_input.at(i), TestTensor::kSentinel);
    }
}

// Runs everywhere: CUDA tensors reach the CUDA kernels (not NNF_ERR_NOT_BUILT_FOR_TARGET); where
// no driver can be loaded every call fails with the reason and writes nothing.
TEST(CudaRreluValidation, CudaTensorsWithoutADriverFailWithTheReason) {
    if (CudaDriver::get().available()) GTEST_SKIP() << "a GPU is present: the numerical tests cover this path";
    TestTensor x({2, 3}), y({2, 3}), noise({2, 3}), grad_input({2, 3});
    fill_random(x, 9, -1, 1);
    DLTensor x_gpu = claimed_on_gpu(x), y_gpu = claimed_on_gpu(y), noise_gpu = claimed_on_gpu(noise),
             gi_gpu = claimed_on_gpu(grad_input);
    const nnf_rrelu_params p = training_params(1);
    EXPECT_EQ(nnf_rrelu_forward(&x_gpu, &y_gpu, &noise_gpu, &p), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_rrelu_forward"), std::string::npos) << nnf_last_error();
    EXPECT_EQ(nnf_rrelu_forward(&x_gpu, &y_gpu, nullptr, nullptr), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_rrelu_forward"), std::string::npos) << nnf_last_error();
    EXPECT_EQ(nnf_rrelu_backward(&x_gpu, &x_gpu, &noise_gpu, &gi_gpu, &p), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_rrelu_backward"), std::string::npos) << nnf_last_error();
    EXPECT_EQ(nnf_rrelu_backward(&x_gpu, &x_gpu, nullptr, &gi_gpu, nullptr), NNF_ERR_RUNTIME_FAILURE);
    for (int64_t i = 0; i < 6; ++i) {
        EXPECT_EQ(y.at(i), TestTensor::kSentinel);
        EXPECT_EQ(noise.at(i), TestTensor::kSentinel);
        EXPECT_EQ(grad_input.at(i), TestTensor::kSentinel);
    }
}

}  // namespace
}  // namespace nnf::test

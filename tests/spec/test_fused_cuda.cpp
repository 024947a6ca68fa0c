// The CUDA variants of the fused kernels (nnfc compile with a cuda target) against their CPU
// variants, which test_fused.cpp checks against double formulas: the same arguments run once on
// the CPU and once from device memory, and every output must agree. Without a GPU each test
// skips with the reason (test_fused.cpp checks the device rules, which need no GPU).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "cuda/cuda_driver.h"
#include "cuda/gpu_matches_cpu.h"
#include "spectest.h"
#include "test_tensor.h"

namespace {

using namespace nnf::test;

#define SKIP_WITHOUT_GPU()                                                                         \
    do {                                                                                           \
        if (!CudaDriver::get().available()) GTEST_SKIP() << "no GPU: " << CudaDriver::get().why_unavailable(); \
    } while (0)

TEST(FusedCuda, ElementwiseWithBroadcastOverShapes) {
    SKIP_WITHOUT_GPU();
    for (auto [n, c] : {std::pair<int64_t, int64_t>{1, 1}, {3, 1000}, {257, 96}, {2, 70000}}) {
        SCOPED_TRACE(testing::Message() << n << " x " << c);
        expect_gpu_matches_cpu(spectest_bias_gelu,
                               std::array<KernelArg, 3>{floats({n, c}, -6, 6, 1), floats({c}, -1, 1, 2), output({n, c})},
                               kRel, kAbs);
        expect_gpu_matches_cpu(spectest_bias_gelu_exact,
                               std::array<KernelArg, 3>{floats({n, c}, -6, 6, 3), floats({c}, -1, 1, 4), output({n, c})},
                               kRel, kAbs);
    }
    expect_gpu_matches_cpu(spectest_leaky, std::array<KernelArg, 2>{floats({100003}, -30, 30, 5), output({100003})}, kRel,
                           kAbs);
}

// Scalar parameters by value reach the CUDA variant through the launch's context.
TEST(FusedCuda, ScalarParametersByValue) {
    SKIP_WITHOUT_GPU();
    auto affine_gelu = [](DLTensor *x, DLTensor *grad_y, DLTensor *y, DLTensor *grad_x) {
        return spectest_affine_gelu(x, 1.5f, -0.25f, grad_y, y, grad_x);
    };
    expect_gpu_matches_cpu(affine_gelu,
                           std::array<KernelArg, 4>{floats({300, 70}, -3, 3, 40), floats({300, 70}, -1, 1, 41),
                                                    output({300, 70}), output({300, 70})},
                           kRel, kAbs);
}

TEST(FusedCuda, GradientsReducedOverTheBroadcastDim) {
    SKIP_WITHOUT_GPU();
    // grad bias sums over N: one block per column.
    expect_gpu_matches_cpu(spectest_bias_gelu_train,
                           std::array<KernelArg, 6>{floats({300, 50}, -4, 4, 6), floats({50}, -1, 1, 7),
                                                 floats({300, 50}, -1, 1, 8), output({300, 50}), output({300, 50}),
                                                 output({50})},
                           kRel, 1e-5);
}

TEST(FusedCuda, SoftmaxRowsAndScalarLossesWithGradients) {
    SKIP_WITHOUT_GPU();
    float temperature = 0.7f;
    KernelArg t{{}, {kDLFloat, 32, 1}, std::vector<unsigned char>(4)};
    std::memcpy(t.bytes.data(), &temperature, 4);
    expect_gpu_matches_cpu(spectest_temperature_softmax,
                           std::array<KernelArg, 3>{floats({64, 3000}, -20, 20, 9), t, output({64, 3000})}, kRel, kAbs);
    // A scalar loss: chunk partials, then one thread; the class indices are checked on a host copy.
    expect_gpu_matches_cpu(spectest_scaled_ce,
                           std::array<KernelArg, 4>{floats({128, 1000}, -10, 10, 10), class_indices({128}, 1000, 11),
                                                 output({}), output({128, 1000})},
                           kRel, kAbs);
    expect_gpu_matches_cpu(spectest_nll_of_log_softmax,
                           std::array<KernelArg, 4>{floats({33, 17}, -5, 5, 12), class_indices({33}, 17, 13), output({}),
                                                 output({33, 17})},
                           kRel, kAbs);
}

TEST(FusedCuda, ThreeDimsTwoOutputsAndLossesByName) {
    SKIP_WITHOUT_GPU();
    expect_gpu_matches_cpu(spectest_mixed,
                           std::array<KernelArg, 8>{floats({3, 40, 33}, -2, 2, 14), floats({33}, -1, 1, 15),
                                                 floats({40, 33}, -1, 1, 16), floats({3, 40, 33}, -1, 1, 30),
                                                 output({3, 40, 33}), output({}), output({3, 40, 33}), output({33})},
                           1e-4, 1e-5);
    expect_gpu_matches_cpu(spectest_regression,
                           std::array<KernelArg, 7>{floats({70000, 3}, -3, 3, 17), floats({70000, 3}, -3, 3, 18),
                                                 floats({3}, 0, 0.5f, 19), output({}), output({70000, 3}),
                                                 output({70000, 3}), output({3})},
                           1e-4, 1e-6);
    expect_gpu_matches_cpu(spectest_row_stats,
                           std::array<KernelArg, 9>{floats({20, 30}, -3, 3, 20), floats({20, 30}, -3, 3, 21),
                                                 floats({20}, -1, 1, 22), floats({30}, -1, 1, 23),
                                                 floats({20, 30}, -1, 1, 24), output({20}), output({30}),
                                                 output({20, 30}), output({20, 30})},
                           kRel, 1e-5);
    expect_gpu_matches_cpu(spectest_rrelu_train, std::array<KernelArg, 2>{floats({50, 77}, -3, 3, 25), output({50, 77})},
                           0, 0);
}

TEST(FusedCuda, ClassIndicesOnTheDeviceAreCheckedBeforeAnyWrite) {
    SKIP_WITHOUT_GPU();
    std::array<KernelArg, 4> args{floats({2, 3}, -1, 1, 26), class_indices({2}, 3, 27), output({}), output({2, 3})};
    const int64_t bad = 3;
    std::memcpy(args[1].bytes.data() + 8, &bad, 8);
    std::vector<std::unique_ptr<DeviceBuffer>> device;
    std::array<DLTensor, 4> views = upload_all(args, &device);
    EXPECT_EQ(call(spectest_scaled_ce, views), NNF_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STREQ(nnf_last_error(),
                 "spectest_scaled_ce: target[1] = 3 is not a class index of cross_entropy: expected 0 <= index < 3 (C) "
                 "or ignore_index = -100");
    for (size_t i = 2; i < 4; ++i) {
        std::vector<unsigned char> after(args[i].bytes.size());
        device[i]->download(after.data());
        EXPECT_EQ(after, args[i].bytes) << "output " << i << " was written";
    }
}

// Where no GPU is, CUDA tensors fail with the driver's reason before any device work.
TEST(FusedCuda, WithoutAGpuCudaTensorsFailWithTheReason) {
    if (CudaDriver::get().available()) GTEST_SKIP() << "a GPU is present";
    std::array<KernelArg, 3> args{floats({3, 4}, -1, 1, 28), floats({4}, -1, 1, 29), output({3, 4})};
    std::array<DLTensor, 3> views;
    for (size_t i = 0; i < 3; ++i) views[i] = args[i].view(args[i].bytes.data(), {kDLCUDA, 0});
    EXPECT_EQ(call(spectest_bias_gelu, views), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_EQ(std::string(nnf_last_error()).rfind("spectest_bias_gelu: ", 0), 0u) << nnf_last_error();
    for (float v : args[2].floats()) ASSERT_EQ(v, 42.0f);
}

}  // namespace

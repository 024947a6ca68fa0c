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
#include "spectest.h"
#include "test_tensor.h"

namespace {

using nnf::test::CudaDriver;
using nnf::test::DeviceBuffer;

#define SKIP_WITHOUT_GPU()                                                                         \
    do {                                                                                           \
        if (!CudaDriver::get().available()) GTEST_SKIP() << "no GPU: " << CudaDriver::get().why_unavailable(); \
    } while (0)

// One argument of a kernel: its shape, dtype and host bytes (inputs' values; outputs' initial
// contents, a sentinel).
struct Tensor {
    std::vector<int64_t> shape;
    DLDataType dtype;
    std::vector<unsigned char> bytes;

    int64_t count() const {
        int64_t n = 1;
        for (int64_t e : shape) n *= e;
        return n;
    }
    DLTensor view(void *data, DLDevice device) {
        DLTensor t{};
        t.data = data;
        t.device = device;
        t.ndim = static_cast<int>(shape.size());
        t.dtype = dtype;
        t.shape = shape.data();
        return t;
    }
    std::vector<float> floats() const {
        std::vector<float> v(bytes.size() / 4);
        std::memcpy(v.data(), bytes.data(), bytes.size());
        return v;
    }
};

Tensor floats(std::vector<int64_t> shape, float lo, float hi, unsigned seed) {
    Tensor t{std::move(shape), {kDLFloat, 32, 1}, {}};
    const std::vector<float> v = nnf::test::random_floats(t.count(), seed, lo, hi);
    t.bytes.resize(v.size() * 4);
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return t;
}
Tensor output(std::vector<int64_t> shape) {
    Tensor t = floats(std::move(shape), 0, 0, 0);
    std::vector<float> sentinel(static_cast<size_t>(t.count()), 42.0f);
    std::memcpy(t.bytes.data(), sentinel.data(), t.bytes.size());
    return t;
}
Tensor class_indices(std::vector<int64_t> shape, int64_t classes, unsigned seed) {
    Tensor t{std::move(shape), {kDLInt, 64, 1}, {}};
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int64_t> u(0, classes - 1);
    std::vector<int64_t> v(static_cast<size_t>(t.count()));
    for (int64_t &x : v) x = u(rng);
    t.bytes.resize(v.size() * 8);
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return t;
}

template<typename Kernel, size_t N>
nnf_status call(Kernel kernel, std::array<DLTensor, N> &views) {
    return std::apply([&](auto &...t) { return kernel(&t...); }, views);
}

// Runs `kernel` on the CPU and on the GPU with the same arguments; expects NNF_OK from both and
// every float argument equal within rel / abs afterwards (inputs are unchanged on both).
template<typename Kernel, size_t N>
void expect_gpu_matches_cpu(Kernel kernel, std::array<Tensor, N> args, double rel, double abs) {
    std::array<Tensor, N> cpu = args;
    std::array<DLTensor, N> cpu_views;
    for (size_t i = 0; i < N; ++i) cpu_views[i] = cpu[i].view(cpu[i].bytes.data(), {kDLCPU, 0});
    ASSERT_EQ(call(kernel, cpu_views), NNF_OK) << nnf_last_error();

    std::vector<std::unique_ptr<DeviceBuffer>> device;
    std::array<DLTensor, N> gpu_views;
    for (size_t i = 0; i < N; ++i) {
        device.push_back(std::make_unique<DeviceBuffer>(args[i].bytes.size()));
        device.back()->upload(args[i].bytes.data());
        gpu_views[i] = args[i].view(device.back()->data(), {kDLCUDA, 0});
    }
    ASSERT_EQ(call(kernel, gpu_views), NNF_OK) << nnf_last_error();
    ASSERT_EQ(CudaDriver::get().cuCtxSynchronize(), 0);
    for (size_t i = 0; i < N; ++i) {
        device[i]->download(args[i].bytes.data());
        if (args[i].dtype.code != kDLFloat) continue;
        const std::vector<float> on_gpu = args[i].floats(), on_cpu = cpu[i].floats();
        int reported = 0;
        for (size_t e = 0; e < on_gpu.size(); ++e) {
            const double g = on_gpu[e], c = on_cpu[e];
            const bool ok = (std::isnan(g) && std::isnan(c)) || std::fabs(g - c) <= abs + rel * std::fabs(c);
            if (!ok && reported++ < 5) ADD_FAILURE() << "argument " << i << "[" << e << "]: GPU " << g << ", CPU " << c;
        }
    }
}

// Tolerances: the GPU contracts multiply-adds the CPU code keeps apart and sums in another order.
constexpr double kRel = 2e-5, kAbs = 1e-6;

TEST(FusedCuda, ElementwiseWithBroadcastOverShapes) {
    SKIP_WITHOUT_GPU();
    for (auto [n, c] : {std::pair<int64_t, int64_t>{1, 1}, {3, 1000}, {257, 96}, {2, 70000}}) {
        SCOPED_TRACE(testing::Message() << n << " x " << c);
        expect_gpu_matches_cpu(spectest_bias_gelu,
                               std::array<Tensor, 3>{floats({n, c}, -6, 6, 1), floats({c}, -1, 1, 2), output({n, c})},
                               kRel, kAbs);
        expect_gpu_matches_cpu(spectest_bias_gelu_exact,
                               std::array<Tensor, 3>{floats({n, c}, -6, 6, 3), floats({c}, -1, 1, 4), output({n, c})},
                               kRel, kAbs);
    }
    expect_gpu_matches_cpu(spectest_leaky, std::array<Tensor, 2>{floats({100003}, -30, 30, 5), output({100003})}, kRel,
                           kAbs);
}

TEST(FusedCuda, GradientsReducedOverTheBroadcastDim) {
    SKIP_WITHOUT_GPU();
    // grad bias sums over N: one block per column.
    expect_gpu_matches_cpu(spectest_bias_gelu_train,
                           std::array<Tensor, 6>{floats({300, 50}, -4, 4, 6), floats({50}, -1, 1, 7),
                                                 floats({300, 50}, -1, 1, 8), output({300, 50}), output({300, 50}),
                                                 output({50})},
                           kRel, 1e-5);
}

TEST(FusedCuda, SoftmaxRowsAndScalarLossesWithGradients) {
    SKIP_WITHOUT_GPU();
    float temperature = 0.7f;
    Tensor t{{}, {kDLFloat, 32, 1}, std::vector<unsigned char>(4)};
    std::memcpy(t.bytes.data(), &temperature, 4);
    expect_gpu_matches_cpu(spectest_temperature_softmax,
                           std::array<Tensor, 3>{floats({64, 3000}, -20, 20, 9), t, output({64, 3000})}, kRel, kAbs);
    // A scalar loss: chunk partials, then one thread; the class indices are checked on a host copy.
    expect_gpu_matches_cpu(spectest_scaled_ce,
                           std::array<Tensor, 4>{floats({128, 1000}, -10, 10, 10), class_indices({128}, 1000, 11),
                                                 output({}), output({128, 1000})},
                           kRel, kAbs);
    expect_gpu_matches_cpu(spectest_nll_of_log_softmax,
                           std::array<Tensor, 4>{floats({33, 17}, -5, 5, 12), class_indices({33}, 17, 13), output({}),
                                                 output({33, 17})},
                           kRel, kAbs);
}

TEST(FusedCuda, ThreeDimsTwoOutputsAndLossesByName) {
    SKIP_WITHOUT_GPU();
    expect_gpu_matches_cpu(spectest_mixed,
                           std::array<Tensor, 8>{floats({3, 40, 33}, -2, 2, 14), floats({33}, -1, 1, 15),
                                                 floats({40, 33}, -1, 1, 16), floats({3, 40, 33}, -1, 1, 30),
                                                 output({3, 40, 33}), output({}), output({3, 40, 33}), output({33})},
                           1e-4, 1e-5);
    expect_gpu_matches_cpu(spectest_regression,
                           std::array<Tensor, 7>{floats({70000, 3}, -3, 3, 17), floats({70000, 3}, -3, 3, 18),
                                                 floats({3}, 0, 0.5f, 19), output({}), output({70000, 3}),
                                                 output({70000, 3}), output({3})},
                           1e-4, 1e-6);
    expect_gpu_matches_cpu(spectest_row_stats,
                           std::array<Tensor, 9>{floats({20, 30}, -3, 3, 20), floats({20, 30}, -3, 3, 21),
                                                 floats({20}, -1, 1, 22), floats({30}, -1, 1, 23),
                                                 floats({20, 30}, -1, 1, 24), output({20}), output({30}),
                                                 output({20, 30}), output({20, 30})},
                           kRel, 1e-5);
    expect_gpu_matches_cpu(spectest_rrelu_train, std::array<Tensor, 2>{floats({50, 77}, -3, 3, 25), output({50, 77})},
                           0, 0);
}

TEST(FusedCuda, ClassIndicesOnTheDeviceAreCheckedBeforeAnyWrite) {
    SKIP_WITHOUT_GPU();
    std::array<Tensor, 4> args{floats({2, 3}, -1, 1, 26), class_indices({2}, 3, 27), output({}), output({2, 3})};
    const int64_t bad = 3;
    std::memcpy(args[1].bytes.data() + 8, &bad, 8);
    std::vector<std::unique_ptr<DeviceBuffer>> device;
    std::array<DLTensor, 4> views;
    for (size_t i = 0; i < 4; ++i) {
        device.push_back(std::make_unique<DeviceBuffer>(args[i].bytes.size()));
        device.back()->upload(args[i].bytes.data());
        views[i] = args[i].view(device.back()->data(), {kDLCUDA, 0});
    }
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
    std::array<Tensor, 3> args{floats({3, 4}, -1, 1, 28), floats({4}, -1, 1, 29), output({3, 4})};
    std::array<DLTensor, 3> views;
    for (size_t i = 0; i < 3; ++i) views[i] = args[i].view(args[i].bytes.data(), {kDLCUDA, 0});
    EXPECT_EQ(call(spectest_bias_gelu, views), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_EQ(std::string(nnf_last_error()).rfind("spectest_bias_gelu: ", 0), 0u) << nnf_last_error();
    for (float v : args[2].floats()) ASSERT_EQ(v, 42.0f);
}

}  // namespace

// Runs a C ABI call once on host tensors and once on copies in device memory, and compares
// every float argument afterwards: for CUDA kernels whose CPU twins the CPU suites check against
// double formulas. Used by the fused-kernel (spec) and the standard library's GPU suites.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "cuda/cuda_driver.h"
#include "nnfuse/nnfuse.h"
#include "test_tensor.h"

namespace nnf::test {

// One argument of a kernel: its shape, dtype and host bytes (inputs' values; outputs' initial
// contents, a sentinel).
struct KernelArg {
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

inline KernelArg floats(std::vector<int64_t> shape, float lo, float hi, unsigned seed) {
    KernelArg t{std::move(shape), {kDLFloat, 32, 1}, {}};
    const std::vector<float> v = nnf::test::random_floats(t.count(), seed, lo, hi);
    t.bytes.resize(v.size() * 4);
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return t;
}
inline KernelArg output(std::vector<int64_t> shape) {
    KernelArg t = floats(std::move(shape), 0, 0, 0);
    std::vector<float> sentinel(static_cast<size_t>(t.count()), 42.0f);
    std::memcpy(t.bytes.data(), sentinel.data(), t.bytes.size());
    return t;
}
inline KernelArg class_indices(std::vector<int64_t> shape, int64_t classes, unsigned seed) {
    KernelArg t{std::move(shape), {kDLInt, 64, 1}, {}};
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

// Copies each argument's bytes to a new device buffer (kept in `device`) and returns kDLCUDA
// views of them.
template<size_t N>
std::array<DLTensor, N> upload_all(std::array<KernelArg, N> &args, std::vector<std::unique_ptr<DeviceBuffer>> *device) {
    std::array<DLTensor, N> views;
    for (size_t i = 0; i < N; ++i) {
        device->push_back(std::make_unique<DeviceBuffer>(args[i].bytes.size()));
        device->back()->upload(args[i].bytes.data());
        views[i] = args[i].view(device->back()->data(), {kDLCUDA, 0});
    }
    return views;
}

// Runs `kernel` on the CPU and on the GPU with the same arguments; expects NNF_OK from both and
// every float argument equal within rel / abs afterwards (inputs are unchanged on both).
template<typename Kernel, size_t N>
void expect_gpu_matches_cpu(Kernel kernel, std::array<KernelArg, N> args, double rel, double abs) {
    std::array<KernelArg, N> cpu = args;
    std::array<DLTensor, N> cpu_views;
    for (size_t i = 0; i < N; ++i) cpu_views[i] = cpu[i].view(cpu[i].bytes.data(), {kDLCPU, 0});
    ASSERT_EQ(call(kernel, cpu_views), NNF_OK) << nnf_last_error();

    std::vector<std::unique_ptr<DeviceBuffer>> device;
    std::array<DLTensor, N> gpu_views = upload_all(args, &device);
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

}  // namespace nnf::test

// Owning float32 tensors with DLTensor views, for tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nnfuse/nnfuse.h"

namespace nnf::test {

// A view of `shape` with element strides `strides` into its own storage (sized to fit, with
// every element outside the view set to a sentinel so stray writes are caught).
class TestTensor {
public:
    static constexpr float kSentinel = -12345.678f;

    explicit TestTensor(std::vector<int64_t> shape, std::vector<int64_t> strides = {}, int64_t offset = 0)
        : shape_(std::move(shape)), strides_(std::move(strides)) {
        if (strides_.empty()) {
            strides_.resize(shape_.size());
            int64_t s = 1;
            for (size_t d = shape_.size(); d-- > 0;) {
                strides_[d] = s;
                s *= shape_[d];
            }
            contiguous_ = true;
        }
        int64_t extent = 1;
        for (size_t d = 0; d < shape_.size(); ++d) {
            if (shape_[d] == 0) extent = 0;
        }
        if (extent) {
            for (size_t d = 0; d < shape_.size(); ++d) extent += (shape_[d] - 1) * strides_[d];
        }
        storage_.assign(static_cast<size_t>(offset + extent), kSentinel);
        tensor_.data = storage_.empty() ? nullptr : storage_.data();
        tensor_.device = {kDLCPU, 0};
        tensor_.ndim = static_cast<int32_t>(shape_.size());
        tensor_.dtype = {kDLFloat, 32, 1};
        tensor_.shape = shape_.data();
        tensor_.strides = contiguous_ ? nullptr : strides_.data();
        tensor_.byte_offset = static_cast<uint64_t>(offset) * sizeof(float);
        offset_ = offset;
    }
    TestTensor(const TestTensor &) = delete;
    TestTensor &operator=(const TestTensor &) = delete;

    DLTensor *dl() { return &tensor_; }
    int64_t size() const {
        return std::accumulate(shape_.begin(), shape_.end(), int64_t{1}, std::multiplies<int64_t>());
    }
    // Element i of the view in row-major order.
    float &at(int64_t i) { return storage_[static_cast<size_t>(offset_ + storage_index(i))]; }
    const std::vector<float> &storage() const { return storage_; }
    std::vector<float> &storage() { return storage_; }

    // Storage index of the i-th element in row-major order.
    int64_t storage_index(int64_t i) const {
        int64_t index = 0;
        for (size_t d = shape_.size(); d-- > 0;) {
            index += (i % shape_[d]) * strides_[d];
            i /= shape_[d];
        }
        return index;
    }

    // Every storage element outside the view still holds the sentinel.
    bool untouched_outside_view() const {
        std::vector<bool> in_view(storage_.size(), false);
        for (int64_t i = 0; i < size(); ++i) in_view[static_cast<size_t>(offset_ + storage_index(i))] = true;
        for (size_t k = 0; k < storage_.size(); ++k) {
            if (!in_view[k] && std::memcmp(&storage_[k], &kSentinel, sizeof(float)) != 0) return false;
        }
        return true;
    }

private:
    std::vector<int64_t> shape_, strides_;
    std::vector<float> storage_;
    DLTensor tensor_{};
    int64_t offset_ = 0;
    bool contiguous_ = false;
};

// Skips the current test, with the reason, when NNF_MAX_ISA asks for a path this CPU lacks.
inline void skip_unless_requested_isa_available() {
    const char *requested = std::getenv("NNF_MAX_ISA");
    if (!requested) return;
    const char *active = nnf_isa_name(nnf_get_isa());
    if (std::strcmp(requested, active) != 0) {
        GTEST_SKIP() << "NNF_MAX_ISA=" << requested << " but this CPU supports at most " << active;
    }
}

#define NNF_SKIP_UNLESS_ISA_AVAILABLE()                                   \
    do {                                                                  \
        ::nnf::test::skip_unless_requested_isa_available();               \
        if (::testing::Test::IsSkipped()) return;                         \
    } while (0)

// Uniform values in [lo, hi) from a fixed seed, rounded to float.
inline void fill_random(TestTensor &t, unsigned seed, double lo = -3, double hi = 3) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    for (int64_t i = 0; i < t.size(); ++i) t.at(i) = static_cast<float>(dist(rng));
}

// n uniform values in [lo, hi) from a fixed seed, rounded to float.
inline std::vector<float> random_floats(int64_t n, unsigned seed, double lo, double hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (float &x : v) x = static_cast<float>(dist(rng));
    return v;
}

// |got - ref| <= atol + rtol |ref|, NaN only where the reference is NaN.
inline ::testing::AssertionResult close(double got, double ref, double rtol, double atol) {
    if (std::isnan(ref) || std::isnan(got)) {
        if (std::isnan(ref) && std::isnan(got)) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref;
    }
    if (got == ref || std::fabs(got - ref) <= atol + rtol * std::fabs(ref)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << got << ", expected " << ref << " (error " << std::fabs(got - ref)
                                         << ")";
}

}  // namespace nnf::test

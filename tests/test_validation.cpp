// Every validation error returns its own status, names the function and argument, and writes
// no output byte (outputs are filled with a sentinel and compared).
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "HalideRuntime.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

// Runs `call` against outputs prefilled with the sentinel and checks the status, the message
// and that the output storage is unchanged.
class ValidationTest : public ::testing::Test {
protected:
    void expect_error(nnf_status got, nnf_status expected, const std::string &message_part, TestTensor &output) {
        EXPECT_EQ(got, expected) << nnf_status_string(got) << ": " << nnf_last_error();
        EXPECT_NE(std::string(nnf_last_error()).find(message_part), std::string::npos)
            << "message: " << nnf_last_error() << "\nexpected to contain: " << message_part;
        for (float v : output.storage()) {
            ASSERT_EQ(std::memcmp(&v, &TestTensor::kSentinel, sizeof v), 0) << "an output byte was written";
        }
    }
    TestTensor x{{4, 5}}, y{{4, 5}};
    void SetUp() override {
        for (int64_t i = 0; i < x.size(); ++i) x.at(i) = static_cast<float>(i) - 7.0f;
    }
};

TEST_F(ValidationTest, NullTensors) {
    expect_error(nnf_relu_forward(nullptr, y.dl()), NNF_ERR_INVALID_ARGUMENT, "nnf_relu_forward: x is NULL", y);
    EXPECT_EQ(nnf_relu_forward(x.dl(), nullptr), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("y is NULL"), std::string::npos);
    expect_error(nnf_sigmoid_backward(x.dl(), nullptr, y.dl()), NNF_ERR_INVALID_ARGUMENT,
                 "nnf_sigmoid_backward: y is NULL", y);
}

TEST_F(ValidationTest, UnsupportedDtype) {
    x.dl()->dtype = {kDLFloat, 64, 1};
    expect_error(nnf_gelu_forward(x.dl(), y.dl(), nullptr), NNF_ERR_UNSUPPORTED_DTYPE, "x has dtype", y);
    x.dl()->dtype = {kDLFloat, 32, 4};
    expect_error(nnf_gelu_forward(x.dl(), y.dl(), nullptr), NNF_ERR_UNSUPPORTED_DTYPE, "lanes 4", y);
    x.dl()->dtype = {kDLInt, 32, 1};
    expect_error(nnf_relu_forward(x.dl(), y.dl()), NNF_ERR_UNSUPPORTED_DTYPE, "expected float32", y);
}

TEST_F(ValidationTest, UnsupportedAndMixedDevices) {
    x.dl()->device = {kDLVulkan, 0};
    expect_error(nnf_relu_forward(x.dl(), y.dl()), NNF_ERR_UNSUPPORTED_DEVICE, "x is on device type 7", y);
    x.dl()->device = {kDLCUDA, 0};
    expect_error(nnf_relu_forward(x.dl(), y.dl()), NNF_ERR_UNSUPPORTED_DEVICE,
                 "y is on the CPU but x is on CUDA device 0", y);
    // Nothing allocated on a device, or no CUDA at all: nothing to release.
    EXPECT_EQ(nnf_cuda_empty_cache(), NNF_OK) << nnf_last_error();
    if (!nnf_has_cuda()) {
        // (With CUDA kernels this call would run on the GPU; tests/cuda covers that.)
        DLTensor y_on_gpu = *y.dl();
        y_on_gpu.device = {kDLCUDA, 0};
        expect_error(nnf_relu_forward(x.dl(), &y_on_gpu), NNF_ERR_NOT_BUILT_FOR_TARGET, "has no CUDA kernels", y);
    }
}

TEST_F(ValidationTest, ShapeMismatch) {
    TestTensor wrong({5, 4});
    expect_error(nnf_relu_forward(x.dl(), wrong.dl()), NNF_ERR_SHAPE_MISMATCH, "y has shape [5, 4] but x has shape [4, 5]",
                 wrong);
    TestTensor rank({20});
    expect_error(nnf_relu_forward(x.dl(), rank.dl()), NNF_ERR_SHAPE_MISMATCH, "y has shape [20]", rank);
    TestTensor grad({4, 6});
    expect_error(nnf_gelu_backward(grad.dl(), x.dl(), y.dl(), nullptr), NNF_ERR_SHAPE_MISMATCH,
                 "x has shape [4, 5] but grad_output has shape [4, 6]", y);
}

TEST_F(ValidationTest, BadRankShapeAndData) {
    x.dl()->ndim = NNF_MAX_DIMS + 1;
    expect_error(nnf_relu_forward(x.dl(), y.dl()), NNF_ERR_INVALID_ARGUMENT, "x has 17 dimensions", y);
    x.dl()->ndim = 2;
    int64_t negative[] = {4, -5};
    int64_t *shape = x.dl()->shape;
    x.dl()->shape = negative;
    expect_error(nnf_relu_forward(x.dl(), y.dl()), NNF_ERR_INVALID_ARGUMENT, "x has negative extent -5 in dim 1", y);
    x.dl()->shape = nullptr;
    expect_error(nnf_relu_forward(x.dl(), y.dl()), NNF_ERR_INVALID_ARGUMENT, "x has NULL shape", y);
    x.dl()->shape = shape;
    void *data = x.dl()->data;
    x.dl()->data = nullptr;
    expect_error(nnf_relu_forward(x.dl(), y.dl()), NNF_ERR_INVALID_ARGUMENT, "x has NULL data", y);
    x.dl()->data = data;
    x.dl()->byte_offset = 2;
    expect_error(nnf_relu_forward(x.dl(), y.dl()), NNF_ERR_INVALID_ARGUMENT, "not 4-byte aligned", y);
}

TEST_F(ValidationTest, PartialOverlapIsRejectedExactInPlaceIsNot) {
    TestTensor buffer({21});
    // A view of `buffer` shifted by one element: overlaps x's view but is not the same view.
    DLTensor in = *buffer.dl(), out = *buffer.dl();
    int64_t shape[] = {4, 5};
    in.ndim = out.ndim = 2;
    in.shape = out.shape = shape;
    out.byte_offset = 4;
    const std::vector<float> before = buffer.storage();
    EXPECT_EQ(nnf_sigmoid_forward(&in, &out), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("y overlaps x without being the same view"), std::string::npos)
        << nnf_last_error();
    EXPECT_EQ(std::memcmp(before.data(), buffer.storage().data(), before.size() * 4), 0);
    out.byte_offset = 0;
    EXPECT_EQ(nnf_sigmoid_forward(&in, &out), NNF_OK) << nnf_last_error();
}

TEST_F(ValidationTest, OutputWhoseElementsShareAnAddress) {
    TestTensor broadcast({4, 5}, {0, 1});
    expect_error(nnf_relu_forward(x.dl(), broadcast.dl()), NNF_ERR_INVALID_ARGUMENT,
                 "y has stride 0 in dim 0, so two of its elements share an address", broadcast);
}

TEST_F(ValidationTest, InvalidEnumParameter) {
    nnf_gelu_params params = nnf_gelu_default_params();
    params.approximate = static_cast<nnf_gelu_approximate>(7);
    expect_error(nnf_gelu_forward(x.dl(), y.dl(), &params), NNF_ERR_INVALID_ARGUMENT,
                 "nnf_gelu_forward: params->approximate = 7 is not a nnf_gelu_approximate value", y);
}

TEST(Validation, EmptyTensorsSucceedAndTouchNothing) {
    int64_t shape[] = {3, 0, 2};
    DLTensor x{}, y{};
    x.device = y.device = {kDLCPU, 0};
    x.dtype = y.dtype = {kDLFloat, 32, 1};
    x.ndim = y.ndim = 3;
    x.shape = y.shape = shape;  // data NULL: nothing may be read or written
    EXPECT_EQ(nnf_gelu_forward(&x, &y, nullptr), NNF_OK) << nnf_last_error();
    EXPECT_EQ(nnf_sigmoid_backward(&x, &x, &y), NNF_OK) << nnf_last_error();
    // Still validated: a dtype error on an empty tensor is an error.
    x.dtype = {kDLFloat, 16, 1};
    EXPECT_EQ(nnf_relu_forward(&x, &y), NNF_ERR_UNSUPPORTED_DTYPE);
}

TEST(Validation, ScalarTensorsHaveOneElement) {
    float in = -2.0f, out = 0.0f;
    DLTensor x{}, y{};
    x.device = y.device = {kDLCPU, 0};
    x.dtype = y.dtype = {kDLFloat, 32, 1};
    x.data = &in;
    y.data = &out;
    ASSERT_EQ(nnf_relu_forward(&x, &y), NNF_OK) << nnf_last_error();
    EXPECT_EQ(out, 0.0f);
}

TEST(Library, StatusStringsAreDistinctAndNamed) {
    std::set<std::string> seen;
    for (int s = NNF_OK; s <= NNF_ERR_RUNTIME_FAILURE; ++s) {
        const std::string name = nnf_status_string(static_cast<nnf_status>(s));
        EXPECT_EQ(name.rfind("NNF_", 0), 0u) << name;
        EXPECT_TRUE(seen.insert(name).second) << name;
    }
    EXPECT_STREQ(nnf_status_string(static_cast<nnf_status>(99)), "NNF_ERR_UNKNOWN_STATUS");
}

TEST(Library, VersionMatchesTheHeader) {
    EXPECT_EQ(nnf_version(), NNF_VERSION_MAJOR * 10000 + NNF_VERSION_MINOR * 100 + NNF_VERSION_PATCH);
    EXPECT_STREQ(nnf_version_string(), NNF_VERSION_STRING);
}

TEST(Library, ThreadCount) {
    EXPECT_EQ(nnf_set_num_threads(-1), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("num_threads = -1"), std::string::npos);
    ASSERT_EQ(nnf_set_num_threads(3), NNF_OK);
    EXPECT_EQ(nnf_get_num_threads(), 3);
    ASSERT_EQ(nnf_set_num_threads(0), NNF_OK);
    EXPECT_GE(nnf_get_num_threads(), 1);
}

// The threads that run a parallel loop, counted by id: each of 64 tasks sleeps 200 us, so every
// worker the pool lets work gets some.
int threads_used() {
    static std::mutex mutex;
    static std::set<std::thread::id> ids;
    ids.clear();
    auto task = [](void *, int, uint8_t *) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            ids.insert(std::this_thread::get_id());
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        return 0;
    };
    for (int round = 0; round < 5; ++round) halide_do_par_for(nullptr, task, 0, 64, nullptr);
    return static_cast<int>(ids.size());
}

// A smaller count after a larger one is honoured (Halide's pool alone kept all its workers).
TEST(Library, ThreadCountGoesDownAsWellAsUp) {
    ASSERT_EQ(nnf_set_num_threads(2), NNF_OK);
    EXPECT_EQ(threads_used(), 2);
    ASSERT_EQ(nnf_set_num_threads(1), NNF_OK);
    EXPECT_EQ(threads_used(), 1);
    ASSERT_EQ(nnf_set_num_threads(3), NNF_OK);
    EXPECT_EQ(threads_used(), 3);
    ASSERT_EQ(nnf_set_num_threads(0), NNF_OK);
}

TEST(Library, IsaNames) {
    EXPECT_STREQ(nnf_isa_name(NNF_ISA_AVX512), "avx512");
    EXPECT_STREQ(nnf_isa_name(NNF_ISA_AVX2), "avx2");
    EXPECT_STREQ(nnf_isa_name(NNF_ISA_BASELINE), "baseline");
    EXPECT_EQ(nnf_set_max_isa(static_cast<nnf_isa>(42)), NNF_ERR_INVALID_ARGUMENT);
}

TEST(Library, ErrorsAreThreadLocal) {
    EXPECT_EQ(nnf_relu_forward(nullptr, nullptr), NNF_ERR_INVALID_ARGUMENT);
    std::string other;
    std::thread([&] { other = nnf_last_error(); }).join();
    EXPECT_EQ(other, "");
    EXPECT_NE(std::string(nnf_last_error()), "");
}

}  // namespace
}  // namespace nnf::test

// The CUDA kernels: every pointwise op on a GPU, against the same double references as the CPU
// suite, with device pointers wrapped in place and the caller's stream. Skipped, with the
// reason, where no GPU is present; the device validation runs everywhere.
#include <cstring>

#include "cuda/cuda_test_support.h"
#include "pointwise_cases.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

class CudaPointwiseTest : public ::testing::TestWithParam<OpCase> {
protected:
    void SetUp() override {
        NNF_SKIP_WITHOUT_GPU();
        ASSERT_NE(GetParam().reference, nullptr) << GetParam().label;
    }
    const PointwiseReference &ref() const { return *GetParam().reference; }
    double forward_ref(double x) const { return ref().forward(x, GetParam().params); }

    void check_forward(TestTensor &x, TestTensor &y, const std::vector<float> &values, bool in_place = false) {
        for (int64_t i = 0; i < x.size(); ++i) x.at(i) = values[static_cast<size_t>(i)];
        OnDevice dx(x), dy(y);
        const DLTensor *in[] = {dx.dl()};
        DLTensor *out[] = {in_place ? dx.dl() : dy.dl()};
        ASSERT_EQ(GetParam().info->forward(in, out, GetParam().params.data()), NNF_OK) << nnf_last_error();
        ASSERT_EQ(CudaDriver::get().cuCtxSynchronize(), 0);
        TestTensor &result = in_place ? x : y;
        (in_place ? dx : dy).download();
        for (int64_t i = 0; i < result.size(); ++i) {
            ASSERT_TRUE(close_to_reference(result.at(i), forward_ref(values[static_cast<size_t>(i)]), ref()))
                << GetParam().label << " on the GPU at element " << i << ", x = " << values[static_cast<size_t>(i)];
        }
        EXPECT_TRUE(result.untouched_outside_view());
    }
};

TEST_P(CudaPointwiseTest, ForwardMatchesReference) {
    for (int64_t n : {1, 7, 17, 1000, 65537, 1 << 20}) {
        SCOPED_TRACE("n = " + std::to_string(n));
        TestTensor x({n}), y({n});
        check_forward(x, y, random_floats(n, static_cast<unsigned>(n), ref().lo, ref().hi));
    }
}

TEST_P(CudaPointwiseTest, ForwardOnStridedViewsAndInPlace) {
    const std::vector<float> values = random_floats(3 * 37 * 53, 5, ref().lo, ref().hi);
    {
        TestTensor x({37, 53}, {1, 37}), y({37, 53}, {60, 1}, 5);
        check_forward(x, y, values);
    }
    {
        TestTensor x({3, 37, 53}, {37 * 53 * 2, 53 * 2, 2}, 1), y({3, 37, 53}, {1, 3 * 53, 3});
        check_forward(x, y, values);
    }
    TestTensor x({5000}), unused({1});
    check_forward(x, unused, values, /*in_place=*/true);
}

TEST_P(CudaPointwiseTest, BackwardMatchesFiniteDifferences) {
    const OpCase &c = GetParam();
    const int64_t n = 4099;
    const std::vector<float> xs = points_away_from_kinks(n, ref(), 17);
    const std::vector<float> grads = random_floats(n, 19, -2.0, 2.0);
    TestTensor grad({n}), saved({n}), grad_input({n});
    std::vector<double> at(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const size_t k = static_cast<size_t>(i);
        grad.at(i) = grads[k];
        saved.at(i) = c.info->backward_takes_output ? static_cast<float>(forward_ref(xs[k])) : xs[k];
        at[k] = c.info->backward_takes_output ? ref().inverse(saved.at(i), c.params) : xs[k];
    }
    OnDevice dgrad(grad), dsaved(saved), dgrad_input(grad_input);
    const DLTensor *in[] = {dgrad.dl(), dsaved.dl()};
    DLTensor *out[] = {dgrad_input.dl()};
    ASSERT_EQ(c.info->backward(in, out, c.params.data()), NNF_OK) << nnf_last_error();
    ASSERT_EQ(CudaDriver::get().cuCtxSynchronize(), 0);
    dgrad_input.download();
    const auto f = [&](double x) { return forward_ref(x); };
    for (int64_t i = 0; i < n; ++i) {
        const size_t k = static_cast<size_t>(i);
        if (!std::isfinite(at[k])) continue;
        const double expected = grads[k] * central_difference(f, at[k]);
        ASSERT_NEAR(grad_input.at(i), expected, 1e-5 * std::fabs(grads[k]) + 4e-6 * std::fabs(expected))
            << c.label << " backward on the GPU at x = " << at[k];
    }
}

INSTANTIATE_TEST_SUITE_P(Registry, CudaPointwiseTest, ::testing::ValuesIn(pointwise_cases()),
                         [](const ::testing::TestParamInfo<OpCase> &info) { return info.param.label; });

TEST(CudaStream, WorkRunsOnTheCallersStream) {
    NNF_SKIP_WITHOUT_GPU();
    const CudaDriver &cuda = CudaDriver::get();
    void *stream = nullptr;
    ASSERT_EQ(cuda.cuStreamCreate(&stream, 1 /* non-blocking */), 0);
    ASSERT_EQ(nnf_cuda_set_stream(stream), NNF_OK);
    EXPECT_EQ(nnf_cuda_get_stream(), stream);
    const int64_t n = 1 << 22;
    TestTensor x({n}), y({n});
    for (int64_t i = 0; i < n; ++i) x.at(i) = static_cast<float>(i % 100) - 50.0f;
    OnDevice dx(x), dy(y);
    ASSERT_EQ(nnf_relu_forward(dx.dl(), dy.dl()), NNF_OK) << nnf_last_error();
    // Synchronizing that stream alone must be enough to see the result.
    ASSERT_EQ(cuda.cuStreamSynchronize(stream), 0);
    dy.download();
    for (int64_t i = 0; i < n; i += 997) ASSERT_EQ(y.at(i), std::max(0.0f, x.at(i))) << i;
    ASSERT_EQ(nnf_cuda_set_stream(nullptr), NNF_OK);
    cuda.cuStreamDestroy(stream);
}

// A reduced loss allocates device scratch for its partial sums; the freed scratch is kept for the
// next call. Emptying the cache between calls returns it to the driver, and the next call
// allocates afresh with the same result.
TEST(CudaScratch, EmptyCacheBetweenCallsKeepsResults) {
    NNF_SKIP_WITHOUT_GPU();
    const int64_t n = 1 << 20;
    TestTensor x({n}), t({n}), out({});
    fill_random(x, 1);
    fill_random(t, 2);
    double expected = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(x.at(i)) - static_cast<double>(t.at(i));
        expected += d * d;
    }
    expected /= static_cast<double>(n);
    OnDevice dx(x), dt(t), dout(out);
    const nnf_mse_loss_params mean = nnf_mse_loss_default_params();
    for (int round = 0; round < 3; ++round) {
        SCOPED_TRACE(round);
        ASSERT_EQ(nnf_mse_loss_forward(dx.dl(), dt.dl(), dout.dl(), &mean), NNF_OK) << nnf_last_error();
        dout.download();
        EXPECT_NEAR(out.at(0), expected, 1e-6 * expected);
        if (round == 1) ASSERT_EQ(nnf_cuda_empty_cache(), NNF_OK) << nnf_last_error();
    }
}

TEST(CudaValidation, MixedDevicesAreRejectedBeforeAnyWork) {
    // Runs without a GPU: validation never touches the device.
    TestTensor x({8}), y({8});
    DLTensor on_gpu = *y.dl();
    on_gpu.device = {kDLCUDA, 0};
    EXPECT_EQ(nnf_relu_forward(x.dl(), &on_gpu), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_NE(std::string(nnf_last_error()).find("y is on CUDA device 0 but x is on the CPU"), std::string::npos)
        << nnf_last_error();
    DLTensor other_gpu = on_gpu;
    other_gpu.device = {kDLCUDA, 1};
    DLTensor x_gpu = *x.dl();
    x_gpu.device = {kDLCUDA, 0};
    EXPECT_EQ(nnf_sigmoid_forward(&x_gpu, &other_gpu), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_NE(std::string(nnf_last_error()).find("CUDA device 1"), std::string::npos) << nnf_last_error();
    DLTensor opencl = *x.dl();
    opencl.device = {kDLOpenCL, 0};
    EXPECT_EQ(nnf_gelu_forward(&opencl, y.dl(), nullptr), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_TRUE(y.untouched_outside_view());
    EXPECT_TRUE(nnf_has_cuda());
}

}  // namespace
}  // namespace nnf::test

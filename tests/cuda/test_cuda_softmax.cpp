// The softmax family on a GPU: rows short enough for a warp per row and long enough for a block
// per row (and both sides of the switch between them, runtime/softmax_driver.cpp), the columns
// kernel, strided and in-place views, -inf and NaN rows, backward; all against double
// references. Skipped, with the reason, without a GPU; the device checks run everywhere.
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda/cuda_test_support.h"
#include "op_family.h"
#include "reference/softmax_reference.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

// The CPU suite's float32 tolerances (tests/test_softmax.cpp): the shift s x - max is rounded to
// float before exp.
constexpr double kRtol = 1.3e-6, kSoftmaxAtol = 1e-7, kLogSoftmaxAtol = 1e-6;
constexpr double kBackwardRtol = 1e-5, kBackwardAtol = 1e-6;

// op's forward along `dim` (beta 1) of x into y, both copied to the GPU, y copied back.
::testing::AssertionResult forward_on_gpu(const rt::OpInfo &op, TestTensor &x, TestTensor &y, int dim) {
    OnDevice dx(x), dy(y);
    const double params[] = {static_cast<double>(dim), 1.0};
    const DLTensor *in[] = {dx.dl()};
    DLTensor *out[] = {dy.dl()};
    if (op.forward(in, out, params) != NNF_OK) return ::testing::AssertionFailure() << nnf_last_error();
    if (::testing::AssertionResult finished = gpu_finished(); !finished) return finished;
    dy.download();
    return ::testing::AssertionSuccess();
}

class CudaSoftmaxTest : public ::testing::Test {
protected:
    void SetUp() override {
        NNF_SKIP_WITHOUT_GPU();
        ASSERT_EQ(ops_of_family("softmax").size(), 3u) << "softmax, log_softmax and softmin";
    }

    // Forward on the GPU along `dim` (non-negative) of x = values, then backward from the GPU's
    // y with a random grad_output; both against the double references. x, y, grad and
    // grad_input may be views of any layout; `in_place` writes y over x and grad_input over grad.
    void check(const rt::OpInfo &op, TestTensor &x, TestTensor &y, TestTensor &grad, TestTensor &grad_input,
               const std::vector<int64_t> &shape, int dim, double beta, const std::vector<float> &values,
               bool in_place = false) {
        SCOPED_TRACE(std::string(op.name) + " dim " + std::to_string(dim) + " beta " + std::to_string(beta));
        for (int64_t i = 0; i < x.size(); ++i) x.at(i) = values[static_cast<size_t>(i)];
        const double params[] = {static_cast<double>(dim), beta};
        OnDevice dx(x), dy(y);
        const DLTensor *in[] = {dx.dl()};
        DLTensor *out[] = {in_place ? dx.dl() : dy.dl()};
        ASSERT_EQ(op.forward(in, out, params), NNF_OK) << nnf_last_error();
        ASSERT_TRUE(gpu_finished());
        TestTensor &result = in_place ? x : y;
        (in_place ? dx : dy).download();
        const std::vector<double> ref = softmax_ref(op.name, shape, dim, beta, values);
        const double atol = std::string(op.name) == "log_softmax" ? kLogSoftmaxAtol : kSoftmaxAtol;
        std::vector<float> ys(static_cast<size_t>(result.size()));
        for (int64_t i = 0; i < result.size(); ++i) {
            ys[static_cast<size_t>(i)] = result.at(i);
            ASSERT_TRUE(close(result.at(i), ref[static_cast<size_t>(i)], kRtol, atol)) << "forward element " << i;
        }
        EXPECT_TRUE(result.untouched_outside_view());

        const std::vector<float> gs = random_floats(x.size(), 7, -2, 2);
        for (int64_t i = 0; i < grad.size(); ++i) grad.at(i) = gs[static_cast<size_t>(i)];
        OnDevice dgrad(grad), dsaved(result), dgrad_input(grad_input);
        const DLTensor *bin[] = {dgrad.dl(), dsaved.dl()};
        DLTensor *bout[] = {in_place ? dgrad.dl() : dgrad_input.dl()};
        ASSERT_EQ(op.backward(bin, bout, params), NNF_OK) << nnf_last_error();
        ASSERT_TRUE(gpu_finished());
        TestTensor &gi = in_place ? grad : grad_input;
        (in_place ? dgrad : dgrad_input).download();
        const std::vector<double> gref = softmax_backward_ref(op.name, shape, dim, beta, gs, ys);
        for (int64_t i = 0; i < gi.size(); ++i) {
            ASSERT_TRUE(close(gi.at(i), gref[static_cast<size_t>(i)], kBackwardRtol, kBackwardAtol))
                << "backward element " << i;
        }
        EXPECT_TRUE(gi.untouched_outside_view());
    }

    void check_contiguous(const rt::OpInfo &op, const std::vector<int64_t> &shape, int dim, double beta,
                          unsigned seed) {
        TestTensor x(shape), y(shape), grad(shape), grad_input(shape);
        check(op, x, y, grad, grad_input, shape, dim, beta, random_floats(x.size(), seed, -8, 8));
    }
};

TEST_F(CudaSoftmaxTest, RowsOnEitherSideOfTheWarpToBlockSwitch) {
    // A warp per row up to 1024 elements, a block per row above; 13 rows leave the last block
    // of 8 warps partly empty.
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        for (int64_t length : {1, 5, 31, 32, 33, 1000, 1024, 1025, 4097, 70001}) {
            SCOPED_TRACE("row length " + std::to_string(length));
            check_contiguous(*op, {13, length}, 1, 1.0, static_cast<unsigned>(length));
        }
        check_contiguous(*op, {2, 3, 300}, 2, 0.5, 3);
    }
}

TEST_F(CudaSoftmaxTest, ColumnsWhenDimsFollowTheReducedOne) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        check_contiguous(*op, {300, 3}, 0, 1.0, 1);      // 3 columns, rows of 300
        check_contiguous(*op, {4, 37, 5}, 1, 1.5, 2);    // outer 4, inner 5
        check_contiguous(*op, {2, 33, 260}, 1, 1.0, 4);  // inner wider than one block of threads
        check_contiguous(*op, {2, 3, 33, 5}, 0, 2.0, 5);
    }
}

TEST_F(CudaSoftmaxTest, StridedViewsAndInPlace) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        const std::vector<int64_t> shape = {37, 53};
        const std::vector<float> values = random_floats(37 * 53, 9, -6, 6);
        for (int dim : {0, 1}) {
            // x transposed in memory, y padded rows with an offset: the rows of one are the
            // columns of the other.
            TestTensor x(shape, {1, 37}), y(shape, {60, 1}, 5), grad(shape, {1, 40}), grad_input(shape, {2, 74}, 3);
            check(*op, x, y, grad, grad_input, shape, dim, 1.0, values);
            TestTensor xi(shape), unused_y({1}), gi(shape), unused_gi({1});
            check(*op, xi, unused_y, gi, unused_gi, shape, dim, 1.0, values, /*in_place=*/true);
        }
    }
}

TEST_F(CudaSoftmaxTest, InfinitiesAndNaNFollowPyTorchInEveryKernel) {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    const rt::OpInfo *softmax = ops_of_family("softmax")[0];
    ASSERT_EQ(std::string(softmax->name), "softmax");
    // Rows of `length` whose first four are {-inf, 1, -inf, 2} (finite, 0 at -inf), all -inf
    // (NaN), +inf (NaN: inf - inf) and NaN (NaN), for the warp, block and columns kernels.
    for (int64_t length : {4, 2000}) {
        std::vector<float> rows(static_cast<size_t>(4 * length), 0.5f);
        const float heads[4][4] = {{-inf, 1, -inf, 2}, {-inf, -inf, -inf, -inf}, {inf, 1, 2, 3}, {nan, 1, 2, 3}};
        for (int r = 0; r < 4; ++r) {
            for (int c = 0; c < 4; ++c) rows[static_cast<size_t>(r * length + c)] = heads[r][c];
        }
        for (int64_t c = 4; c < length; ++c) rows[static_cast<size_t>(length + c)] = -inf;
        TestTensor x({4, length}), y({4, length}), grad({4, length}), grad_input({4, length});
        for (int64_t i = 0; i < x.size(); ++i) x.at(i) = rows[static_cast<size_t>(i)];
        ASSERT_TRUE(forward_on_gpu(*softmax, x, y, 1));
        const std::vector<double> ref = softmax_ref("softmax", {4, length}, 1, 1.0, rows);
        for (int64_t i = 0; i < y.size(); ++i) {
            ASSERT_TRUE(close(y.at(i), ref[static_cast<size_t>(i)], kRtol, kSoftmaxAtol)) << "length " << length << " element " << i;
        }
        EXPECT_EQ(y.at(0), 0.0f);
        for (int64_t i = length; i < 4 * length; ++i) ASSERT_TRUE(std::isnan(y.at(i))) << i;
    }
    // The same rows as columns (dim 0).
    std::vector<float> columns = {-inf, -inf, inf, nan, 1, -inf, 1, 1, -inf, -inf, 2, 2, 2, -inf, 3, 3};
    TestTensor x({4, 4}), y({4, 4});
    for (int64_t i = 0; i < 16; ++i) x.at(i) = columns[static_cast<size_t>(i)];
    ASSERT_TRUE(forward_on_gpu(*softmax, x, y, 0));
    const std::vector<double> ref = softmax_ref("softmax", {4, 4}, 0, 1.0, columns);
    for (int64_t i = 0; i < 16; ++i) ASSERT_TRUE(close(y.at(i), ref[static_cast<size_t>(i)], kRtol, kSoftmaxAtol)) << i;
}

// Runs everywhere: an empty tensor returns before any device work.
TEST(CudaSoftmaxValidation, EmptyTensorsAreANoOp) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        TestTensor x({0, 5}), y({0, 5});
        DLTensor dx = claimed_on_gpu(x), dy = claimed_on_gpu(y);
        const double params[] = {1.0, 1.0};
        const DLTensor *in[] = {&dx};
        DLTensor *out[] = {&dy};
        EXPECT_EQ(op->forward(in, out, params), NNF_OK) << nnf_last_error();
    }
}

// Runs everywhere: device checks come before any device work.
TEST(CudaSoftmaxValidation, MixedDevicesAreRejected) {
    TestTensor x({4, 8}), y({4, 8}), grad({4, 8});
    DLTensor y_gpu = claimed_on_gpu(y), grad_gpu = claimed_on_gpu(grad, 1);
    EXPECT_EQ(nnf_softmax_forward(x.dl(), &y_gpu, nullptr), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_softmax_forward: y is on CUDA device 0 but x is on the CPU"),
              std::string::npos)
        << nnf_last_error();
    DLTensor x_gpu = claimed_on_gpu(x);
    EXPECT_EQ(nnf_log_softmax_backward(&grad_gpu, &x_gpu, &y_gpu, nullptr), NNF_ERR_UNSUPPORTED_DEVICE);
    EXPECT_NE(std::string(nnf_last_error()).find("CUDA device 1"), std::string::npos) << nnf_last_error();
    EXPECT_TRUE(y.untouched_outside_view());
}

// Runs everywhere: CUDA tensors reach the CUDA kernels (not NNF_ERR_NOT_BUILT_FOR_TARGET); where
// no driver can be loaded the call fails with the reason and writes nothing.
TEST(CudaSoftmaxValidation, CudaTensorsWithoutADriverFailWithTheReason) {
    if (CudaDriver::get().available()) GTEST_SKIP() << "a GPU is present: the numerical tests cover this path";
    TestTensor x({3, 5}), y({3, 5});
    for (int64_t i = 0; i < x.size(); ++i) x.at(i) = 1.0f;
    DLTensor x_gpu = claimed_on_gpu(x), y_gpu = claimed_on_gpu(y);
    const nnf_status status = nnf_softmin_forward(&x_gpu, &y_gpu, nullptr);
    EXPECT_EQ(status, NNF_ERR_RUNTIME_FAILURE) << nnf_last_error();
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_softmin_forward"), std::string::npos) << nnf_last_error();
    EXPECT_TRUE(y.untouched_outside_view());
    for (int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.at(i), TestTensor::kSentinel);
}

}  // namespace
}  // namespace nnf::test

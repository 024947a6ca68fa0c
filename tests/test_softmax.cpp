// The softmax family (every registry op with family "softmax") against double references:
// every dim (positive and negative) of 3-D and 4-D tensors, non-contiguous and in-place views,
// long rows and kernel-call slicing, -inf / all -inf / NaN rows, beta, backward against the
// formula and finite differences, and validation. ctest runs it once per ISA path.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "op_family.h"
#include "reference/softmax_reference.h"
#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

int wrap(int dim, size_t rank) {
    const int n = rank ? static_cast<int>(rank) : 1;
    return dim < 0 ? dim + n : dim;
}

// Float32 tolerances: exp is within 1 ulp, but s x - max is rounded to float first, which moves
// exp's argument by up to 2^-24 |s x - max| (6e-7 relative for a spread of 10).
constexpr double kRtol = 1.3e-6, kSoftmaxAtol = 1e-7, kLogSoftmaxAtol = 1e-6;

class SoftmaxTest : public ::testing::Test {
protected:
    void SetUp() override {
        NNF_SKIP_UNLESS_ISA_AVAILABLE();
        ASSERT_EQ(ops_of_family("softmax").size(), 3u) << "softmax, log_softmax and softmin";
    }

    // Runs op forward on x (row-major `values`) into y along `dim`, checks y and the bytes
    // outside y's view.
    void check_forward(const rt::OpInfo &op, TestTensor &x, TestTensor &y, const std::vector<int64_t> &shape, int dim,
                       double beta, const std::vector<float> &values) {
        for (int64_t i = 0; i < x.size(); ++i) x.at(i) = values[static_cast<size_t>(i)];
        const double params[] = {static_cast<double>(dim), beta};
        const DLTensor *in[] = {x.dl()};
        DLTensor *out[] = {y.dl()};
        ASSERT_EQ(op.forward(in, out, params), NNF_OK) << nnf_last_error();
        const std::vector<float> used(values.begin(), values.begin() + x.size());
        const std::vector<double> ref = softmax_ref(op.name, shape, wrap(dim, shape.size()), beta, used);
        const double atol = std::string(op.name) == "log_softmax" ? kLogSoftmaxAtol : kSoftmaxAtol;
        for (int64_t i = 0; i < y.size(); ++i) {
            ASSERT_TRUE(close(y.at(i), ref[static_cast<size_t>(i)], kRtol, atol))
                << op.name << " dim " << dim << " beta " << beta << " element " << i;
        }
        EXPECT_TRUE(y.untouched_outside_view());
    }
};

TEST_F(SoftmaxTest, EveryDimOf3DAnd4DTensorsPositiveAndNegative) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        for (const std::vector<int64_t> &shape : {std::vector<int64_t>{4, 5, 37}, std::vector<int64_t>{2, 3, 33, 5}}) {
            const int rank = static_cast<int>(shape.size());
            for (int dim = -rank; dim < rank; ++dim) {
                SCOPED_TRACE(std::string(op->name) + " rank " + std::to_string(rank) + " dim " + std::to_string(dim));
                TestTensor x(shape), y(shape);
                int64_t n = x.size();
                check_forward(*op, x, y, shape, dim, 1.0, random_floats(n, static_cast<unsigned>(dim + 10), -5, 5));
            }
        }
    }
}

TEST_F(SoftmaxTest, InverseTemperature) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        for (double beta : {0.5, 2.0, 0.0}) {
            for (int dim : {-1, 0}) {
                TestTensor x({6, 40}), y({6, 40});
                check_forward(*op, x, y, {6, 40}, dim, beta, random_floats(240, 3, -5, 5));
            }
        }
    }
}

TEST_F(SoftmaxTest, NonContiguousInPlaceAndOneDimensional) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        SCOPED_TRACE(op->name);
        const std::vector<float> values = random_floats(3 * 37 * 53, 5, -5, 5);
        {
            TestTensor x({37, 53}, {1, 37}), y({37, 53}, {60, 1}, 5);  // transposed in, padded out
            check_forward(*op, x, y, {37, 53}, 1, 1.0, values);
            TestTensor x0({37, 53}, {1, 37}), y0({37, 53}, {60, 1}, 5);
            check_forward(*op, x0, y0, {37, 53}, 0, 1.0, values);
        }
        {
            // Every other element, and an output permuted so no dims merge.
            TestTensor x({3, 37, 53}, {37 * 53 * 2, 53 * 2, 2}, 1), y({3, 37, 53}, {1, 3 * 53, 3});
            for (int dim = 0; dim < 3; ++dim) check_forward(*op, x, y, {3, 37, 53}, dim, 1.0, values);
        }
        {
            TestTensor x({1000}), y({1000});
            check_forward(*op, x, y, {1000}, 0, 1.0, values);
        }
        {
            // In place: y is x.
            const std::vector<int64_t> shape = {7, 9, 11};
            for (int dim = 0; dim < 3; ++dim) {
                TestTensor x(shape);
                for (int64_t i = 0; i < x.size(); ++i) x.at(i) = values[static_cast<size_t>(i)];
                const double params[] = {static_cast<double>(dim), 1.0};
                const DLTensor *in[] = {x.dl()};
                DLTensor *out[] = {x.dl()};
                ASSERT_EQ(op->forward(in, out, params), NNF_OK) << nnf_last_error();
                const std::vector<float> used(values.begin(), values.begin() + x.size());
                const std::vector<double> ref = softmax_ref(op->name, shape, dim, 1.0, used);
                for (int64_t i = 0; i < x.size(); ++i) {
                    ASSERT_TRUE(close(x.at(i), ref[static_cast<size_t>(i)], kRtol, kLogSoftmaxAtol)) << dim << " " << i;
                }
            }
        }
    }
}

TEST_F(SoftmaxTest, LongRowsAndKernelCallSlices) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        SCOPED_TRACE(op->name);
        TestTensor x({3, 5000}), y({3, 5000});
        check_forward(*op, x, y, {3, 5000}, 1, 1.0, random_floats(15000, 7, -5, 5));
        TestTensor xc({300, 50}), yc({300, 50});
        check_forward(*op, xc, yc, {300, 50}, 0, 1.0, random_floats(15000, 8, -5, 5));
        // A span limit of 3000 (2^30 by default) cuts the outer and inner dims into many calls;
        // a row (dim 1 spans 2730) stays whole. A reduced dim wider than the limit is refused.
        rt::set_max_span_per_call_for_testing(3000);
        TestTensor xs({6, 40, 70}), ys({6, 40, 70});
        for (int dim = 1; dim < 3; ++dim) {
            check_forward(*op, xs, ys, {6, 40, 70}, dim, 1.0, random_floats(16800, 9, -5, 5));
        }
        const double params[] = {0.0, 1.0};
        const DLTensor *in[] = {xs.dl()};
        DLTensor *out[] = {ys.dl()};
        EXPECT_EQ(op->forward(in, out, params), NNF_ERR_INVALID_ARGUMENT);
        EXPECT_NE(std::string(nnf_last_error()).find("dim 0 spans 14000 elements in memory; at most 3000"),
                  std::string::npos)
            << nnf_last_error();
        rt::set_max_span_per_call_for_testing(0);
    }
}

TEST_F(SoftmaxTest, RowsWithInfinitiesAndNaNFollowPyTorch) {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    // Rows of 4 along the last dim (rows kernel) and along dim 0 (columns kernel):
    // some -inf (finite result, 0 there), all -inf (NaN), +inf (NaN: inf - inf), NaN (NaN).
    const std::vector<float> rows = {-inf, 1.0f, -inf, 2.0f,  -inf, -inf, -inf, -inf,
                                     inf,  1.0f, 2.0f, 3.0f,  nan,  1.0f, 2.0f, 3.0f};
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        SCOPED_TRACE(op->name);
        if (std::string(op->name) == "softmin") continue;  // -x flips the infinities; covered below
        TestTensor x({4, 4}), y({4, 4});
        check_forward(*op, x, y, {4, 4}, 1, 1.0, rows);
        EXPECT_EQ(y.at(0), std::string(op->name) == "softmax" ? 0.0f : -inf);
        for (int i = 4; i < 16; ++i) EXPECT_TRUE(std::isnan(y.at(i))) << i;
        std::vector<float> columns(16);
        for (int r = 0; r < 4; ++r) {
            for (int c = 0; c < 4; ++c) columns[static_cast<size_t>(c * 4 + r)] = rows[static_cast<size_t>(r * 4 + c)];
        }
        TestTensor xt({4, 4}), yt({4, 4});
        check_forward(*op, xt, yt, {4, 4}, 0, 1.0, columns);
    }
    const rt::OpInfo *softmin = ops_of_family("softmax")[2];
    ASSERT_EQ(std::string(softmin->name), "softmin");
    TestTensor x({2, 3}), y({2, 3});
    check_forward(*softmin, x, y, {2, 3}, 1, 1.0, {inf, 0.0f, inf, inf, inf, inf});
    EXPECT_EQ(y.at(0), 0.0f);
    EXPECT_EQ(y.at(1), 1.0f);
    EXPECT_TRUE(std::isnan(y.at(3)));
}

TEST_F(SoftmaxTest, ZeroDimensionalTensorIsOneRowOfOne) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        for (int dim : {0, -1}) {
            TestTensor x({}), y({});
            check_forward(*op, x, y, {}, dim, 1.0, {3.5f});
            EXPECT_EQ(y.at(0), std::string(op->name) == "log_softmax" ? 0.0f : 1.0f);
        }
    }
}

TEST_F(SoftmaxTest, BackwardFromTheSavedOutputOnEveryDim) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        const std::vector<int64_t> shape = {3, 17, 6, 5};
        for (int dim = -4; dim < 4; ++dim) {
            for (double beta : {1.0, 1.5}) {
                SCOPED_TRACE(std::string(op->name) + " dim " + std::to_string(dim));
                TestTensor x(shape), y(shape), grad(shape), grad_input(shape);
                const std::vector<float> xs = random_floats(x.size(), 11, -5, 5);
                const std::vector<float> gs = random_floats(x.size(), 12, -2, 2);
                for (int64_t i = 0; i < x.size(); ++i) {
                    x.at(i) = xs[static_cast<size_t>(i)];
                    grad.at(i) = gs[static_cast<size_t>(i)];
                }
                const double params[] = {static_cast<double>(dim), beta};
                const DLTensor *fin[] = {x.dl()};
                DLTensor *fout[] = {y.dl()};
                ASSERT_EQ(op->forward(fin, fout, params), NNF_OK) << nnf_last_error();
                const DLTensor *bin[] = {grad.dl(), y.dl()};
                DLTensor *bout[] = {grad_input.dl()};
                ASSERT_EQ(op->backward(bin, bout, params), NNF_OK) << nnf_last_error();
                std::vector<float> ys(static_cast<size_t>(y.size()));
                for (int64_t i = 0; i < y.size(); ++i) ys[static_cast<size_t>(i)] = y.at(i);
                const int d = wrap(dim, shape.size());
                const std::vector<double> ref = softmax_backward_ref(op->name, shape, d, beta, gs, ys);
                // Central differences of the double forward at x, for the gradient's meaning.
                const std::vector<double> exact = softmax_ref(op->name, shape, d, beta, xs);
                for (int64_t i = 0; i < y.size(); ++i) {
                    ASSERT_TRUE(close(grad_input.at(i), ref[static_cast<size_t>(i)], 1e-5, 1e-6)) << "element " << i;
                }
                // Check a few elements against finite differences of loss = sum(grad * y(x)).
                for (int64_t i : {int64_t{0}, int64_t{7}, x.size() / 2, x.size() - 1}) {
                    std::vector<float> up = xs, down = xs;
                    const float h = 1e-2f;
                    up[static_cast<size_t>(i)] += h;
                    down[static_cast<size_t>(i)] -= h;
                    const std::vector<double> yu = softmax_ref(op->name, shape, d, beta, up),
                                              yd = softmax_ref(op->name, shape, d, beta, down);
                    double loss_up = 0, loss_down = 0;
                    for (int64_t j = 0; j < x.size(); ++j) {
                        loss_up += gs[static_cast<size_t>(j)] * yu[static_cast<size_t>(j)];
                        loss_down += gs[static_cast<size_t>(j)] * yd[static_cast<size_t>(j)];
                    }
                    // The float step is exact, so the central difference is good to O(h^2).
                    const double fd = (loss_up - loss_down) / (static_cast<double>(up[static_cast<size_t>(i)]) -
                                                               down[static_cast<size_t>(i)]);
                    EXPECT_NEAR(grad_input.at(i), fd, 2e-4 * (1 + std::fabs(fd))) << "element " << i;
                }
                (void)exact;
                EXPECT_TRUE(grad_input.untouched_outside_view());
            }
        }
    }
}

TEST_F(SoftmaxTest, ManyShortRowsShareTasks) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        SCOPED_TRACE(op->name);
        // 1000 rows of 37: the kernel groups short rows into tasks of about 16K elements (442
        // rows), so there are several tasks and a partial last one; forward and backward.
        const std::vector<int64_t> many = {1000, 37};
        TestTensor xm(many), ym(many), gm(many), gim(many);
        check_forward(*op, xm, ym, many, 1, 1.0, random_floats(37000, 10, -5, 5));
        const std::vector<float> gs = random_floats(37000, 11, -2, 2);
        std::vector<float> saved(37000);
        for (int64_t i = 0; i < gm.size(); ++i) {
            gm.at(i) = gs[static_cast<size_t>(i)];
            saved[static_cast<size_t>(i)] = ym.at(i);
        }
        const double row_params[] = {1.0, 1.0};
        const DLTensor *bin[] = {gm.dl(), ym.dl()};
        DLTensor *bout[] = {gim.dl()};
        ASSERT_EQ(op->backward(bin, bout, row_params), NNF_OK) << nnf_last_error();
        const std::vector<double> ref = softmax_backward_ref(op->name, many, 1, 1.0, gs, saved);
        for (int64_t i = 0; i < gim.size(); ++i) {
            ASSERT_TRUE(close(gim.at(i), ref[static_cast<size_t>(i)], 1e-5, 1e-6)) << "backward element " << i;
        }
    }
}

TEST_F(SoftmaxTest, BackwardInPlaceOverGradOutputAndStrided) {
    for (const rt::OpInfo *op : ops_of_family("softmax")) {
        for (int dim : {0, 1}) {
            const std::vector<int64_t> shape = {40, 30};
            TestTensor y(shape), grad(shape), strided_y(shape, {1, 40}), reference(shape);
            const std::vector<float> xs = random_floats(1200, 13, -5, 5), gs = random_floats(1200, 14, -2, 2);
            for (int64_t i = 0; i < 1200; ++i) grad.at(i) = gs[static_cast<size_t>(i)];
            const double params[] = {static_cast<double>(dim), 1.0};
            TestTensor x(shape);
            for (int64_t i = 0; i < 1200; ++i) x.at(i) = xs[static_cast<size_t>(i)];
            const DLTensor *fin[] = {x.dl()};
            DLTensor *fout[] = {y.dl()};
            ASSERT_EQ(op->forward(fin, fout, params), NNF_OK);
            for (int64_t i = 0; i < 1200; ++i) strided_y.at(i) = y.at(i);
            const DLTensor *rin[] = {grad.dl(), strided_y.dl()};
            DLTensor *rout[] = {reference.dl()};
            ASSERT_EQ(op->backward(rin, rout, params), NNF_OK) << nnf_last_error();
            const DLTensor *bin[] = {grad.dl(), y.dl()};
            DLTensor *bout[] = {grad.dl()};
            ASSERT_EQ(op->backward(bin, bout, params), NNF_OK) << nnf_last_error();
            for (int64_t i = 0; i < 1200; ++i) {
                ASSERT_NEAR(grad.at(i), reference.at(i), 1e-6 * (1 + std::fabs(reference.at(i)))) << op->name << " " << i;
            }
        }
    }
}

TEST(SoftmaxValidation, DimOutOfRangeAndShapesAreRejectedAndNothingIsWritten) {
    TestTensor x({2, 3, 4}), y({2, 3, 4}), wrong({2, 3, 5});
    for (int64_t i = 0; i < x.size(); ++i) x.at(i) = 1.0f;
    auto untouched = [](TestTensor &t) {
        for (float v : t.storage()) {
            if (std::memcmp(&v, &TestTensor::kSentinel, sizeof v) != 0) return false;
        }
        return true;
    };
    nnf_softmax_params p = nnf_softmax_default_params();
    p.dim = 3;
    EXPECT_EQ(nnf_softmax_forward(x.dl(), y.dl(), &p), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_softmax_forward: dim 3 out of range for a 3-d input"),
              std::string::npos)
        << nnf_last_error();
    p.dim = -4;
    EXPECT_EQ(nnf_softmax_forward(x.dl(), y.dl(), &p), NNF_ERR_INVALID_ARGUMENT);
    nnf_log_softmax_params lp = nnf_log_softmax_default_params();
    lp.dim = 5;
    EXPECT_EQ(nnf_log_softmax_backward(x.dl(), x.dl(), y.dl(), &lp), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_log_softmax_backward: dim 5 out of range"), std::string::npos);
    EXPECT_TRUE(untouched(y));
    EXPECT_EQ(nnf_softmin_forward(x.dl(), wrong.dl(), nullptr), NNF_ERR_SHAPE_MISMATCH);
    EXPECT_TRUE(untouched(wrong));
    // Empty tensors succeed and write nothing; the dim is still checked.
    TestTensor empty({0, 3}), empty_y({0, 3});
    EXPECT_EQ(nnf_softmax_forward(empty.dl(), empty_y.dl(), nullptr), NNF_OK);
    p.dim = 2;
    EXPECT_EQ(nnf_softmax_forward(empty.dl(), empty_y.dl(), &p), NNF_ERR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace nnf::test

// The pointwise family against double-precision references: every registry op and enum value
// x shape classes x layouts x special values, forward and backward (finite differences).
// ctest runs this binary once per ISA path (NNF_MAX_ISA).
#include <cmath>
#include <limits>
#include <random>

#include "cpu_dispatch.h"
#include "op_table.h"
#include "reference/pointwise_reference.h"
#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

struct OpCase {
    const rt::OpInfo *info;
    std::vector<double> params;  // registry order; defaults except the enum under test
    std::string label;
    const PointwiseReference *reference;
};

std::vector<OpCase> pointwise_cases() {
    std::vector<OpCase> cases;
    int count = 0;
    const rt::OpInfo *ops = rt::op_table(&count);
    for (int i = 0; i < count; ++i) {
        const rt::OpInfo &op = ops[i];
        if (std::string(op.family) != "pointwise") continue;
        auto ref = pointwise_references().find(op.name);
        const PointwiseReference *reference = ref == pointwise_references().end() ? nullptr : &ref->second;
        std::vector<double> defaults;
        int enum_index = -1;
        for (int p = 0; p < op.num_params; ++p) {
            defaults.push_back(op.params[p].default_value);
            if (op.params[p].enum_values) enum_index = p;
        }
        if (enum_index < 0) {
            cases.push_back({&op, defaults, op.name, reference});
            continue;
        }
        for (int v = 0; v < op.params[enum_index].enum_values; ++v) {
            std::vector<double> params = defaults;
            params[enum_index] = v;
            cases.push_back(
                {&op, params, std::string(op.name) + "_" + op.params[enum_index].name + std::to_string(v), reference});
        }
    }
    return cases;
}

// |got - ref| <= atol + rtol |ref|, NaN matching NaN, infinities exact, and for exact ops the
// sign of zero too.
::testing::AssertionResult close(float got, double ref, const PointwiseReference &r) {
    if (std::isnan(ref) || std::isnan(got)) {
        if (std::isnan(ref) && std::isnan(got)) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref;
    }
    const double expected = static_cast<double>(static_cast<float>(ref));  // overflow to inf as float does
    if (std::isinf(expected) || std::isinf(got)) {
        if (static_cast<double>(got) == expected) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref;
    }
    const double err = std::fabs(static_cast<double>(got) - ref);
    // The correctly rounded float always passes (it matters where ref is below the denormals).
    if (err > r.atol + r.rtol * std::fabs(ref) && static_cast<double>(got) != expected) {
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref << " (error " << err << ")";
    }
    if (r.rtol == 0 && r.atol == 0 && std::signbit(got) != std::signbit(ref)) {
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref << " (sign of zero)";
    }
    return ::testing::AssertionSuccess();
}

std::vector<float> random_values(int64_t n, double lo, double hi, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (float &x : v) x = static_cast<float>(dist(rng));
    return v;
}

class PointwiseTest : public ::testing::TestWithParam<OpCase> {
protected:
    void SetUp() override {
        NNF_SKIP_UNLESS_ISA_AVAILABLE();
        ASSERT_NE(GetParam().reference, nullptr) << "no reference formula for registry op " << GetParam().info->name
                                                 << " in tests/reference/pointwise_reference.h";
    }
    const PointwiseReference &ref() const { return *GetParam().reference; }
    double forward_ref(double x) const { return ref().forward(x, GetParam().params); }

    nnf_status forward(TestTensor &x, TestTensor &y) const {
        const DLTensor *in[] = {x.dl()};
        DLTensor *out[] = {y.dl()};
        return GetParam().info->forward(in, out, GetParam().params.data());
    }
    nnf_status backward(TestTensor &grad, TestTensor &saved, TestTensor &grad_input) const {
        const DLTensor *in[] = {grad.dl(), saved.dl()};
        DLTensor *out[] = {grad_input.dl()};
        return GetParam().info->backward(in, out, GetParam().params.data());
    }

    void fill(TestTensor &t, const std::vector<float> &values) const {
        for (int64_t i = 0; i < t.size(); ++i) t.at(i) = values[static_cast<size_t>(i)];
    }

    // Runs forward on x (filled with `values`) into y and checks every element and the bytes
    // outside y's view.
    void check_forward(TestTensor &x, TestTensor &y, const std::vector<float> &values) const {
        fill(x, values);
        ASSERT_EQ(forward(x, y), NNF_OK) << nnf_last_error();
        for (int64_t i = 0; i < y.size(); ++i) {
            ASSERT_TRUE(close(y.at(i), forward_ref(values[static_cast<size_t>(i)]), ref()))
                << GetParam().label << " at element " << i << ", x = " << values[static_cast<size_t>(i)];
        }
        EXPECT_TRUE(y.untouched_outside_view());
    }
};

TEST_P(PointwiseTest, ForwardMatchesReferenceForEveryShapeClass) {
    for (int64_t n : {0, 1, 7, 16, 17, 1000, 65537}) {
        SCOPED_TRACE("n = " + std::to_string(n));
        TestTensor x({n}), y({n});
        check_forward(x, y, random_values(n, ref().lo, ref().hi, static_cast<unsigned>(n)));
    }
}

TEST_P(PointwiseTest, ForwardOnNonContiguousViews) {
    const std::vector<float> values = random_values(37 * 53 * 3, ref().lo, ref().hi, 7);
    {
        SCOPED_TRACE("2-D rows padded to 64, into a contiguous output");
        TestTensor x({37, 53}, {64, 1}), y({37, 53});
        check_forward(x, y, values);
    }
    {
        SCOPED_TRACE("2-D transposed input into a padded output");
        TestTensor x({37, 53}, {1, 37}), y({37, 53}, {60, 1}, 5);
        check_forward(x, y, values);
    }
    {
        SCOPED_TRACE("3-D: a slice with every other element and a permuted output");
        TestTensor x({3, 37, 53}, {37 * 53 * 2, 53 * 2, 2}, 1), y({3, 37, 53}, {1, 3 * 53, 3});
        check_forward(x, y, values);
    }
    {
        SCOPED_TRACE("6-D with unit dims and a broadcast (stride 0) input dim");
        TestTensor x({1, 3, 1, 37, 1, 53}, {0, 53, 999, 0, 7, 1}), y({1, 3, 1, 37, 1, 53});
        std::vector<float> broadcast(static_cast<size_t>(y.size()));
        // Element (a, b, c) of the (3, 37, 53) view reads storage a * 53 + c.
        for (int64_t i = 0; i < y.size(); ++i) {
            broadcast[static_cast<size_t>(i)] = values[static_cast<size_t>(i / (37 * 53) * 53 + i % 53)];
        }
        check_forward(x, y, broadcast);
    }
}

TEST_P(PointwiseTest, ForwardInPlace) {
    const int64_t n = 1000;
    const std::vector<float> values = random_values(n, ref().lo, ref().hi, 11);
    TestTensor x({n});
    fill(x, values);
    ASSERT_EQ(forward(x, x), NNF_OK) << nnf_last_error();
    for (int64_t i = 0; i < n; ++i) {
        ASSERT_TRUE(close(x.at(i), forward_ref(values[static_cast<size_t>(i)]), ref())) << "element " << i;
    }
}

TEST_P(PointwiseTest, ForwardAcrossKernelCallSlices) {
    // A small span limit makes the runtime cut the tensor into many kernel calls, as it does
    // for tensors over 2^31 elements.
    rt::set_max_span_per_call_for_testing(1000);
    const std::vector<float> values = random_values(5 * 37 * 53, ref().lo, ref().hi, 13);
    TestTensor x({5, 37, 53}, {53, 5 * 53, 1}), y({5, 37, 53});
    check_forward(x, y, values);
    TestTensor wide_x({3, 5000}, {10000, 2}), wide_y({3, 5000});
    check_forward(wide_x, wide_y, values);
    rt::set_max_span_per_call_for_testing(0);
}

std::vector<float> special_values() {
    const float inf = std::numeric_limits<float>::infinity();
    return {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(), inf, -inf, 0.0f, -0.0f,
            std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(), 1e-40f, -1e-40f,
            std::numeric_limits<float>::min(), -std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
            -std::numeric_limits<float>::max(), 88.72f, -88.72f, 89.0f, -104.0f, 1e10f, -1e10f, 1e-7f, -1e-7f};
}

TEST_P(PointwiseTest, ForwardSpecialValues) {
    const std::vector<float> values = special_values();
    const int64_t n = static_cast<int64_t>(values.size());
    TestTensor x({n}), y({n});
    check_forward(x, y, values);
}

// Central differences of the double reference at x (h scaled to x).
double derivative_ref(const PointwiseTest &t, double x, const std::function<double(double)> &f) {
    (void)t;
    const double h = 1e-6 * std::max(1.0, std::fabs(x));
    return (f(x + h) - f(x - h)) / (2 * h);
}

TEST_P(PointwiseTest, BackwardMatchesFiniteDifferences) {
    const OpCase &c = GetParam();
    const int64_t n = 4099;
    std::vector<float> xs = random_values(n, ref().lo, ref().hi, 17);
    const std::vector<float> grads = random_values(n, -2.0, 2.0, 19);
    // Keep away from kinks, where the derivative is one-sided.
    for (float &x : xs) {
        for (double k : ref().kinks) {
            if (std::fabs(x - k) < 1e-3) x = static_cast<float>(k + 1e-2);
        }
    }
    TestTensor grad({n}), saved({n}), grad_input({n});
    std::vector<double> at(static_cast<size_t>(n));  // the exact point the saved float stands for
    for (int64_t i = 0; i < n; ++i) {
        const size_t k = static_cast<size_t>(i);
        grad.at(i) = grads[k];
        if (c.info->backward_takes_output) {
            saved.at(i) = static_cast<float>(forward_ref(xs[k]));
            at[k] = ref().inverse(saved.at(i), c.params);
        } else {
            saved.at(i) = xs[k];
            at[k] = xs[k];
        }
    }
    ASSERT_EQ(backward(grad, saved, grad_input), NNF_OK) << nnf_last_error();
    const auto f = [&](double x) { return forward_ref(x); };
    for (int64_t i = 0; i < n; ++i) {
        const size_t k = static_cast<size_t>(i);
        if (!std::isfinite(at[k])) continue;  // a saturated output has no preimage to differentiate at
        const double expected = grads[k] * derivative_ref(*this, at[k], f);
        // Finite differences carry about 1e-9 relative error; the rest is float32 arithmetic.
        const double tolerance = 1e-5 * std::fabs(grads[k]) + 4e-6 * std::fabs(expected);
        ASSERT_NEAR(grad_input.at(i), expected, tolerance)
            << c.label << " backward at x = " << at[k] << ", grad_output = " << grads[k];
    }
    EXPECT_TRUE(grad_input.untouched_outside_view());
}

TEST_P(PointwiseTest, BackwardInPlaceOverGradOutputAndStrided) {
    const OpCase &c = GetParam();
    const int64_t n = 999;
    const std::vector<float> xs = random_values(n, ref().lo, ref().hi, 23);
    const std::vector<float> grads = random_values(n, -2.0, 2.0, 29);
    TestTensor saved({n}), grad({n}), strided_grad_input({3, 333}, {1000, 2});
    for (int64_t i = 0; i < n; ++i) {
        saved.at(i) = c.info->backward_takes_output ? static_cast<float>(forward_ref(xs[static_cast<size_t>(i)]))
                                                    : xs[static_cast<size_t>(i)];
        grad.at(i) = grads[static_cast<size_t>(i)];
    }
    TestTensor saved_2d({3, 333}), grad_2d({3, 333});
    for (int64_t i = 0; i < n; ++i) {
        saved_2d.at(i) = saved.at(i);
        grad_2d.at(i) = grad.at(i);
    }
    ASSERT_EQ(backward(grad_2d, saved_2d, strided_grad_input), NNF_OK) << nnf_last_error();
    ASSERT_EQ(backward(grad, saved, grad), NNF_OK) << nnf_last_error();  // grad_input aliases grad_output
    // The dense and the strided loops are different code (FMA contraction may differ).
    for (int64_t i = 0; i < n; ++i) {
        ASSERT_NEAR(grad.at(i), strided_grad_input.at(i), 1e-6 * std::fabs(grad.at(i)) + 1e-30) << "element " << i;
    }
    EXPECT_TRUE(strided_grad_input.untouched_outside_view());
}

TEST_P(PointwiseTest, BackwardSpecialValuesFollowTheForwardFormula) {
    // NaN in either argument gives NaN or the documented PyTorch result; never a crash or a
    // finite value from a NaN saved tensor unless the op masks it (relu's threshold).
    const std::vector<float> values = special_values();
    const int64_t n = static_cast<int64_t>(values.size());
    TestTensor grad({n}), saved({n}), grad_input({n});
    for (int64_t i = 0; i < n; ++i) {
        grad.at(i) = 1.0f;
        saved.at(i) = values[static_cast<size_t>(i)];
    }
    ASSERT_EQ(backward(grad, saved, grad_input), NNF_OK) << nnf_last_error();
    for (int64_t i = 0; i < n; ++i) {
        const float s = values[static_cast<size_t>(i)];
        if (std::isfinite(s) && std::fabs(s) < 50) EXPECT_TRUE(std::isfinite(grad_input.at(i))) << "saved = " << s;
    }
}

INSTANTIATE_TEST_SUITE_P(Registry, PointwiseTest, ::testing::ValuesIn(pointwise_cases()),
                         [](const ::testing::TestParamInfo<OpCase> &info) { return info.param.label; });

TEST(PointwiseRegistry, EveryOpHasAReference) {
    int count = 0;
    const rt::OpInfo *ops = rt::op_table(&count);
    ASSERT_GT(count, 0);
    for (int i = 0; i < count; ++i) {
        if (std::string(ops[i].family) != "pointwise") continue;
        EXPECT_TRUE(pointwise_references().count(ops[i].name)) << ops[i].name;
    }
}

TEST(PointwiseSemantics, ReluKeepsNegativeZeroAndNaNPayloadLikePyTorch) {
    NNF_SKIP_UNLESS_ISA_AVAILABLE();
    TestTensor x({3}), y({3});
    const uint32_t payload_nan = 0x7fc00123u;
    std::memcpy(&x.at(0), &payload_nan, 4);
    x.at(1) = -0.0f;
    x.at(2) = -3.0f;
    ASSERT_EQ(nnf_relu_forward(x.dl(), y.dl()), NNF_OK);
    uint32_t bits;
    std::memcpy(&bits, &y.at(0), 4);
    EXPECT_EQ(bits, payload_nan);
    EXPECT_TRUE(std::signbit(y.at(1)));
    EXPECT_EQ(y.at(2), 0.0f);
    EXPECT_FALSE(std::signbit(y.at(2)));
    // threshold_backward: grad passes where x > 0 is not false... i.e. NaN x keeps the gradient.
    TestTensor g({3}), gi({3});
    for (int i = 0; i < 3; ++i) g.at(i) = 2.0f;
    ASSERT_EQ(nnf_relu_backward(g.dl(), x.dl(), gi.dl()), NNF_OK);
    EXPECT_EQ(gi.at(0), 2.0f);
    EXPECT_EQ(gi.at(1), 0.0f);
    EXPECT_EQ(gi.at(2), 0.0f);
}

TEST(PointwiseSemantics, ExactGeluKeepsRelativeAccuracyInTheNegativeTail) {
    // PyTorch's 0.5 x (1 + erf(x / sqrt2)) cancels to 0 below about -5.9 (100% relative error);
    // nnfuse computes x Phi(x) with erfc and stays within 1e-5 down to where y underflows.
    NNF_SKIP_UNLESS_ISA_AVAILABLE();
    const int64_t n = 1000;
    TestTensor x({n}), y({n});
    for (int64_t i = 0; i < n; ++i) x.at(i) = static_cast<float>(-5.0 - 8.0 * static_cast<double>(i) / n);
    ASSERT_EQ(nnf_gelu_forward(x.dl(), y.dl(), nullptr), NNF_OK);
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double xd = x.at(i);
        const double expected = 0.5 * xd * std::erfc(-xd / std::sqrt(2.0));
        worst = std::max(worst, std::fabs((y.at(i) - expected) / expected));
    }
    EXPECT_LT(worst, 1e-5);
    RecordProperty("worst_relative_error", std::to_string(worst));
}

TEST(CpuDispatch, TheKernelsRunTheRequestedPath) {
    NNF_SKIP_UNLESS_ISA_AVAILABLE();
    TestTensor x({64}), y({64});
    for (int i = 0; i < 64; ++i) x.at(i) = 1.0f;
    ASSERT_EQ(nnf_sigmoid_forward(x.dl(), y.dl()), NNF_OK);
    const int expected = nnf_get_isa() == NNF_ISA_BASELINE ? -1 : static_cast<int>(nnf_get_isa());
    EXPECT_EQ(rt::dispatched_isa_for_testing(), expected) << "nnf_get_isa() = " << nnf_isa_name(nnf_get_isa());
    // The cap is frozen once kernels ran.
    EXPECT_EQ(nnf_set_max_isa(NNF_ISA_BASELINE), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_set_max_isa"), std::string::npos);
}

}  // namespace
}  // namespace nnf::test

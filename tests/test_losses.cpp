// The loss family against double-precision references (tests/reference/loss_reference.h):
// elementwise losses, nll_loss and cross_entropy (class indices and probabilities, weights,
// ignore_index, label smoothing, K-dim inputs, strided views), every reduction; backward against
// central finite differences of the reference in double; the fused forward_backward against the
// separate passes, in place over the logits; extreme logits; and every validation error.
#include <cmath>
#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "elementwise_loss_calls.h"
#include "loss_driver.h"
#include "nnfuse/nnfuse.h"
#include "op_table.h"
#include "reference/loss_reference.h"
#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const nnf_reduction kReductions[] = {NNF_REDUCTION_NONE, NNF_REDUCTION_MEAN, NNF_REDUCTION_SUM};
const char *const kElementwiseLosses[] = {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"};

const char *reduction_name(nnf_reduction r) {
    return r == NNF_REDUCTION_NONE ? "none" : r == NNF_REDUCTION_MEAN ? "mean" : "sum";
}

// An owning int64 tensor (class indices), contiguous.
class IndexTensor {
public:
    IndexTensor(std::vector<int64_t> shape, std::vector<int64_t> values) : shape_(std::move(shape)), data_(std::move(values)) {
        t_.data = data_.empty() ? nullptr : data_.data();
        t_.device = {kDLCPU, 0};
        t_.ndim = static_cast<int32_t>(shape_.size());
        t_.dtype = {kDLInt, 64, 1};
        t_.shape = shape_.data();
    }
    DLTensor *dl() { return &t_; }
    std::vector<int64_t> &values() { return data_; }

private:
    std::vector<int64_t> shape_, data_;
    DLTensor t_{};
};

// ---- elementwise losses --------------------------------------------------------------------

float width_of(const std::string &op) {
    return op == "smooth_l1_loss" ? 0.75f : op == "huber_loss" ? 1.5f : 0.0f;
}

class LossTest : public ::testing::Test {
protected:
    void SetUp() override { NNF_SKIP_UNLESS_ISA_AVAILABLE(); }
    void TearDown() override {
        rt::set_loss_rows_per_call_for_testing(0);
        rt::set_max_span_per_call_for_testing(0);
    }
};

// Forward of every elementwise loss and reduction on contiguous and strided (transposed,
// offset) views, sizes below, at and above the vector width and one that is not a multiple.
TEST_F(LossTest, ElementwiseLossForwardEveryOpAndReductionMatchesReference) {
    struct Case {
        std::vector<int64_t> shape, x_strides;
    };
    const Case cases[] = {{{1}, {}}, {{7}, {}}, {{16}, {}}, {{17, 3}, {}}, {{65537}, {}}, {{13, 9}, {1, 13}},
                          {{4, 5, 6}, {60, 1, 5}}};
    for (const char *op : kElementwiseLosses) {
        for (const Case &c : cases) {
            for (nnf_reduction r : kReductions) {
                TestTensor x(c.shape, c.x_strides, 3), t(c.shape);
                fill_random(x, 1);
                fill_random(t, 2);
                std::vector<double> ref(static_cast<size_t>(x.size()));
                for (int64_t i = 0; i < x.size(); ++i) {
                    ref[static_cast<size_t>(i)] = elementwise_loss_ref(op, double(x.at(i)) - t.at(i), width_of(op));
                }
                if (r == NNF_REDUCTION_NONE) {
                    TestTensor y(c.shape);
                    ASSERT_EQ(elementwise_forward(op, x.dl(), t.dl(), y.dl(), r, width_of(op)), NNF_OK) << nnf_last_error();
                    for (int64_t i = 0; i < y.size(); ++i) {
                        ASSERT_TRUE(close(y.at(i), ref[static_cast<size_t>(i)], 2e-6, 1e-7)) << op << " element " << i;
                    }
                } else {
                    TestTensor y({});
                    ASSERT_EQ(elementwise_forward(op, x.dl(), t.dl(), y.dl(), r, width_of(op)), NNF_OK) << nnf_last_error();
                    const double expected = reduce_ref(ref, static_cast<RefReduction>(r), double(x.size()));
                    EXPECT_TRUE(close(y.at(0), expected, 1e-6, 1e-7)) << op << " " << reduction_name(r) << " size " << x.size();
                }
                EXPECT_TRUE(x.untouched_outside_view());
            }
        }
    }
}

// Backward against central finite differences of the double reference, every op and reduction,
// with d = x - target kept away from the kinks (0, +-beta, +-delta) where the derivative jumps.
TEST_F(LossTest, ElementwiseLossBackwardMatchesFiniteDifferences) {
    const std::vector<int64_t> shape = {5, 7};
    for (const char *op : kElementwiseLosses) {
        const double width = width_of(op);
        for (nnf_reduction r : kReductions) {
            TestTensor x(shape, {1, 5}), t(shape), gi(shape);
            fill_random(x, 3);
            fill_random(t, 4);
            for (int64_t i = 0; i < x.size(); ++i) {
                double d = double(x.at(i)) - t.at(i);
                for (double kink : {0.0, width, -width}) {
                    if (std::fabs(d - kink) < 1e-2) x.at(i) += 0.05f;
                }
            }
            const bool none = r == NNF_REDUCTION_NONE;
            TestTensor g(none ? shape : std::vector<int64_t>{});
            fill_random(g, 5, 0.5, 2);
            ASSERT_EQ(elementwise_backward(op, g.dl(), x.dl(), t.dl(), gi.dl(), r, float(width)), NNF_OK) << nnf_last_error();
            auto objective = [&](int64_t k, double xk) {
                std::vector<double> v(static_cast<size_t>(x.size()));
                double s = 0;
                for (int64_t i = 0; i < x.size(); ++i) {
                    const double xi = i == k ? xk : double(x.at(i));
                    v[static_cast<size_t>(i)] = elementwise_loss_ref(op, xi - t.at(i), width);
                    if (none) s += g.at(i) * v[static_cast<size_t>(i)];
                }
                return none ? s : g.at(0) * reduce_ref(v, static_cast<RefReduction>(r), double(x.size()));
            };
            for (int64_t k = 0; k < x.size(); ++k) {
                const double h = 1e-6;
                const double fd = (objective(k, x.at(k) + h) - objective(k, x.at(k) - h)) / (2 * h);
                ASSERT_TRUE(close(gi.at(k), fd, 1e-4, 1e-6)) << op << " " << reduction_name(r) << " element " << k;
            }
        }
    }
}

// PyTorch: smooth_l1 with beta = 0 is l1_loss, including l1's gradient 0 at d = 0 (the
// smooth_l1 branches would give -1 there); huber(delta) = delta * smooth_l1(beta = delta).
TEST_F(LossTest, SmoothL1WithBetaZeroIsL1AndHuberIsDeltaTimesSmoothL1) {
    TestTensor x({6}), t({6}), a({6}), b({6}), g({6}), ga({6}), gb({6});
    const float xs[] = {-2, -0.5f, 0, 0.25f, 3, 1};
    for (int i = 0; i < 6; ++i) {
        x.at(i) = xs[i];
        t.at(i) = i == 5 ? 1.0f : 0.0f;  // d = 0 twice: at x = 0 and at x = t = 1
        g.at(i) = 1;
    }
    ASSERT_EQ(elementwise_forward("smooth_l1_loss", x.dl(), t.dl(), a.dl(), NNF_REDUCTION_NONE, 0.0f), NNF_OK);
    ASSERT_EQ(elementwise_forward("l1_loss", x.dl(), t.dl(), b.dl(), NNF_REDUCTION_NONE, 0.0f), NNF_OK);
    ASSERT_EQ(elementwise_backward("smooth_l1_loss", g.dl(), x.dl(), t.dl(), ga.dl(), NNF_REDUCTION_NONE, 0.0f), NNF_OK);
    ASSERT_EQ(elementwise_backward("l1_loss", g.dl(), x.dl(), t.dl(), gb.dl(), NNF_REDUCTION_NONE, 0.0f), NNF_OK);
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(a.at(i), b.at(i)) << i;
        EXPECT_EQ(ga.at(i), gb.at(i)) << i;
    }
    EXPECT_EQ(gb.at(2), 0.0f) << "sign(0) = 0";
    EXPECT_EQ(gb.at(5), 0.0f) << "sign(0) = 0";
    const float delta = 0.8f;
    ASSERT_EQ(elementwise_forward("huber_loss", x.dl(), t.dl(), a.dl(), NNF_REDUCTION_NONE, delta), NNF_OK);
    ASSERT_EQ(elementwise_forward("smooth_l1_loss", x.dl(), t.dl(), b.dl(), NNF_REDUCTION_NONE, delta), NNF_OK);
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(a.at(i), delta * b.at(i), 1e-6) << i;
}

// PyTorch: the mean of no element is NaN (0 / 0), the sum 0; backward of an empty input writes
// nothing and succeeds.
TEST_F(LossTest, EmptyInputMeanIsNaNAndSumIsZero) {
    for (const char *op : kElementwiseLosses) {
        TestTensor x({0, 3}), t({0, 3}), y({}), gi({0, 3}), g({});
        g.at(0) = 1;
        ASSERT_EQ(elementwise_forward(op, x.dl(), t.dl(), y.dl(), NNF_REDUCTION_MEAN, 1.0f), NNF_OK);
        EXPECT_TRUE(std::isnan(y.at(0))) << op;
        ASSERT_EQ(elementwise_forward(op, x.dl(), t.dl(), y.dl(), NNF_REDUCTION_SUM, 1.0f), NNF_OK);
        EXPECT_EQ(y.at(0), 0.0f) << op;
        EXPECT_EQ(elementwise_backward(op, g.dl(), x.dl(), t.dl(), gi.dl(), NNF_REDUCTION_MEAN, 1.0f), NNF_OK) << op;
    }
}

// The reduced sum is accumulated per slice in double: 2^20 + 3 terms of 0.01 sum to within
// double rounding of the exact value, where a float running sum would be off by percents.
TEST_F(LossTest, ElementwiseSumAccumulatesInDoubleAcrossSlices) {
    const int64_t n = (int64_t{1} << 20) + 3;
    TestTensor x({n}), t({n}), y({});
    for (int64_t i = 0; i < n; ++i) {
        x.at(i) = 0.1f;
        t.at(i) = 0.0f;
    }
    rt::set_max_span_per_call_for_testing(100003);  // many slices
    ASSERT_EQ(elementwise_forward("mse_loss", x.dl(), t.dl(), y.dl(), NNF_REDUCTION_SUM, 0.0f), NNF_OK);
    const double term = double(0.1f) * double(0.1f);
    EXPECT_TRUE(close(y.at(0), term * double(n), 1e-7, 0));
}

// A long row is summed in parallel chunks (64K elements on AVX-512) whose partial sums are
// added in a fixed order: the same bits on 1 and 2 threads, and the double reference's value.
TEST_F(LossTest, ElementwiseSumIsTheSameOnEveryThreadCount) {
    const int64_t n = 3 * 65536 + 5;
    TestTensor x({n}), t({n});
    fill_random(x, 11);
    fill_random(t, 12);
    double expected = 0;
    for (int64_t i = 0; i < n; ++i) expected += elementwise_loss_ref("smooth_l1_loss", double(x.at(i)) - t.at(i), 1.0);
    float results[2];
    for (int threads : {1, 2}) {
        ASSERT_EQ(nnf_set_num_threads(threads), NNF_OK);
        TestTensor y({});
        ASSERT_EQ(elementwise_forward("smooth_l1_loss", x.dl(), t.dl(), y.dl(), NNF_REDUCTION_SUM, 1.0f), NNF_OK)
            << nnf_last_error();
        results[threads - 1] = y.at(0);
    }
    ASSERT_EQ(nnf_set_num_threads(0), NNF_OK);
    EXPECT_EQ(std::memcmp(&results[0], &results[1], sizeof(float)), 0) << results[0] << " vs " << results[1];
    EXPECT_TRUE(close(results[0], expected, 1e-6, 0)) << results[0] << " vs " << expected;
}

// PyTorch's derivative of each elementwise loss with respect to x, in double, special values
// included (ATen's backward kernels; l1 through autograd of |d|): NaN stays NaN for mse,
// smooth_l1 and huber (every comparison with NaN is false, so their kernels reach d / beta, d or
// 2 d); l1's gradient is sgn(d), and at::sgn(NaN) = (0 < NaN) - (NaN < 0) = 0 (printed by
// at::sgn on torch 2.15), so a NaN difference, or inf - inf, gets gradient 0 from l1.
double elementwise_derivative_ref(const std::string &op, double d, double width) {
    const double sgn = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
    if (op == "mse_loss") return 2 * d;
    if (op == "l1_loss" || (op == "smooth_l1_loss" && width == 0)) return sgn;
    const double scale = op == "huber_loss" ? width : 1.0;  // huber = delta * smooth_l1(beta = delta)
    if (d <= -width) return -scale;
    if (d >= width) return scale;
    return op == "huber_loss" ? d : d / width;
}

bool same_special_or_close(double got, double ref, double rtol) {
    if (std::isnan(ref) || std::isinf(ref)) return std::isnan(ref) ? std::isnan(got) : got == ref;
    return close(got, ref, rtol, 1e-7);
}

// NaN and +-inf in the input or the target, forward and backward, every reduction, against
// PyTorch's semantics: per element the loss of a NaN difference (NaN input, NaN target, or inf -
// inf) is NaN and of an infinite one inf; a reduction over a NaN is NaN, over an inf (and no NaN)
// inf; gradients as elementwise_derivative_ref. The special values sit in the vector body and the
// tail of 37 elements; one tensor has a NaN (reduced: NaN), one only infinities (reduced: inf,
// which a compensated sum that forms inf - inf would turn into NaN).
TEST_F(LossTest, ElementwiseLossesPropagateNaNAndInfinityAsPyTorch) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    struct Special {
        int64_t index;
        double x, t;
    };
    const std::vector<std::vector<Special>> cases = {
        {{0, nan, 0}, {5, kInf, 0}, {16, -kInf, 1}, {17, 1, nan}, {31, kInf, kInf}, {33, 0.5, kInf},
         {36, -kInf, -kInf}},
        {{3, kInf, 0.25}, {20, -2, kInf}, {35, -kInf, 3}},
    };
    const int64_t n = 37;
    for (const char *op : kElementwiseLosses) {
        for (double width : {double(width_of(op)), std::string(op) == "smooth_l1_loss" ? 0.0 : double(width_of(op))}) {
            for (size_t k = 0; k < cases.size(); ++k) {
                for (nnf_reduction r : kReductions) {
                    SCOPED_TRACE(std::string(op) + " width " + std::to_string(width) + " case " + std::to_string(k) +
                                 " " + reduction_name(r));
                    TestTensor x({n}), t({n});
                    fill_random(x, 40);
                    fill_random(t, 41);
                    for (const Special &sp : cases[k]) {
                        x.at(sp.index) = float(sp.x);
                        t.at(sp.index) = float(sp.t);
                    }
                    const bool none = r == NNF_REDUCTION_NONE;
                    std::vector<double> ref(n);
                    for (int64_t i = 0; i < n; ++i) ref[size_t(i)] = elementwise_loss_ref(op, double(x.at(i)) - t.at(i), width);
                    TestTensor y(none ? std::vector<int64_t>{n} : std::vector<int64_t>{});
                    ASSERT_EQ(elementwise_forward(op, x.dl(), t.dl(), y.dl(), r, float(width)), NNF_OK) << nnf_last_error();
                    if (none) {
                        for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(same_special_or_close(y.at(i), ref[size_t(i)], 2e-6)) << i << ": " << y.at(i);
                    } else {
                        const double expected = reduce_ref(ref, static_cast<RefReduction>(r), double(n));
                        EXPECT_TRUE(std::isnan(expected) == (k == 0) && std::isinf(expected) == (k == 1));  // the cases' point
                        EXPECT_TRUE(same_special_or_close(y.at(0), expected, 1e-6)) << y.at(0) << " expected " << expected;
                    }
                    TestTensor g(none ? std::vector<int64_t>{n} : std::vector<int64_t>{}), gi({n});
                    fill_random(g, 42, 0.5, 2);
                    ASSERT_EQ(elementwise_backward(op, g.dl(), x.dl(), t.dl(), gi.dl(), r, float(width)), NNF_OK)
                        << nnf_last_error();
                    const double norm = r == NNF_REDUCTION_MEAN ? 1.0 / double(n) : 1.0;
                    for (int64_t i = 0; i < n; ++i) {
                        const double expected = double(g.at(none ? i : 0)) * norm *
                                                elementwise_derivative_ref(op, double(x.at(i)) - t.at(i), width);
                        ASSERT_TRUE(same_special_or_close(gi.at(i), expected, 1e-6)) << i << ": " << gi.at(i) << " expected " << expected;
                    }
                }
            }
        }
    }
}

// ---- classification losses -------------------------------------------------------------------

// The logical (N, C, D) layout of a test: shape of the input and of the per-row tensors.
struct Layout {
    std::vector<int64_t> input_shape, row_shape;
    int64_t N = 1, C = 1, D = 1;
};

Layout make_layout(std::vector<int64_t> input_shape) {
    Layout l;
    l.input_shape = input_shape;
    if (input_shape.size() == 1) {
        l.C = input_shape[0];
        return l;
    }
    l.N = input_shape[0];
    l.C = input_shape[1];
    l.row_shape.push_back(l.N);
    for (size_t d = 2; d < input_shape.size(); ++d) {
        l.D *= input_shape[d];
        l.row_shape.push_back(input_shape[d]);
    }
    return l;
}

struct Problem {
    Layout layout;
    ClassProblem ref;
    bool probabilities = false, weighted = false;
};

Problem make_problem(std::vector<int64_t> shape, bool probabilities, bool weighted, double eps, unsigned seed,
                     double ignored_fraction = 0.25) {
    Problem p;
    p.layout = make_layout(shape);
    p.probabilities = probabilities;
    p.weighted = weighted;
    ClassProblem &r = p.ref;
    r.N = p.layout.N;
    r.C = p.layout.C;
    r.D = p.layout.D;
    r.label_smoothing = eps;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> logit(-4, 4), unit(0, 1);
    for (int64_t i = 0; i < r.N * r.C * r.D; ++i) r.x.push_back(float(logit(rng)));
    if (probabilities) {
        r.probs.resize(r.x.size());
        for (int64_t n = 0; n < r.N; ++n) {
            for (int64_t d = 0; d < r.D; ++d) {
                double s = 0;
                std::vector<double> v(static_cast<size_t>(r.C));
                for (double &q : v) s += (q = unit(rng));
                for (int64_t c = 0; c < r.C; ++c) r.probs[static_cast<size_t>((n * r.C + c) * r.D + d)] = float(v[static_cast<size_t>(c)] / s);
            }
        }
    } else {
        for (int64_t i = 0; i < r.N * r.D; ++i) {
            r.target.push_back(unit(rng) < ignored_fraction ? r.ignore_index
                                                            : static_cast<int64_t>(unit(rng) * double(r.C)) % r.C);
        }
    }
    if (weighted) {
        for (int64_t c = 0; c < r.C; ++c) r.weight.push_back(float(0.25 + unit(rng)));
    }
    return p;
}

// The tensors of one problem: x optionally a strided view (its class dim innermost in memory).
struct Tensors {
    TestTensor x, probs, weight;
    IndexTensor target;
    Tensors(const Problem &p, bool strided_x)
        : x(p.layout.input_shape, strided_x ? transposed_strides(p.layout) : std::vector<int64_t>{}, strided_x ? 5 : 0),
          probs(p.probabilities ? p.layout.input_shape : std::vector<int64_t>{0}),
          weight(p.weighted ? std::vector<int64_t>{p.layout.C} : std::vector<int64_t>{0}),
          target(p.layout.row_shape, p.probabilities ? std::vector<int64_t>(1, 0) : p.ref.target) {
        for (int64_t i = 0; i < x.size(); ++i) x.at(i) = float(p.ref.x[static_cast<size_t>(i)]);
        if (p.probabilities) {
            for (int64_t i = 0; i < probs.size(); ++i) probs.at(i) = float(p.ref.probs[static_cast<size_t>(i)]);
        }
        for (int64_t c = 0; p.weighted && c < p.layout.C; ++c) weight.at(c) = float(p.ref.weight[static_cast<size_t>(c)]);
        probabilities = p.probabilities;
        weighted = p.weighted;
    }
    // Strides that put dim 0 innermost (a transposed view): every dim non-unit-stride.
    static std::vector<int64_t> transposed_strides(const Layout &l) {
        std::vector<int64_t> s(l.input_shape.size());
        int64_t stride = 1;
        for (size_t d = 0; d < s.size(); ++d) {
            s[d] = stride;
            stride *= l.input_shape[d];
        }
        return s;
    }
    DLTensor *target_dl() { return probabilities ? probs.dl() : target.dl(); }
    DLTensor *weight_dl() { return weighted ? weight.dl() : nullptr; }
    bool probabilities = false, weighted = false;
};

nnf_cross_entropy_params ce_params(const Problem &p, nnf_reduction r) {
    nnf_cross_entropy_params params = nnf_cross_entropy_default_params();
    params.reduction = r;
    params.ignore_index = p.ref.ignore_index;
    params.label_smoothing = float(p.ref.label_smoothing);
    return params;
}

// The objective sum_r g_r loss_r (none) or g * reduced, in double, for finite differences.
double objective(const ClassProblem &ref, bool nll, nnf_reduction r, const std::vector<double> &g) {
    const ClassResult res = classification_ref(ref, nll);
    if (r == NNF_REDUCTION_NONE) {
        double s = 0;
        for (size_t i = 0; i < res.rows.size(); ++i) s += g[i] * res.rows[i];
        return s;
    }
    return g[0] * (r == NNF_REDUCTION_MEAN ? res.reduced_mean : res.reduced_sum);
}

// Central differences at every element of small problems; on large ones (each difference costs
// a whole reference evaluation) at about 200 spread-out elements, NaN elsewhere (not compared).
std::vector<double> finite_difference_gradient(ClassProblem ref, bool nll, nnf_reduction r, const std::vector<double> &g) {
    std::vector<double> grad(ref.x.size(), std::numeric_limits<double>::quiet_NaN());
    const size_t step = std::max<size_t>(1, ref.x.size() / 200);
    for (size_t k = 0; k < ref.x.size(); k += step) {
        const double x0 = ref.x[k], h = 1e-6;
        ref.x[k] = x0 + h;
        const double up = objective(ref, nll, r, g);
        ref.x[k] = x0 - h;
        const double down = objective(ref, nll, r, g);
        ref.x[k] = x0;
        grad[k] = (up - down) / (2 * h);
    }
    return grad;
}

// Checks forward, backward (against finite differences) and the fused pass (against both) of
// cross_entropy on one problem, every reduction.
void check_cross_entropy(const Problem &p, bool strided_x) {
    const ClassResult ref = classification_ref(p.ref, false);
    const std::string what = std::string(p.probabilities ? "probabilities" : "indices") +
                             (p.weighted ? " weighted" : "") + " eps " + std::to_string(p.ref.label_smoothing) +
                             (strided_x ? " strided" : "");
    for (nnf_reduction r : kReductions) {
        SCOPED_TRACE(what + " reduction " + reduction_name(r));
        Tensors t(p, strided_x);
        const bool none = r == NNF_REDUCTION_NONE;
        const std::vector<int64_t> out_shape = none ? p.layout.row_shape : std::vector<int64_t>{};
        TestTensor out(out_shape), g(out_shape), grad(p.layout.input_shape), fused_out(out_shape),
            fused_grad(p.layout.input_shape);
        fill_random(g, 7, 0.5, 2);
        const nnf_cross_entropy_params params = ce_params(p, r);
        ASSERT_EQ(nnf_cross_entropy_forward(t.x.dl(), t.target_dl(), t.weight_dl(), out.dl(), &params), NNF_OK)
            << nnf_last_error();
        if (none) {
            for (int64_t i = 0; i < out.size(); ++i) {
                ASSERT_TRUE(close(out.at(i), ref.rows[static_cast<size_t>(i)], 2e-6, 2e-6)) << "row " << i;
            }
        } else {
            ASSERT_TRUE(close(out.at(0), r == NNF_REDUCTION_MEAN ? ref.reduced_mean : ref.reduced_sum, 2e-6, 2e-6));
        }
        ASSERT_EQ(nnf_cross_entropy_backward(g.dl(), t.x.dl(), t.target_dl(), t.weight_dl(), grad.dl(), &params), NNF_OK)
            << nnf_last_error();
        std::vector<double> gv;
        for (int64_t i = 0; i < g.size(); ++i) gv.push_back(g.at(i));
        // Every target ignored under mean: the loss is NaN (0 / 0) but PyTorch's gradient is 0
        // (nll_loss_backward skips ignored targets), which finite differences of NaN cannot show.
        const bool no_weight = !p.probabilities && r == NNF_REDUCTION_MEAN && ref.total_weight == 0;
        const std::vector<double> fd = no_weight ? std::vector<double>(static_cast<size_t>(grad.size()), 0.0)
                                                 : finite_difference_gradient(p.ref, false, r, gv);
        for (int64_t i = 0; i < grad.size(); ++i) {
            if (std::isnan(fd[static_cast<size_t>(i)])) continue;  // not sampled
            ASSERT_TRUE(close(grad.at(i), fd[static_cast<size_t>(i)], 1e-4, 2e-6)) << "element " << i;
        }
        ASSERT_EQ(nnf_cross_entropy_forward_backward(t.x.dl(), t.target_dl(), t.weight_dl(), g.dl(), fused_out.dl(),
                                                     fused_grad.dl(), &params),
                  NNF_OK)
            << nnf_last_error();
        // One algorithm behind all three entry points: the fused pass agrees to float rounding.
        for (int64_t i = 0; i < out.size(); ++i) ASSERT_TRUE(close(fused_out.at(i), out.at(i), 1e-6, 1e-7)) << i;
        for (int64_t i = 0; i < grad.size(); ++i) ASSERT_TRUE(close(fused_grad.at(i), grad.at(i), 1e-6, 1e-7)) << i;
        EXPECT_TRUE(grad.untouched_outside_view() && t.x.untouched_outside_view());
    }
}

TEST_F(LossTest, CrossEntropyClassIndicesEveryReductionWeightAndSmoothingMatchesReference) {
    const std::vector<std::vector<int64_t>> shapes = {{5}, {6, 5}, {3, 17, 1}, {2, 4, 3, 5}};
    unsigned seed = 10;
    for (const auto &shape : shapes) {
        for (bool weighted : {false, true}) {
            for (double eps : {0.0, 0.1, 1.0}) {
                for (bool strided : {false, true}) check_cross_entropy(make_problem(shape, false, weighted, eps, ++seed), strided);
            }
        }
    }
}

TEST_F(LossTest, CrossEntropyProbabilityTargetsMeanDividesByRowsAndIgnoresIgnoreIndex) {
    const std::vector<std::vector<int64_t>> shapes = {{7}, {4, 9}, {2, 6, 2, 3}};
    unsigned seed = 100;
    for (const auto &shape : shapes) {
        for (bool weighted : {false, true}) {
            for (double eps : {0.0, 0.2}) check_cross_entropy(make_problem(shape, true, weighted, eps, ++seed), shape.size() > 2);
        }
    }
}

// Rows longer than a vector and than one kernel call's block, and blocks cut down to a few
// rows or by the index-span limit: the same losses.
TEST_F(LossTest, CrossEntropyAcrossKernelCallBlocksAndSpanLimits) {
    const Problem p = make_problem({37, 301}, false, true, 0.05, 7);
    check_cross_entropy(p, false);
    rt::set_loss_rows_per_call_for_testing(3);
    check_cross_entropy(p, true);
    rt::set_loss_rows_per_call_for_testing(0);
    rt::set_max_span_per_call_for_testing(2000);  // a few rows of 301 classes per call
    check_cross_entropy(p, false);
    const Problem kdim = make_problem({3, 11, 4, 5}, false, false, 0.0, 8);
    rt::set_loss_rows_per_call_for_testing(2);
    check_cross_entropy(kdim, true);
}

// 256K classes per row: the row max and sums run over 2^18 terms (double sums).
TEST_F(LossTest, CrossEntropyWith256KClasses) {
    const int64_t C = 256 * 1024;
    Problem p = make_problem({2, C}, false, false, 0.1, 9, 0.0);
    const ClassResult ref = classification_ref(p.ref, false);
    Tensors t(p, false);
    TestTensor out({}), grad({2, C});
    const nnf_cross_entropy_params params = ce_params(p, NNF_REDUCTION_SUM);
    ASSERT_EQ(nnf_cross_entropy_forward_backward(t.x.dl(), t.target_dl(), nullptr, nullptr, out.dl(), grad.dl(), &params),
              NNF_OK)
        << nnf_last_error();
    EXPECT_TRUE(close(out.at(0), ref.reduced_sum, 2e-6, 0));
    // The analytic gradient of the reference: p_c - (1 - eps) [c = t] - eps / C per row.
    for (int64_t n = 0; n < 2; ++n) {
        const std::vector<double> logp = log_softmax_row(p.ref, n, 0);
        for (int64_t c = 0; c < C; c += 997) {
            const double expected = std::exp(logp[static_cast<size_t>(c)]) - (c == p.ref.target[static_cast<size_t>(n)] ? 0.9 : 0.0) - 0.1 / double(C);
            ASSERT_TRUE(close(grad.at(n * C + c), expected, 1e-4, 1e-9)) << n << ", " << c;
        }
    }
}

// ignore_index on every target: mean is 0 / 0 = NaN (PyTorch >= 1.11), sum 0, none all zeros,
// and the gradient is zero everywhere (also under mean, where the scale is 1 / 0).
TEST_F(LossTest, AllTargetsIgnoredGiveNaNMeanZeroSumAndZeroGradient) {
    Problem p = make_problem({4, 6}, false, true, 0.1, 11, 1.0);
    for (nnf_reduction r : kReductions) {
        Tensors t(p, false);
        const bool none = r == NNF_REDUCTION_NONE;
        TestTensor out(none ? std::vector<int64_t>{4} : std::vector<int64_t>{}), grad({4, 6});
        const nnf_cross_entropy_params params = ce_params(p, r);
        ASSERT_EQ(nnf_cross_entropy_forward_backward(t.x.dl(), t.target_dl(), t.weight_dl(), nullptr, out.dl(), grad.dl(),
                                                     &params),
                  NNF_OK);
        if (r == NNF_REDUCTION_MEAN) EXPECT_TRUE(std::isnan(out.at(0)));
        if (r == NNF_REDUCTION_SUM) EXPECT_EQ(out.at(0), 0.0f);
        for (int64_t i = 0; none && i < 4; ++i) EXPECT_EQ(out.at(i), 0.0f);
        for (int64_t i = 0; i < grad.size(); ++i) ASSERT_EQ(grad.at(i), 0.0f) << reduction_name(r) << " " << i;
    }
}

// The gradient may overwrite the logits: the same result as out of place, contiguous and strided,
// for the fused pass and the backward alone (both store the exps in the gradient's memory first).
TEST_F(LossTest, FusedForwardBackwardWritesTheGradientOverTheLogitsInPlace) {
    for (bool probabilities : {false, true}) {
        for (bool strided : {false, true}) {
            const Problem p = make_problem({9, 40, 3}, probabilities, true, 0.1, 12);
            Tensors a(p, strided), b(p, strided);
            TestTensor out_a({}), out_b({}), grad({9, 40, 3});
            const nnf_cross_entropy_params params = ce_params(p, NNF_REDUCTION_MEAN);
            rt::set_loss_rows_per_call_for_testing(4);
            ASSERT_EQ(nnf_cross_entropy_forward_backward(a.x.dl(), a.target_dl(), a.weight_dl(), nullptr, out_a.dl(),
                                                         grad.dl(), &params),
                      NNF_OK);
            ASSERT_EQ(nnf_cross_entropy_forward_backward(b.x.dl(), b.target_dl(), b.weight_dl(), nullptr, out_b.dl(),
                                                         b.x.dl(), &params),
                      NNF_OK)
                << nnf_last_error();
            EXPECT_EQ(out_a.at(0), out_b.at(0));
            for (int64_t i = 0; i < grad.size(); ++i) ASSERT_EQ(b.x.at(i), grad.at(i)) << i;
            EXPECT_TRUE(b.x.untouched_outside_view());

            Tensors c(p, strided);
            TestTensor g({});
            g.at(0) = 0.75f;
            ASSERT_EQ(nnf_cross_entropy_backward(g.dl(), a.x.dl(), a.target_dl(), a.weight_dl(), grad.dl(), &params), NNF_OK);
            ASSERT_EQ(nnf_cross_entropy_backward(g.dl(), c.x.dl(), c.target_dl(), c.weight_dl(), c.x.dl(), &params), NNF_OK)
                << nnf_last_error();
            for (int64_t i = 0; i < grad.size(); ++i) ASSERT_EQ(c.x.at(i), grad.at(i)) << "backward " << i;
            EXPECT_TRUE(c.x.untouched_outside_view());
        }
    }
}

// Logits 1000 apart, -inf entries, a -inf target and a row of all -inf, against PyTorch's
// behaviour: a -inf non-target costs nothing and gets gradient 0; a -inf target costs inf (its
// gradient is still finite: p - 1); smoothing over a -inf logit is inf; an all -inf row is NaN.
TEST_F(LossTest, ExtremeLogitsFollowPyTorch) {
    const float inf = std::numeric_limits<float>::infinity();
    const int64_t C = 4;
    const std::vector<std::vector<float>> rows = {
        {1000, 0, -1000, 500}, {-inf, 3, -inf, 1}, {-inf, 3, 2, 1}, {-inf, -inf, -inf, -inf}, {88, 89, -200, 300}};
    const std::vector<int64_t> targets = {0, 1, 0, 2, 3};
    const int64_t N = static_cast<int64_t>(rows.size());
    for (float eps : {0.0f, 0.1f}) {
        TestTensor x({N, C}), out({N}), grad({N, C});
        for (int64_t n = 0; n < N; ++n) {
            for (int64_t c = 0; c < C; ++c) x.at(n * C + c) = rows[static_cast<size_t>(n)][static_cast<size_t>(c)];
        }
        IndexTensor t({N}, targets);
        nnf_cross_entropy_params params = nnf_cross_entropy_default_params();
        params.reduction = NNF_REDUCTION_NONE;
        params.label_smoothing = eps;
        ASSERT_EQ(nnf_cross_entropy_forward_backward(x.dl(), t.dl(), nullptr, nullptr, out.dl(), grad.dl(), &params), NNF_OK);
        // Row 0: lse = 1000 + log(1 + e^-500 + ...) = 1000 exactly in float.
        const double smooth0 = (1000 - 1000.0) + (1000 - 0.0) + (1000 + 1000.0) + (1000 - 500.0);
        EXPECT_TRUE(close(out.at(0), (1 - eps) * 0.0 + eps / 4 * smooth0, 1e-6, 1e-6)) << eps;
        EXPECT_EQ(grad.at(2), eps == 0 ? 0.0f : -eps / 4);
        // Row 1: two -inf non-targets.
        const double lse1 = 3 + std::log(1 + std::exp(-2.0));
        if (eps == 0) {
            EXPECT_TRUE(close(out.at(1), lse1 - 3, 1e-6, 1e-7));
            EXPECT_EQ(grad.at(4), 0.0f);
            EXPECT_EQ(grad.at(6), 0.0f);
        } else {
            EXPECT_EQ(out.at(1), inf);
        }
        EXPECT_TRUE(std::isfinite(grad.at(5)) && std::isfinite(grad.at(7)));
        // Row 2: the target logit is -inf.
        EXPECT_EQ(out.at(2), inf);
        EXPECT_TRUE(close(grad.at(8), -(1 - eps) - eps / 4, 1e-6, 1e-7)) << "p = 0 at the target";
        // Row 3: all -inf is NaN, loss and gradient (log_softmax of the row is NaN).
        EXPECT_TRUE(std::isnan(out.at(3)));
        EXPECT_TRUE(std::isnan(grad.at(12)));
        // Row 4: the target 300 dominates; loss 0 and gradient 0 to float precision.
        EXPECT_TRUE(close(out.at(4), eps / 4 * ((300 - 88.0) + (300 - 89.0) + 500 + 0), 1e-6, 1e-6));
    }
}

// Reduced over rows, an infinite row loss (a -inf target logit) makes the mean and the sum inf,
// and a NaN row (a NaN logit) makes them NaN, as PyTorch's sums; the runtime's compensated sum of
// the row losses must not form inf - inf in its correction. Per row (reduction none), a NaN or a
// +inf logit makes the row's loss and every gradient element NaN, as PyTorch's log_softmax
// (inf - inf in x - max), and leaves the other rows alone.
TEST_F(LossTest, CrossEntropyReducedOverAnInfiniteOrNaNRowIsInfOrNaN) {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    for (float special : {0.25f, nan, inf}) {
        TestTensor x({3, 40});
        fill_random(x, 43);
        x.at(40) = -inf;         // row 1's target logit: loss inf
        x.at(80 + 37) = special;  // row 2: finite, NaN or +inf (in the reductions' tail on AVX2 and AVX-512)
        IndexTensor t({3}, {2, 0, 3});
        for (nnf_reduction r : {NNF_REDUCTION_MEAN, NNF_REDUCTION_SUM}) {
            TestTensor out({});
            nnf_cross_entropy_params params = nnf_cross_entropy_default_params();
            params.reduction = r;
            ASSERT_EQ(nnf_cross_entropy_forward(x.dl(), t.dl(), nullptr, out.dl(), &params), NNF_OK) << nnf_last_error();
            if (std::isfinite(special)) {
                EXPECT_EQ(out.at(0), inf) << reduction_name(r);
            } else {
                EXPECT_TRUE(std::isnan(out.at(0))) << reduction_name(r) << ": " << out.at(0);
            }
        }
        TestTensor rows({3}), grad({3, 40});
        nnf_cross_entropy_params params = nnf_cross_entropy_default_params();
        params.reduction = NNF_REDUCTION_NONE;
        ASSERT_EQ(nnf_cross_entropy_forward_backward(x.dl(), t.dl(), nullptr, nullptr, rows.dl(), grad.dl(), &params), NNF_OK);
        EXPECT_TRUE(std::isfinite(rows.at(0)));
        EXPECT_EQ(rows.at(1), inf);
        EXPECT_EQ(std::isnan(rows.at(2)), !std::isfinite(special)) << rows.at(2);
        for (int64_t c = 0; c < 40; ++c) {
            EXPECT_TRUE(std::isfinite(grad.at(c)) && std::isfinite(grad.at(40 + c))) << c;
            EXPECT_EQ(std::isnan(grad.at(80 + c)), !std::isfinite(special)) << c << ": " << grad.at(80 + c);
        }
    }
}

// nll_loss on log-probabilities: -w_t x_t, total_weight, mean over the summed weight, and the
// gradient -w_t g at the target only; ignore_index skipped.
TEST_F(LossTest, NllLossEveryReductionWithTotalWeightAndFiniteDifferenceGradient) {
    for (bool weighted : {false, true}) {
        for (const auto &shape : std::vector<std::vector<int64_t>>{{6}, {7, 5}, {3, 4, 2, 3}}) {
            Problem p = make_problem(shape, false, weighted, 0.0, 20 + weighted);
            const ClassResult ref = classification_ref(p.ref, true);
            for (nnf_reduction r : kReductions) {
                SCOPED_TRACE(std::string(reduction_name(r)) + (weighted ? " weighted" : ""));
                Tensors t(p, shape.size() == 2);
                const bool none = r == NNF_REDUCTION_NONE;
                const std::vector<int64_t> out_shape = none ? p.layout.row_shape : std::vector<int64_t>{};
                TestTensor out(out_shape), total({}), g(out_shape), grad(shape);
                fill_random(g, 21, 0.5, 2);
                nnf_nll_loss_params params = nnf_nll_loss_default_params();
                params.reduction = r;
                ASSERT_EQ(nnf_nll_loss_forward(t.x.dl(), t.target_dl(), t.weight_dl(), out.dl(), total.dl(), &params), NNF_OK)
                    << nnf_last_error();
                EXPECT_TRUE(close(total.at(0), ref.total_weight, 1e-6, 0));
                if (none) {
                    for (int64_t i = 0; i < out.size(); ++i) ASSERT_TRUE(close(out.at(i), ref.rows[static_cast<size_t>(i)], 1e-6, 0));
                } else {
                    EXPECT_TRUE(close(out.at(0), r == NNF_REDUCTION_MEAN ? ref.reduced_mean : ref.reduced_sum, 1e-6, 1e-7));
                }
                ASSERT_EQ(nnf_nll_loss_backward(g.dl(), t.x.dl(), t.target_dl(), t.weight_dl(), grad.dl(), &params), NNF_OK)
                    << nnf_last_error();
                std::vector<double> gv;
                for (int64_t i = 0; i < g.size(); ++i) gv.push_back(g.at(i));
                const bool no_weight = r == NNF_REDUCTION_MEAN && ref.total_weight == 0;  // gradient 0, loss NaN
                const std::vector<double> fd = no_weight ? std::vector<double>(static_cast<size_t>(grad.size()), 0.0)
                                                         : finite_difference_gradient(p.ref, true, r, gv);
                for (int64_t i = 0; i < grad.size(); ++i) ASSERT_TRUE(close(grad.at(i), fd[static_cast<size_t>(i)], 1e-4, 1e-6)) << i;
            }
        }
    }
}

// ---- validation --------------------------------------------------------------------------------

void expect_error(nnf_status got, nnf_status expected, const std::string &message_part) {
    EXPECT_EQ(got, expected) << nnf_status_string(got);
    EXPECT_NE(std::string(nnf_last_error()).find(message_part), std::string::npos)
        << "message: " << nnf_last_error() << "\nexpected to contain: " << message_part;
}

bool all_sentinel(TestTensor &t) {
    for (float v : t.storage()) {
        if (std::memcmp(&v, &TestTensor::kSentinel, sizeof v) != 0) return false;
    }
    return true;
}

// nll_loss's forward and the index check run on the host in chunks of rows (2048), on the
// thread pool from 8192 rows (runtime/loss_driver.cpp): enough rows for several parallel chunks,
// a count that is no multiple of the chunk or of the 4-row unrolling, every reduction, with and
// without weights. The same bits on 1 and 2 threads, the double reference's value; and
// cross_entropy, whose divisor comes from the same check pass.
TEST_F(LossTest, NllLossAndIndexCheckOnManyRowsAreTheSameOnEveryThreadCount) {
    for (bool weighted : {false, true}) {
        Problem p = make_problem({3 * 4096 + 7, 5}, false, weighted, 0.0, 40 + weighted, 0.1);
        const ClassResult ref = classification_ref(p.ref, true);
        const ClassResult ce_ref = classification_ref(p.ref, false);
        Tensors t(p, false);
        for (nnf_reduction r : kReductions) {
            SCOPED_TRACE(std::string(reduction_name(r)) + (weighted ? " weighted" : ""));
            const bool none = r == NNF_REDUCTION_NONE;
            const std::vector<int64_t> out_shape = none ? p.layout.row_shape : std::vector<int64_t>{};
            std::vector<float> results[2], totals(2), ce_results(2);
            for (int threads : {1, 2}) {
                ASSERT_EQ(nnf_set_num_threads(threads), NNF_OK);
                TestTensor out(out_shape), total({}), ce_out({});
                nnf_nll_loss_params params = nnf_nll_loss_default_params();
                params.reduction = r;
                ASSERT_EQ(nnf_nll_loss_forward(t.x.dl(), t.target_dl(), t.weight_dl(), out.dl(), total.dl(), &params),
                          NNF_OK)
                    << nnf_last_error();
                results[threads - 1] = out.storage();
                totals[threads - 1] = total.at(0);
                if (!none) {
                    nnf_cross_entropy_params cp = ce_params(p, r);
                    ASSERT_EQ(nnf_cross_entropy_forward(t.x.dl(), t.target_dl(), t.weight_dl(), ce_out.dl(), &cp), NNF_OK)
                        << nnf_last_error();
                    ce_results[threads - 1] = ce_out.at(0);
                }
            }
            ASSERT_EQ(nnf_set_num_threads(0), NNF_OK);
            EXPECT_EQ(std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(float)), 0);
            EXPECT_EQ(std::memcmp(&totals[0], &totals[1], sizeof(float)), 0);
            EXPECT_EQ(std::memcmp(&ce_results[0], &ce_results[1], sizeof(float)), 0);
            EXPECT_TRUE(close(totals[0], ref.total_weight, 1e-6, 0));
            if (none) {
                for (size_t i = 0; i < ref.rows.size(); ++i) ASSERT_TRUE(close(results[0][i], ref.rows[i], 1e-6, 0)) << i;
            } else {
                const bool mean = r == NNF_REDUCTION_MEAN;
                EXPECT_TRUE(close(results[0][0], mean ? ref.reduced_mean : ref.reduced_sum, 1e-6, 1e-7));
                EXPECT_TRUE(close(ce_results[0], mean ? ce_ref.reduced_mean : ce_ref.reduced_sum, 1e-5, 1e-7));
            }
        }
    }
}

// The first bad index is the one named, wherever it is: in a later chunk (the parallel check),
// behind a bad one in a later chunk, inside a group of the 4-row unrolling, in an N-d target
// (rows walked as runs of the innermost dim); for every reduction, and nothing written.
TEST_F(LossTest, NllLossNamesTheFirstBadIndexOfManyRowsAndWritesNothing) {
    const int64_t N = 10000, C = 5;
    TestTensor x({N, C});
    fill_random(x, 41, -5, 0);
    std::vector<int64_t> values(static_cast<size_t>(N));
    for (int64_t r = 0; r < N; ++r) values[static_cast<size_t>(r)] = r % 3 == 0 ? -100 : r % C;
    struct Bad {
        int64_t row, value;
    };
    const std::vector<std::vector<Bad>> cases = {
        {{9001, 5}, {9500, -3}},  // a later chunk
        {{9001, 5}, {6, 7}},      // the first chunk, third row of an unrolled group
        {{4099, -1}},             // the chunk boundary's neighbourhood
        {{N - 1, C}},             // the last row
    };
    for (const std::vector<Bad> &bads : cases) {
        IndexTensor target({N}, values);
        for (const Bad &b : bads) target.values()[static_cast<size_t>(b.row)] = b.value;
        const Bad first = *std::min_element(bads.begin(), bads.end(), [](const Bad &a, const Bad &b) { return a.row < b.row; });
        const std::string message =
            "target[" + std::to_string(first.row) + "] = " + std::to_string(first.value) + " is out of range for 5 classes";
        for (nnf_reduction r : kReductions) {
            SCOPED_TRACE(std::string(reduction_name(r)) + " " + message);
            const bool none = r == NNF_REDUCTION_NONE;
            TestTensor out(none ? std::vector<int64_t>{N} : std::vector<int64_t>{}), total({}), ce_out({});
            nnf_nll_loss_params params = nnf_nll_loss_default_params();
            params.reduction = r;
            expect_error(nnf_nll_loss_forward(x.dl(), target.dl(), nullptr, out.dl(), total.dl(), &params),
                         NNF_ERR_INDEX_OUT_OF_RANGE, "nnf_nll_loss_forward: " + message);
            EXPECT_TRUE(all_sentinel(out));
            EXPECT_TRUE(all_sentinel(total));
            if (!none) {
                nnf_cross_entropy_params cp = nnf_cross_entropy_default_params();
                cp.reduction = r;
                expect_error(nnf_cross_entropy_forward(x.dl(), target.dl(), nullptr, ce_out.dl(), &cp),
                             NNF_ERR_INDEX_OUT_OF_RANGE, message);
                EXPECT_TRUE(all_sentinel(ce_out));
            }
        }
    }
    // (N, C, d1, d2): rows walked in runs along d2; a strided (transposed) input.
    TestTensor x4({3, 4, 5, 2}, {1, 3, 12, 60});
    fill_random(x4, 42, -5, 0);
    std::vector<int64_t> t4(30);
    for (size_t i = 0; i < t4.size(); ++i) t4[i] = static_cast<int64_t>(i % 4);
    t4[2 * 10 + 3 * 2 + 1] = 4;  // [2, 3, 1]
    t4[2 * 10 + 4 * 2 + 0] = -7;  // [2, 4, 0]
    IndexTensor target4({3, 5, 2}, t4);
    for (nnf_reduction r : kReductions) {
        SCOPED_TRACE(reduction_name(r));
        TestTensor out(r == NNF_REDUCTION_NONE ? std::vector<int64_t>{3, 5, 2} : std::vector<int64_t>{}), total({});
        nnf_nll_loss_params params = nnf_nll_loss_default_params();
        params.reduction = r;
        expect_error(nnf_nll_loss_forward(x4.dl(), target4.dl(), nullptr, out.dl(), total.dl(), &params),
                     NNF_ERR_INDEX_OUT_OF_RANGE, "target[2, 3, 1] = 4 is out of range");
        EXPECT_TRUE(all_sentinel(out));
        EXPECT_TRUE(all_sentinel(total));
    }
}

// A target outside [0, C) that is not ignore_index: NNF_ERR_INDEX_OUT_OF_RANGE naming the first
// bad position (row-major), and neither output nor gradient nor total_weight touched.
TEST_F(LossTest, OutOfRangeTargetNamesTheFirstBadPositionAndWritesNothing) {
    TestTensor x({2, 5, 3}), out({2, 3}), grad({2, 5, 3}), total({});
    fill_random(x, 30);
    IndexTensor t({2, 3}, {0, 4, -100, 1, 5, -1});
    nnf_cross_entropy_params p = nnf_cross_entropy_default_params();
    p.reduction = NNF_REDUCTION_NONE;
    expect_error(nnf_cross_entropy_forward_backward(x.dl(), t.dl(), nullptr, nullptr, out.dl(), grad.dl(), &p),
                 NNF_ERR_INDEX_OUT_OF_RANGE, "nnf_cross_entropy_forward_backward: target[1, 1] = 5 is out of range for 5 classes");
    EXPECT_TRUE(all_sentinel(out));
    EXPECT_TRUE(all_sentinel(grad));
    nnf_nll_loss_params np = nnf_nll_loss_default_params();
    np.reduction = NNF_REDUCTION_NONE;
    t.values()[4] = 2;  // now the -1 at [1, 2] is the first bad one
    expect_error(nnf_nll_loss_forward(x.dl(), t.dl(), nullptr, out.dl(), total.dl(), &np), NNF_ERR_INDEX_OUT_OF_RANGE,
                 "target[1, 2] = -1");
    EXPECT_TRUE(all_sentinel(out));
    EXPECT_TRUE(all_sentinel(total));
    // The same value as ignore_index is fine.
    np.ignore_index = -1;
    t.values()[2] = -1;
    EXPECT_EQ(nnf_nll_loss_forward(x.dl(), t.dl(), nullptr, out.dl(), total.dl(), &np), NNF_OK) << nnf_last_error();
}

TEST_F(LossTest, ShapeDtypeParameterAndDeviceErrorsHaveTheirStatusAndWriteNothing) {
    TestTensor x({4, 3}), out({}), grad({4, 3}), g({});
    fill_random(x, 31);
    IndexTensor t({4}, {0, 1, 2, 0});
    const nnf_cross_entropy_params defaults = nnf_cross_entropy_default_params();
    EXPECT_EQ(defaults.reduction, NNF_REDUCTION_MEAN);
    EXPECT_EQ(defaults.ignore_index, -100);
    EXPECT_EQ(defaults.label_smoothing, 0.0f);

    IndexTensor short_target({3}, {0, 1, 2});
    expect_error(nnf_cross_entropy_forward(x.dl(), short_target.dl(), nullptr, out.dl(), nullptr), NNF_ERR_SHAPE_MISMATCH,
                 "target has shape [3] but input [4, 3] needs class indices of shape [4]");
    IndexTensor int32_target({4}, {0, 1, 2, 0});
    int32_target.dl()->dtype = {kDLInt, 32, 1};
    expect_error(nnf_cross_entropy_forward(x.dl(), int32_target.dl(), nullptr, out.dl(), nullptr), NNF_ERR_UNSUPPORTED_DTYPE,
                 "target has dtype (code 0, bits 32, lanes 1)");
    TestTensor probs({4, 3});
    fill_random(probs, 1, 0, 1);
    TestTensor nll_out({});
    expect_error(nnf_nll_loss_forward(x.dl(), probs.dl(), nullptr, nll_out.dl(), nullptr, nullptr), NNF_ERR_UNSUPPORTED_DTYPE,
                 "expected int64 class indices");
    TestTensor bad_weight({4});
    expect_error(nnf_cross_entropy_forward(x.dl(), t.dl(), bad_weight.dl(), out.dl(), nullptr), NNF_ERR_SHAPE_MISMATCH,
                 "weight has shape [4] but input [4, 3] has 3 classes");
    TestTensor wide_out({2});
    expect_error(nnf_cross_entropy_forward(x.dl(), t.dl(), nullptr, wide_out.dl(), nullptr), NNF_ERR_SHAPE_MISMATCH,
                 "output has shape [2] but reduction mean needs one element");
    nnf_cross_entropy_params p = defaults;
    p.label_smoothing = 1.5f;
    expect_error(nnf_cross_entropy_forward(x.dl(), t.dl(), nullptr, out.dl(), &p), NNF_ERR_INVALID_ARGUMENT,
                 "label_smoothing must be in [0, 1]");
    p = defaults;
    p.reduction = static_cast<nnf_reduction>(7);
    expect_error(nnf_cross_entropy_forward(x.dl(), t.dl(), nullptr, out.dl(), &p), NNF_ERR_INVALID_ARGUMENT,
                 "params->reduction = 7 is not an nnf_reduction value");
    p = defaults;
    p.reduction = NNF_REDUCTION_NONE;
    TestTensor none_g({4});
    TestTensor bad_grad({4, 4});
    expect_error(nnf_cross_entropy_backward(none_g.dl(), x.dl(), t.dl(), nullptr, bad_grad.dl(), &p), NNF_ERR_SHAPE_MISMATCH,
                 "grad_input");
    expect_error(nnf_cross_entropy_backward(g.dl(), x.dl(), t.dl(), nullptr, grad.dl(), &p), NNF_ERR_SHAPE_MISMATCH,
                 "grad_output has shape [] but reduction none needs [4]");
    // A partial overlap of the gradient with the logits (not the same view).
    TestTensor storage({20});
    DLTensor logits = *storage.dl(), shifted = *storage.dl();
    int64_t shape43[] = {4, 3};
    logits.ndim = shifted.ndim = 2;
    logits.shape = shifted.shape = shape43;
    shifted.byte_offset = 4 * sizeof(float);
    expect_error(nnf_cross_entropy_forward_backward(&logits, t.dl(), nullptr, nullptr, out.dl(), &shifted, nullptr),
                 NNF_ERR_INVALID_ARGUMENT, "grad_input overlaps input without being the same view");
    // CUDA tensors (host memory here, never read): NNF_ERR_NOT_BUILT_FOR_TARGET in a CPU-only
    // build; a CUDA build's call reaches for the driver or the device and fails there
    // (tests/cuda/test_cuda_losses.cpp runs it on a GPU).
    DLTensor gpu_x = *x.dl(), gpu_t = *t.dl(), gpu_out = *out.dl();
    gpu_x.device = gpu_t.device = gpu_out.device = {kDLCUDA, 0};
    EXPECT_EQ(nnf_cross_entropy_forward(&gpu_x, &gpu_t, nullptr, &gpu_out, nullptr),
              nnf_has_cuda() ? NNF_ERR_RUNTIME_FAILURE : NNF_ERR_NOT_BUILT_FOR_TARGET)
        << nnf_last_error();
    EXPECT_EQ(nnf_cross_entropy_forward(&gpu_x, t.dl(), nullptr, out.dl(), nullptr), NNF_ERR_UNSUPPORTED_DEVICE)
        << "mixed devices: " << nnf_last_error();
    expect_error(nnf_cross_entropy_forward(x.dl(), nullptr, nullptr, out.dl(), nullptr), NNF_ERR_INVALID_ARGUMENT,
                 "target is NULL");
    EXPECT_TRUE(all_sentinel(out) && all_sentinel(grad) && all_sentinel(wide_out) && all_sentinel(bad_grad));

    // Elementwise losses.
    TestTensor y({}), other({4, 4});
    expect_error(nnf_mse_loss_forward(x.dl(), other.dl(), y.dl(), nullptr), NNF_ERR_SHAPE_MISMATCH, "target");
    nnf_smooth_l1_loss_params sp = {NNF_REDUCTION_MEAN, -1.0f};
    expect_error(nnf_smooth_l1_loss_forward(x.dl(), x.dl(), y.dl(), &sp), NNF_ERR_INVALID_ARGUMENT, "params->beta must be >= 0");
    nnf_huber_loss_params hp = {NNF_REDUCTION_MEAN, 0.0f};
    expect_error(nnf_huber_loss_forward(x.dl(), x.dl(), y.dl(), &hp), NNF_ERR_INVALID_ARGUMENT, "params->delta must be > 0");
    TestTensor two({2});
    expect_error(nnf_l1_loss_backward(two.dl(), x.dl(), x.dl(), grad.dl(), nullptr), NNF_ERR_SHAPE_MISMATCH,
                 "grad_output has shape [2] but reduction mean needs one element");
    EXPECT_TRUE(all_sentinel(y) && all_sentinel(grad));
}

// The op table lists every loss under family "loss", with its parameters' PyTorch defaults.
TEST(LossRegistry, OpTableListsTheLossesWithTheirDefaults) {
    int count = 0;
    const rt::OpInfo *ops = rt::op_table(&count);
    std::vector<std::string> losses;
    for (int i = 0; i < count; ++i) {
        if (std::string(ops[i].family) != "loss") continue;
        losses.push_back(ops[i].name);
        for (int k = 0; k < ops[i].num_params; ++k) {
            if (std::string(ops[i].params[k].name) == "reduction") EXPECT_EQ(ops[i].params[k].default_value, 1.0) << "mean";
            if (std::string(ops[i].params[k].name) == "ignore_index") EXPECT_EQ(ops[i].params[k].default_value, -100.0);
        }
    }
    EXPECT_EQ(losses, (std::vector<std::string>{"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss",
                                                "cross_entropy"}));
}

}  // namespace
}  // namespace nnf::test

// Fused kernels compiled by nnfc from fused_kernels.nnf (through nnfuse_add_kernels) against the
// composition of the unfused standard-library ops, double-precision formulas, and, for `grad`,
// central finite differences of those formulas.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "spectest.h"

namespace {

DLTensor tensor(void *data, const std::vector<int64_t> &shape, DLDataType dtype = {kDLFloat, 32, 1},
                const int64_t *strides = nullptr) {
    DLTensor t{};
    t.data = data;
    t.device = {kDLCPU, 0};
    t.ndim = static_cast<int>(shape.size());
    t.dtype = dtype;
    t.shape = const_cast<int64_t *>(shape.data());
    t.strides = const_cast<int64_t *>(strides);
    return t;
}
const DLDataType kI64{kDLInt, 64, 1};

std::vector<float> random_values(size_t n, float lo, float hi, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (float &x : v) x = u(rng);
    return v;
}

std::vector<int64_t> random_targets(size_t n, int64_t classes, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int64_t> u(0, classes - 1);
    std::vector<int64_t> v(n);
    for (int64_t &x : v) x = u(rng);
    return v;
}

// |actual - expected| <= abs + rel |expected|, NaN matching NaN.
void expect_close(const std::vector<float> &actual, const std::vector<double> &expected, double rel, double abs,
                  const char *what) {
    ASSERT_EQ(actual.size(), expected.size()) << what;
    int reported = 0;
    for (size_t i = 0; i < actual.size(); ++i) {
        const double a = actual[i], e = expected[i];
        const bool ok = (std::isnan(a) && std::isnan(e)) || std::fabs(a - e) <= abs + rel * std::fabs(e);
        if (!ok && reported++ < 5) ADD_FAILURE() << what << "[" << i << "] = " << a << ", expected " << e;
    }
}
std::vector<double> as_double(const std::vector<float> &v) {
    return std::vector<double>(v.begin(), v.end());
}

double gelu_tanh(double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
}
double gelu_exact(double v) {
    return 0.5 * v * std::erfc(-v / std::sqrt(2.0));
}
double gelu_exact_derivative(double v) {
    return 0.5 * std::erfc(-v / std::sqrt(2.0)) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
}

// Central differences of a double function of `x` at every element.
std::vector<double> finite_differences(const std::function<double(const std::vector<double> &)> &f,
                                       std::vector<double> x, double h = 1e-5) {
    std::vector<double> g(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double saved = x[i];
        x[i] = saved + h;
        const double up = f(x);
        x[i] = saved - h;
        const double down = f(x);
        x[i] = saved;
        g[i] = (up - down) / (2 * h);
    }
    return g;
}

class BiasGelu : public ::testing::TestWithParam<std::pair<int64_t, int64_t>> {};

TEST_P(BiasGelu, MatchesUnfusedAddThenGeluAndTheDoubleFormula) {
    const auto [n, c] = GetParam();
    std::vector<float> x = random_values(static_cast<size_t>(n * c), -6, 6, 1), bias = random_values(static_cast<size_t>(c), -1, 1, 2);
    std::vector<int64_t> shape{n, c}, bias_shape{c};
    for (bool tanh_form : {true, false}) {
        std::vector<float> y(x.size(), -7.0f), sum(x.size()), unfused(x.size(), -7.0f);
        DLTensor tx = tensor(x.data(), shape), tb = tensor(bias.data(), bias_shape), ty = tensor(y.data(), shape);
        ASSERT_EQ(tanh_form ? spectest_bias_gelu(&tx, &tb, &ty) : spectest_bias_gelu_exact(&tx, &tb, &ty), NNF_OK)
            << nnf_last_error();
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t j = 0; j < c; ++j) sum[static_cast<size_t>(i * c + j)] = x[static_cast<size_t>(i * c + j)] + bias[static_cast<size_t>(j)];
        }
        nnf_gelu_params p = nnf_gelu_default_params();
        p.approximate = tanh_form ? NNF_GELU_APPROXIMATE_TANH : NNF_GELU_APPROXIMATE_NONE;
        DLTensor tsum = tensor(sum.data(), shape), tu = tensor(unfused.data(), shape);
        ASSERT_EQ(nnf_gelu_forward(&tsum, &tu, &p), NNF_OK) << nnf_last_error();
        // One algorithm (compiler/ops) in both: the same float math, up to LLVM's contraction and
        // reassociation in each pipeline (about 1e-6 relative measured on the baseline path).
        expect_close(y, as_double(unfused), 1e-5, 1e-30, "fused vs unfused");
        std::vector<double> expected(sum.size());
        for (size_t i = 0; i < sum.size(); ++i) expected[i] = tanh_form ? gelu_tanh(sum[i]) : gelu_exact(sum[i]);
        expect_close(y, expected, 1e-5, 1e-6, "fused vs double");
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BiasGelu,
                         ::testing::Values(std::make_pair(1, 1), std::make_pair(3, 7), std::make_pair(5, 16),
                                           std::make_pair(17, 33), std::make_pair(64, 1000), std::make_pair(1, 65537)));

TEST(FusedKernels, StridedViewsAndInPlace) {
    const int64_t n = 9, c = 13;
    std::vector<float> storage = random_values(static_cast<size_t>(n * c), -3, 3, 3), bias = random_values(static_cast<size_t>(c), -1, 1, 4);
    // x is the transpose of a [C, N] array; bias is read with stride 2 from a longer array.
    std::vector<int64_t> shape{n, c}, x_strides{1, n};
    std::vector<float> bias_storage(static_cast<size_t>(2 * c));
    for (int64_t j = 0; j < c; ++j) bias_storage[static_cast<size_t>(2 * j)] = bias[static_cast<size_t>(j)];
    std::vector<int64_t> bias_shape{c}, bias_strides{2};
    std::vector<float> y(static_cast<size_t>(n * c));
    DLTensor tx = tensor(storage.data(), shape, {kDLFloat, 32, 1}, x_strides.data());
    DLTensor tb = tensor(bias_storage.data(), bias_shape, {kDLFloat, 32, 1}, bias_strides.data());
    DLTensor ty = tensor(y.data(), shape);
    ASSERT_EQ(spectest_bias_gelu(&tx, &tb, &ty), NNF_OK) << nnf_last_error();
    std::vector<double> expected(y.size());
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < c; ++j) {
            expected[static_cast<size_t>(i * c + j)] = gelu_tanh(storage[static_cast<size_t>(j * n + i)] + bias[static_cast<size_t>(j)]);
        }
    }
    expect_close(y, expected, 1e-5, 1e-6, "strided");
    // In place: the output is the same view as x.
    std::vector<float> original = storage;
    ASSERT_EQ(spectest_bias_gelu(&tx, &tb, &tx), NNF_OK) << nnf_last_error();
    std::vector<float> in_place(y.size());
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < c; ++j) in_place[static_cast<size_t>(i * c + j)] = storage[static_cast<size_t>(j * n + i)];
    }
    expect_close(in_place, expected, 1e-5, 1e-6, "in place");
}

// Views whose rows lie 2^30 elements apart span more than 2^31 elements: their offsets overflow
// int32 index arithmetic. The memory is reserved, not committed (MAP_NORESERVE): only the pages
// holding the few elements are touched. Results must equal those on compact copies bit for bit.
TEST(FusedKernels, ViewsSpanningMoreThan2To31Elements) {
    const int64_t rows = 3, c = 4, row_stride = int64_t{1} << 30;
    // Two reservations: x, and the outputs (the wrappers reject outputs whose address range
    // overlaps an input's, even when no element is shared).
    const size_t bytes = static_cast<size_t>((rows - 1) * row_stride + c) * sizeof(float);
    void *memory = mmap(nullptr, 2 * bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) GTEST_SKIP() << "cannot reserve " << 2 * bytes << " bytes of address space";
    float *base = static_cast<float *>(memory);
    float *out = base + bytes / sizeof(float);
    const std::vector<float> x = random_values(static_cast<size_t>(rows * c), -6, 6, 40),
                             bias = random_values(static_cast<size_t>(c), -1, 1, 41);
    for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < c; ++j) base[i * row_stride + j] = x[static_cast<size_t>(i * c + j)];
    }
    std::vector<int64_t> shape{rows, c}, bias_shape{c}, far_strides{row_stride, 1}, scalar{}, target_shape{rows};
    DLTensor far_x = tensor(base, shape, {kDLFloat, 32, 1}, far_strides.data());
    DLTensor far_y = tensor(out, shape, {kDLFloat, 32, 1}, far_strides.data());
    std::vector<float> compact_x = x, compact_y(x.size());
    DLTensor tx = tensor(compact_x.data(), shape), ty = tensor(compact_y.data(), shape);
    DLTensor tb = tensor(const_cast<float *>(bias.data()), bias_shape);
    ASSERT_EQ(spectest_bias_gelu(&far_x, &tb, &far_y), NNF_OK) << nnf_last_error();
    ASSERT_EQ(spectest_bias_gelu(&tx, &tb, &ty), NNF_OK) << nnf_last_error();
    for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < c; ++j) {
            EXPECT_EQ(out[i * row_stride + j], compact_y[static_cast<size_t>(i * c + j)]) << i << ", " << j;
        }
    }
    // A reducing kernel with its gradient.
    std::vector<int64_t> target{3, 0, 2};
    DLTensor tt = tensor(target.data(), target_shape, kI64);
    float far_loss = 0, compact_loss = 0;
    DLTensor tl_far = tensor(&far_loss, scalar), tl = tensor(&compact_loss, scalar);
    ASSERT_EQ(spectest_scaled_ce(&far_x, &tt, &tl_far, &far_y), NNF_OK) << nnf_last_error();
    ASSERT_EQ(spectest_scaled_ce(&tx, &tt, &tl, &ty), NNF_OK) << nnf_last_error();
    EXPECT_EQ(far_loss, compact_loss);
    for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < c; ++j) {
            EXPECT_EQ(out[i * row_stride + j], compact_y[static_cast<size_t>(i * c + j)]) << i << ", " << j;
        }
    }
    munmap(memory, 2 * bytes);
}

TEST(FusedKernels, BiasGeluGradientsMatchTheUnfusedBackwardAndFiniteDifferences) {
    const int64_t n = 6, c = 5;
    std::vector<float> x = random_values(static_cast<size_t>(n * c), -4, 4, 5), bias = random_values(static_cast<size_t>(c), -1, 1, 6),
                       grad_y = random_values(static_cast<size_t>(n * c), -1, 1, 7);
    std::vector<float> y(x.size()), grad_x(x.size()), grad_bias(static_cast<size_t>(c));
    std::vector<int64_t> shape{n, c}, bias_shape{c};
    DLTensor tx = tensor(x.data(), shape), tb = tensor(bias.data(), bias_shape), tg = tensor(grad_y.data(), shape),
             ty = tensor(y.data(), shape), tgx = tensor(grad_x.data(), shape), tgb = tensor(grad_bias.data(), bias_shape);
    ASSERT_EQ(spectest_bias_gelu_train(&tx, &tb, &tg, &ty, &tgx, &tgb), NNF_OK) << nnf_last_error();

    // Unfused: nnf_gelu_backward at x + bias; grad_bias sums it over N.
    std::vector<float> sum(x.size()), unfused(x.size());
    for (size_t i = 0; i < x.size(); ++i) sum[i] = x[i] + bias[i % static_cast<size_t>(c)];
    DLTensor ts = tensor(sum.data(), shape), tu = tensor(unfused.data(), shape);
    ASSERT_EQ(nnf_gelu_backward(&tg, &ts, &tu, nullptr), NNF_OK) << nnf_last_error();
    expect_close(grad_x, as_double(unfused), 1e-5, 1e-30, "grad_x vs nnf_gelu_backward");
    std::vector<double> bias_expected(static_cast<size_t>(c), 0.0);
    for (size_t i = 0; i < x.size(); ++i) bias_expected[i % static_cast<size_t>(c)] += unfused[i];
    expect_close(grad_bias, bias_expected, 1e-5, 1e-6, "grad_bias vs summed nnf_gelu_backward");

    // d/d(x, bias) of sum(grad_y * gelu(x + bias)), in double.
    auto objective = [&](const std::vector<double> &xb) {
        double total = 0;
        for (size_t i = 0; i < x.size(); ++i) total += grad_y[i] * gelu_exact(xb[i] + xb[x.size() + i % static_cast<size_t>(c)]);
        return total;
    };
    std::vector<double> point(x.begin(), x.end());
    point.insert(point.end(), bias.begin(), bias.end());
    const std::vector<double> fd = finite_differences(objective, point);
    expect_close(grad_x, std::vector<double>(fd.begin(), fd.begin() + static_cast<long>(x.size())), 1e-4, 1e-5, "grad_x vs finite differences");
    expect_close(grad_bias, std::vector<double>(fd.begin() + static_cast<long>(x.size()), fd.end()), 1e-4, 1e-5, "grad_bias vs finite differences");
}

// Scalar parameters arrive by value: spectest_affine_gelu(x, scale, shift, grad_y, y, grad_x).
TEST(FusedKernels, ScalarParametersByValueWithTheGradient) {
    const int64_t n = 5, c = 7;
    const float scale = 1.5f, shift = -0.25f;
    std::vector<float> x = random_values(static_cast<size_t>(n * c), -3, 3, 31), grad_y = random_values(static_cast<size_t>(n * c), -1, 1, 32);
    std::vector<float> y(x.size()), grad_x(x.size());
    std::vector<int64_t> shape{n, c};
    DLTensor tx = tensor(x.data(), shape), tg = tensor(grad_y.data(), shape), ty = tensor(y.data(), shape),
             tgx = tensor(grad_x.data(), shape);
    ASSERT_EQ(spectest_affine_gelu(&tx, scale, shift, &tg, &ty, &tgx), NNF_OK) << nnf_last_error();
    std::vector<double> expected(x.size());
    for (size_t i = 0; i < x.size(); ++i) expected[i] = gelu_exact(double(x[i]) * scale + shift);
    expect_close(y, expected, 2e-6, 1e-7, "y vs double");
    auto objective = [&](const std::vector<double> &v) {
        double total = 0;
        for (size_t i = 0; i < v.size(); ++i) total += grad_y[i] * gelu_exact(v[i] * scale + shift);
        return total;
    };
    expect_close(grad_x, finite_differences(objective, std::vector<double>(x.begin(), x.end())), 1e-4, 1e-5,
                 "grad_x vs finite differences");
}

TEST(FusedKernels, TemperatureSoftmaxMatchesUnfusedAndDouble) {
    for (auto [n, c] : {std::make_pair<int64_t, int64_t>(1, 1), {4, 10}, {33, 257}, {3, 5000}}) {
        std::vector<float> x = random_values(static_cast<size_t>(n * c), -20, 20, 8), y(x.size()), scaled(x.size()), unfused(x.size());
        float temperature = 2.5f;
        std::vector<int64_t> shape{n, c}, scalar{};
        DLTensor tx = tensor(x.data(), shape), tt = tensor(&temperature, scalar), ty = tensor(y.data(), shape);
        ASSERT_EQ(spectest_temperature_softmax(&tx, &tt, &ty), NNF_OK) << nnf_last_error();
        for (size_t i = 0; i < x.size(); ++i) scaled[i] = x[i] / temperature;
        DLTensor ts = tensor(scaled.data(), shape), tu = tensor(unfused.data(), shape);
        ASSERT_EQ(nnf_softmax_forward(&ts, &tu, nullptr), NNF_OK) << nnf_last_error();
        expect_close(y, as_double(unfused), 1e-6, 1e-30, "fused vs unfused softmax");
        std::vector<double> expected(x.size());
        for (int64_t i = 0; i < n; ++i) {
            double m = -INFINITY, s = 0;
            for (int64_t j = 0; j < c; ++j) m = std::max(m, double(x[static_cast<size_t>(i * c + j)]) / temperature);
            for (int64_t j = 0; j < c; ++j) s += std::exp(double(x[static_cast<size_t>(i * c + j)]) / temperature - m);
            for (int64_t j = 0; j < c; ++j) {
                expected[static_cast<size_t>(i * c + j)] = std::exp(double(x[static_cast<size_t>(i * c + j)]) / temperature - m) / s;
            }
        }
        expect_close(y, expected, 1e-5, 1e-12, "fused vs double softmax");
    }
}

TEST(FusedKernels, SoftmaxRowsWithNaNOrAllMinusInfinityAreNaNAsInPyTorch) {
    const int64_t n = 4, c = 37;
    std::vector<float> x = random_values(static_cast<size_t>(n * c), -3, 3, 20), y(x.size());
    x[static_cast<size_t>(1 * c + 5)] = NAN;
    for (int64_t j = 0; j < c; ++j) x[static_cast<size_t>(2 * c + j)] = -INFINITY;
    x[static_cast<size_t>(3 * c + 7)] = -INFINITY;  // one -inf in a finite row: probability 0
    float temperature = 1.0f;
    std::vector<int64_t> shape{n, c}, scalar{};
    DLTensor tx = tensor(x.data(), shape), tt = tensor(&temperature, scalar), ty = tensor(y.data(), shape);
    ASSERT_EQ(spectest_temperature_softmax(&tx, &tt, &ty), NNF_OK) << nnf_last_error();
    double row0 = 0;
    for (int64_t j = 0; j < c; ++j) {
        row0 += y[static_cast<size_t>(j)];
        EXPECT_TRUE(std::isnan(y[static_cast<size_t>(1 * c + j)])) << "NaN row, column " << j;
        EXPECT_TRUE(std::isnan(y[static_cast<size_t>(2 * c + j)])) << "all -inf row, column " << j;
    }
    EXPECT_NEAR(row0, 1.0, 1e-6);
    EXPECT_EQ(y[static_cast<size_t>(3 * c + 7)], 0.0f);
}

// loss = cross_entropy(0.5 logits, target, label_smoothing=0.1), mean over the non-ignored rows.
double scaled_ce_reference(const std::vector<double> &logits, const std::vector<int64_t> &target, int64_t c) {
    const double ls = 0.1;
    double total = 0, count = 0;
    for (size_t i = 0; i < target.size(); ++i) {
        if (target[i] == -100) continue;
        double m = -INFINITY, s = 0, sum_logp = 0;
        for (int64_t j = 0; j < c; ++j) m = std::max(m, 0.5 * logits[i * static_cast<size_t>(c) + static_cast<size_t>(j)]);
        for (int64_t j = 0; j < c; ++j) s += std::exp(0.5 * logits[i * static_cast<size_t>(c) + static_cast<size_t>(j)] - m);
        const double lse = m + std::log(s);
        for (int64_t j = 0; j < c; ++j) sum_logp += 0.5 * logits[i * static_cast<size_t>(c) + static_cast<size_t>(j)] - lse;
        const double picked = 0.5 * logits[i * static_cast<size_t>(c) + static_cast<size_t>(target[i])] - lse;
        total += -(1 - ls) * picked - ls / static_cast<double>(c) * sum_logp;
        count += 1;
    }
    return total / count;
}

TEST(FusedKernels, ScaledCrossEntropyMatchesUnfusedDoubleAndFiniteDifferences) {
    const int64_t n = 7, c = 11;
    std::vector<float> logits = random_values(static_cast<size_t>(n * c), -5, 5, 9), grad(logits.size());
    std::vector<int64_t> target = random_targets(static_cast<size_t>(n), c, 10);
    target[3] = -100;  // ignored: no loss, no gradient, not counted by the mean
    float loss = 0;
    std::vector<int64_t> shape{n, c}, target_shape{n}, scalar{};
    DLTensor tl = tensor(logits.data(), shape), tt = tensor(target.data(), target_shape, kI64),
             tloss = tensor(&loss, scalar), tg = tensor(grad.data(), shape);
    ASSERT_EQ(spectest_scaled_ce(&tl, &tt, &tloss, &tg), NNF_OK) << nnf_last_error();

    // Unfused: scale, then the standard library's cross_entropy forward and backward.
    std::vector<float> scaled(logits.size()), unfused_grad(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) scaled[i] = 0.5f * logits[i];
    float unfused_loss = 0;
    nnf_cross_entropy_params p = nnf_cross_entropy_default_params();
    p.label_smoothing = 0.1f;
    DLTensor ts = tensor(scaled.data(), shape), tul = tensor(&unfused_loss, scalar), tug = tensor(unfused_grad.data(), shape);
    ASSERT_EQ(nnf_cross_entropy_forward_backward(&ts, &tt, nullptr, nullptr, &tul, &tug, &p), NNF_OK) << nnf_last_error();
    for (float &g : unfused_grad) g *= 0.5f;  // the chain rule through 0.5 logits
    expect_close({loss}, {double(unfused_loss)}, 1e-6, 1e-7, "loss vs unfused");
    expect_close(grad, as_double(unfused_grad), 1e-5, 1e-7, "grad vs unfused");

    const std::vector<double> point(logits.begin(), logits.end());
    expect_close({loss}, {scaled_ce_reference(point, target, c)}, 1e-6, 1e-7, "loss vs double");
    const std::vector<double> fd = finite_differences([&](const std::vector<double> &l) { return scaled_ce_reference(l, target, c); }, point);
    expect_close(grad, fd, 1e-4, 1e-6, "grad vs finite differences");
    for (int64_t j = 0; j < c; ++j) EXPECT_EQ(grad[static_cast<size_t>(3 * c + j)], 0.0f) << "ignored row";
}

TEST(FusedKernels, NllOfLogSoftmaxWithIgnoreIndexAndSum) {
    const int64_t n = 8, c = 4;
    std::vector<float> x = random_values(static_cast<size_t>(n * c), -3, 3, 11), grad(x.size());
    std::vector<int64_t> target = random_targets(static_cast<size_t>(n), c, 12);
    target[0] = 1;  // ignore_index=1 in the spec
    float loss = 0;
    std::vector<int64_t> shape{n, c}, target_shape{n}, scalar{};
    DLTensor tx = tensor(x.data(), shape), tt = tensor(target.data(), target_shape, kI64), tloss = tensor(&loss, scalar),
             tg = tensor(grad.data(), shape);
    ASSERT_EQ(spectest_nll_of_log_softmax(&tx, &tt, &tloss, &tg), NNF_OK) << nnf_last_error();
    auto reference = [&](const std::vector<double> &v) {
        double total = 0;
        for (int64_t i = 0; i < n; ++i) {
            if (target[static_cast<size_t>(i)] == 1) continue;
            double s = 0;
            for (int64_t j = 0; j < c; ++j) s += std::exp(2 * v[static_cast<size_t>(i * c + j)]);
            total -= 2 * v[static_cast<size_t>(i * c + target[static_cast<size_t>(i)])] - std::log(s);
        }
        return total;
    };
    const std::vector<double> point(x.begin(), x.end());
    expect_close({loss}, {reference(point)}, 1e-6, 1e-6, "loss vs double");
    expect_close(grad, finite_differences(reference, point), 1e-4, 1e-6, "grad vs finite differences");
}

TEST(FusedKernels, MixedElementwiseBroadcastAndTwoOutputsWithGradients) {
    const int64_t b = 3, n = 4, c = 6;
    std::vector<float> x = random_values(static_cast<size_t>(b * n * c), -2, 2, 13), scale = random_values(static_cast<size_t>(c), 0.5, 1.5, 14),
                       shift = random_values(static_cast<size_t>(n * c), -0.5, 0.5, 15), grad_y = random_values(x.size(), -1, 1, 16);
    std::vector<float> y(x.size()), grad_x(x.size()), grad_scale(static_cast<size_t>(c));
    float total = 0;
    std::vector<int64_t> shape{b, n, c}, scale_shape{c}, shift_shape{n, c}, scalar{};
    DLTensor tx = tensor(x.data(), shape), ts = tensor(scale.data(), scale_shape), tsh = tensor(shift.data(), shift_shape),
             tgy = tensor(grad_y.data(), shape), ty = tensor(y.data(), shape), ttotal = tensor(&total, scalar),
             tgx = tensor(grad_x.data(), shape), tgs = tensor(grad_scale.data(), scale_shape);
    ASSERT_EQ(spectest_mixed(&tx, &ts, &tsh, &tgy, &ty, &ttotal, &tgx, &tgs), NNF_OK) << nnf_last_error();

    // y and total in double from (x, scale); the objective of the gradients is total + sum(grad_y y).
    auto forward = [&](const std::vector<double> &v, std::vector<double> *ys) {
        const size_t count = x.size();
        std::vector<double> h(count), yy(count);
        for (size_t i = 0; i < count; ++i) {
            const size_t j = i % static_cast<size_t>(c), nj = i % static_cast<size_t>(n * c);
            h[i] = v[i] * v[count + j] - shift[nj];
            const double e = h[i] > 0 ? std::sqrt(std::fabs(h[i]) + 1) : std::exp(h[i]) - 1;
            yy[i] = e + std::min(h[i], 0.5) * std::max(h[i], -0.25) + std::log(1 + h[i] * h[i]) / (2 + std::tanh(h[i]));
        }
        // softmin over B with beta 0.5: softmax(-0.5 y) along dim 0.
        double mean_term = 0, relu_sum = 0;
        for (size_t nj = 0; nj < static_cast<size_t>(n * c); ++nj) {
            double s = 0;
            for (int64_t k = 0; k < b; ++k) s += std::exp(-0.5 * yy[static_cast<size_t>(k) * static_cast<size_t>(n * c) + nj]);
            for (int64_t k = 0; k < b; ++k) {
                const size_t i = static_cast<size_t>(k) * static_cast<size_t>(n * c) + nj;
                mean_term += std::exp(-0.5 * yy[i]) / s * h[i];
                relu_sum += std::max(h[i], 0.0);
            }
        }
        if (ys) *ys = yy;
        return mean_term / static_cast<double>(count) + relu_sum;
    };
    std::vector<double> point(x.begin(), x.end());
    point.insert(point.end(), scale.begin(), scale.end());
    std::vector<double> y_expected;
    const double total_expected = forward(point, &y_expected);
    expect_close(y, y_expected, 1e-5, 1e-6, "y vs double");
    expect_close({total}, {total_expected}, 1e-5, 1e-6, "total vs double");
    auto objective = [&](const std::vector<double> &v) {
        std::vector<double> ys;
        double value = forward(v, &ys);
        for (size_t i = 0; i < ys.size(); ++i) value += grad_y[i] * ys[i];
        return value;
    };
    const std::vector<double> fd = finite_differences(objective, point, 1e-6);
    // relu and where have kinks; the random points stay away from them (h = 0 has probability 0).
    expect_close(grad_x, std::vector<double>(fd.begin(), fd.begin() + static_cast<long>(x.size())), 1e-3, 1e-4, "grad_x vs finite differences");
    expect_close(grad_scale, std::vector<double>(fd.begin() + static_cast<long>(x.size()), fd.end()), 1e-3, 1e-4, "grad_scale vs finite differences");
}

TEST(FusedKernels, RegistryOpsWithPositionalAndKeywordParameters) {
    std::vector<float> x = random_values(1000, -8, 8, 17), y(x.size());
    x[0] = 0.0f;
    std::vector<int64_t> shape{static_cast<int64_t>(x.size())};
    DLTensor tx = tensor(x.data(), shape), ty = tensor(y.data(), shape);
    ASSERT_EQ(spectest_leaky(&tx, &ty), NNF_OK) << nnf_last_error();
    std::vector<double> expected(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        const double leaky = v > 0 ? v : 0.2 * v;
        const double softplus = 2 * v > 10 ? v : std::log1p(std::exp(2 * v)) / 2;
        const double hardtanh = std::min(std::max(v, -0.5), 2.0);
        expected[i] = leaky + softplus - hardtanh;
    }
    expect_close(y, expected, 1e-5, 1e-6, "leaky + softplus - hardtanh");
}

// PyTorch's elementwise losses of d, in double.
double smooth_l1(double d, double beta) {
    return std::fabs(d) < beta ? 0.5 * d * d / beta : std::fabs(d) - 0.5 * beta;
}
double huber(double d, double delta) {
    return std::fabs(d) < delta ? 0.5 * d * d : delta * (std::fabs(d) - 0.5 * delta);
}

TEST(FusedKernels, LossesAndPreluByNameWithGradientsOfEveryInput) {
    const int64_t n = 5, c = 7;
    const size_t count = static_cast<size_t>(n * c);
    std::vector<float> x = random_values(count, -3, 3, 21), t = random_values(count, -3, 3, 22),
                       w = random_values(static_cast<size_t>(c), 0.05f, 0.5f, 23);
    std::vector<float> grad_x(count), grad_t(count), grad_w(static_cast<size_t>(c));
    float loss = 0;
    std::vector<int64_t> shape{n, c}, w_shape{c}, scalar{};
    DLTensor tx = tensor(x.data(), shape), tt = tensor(t.data(), shape), tw = tensor(w.data(), w_shape),
             tloss = tensor(&loss, scalar), tgx = tensor(grad_x.data(), shape), tgt = tensor(grad_t.data(), shape),
             tgw = tensor(grad_w.data(), w_shape);
    ASSERT_EQ(spectest_regression(&tx, &tt, &tw, &tloss, &tgx, &tgt, &tgw), NNF_OK) << nnf_last_error();

    // v = (x, t, w): mse(h, t) + sum smooth_l1(h - t, 0.5) + mean huber(x - t, 2) + mean |x - t|,
    // h = prelu(x, w).
    auto objective = [&](const std::vector<double> &v) {
        double mse = 0, sl1 = 0, hub = 0, l1 = 0;
        for (size_t i = 0; i < count; ++i) {
            const double xi = v[i], ti = v[count + i], wi = v[2 * count + i % static_cast<size_t>(c)];
            const double h = xi > 0 ? xi : wi * xi;
            mse += (h - ti) * (h - ti);
            sl1 += smooth_l1(h - ti, 0.5);
            hub += huber(xi - ti, 2.0);
            l1 += std::fabs(xi - ti);
        }
        return mse / count + sl1 + hub / count + l1 / count;
    };
    std::vector<double> point(x.begin(), x.end());
    point.insert(point.end(), t.begin(), t.end());
    point.insert(point.end(), w.begin(), w.end());
    expect_close({loss}, {objective(point)}, 1e-6, 1e-6, "loss vs double");
    // The kinks (x = 0, |d| = beta, delta, 0) are hit with probability 0 by the random points.
    const std::vector<double> fd = finite_differences(objective, point);
    auto part = [&](size_t from, size_t size) { return std::vector<double>(fd.begin() + static_cast<long>(from), fd.begin() + static_cast<long>(from + size)); };
    expect_close(grad_x, part(0, count), 1e-4, 1e-6, "grad_x vs finite differences");
    expect_close(grad_t, part(count, count), 1e-4, 1e-6, "grad_t vs finite differences");
    expect_close(grad_w, part(2 * count, static_cast<size_t>(c)), 1e-4, 1e-6, "grad_w vs finite differences");

    // The unfused library ops agree on the mse term: nnf_prelu_forward, then nnf_mse_loss_forward.
    std::vector<float> h(count);
    float mse = 0;
    DLTensor th = tensor(h.data(), shape), tmse = tensor(&mse, scalar);
    ASSERT_EQ(nnf_prelu_forward(&tx, &tw, &th), NNF_OK) << nnf_last_error();
    ASSERT_EQ(nnf_mse_loss_forward(&th, &tt, &tmse, nullptr), NNF_OK) << nnf_last_error();
    double mse_double = 0;
    for (size_t i = 0; i < count; ++i) mse_double += (double(h[i]) - t[i]) * (double(h[i]) - t[i]);
    expect_close({mse}, {mse_double / count}, 1e-6, 1e-7, "unfused mse");
}

TEST(FusedKernels, ReductionsAlongOneDimRreluEvaluationAndUnreducedLosses) {
    const int64_t n = 6, c = 9;
    const size_t count = static_cast<size_t>(n * c);
    std::vector<float> x = random_values(count, -2, 2, 24), t = random_values(count, -2, 2, 25),
                       grad_m = random_values(static_cast<size_t>(n), -1, 1, 26),
                       grad_s = random_values(static_cast<size_t>(c), -1, 1, 27), grad_e = random_values(count, -1, 1, 28);
    std::vector<float> m(static_cast<size_t>(n)), s(static_cast<size_t>(c)), e(count), grad_x(count);
    std::vector<int64_t> shape{n, c}, m_shape{n}, s_shape{c};
    DLTensor tx = tensor(x.data(), shape), tt = tensor(t.data(), shape), tgm = tensor(grad_m.data(), m_shape),
             tgs = tensor(grad_s.data(), s_shape), tge = tensor(grad_e.data(), shape), tm = tensor(m.data(), m_shape),
             ts = tensor(s.data(), s_shape), te = tensor(e.data(), shape), tgx = tensor(grad_x.data(), shape);
    ASSERT_EQ(spectest_row_stats(&tx, &tt, &tgm, &tgs, &tge, &tm, &ts, &te, &tgx), NNF_OK) << nnf_last_error();

    const double slope = (0.1 + 0.3) / 2;  // rrelu in evaluation
    auto outputs = [&](const std::vector<double> &v, std::vector<double> *mm, std::vector<double> *ss, std::vector<double> *ee) {
        mm->assign(static_cast<size_t>(n), 0.0);
        ss->assign(static_cast<size_t>(c), 0.0);
        ee->assign(count, 0.0);
        for (size_t i = 0; i < count; ++i) {
            const size_t row = i / static_cast<size_t>(c), col = i % static_cast<size_t>(c);
            (*mm)[row] += v[i] * v[i] / static_cast<double>(c);
            (*ss)[col] += v[i] > 0 ? v[i] : slope * v[i];
            (*ee)[i] = huber(v[i] - t[i], 1.0);
        }
    };
    const std::vector<double> point(x.begin(), x.end());
    std::vector<double> mm, ss, ee;
    outputs(point, &mm, &ss, &ee);
    expect_close(m, mm, 1e-6, 1e-7, "mean along dim 1");
    expect_close(s, ss, 1e-6, 1e-6, "sum of rrelu along dim -2");
    expect_close(e, ee, 1e-6, 1e-7, "huber, reduction none");
    auto objective = [&](const std::vector<double> &v) {
        std::vector<double> a, b, d;
        outputs(v, &a, &b, &d);
        double total = 0;
        for (size_t i = 0; i < a.size(); ++i) total += grad_m[i] * a[i];
        for (size_t i = 0; i < b.size(); ++i) total += grad_s[i] * b[i];
        for (size_t i = 0; i < d.size(); ++i) total += grad_e[i] * d[i];
        return total;
    };
    expect_close(grad_x, finite_differences(objective, point), 1e-4, 1e-6, "grad_x vs finite differences");
}

TEST(FusedKernels, RreluTrainingDrawsTheStandardLibrarysSlopes) {
    const int64_t n = 37, c = 29;
    std::vector<float> x = random_values(static_cast<size_t>(n * c), -2, 2, 29), y(x.size()), library(x.size()), noise(x.size());
    std::vector<int64_t> shape{n, c};
    DLTensor tx = tensor(x.data(), shape), ty = tensor(y.data(), shape), tl = tensor(library.data(), shape),
             tn = tensor(noise.data(), shape);
    ASSERT_EQ(spectest_rrelu_train(&tx, &ty), NNF_OK) << nnf_last_error();
    nnf_rrelu_params p = nnf_rrelu_default_params();
    p.training = true;
    p.seed = 7;
    ASSERT_EQ(nnf_rrelu_forward(&tx, &tl, &tn, &p), NNF_OK) << nnf_last_error();
    int negative = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_EQ(y[i], library[i]) << "element " << i << ", x = " << x[i];
        if (x[i] < 0) {
            ++negative;
            // y = a x with a in [lower, upper] (PyTorch's defaults 1/8, 1/3).
            EXPECT_GE(y[i] / x[i], 0.125f - 1e-6f);
            EXPECT_LE(y[i] / x[i], 1.0f / 3.0f + 1e-6f);
        }
    }
    EXPECT_GT(negative, 100);
}

// ---- the C ABI contract: validation before any write ----

class Validation : public ::testing::Test {
protected:
    std::vector<float> x = random_values(12, -1, 1, 18), bias = random_values(4, -1, 1, 19);
    std::vector<float> y = std::vector<float>(12, 42.0f);
    std::vector<int64_t> shape{3, 4}, bias_shape{4};
    DLTensor tx = tensor(x.data(), shape), tb = tensor(bias.data(), bias_shape), ty = tensor(y.data(), shape);

    void expect_error(nnf_status status, nnf_status expected, const char *message) {
        EXPECT_EQ(status, expected) << nnf_last_error();
        EXPECT_STREQ(nnf_last_error(), message);
        for (float v : y) ASSERT_EQ(v, 42.0f) << "an output byte was written";
    }
};

TEST_F(Validation, NamedDimensionsMustAgree) {
    std::vector<int64_t> wrong{5};
    tb.shape = wrong.data();
    expect_error(spectest_bias_gelu(&tx, &tb, &ty), NNF_ERR_SHAPE_MISMATCH,
                 "spectest_bias_gelu: bias has size 5 in dim 0 (C) but x has size 4 in dim 1 (C)");
    tb.shape = bias_shape.data();
    std::vector<int64_t> out_shape{4, 4};
    ty.shape = out_shape.data();
    expect_error(spectest_bias_gelu(&tx, &tb, &ty), NNF_ERR_SHAPE_MISMATCH,
                 "spectest_bias_gelu: y has size 4 in dim 0 (N) but x has size 3 in dim 0 (N)");
}

TEST_F(Validation, RankDtypeNullAndDevice) {
    tb.ndim = 2;
    tb.shape = shape.data();
    expect_error(spectest_bias_gelu(&tx, &tb, &ty), NNF_ERR_SHAPE_MISMATCH,
                 "spectest_bias_gelu: bias has 2 dimensions; expected 1 ([C])");
    tb = tensor(bias.data(), bias_shape);
    tx.dtype = {kDLFloat, 64, 1};
    expect_error(spectest_bias_gelu(&tx, &tb, &ty), NNF_ERR_UNSUPPORTED_DTYPE,
                 "spectest_bias_gelu: x has dtype (code 2, bits 64, lanes 1); expected float32");
    tx.dtype = {kDLFloat, 32, 1};
    expect_error(spectest_bias_gelu(&tx, nullptr, &ty), NNF_ERR_INVALID_ARGUMENT, "spectest_bias_gelu: bias is NULL");
    ty.device = {kDLCUDA, 0};
    expect_error(spectest_bias_gelu(&tx, &tb, &ty), NNF_ERR_UNSUPPORTED_DEVICE,
                 "spectest_bias_gelu: y is on CUDA device 0 but x is on the CPU; all tensors must share a device");
    ty.device = {kDLOpenCL, 0};
    expect_error(spectest_bias_gelu(&tx, &tb, &ty), NNF_ERR_UNSUPPORTED_DEVICE,
                 "spectest_bias_gelu: y is on device type 4; nnfuse runs on the CPU (kDLCPU) and CUDA (kDLCUDA)");
#ifndef NNF_SPEC_HAS_CUDA
    // All on a GPU, but the library was compiled for CPU targets only (no device work is tried).
    tx.device = tb.device = ty.device = {kDLCUDA, 0};
    expect_error(spectest_bias_gelu(&tx, &tb, &ty), NNF_ERR_NOT_BUILT_FOR_TARGET,
                 "spectest_bias_gelu: x is on CUDA device 0, but this fused kernel was compiled without a CUDA target "
                 "(add one, e.g. host-cuda, to nnfc compile --targets)");
#endif
}

TEST_F(Validation, OverlapRules) {
    // A shifted view of x as the output: overlapping, not the same view.
    DLTensor shifted = tx;
    shifted.byte_offset = 4;
    std::vector<int64_t> small{2, 4};
    shifted.shape = small.data();
    DLTensor x_small = tx;
    x_small.shape = small.data();
    EXPECT_EQ(spectest_bias_gelu(&x_small, &tb, &shifted), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_STREQ(nnf_last_error(),
                 "spectest_bias_gelu: y overlaps x without being the same view; only exact in-place (same data, offset "
                 "and strides) is allowed");
    // A reducing kernel may not write over its input even as the same view.
    float temperature = 1;
    std::vector<int64_t> scalar{};
    DLTensor tt = tensor(&temperature, scalar);
    EXPECT_EQ(spectest_temperature_softmax(&tx, &tt, &tx), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_STREQ(nnf_last_error(),
                 "spectest_temperature_softmax: y overlaps x; this kernel reduces across elements, so its outputs must "
                 "not overlap its inputs");
    std::vector<int64_t> zero_strides{0, 1};
    DLTensor broadcast_out = ty;
    broadcast_out.strides = zero_strides.data();
    expect_error(spectest_bias_gelu(&tx, &tb, &broadcast_out), NNF_ERR_INVALID_ARGUMENT,
                 "spectest_bias_gelu: y has stride 0 in dim 0, so two of its elements share an address");
}

TEST(FusedValidation, ClassIndicesOutOfRangeAreRejectedBeforeAnyWrite) {
    std::vector<float> logits(6, 0.5f), grad(6, 42.0f);
    std::vector<int64_t> target{0, 3}, shape{2, 3}, target_shape{2}, scalar{};
    float loss = 42.0f;
    DLTensor tl = tensor(logits.data(), shape), tt = tensor(target.data(), target_shape, kI64), tloss = tensor(&loss, scalar),
             tg = tensor(grad.data(), shape);
    EXPECT_EQ(spectest_scaled_ce(&tl, &tt, &tloss, &tg), NNF_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STREQ(nnf_last_error(),
                 "spectest_scaled_ce: target[1] = 3 is not a class index of cross_entropy: expected 0 <= index < 3 (C) "
                 "or ignore_index = -100");
    EXPECT_EQ(loss, 42.0f);
    for (float g : grad) EXPECT_EQ(g, 42.0f);
    tt.dtype = {kDLInt, 32, 1};
    EXPECT_EQ(spectest_scaled_ce(&tl, &tt, &tloss, &tg), NNF_ERR_UNSUPPORTED_DTYPE);
    EXPECT_STREQ(nnf_last_error(), "spectest_scaled_ce: target has dtype (code 0, bits 32, lanes 1); expected int64");
}

TEST(FusedValidation, ExtentsAndStridesMustFitInt32) {
    std::vector<float> x(12), bias(4), y(12, 42.0f);
    std::vector<int64_t> shape{3, 4}, bias_shape{4}, strides{int64_t{1} << 31, 1};
    DLTensor tx = tensor(x.data(), shape, {kDLFloat, 32, 1}, strides.data()), tb = tensor(bias.data(), bias_shape),
             ty = tensor(y.data(), shape);
    EXPECT_EQ(spectest_bias_gelu(&tx, &tb, &ty), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_STREQ(nnf_last_error(),
                 "spectest_bias_gelu: x has extent 3 and stride 2147483648 in dim 0 (N); fused kernels take extents and "
                 "strides below 2^31 (view the tensor with more dims)");
    for (float v : y) EXPECT_EQ(v, 42.0f);
}

TEST(FusedValidation, EmptyTensors) {
    std::vector<int64_t> shape{0, 4}, bias_shape{4};
    float bias[4] = {};
    DLTensor tx = tensor(nullptr, shape), tb = tensor(bias, bias_shape), ty = tensor(nullptr, shape);
    EXPECT_EQ(spectest_bias_gelu(&tx, &tb, &ty), NNF_OK) << nnf_last_error();
    // A mean over no targets is 0/0 = NaN, as in PyTorch; the gradient is empty.
    std::vector<int64_t> logits_shape{0, 3}, target_shape{0}, scalar{};
    float loss = 0;
    DLTensor tl = tensor(nullptr, logits_shape), tt = tensor(nullptr, target_shape, kI64), tloss = tensor(&loss, scalar),
             tg = tensor(nullptr, logits_shape);
    EXPECT_EQ(spectest_scaled_ce(&tl, &tt, &tloss, &tg), NNF_OK) << nnf_last_error();
    EXPECT_TRUE(std::isnan(loss));
}

}  // namespace

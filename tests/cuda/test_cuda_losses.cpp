// The elementwise losses (mse, l1, smooth_l1, huber) on a GPU: forward with reduction none, mean
// and sum, backward with each, contiguous, strided, transposed and broadcast layouts, sums
// spread over many blocks and over several kernel calls, NaN and inf, empty inputs; against
// double references (reference/loss_reference.h). cross_entropy (class indices and
// probabilities, weights, ignore_index, label smoothing, every reduction, a warp or a block per
// row, (N, C, d) layouts, in place) and nll_loss's backward against the CPU path, which
// tests/test_losses.cpp checks against double formulas and finite differences. Skipped, with
// the reason, without a GPU; the device checks run everywhere.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cuda/cuda_test_support.h"
#include "cuda/gpu_matches_cpu.h"
#include "elementwise_loss_calls.h"
#include "reference/loss_reference.h"
#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

const char *const kOps[] = {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"};

// d loss / d x at d = x - target, in double (PyTorch's, with 0 at 0 for l1).
double derivative_ref(const std::string &op, double d, double width) {
    const double sgn = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
    if (std::isnan(d)) return d;
    if (op == "mse_loss") return 2 * d;
    if (op == "l1_loss") return sgn;
    if (op == "smooth_l1_loss") return width == 0 ? sgn : (d < -width ? -1.0 : (d > width ? 1.0 : d / width));
    return d < -width ? -width : (d > width ? width : d);
}

::testing::AssertionResult near(double got, double ref, double rtol, double atol) {
    if (std::isnan(ref) || std::isnan(got)) {
        if (std::isnan(ref) && std::isnan(got)) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", expected " << ref;
    }
    if (got == ref || std::fabs(got - ref) <= atol + rtol * std::fabs(ref)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << got << ", expected " << ref;
}

struct LossCase {
    std::vector<int64_t> shape;
    std::vector<int64_t> x_strides, t_strides, out_strides;  // empty: contiguous
};

class CudaLossTest : public ::testing::Test {
protected:
    void SetUp() override { NNF_SKIP_WITHOUT_GPU(); }

    // Every op, forward with each reduction and backward with each, on one layout.
    void check(const LossCase &c, float width = 1.0f) {
        for (const char *op : kOps) {
            SCOPED_TRACE(std::string(op) + " width " + std::to_string(width));
            TestTensor x(c.shape, c.x_strides), t(c.shape, c.t_strides), y(c.shape, c.out_strides);
            TestTensor g(c.shape), gi(c.shape, c.out_strides), scalar({}), g1({});
            fill_random(x, 1);
            fill_random(t, 2);
            fill_random(g, 3, -2, 2);
            g1.at(0) = 0.75f;
            const int64_t n = x.size();
            std::vector<double> losses(static_cast<size_t>(n));
            double magnitude = 0;
            for (int64_t i = 0; i < n; ++i) {
                losses[static_cast<size_t>(i)] = elementwise_loss_ref(op, double(x.at(i)) - double(t.at(i)), width);
                magnitude += std::fabs(losses[static_cast<size_t>(i)]);
            }
            OnDevice dx(x), dt(t), dy(y), dg(g), dgi(gi), dscalar(scalar), dg1(g1);
            // none
            ASSERT_EQ(elementwise_forward(op, dx.dl(), dt.dl(), dy.dl(), NNF_REDUCTION_NONE, width), NNF_OK) << nnf_last_error();
            ASSERT_TRUE(gpu_finished());
            dy.download();
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_TRUE(near(y.at(i), losses[static_cast<size_t>(i)], 2e-6, 1e-30)) << "element " << i;
            }
            EXPECT_TRUE(y.untouched_outside_view());
            // mean and sum
            for (nnf_reduction r : {NNF_REDUCTION_MEAN, NNF_REDUCTION_SUM}) {
                ASSERT_EQ(elementwise_forward(op, dx.dl(), dt.dl(), dscalar.dl(), r, width), NNF_OK) << nnf_last_error();
                ASSERT_TRUE(gpu_finished());
                dscalar.download();
                const double expected = reduce_ref(losses, static_cast<RefReduction>(r), static_cast<double>(n));
                const double scale = r == NNF_REDUCTION_MEAN ? 1.0 / static_cast<double>(n) : 1.0;
                EXPECT_TRUE(near(scalar.at(0), expected, 1e-6, 1e-6 * magnitude * scale)) << "reduction " << r;
            }
            // backward: none with a full grad_output, mean and sum with one element
            for (nnf_reduction r : {NNF_REDUCTION_NONE, NNF_REDUCTION_MEAN, NNF_REDUCTION_SUM}) {
                DLTensor *grad = r == NNF_REDUCTION_NONE ? dg.dl() : dg1.dl();
                ASSERT_EQ(elementwise_backward(op, grad, dx.dl(), dt.dl(), dgi.dl(), r, width), NNF_OK) << nnf_last_error();
                ASSERT_TRUE(gpu_finished());
                dgi.download();
                const double scale = r == NNF_REDUCTION_MEAN ? static_cast<float>(1.0 / static_cast<double>(n)) : 1.0;
                for (int64_t i = 0; i < n; ++i) {
                    const double go = r == NNF_REDUCTION_NONE ? g.at(i) : g1.at(0) * scale;
                    const double expected = derivative_ref(op, double(x.at(i)) - double(t.at(i)), width) * go;
                    ASSERT_TRUE(near(gi.at(i), expected, 1e-6, 1e-30)) << "reduction " << r << " element " << i;
                }
                EXPECT_TRUE(gi.untouched_outside_view());
            }
        }
    }
};

TEST_F(CudaLossTest, ContiguousTensorsOfManySizes) {
    check({{1}});
    check({{17}});
    check({{1000}});
    check({{8, 5}});
    check({{2, 3, 7, 9}});
    check({{300, 7, 40}});     // 84000 elements: several partials
    check({{64, 3, 4096}});    // 786432 elements: many blocks, each a chunk of one long row
}

TEST_F(CudaLossTest, WidthsOfSmoothL1AndHuber) {
    check({{33, 31}}, 0.5f);
    check({{33, 31}}, 2.5f);
    check({{33, 31}}, 1e-3f);
}

TEST_F(CudaLossTest, TransposedStridedAndBroadcastLayouts) {
    check({{9, 7}, {1, 9}, {}, {}});
    check({{9, 7}, {}, {1, 9}, {}});
    check({{9, 7}, {}, {}, {1, 9}});
    check({{4, 6, 10}, {6 * 20 * 2, 20 * 2, 2}, {}, {}});
    check({{3, 4, 11}, {}, {0, 11, 1}, {}});  // target broadcast along dim 0
    check({{2, 3, 4, 5}, {60, 1, 15, 3}, {}, {60, 1, 15, 3}});
}

TEST_F(CudaLossTest, SumsAddUpAcrossKernelCallSlices) {
    rt::set_max_span_per_call_for_testing(1000);
    check({{5, 3, 37, 11}});
    check({{7, 900}, {1000, 1}, {}, {}});
    rt::set_max_span_per_call_for_testing(0);
}

TEST_F(CudaLossTest, NaNAndInfGiveTheCpuResults) {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (const char *op : kOps) {
        SCOPED_TRACE(op);
        const float xs[] = {nan, inf, -inf, 2.0f, -0.0f, 0.5f, 1.0f};
        const float ts[] = {1.0f, 1.0f, 1.0f, inf, 0.0f, 0.5f, nan};
        constexpr int kCount = 7;
        TestTensor x({kCount}), t({kCount}), y({kCount}), g({kCount}), gi({kCount}), scalar({});
        TestTensor cpu_y({kCount}), cpu_gi({kCount});
        for (int i = 0; i < kCount; ++i) {
            x.at(i) = xs[i];
            t.at(i) = ts[i];
            g.at(i) = 1.0f;
        }
        // The CPU kernels' answers (tests/test_losses.cpp holds them to PyTorch's semantics).
        ASSERT_EQ(elementwise_forward(op, x.dl(), t.dl(), cpu_y.dl(), NNF_REDUCTION_NONE, 1.0f), NNF_OK);
        ASSERT_EQ(elementwise_backward(op, g.dl(), x.dl(), t.dl(), cpu_gi.dl(), NNF_REDUCTION_NONE, 1.0f), NNF_OK);
        OnDevice dx(x), dt(t), dy(y), dg(g), dgi(gi), dscalar(scalar);
        ASSERT_EQ(elementwise_forward(op, dx.dl(), dt.dl(), dy.dl(), NNF_REDUCTION_NONE, 1.0f), NNF_OK) << nnf_last_error();
        ASSERT_EQ(elementwise_backward(op, dg.dl(), dx.dl(), dt.dl(), dgi.dl(), NNF_REDUCTION_NONE, 1.0f), NNF_OK)
            << nnf_last_error();
        ASSERT_TRUE(gpu_finished());
        dy.download();
        dgi.download();
        for (int i = 0; i < kCount; ++i) {
            EXPECT_TRUE(near(y.at(i), cpu_y.at(i), 0, 0)) << i;
            EXPECT_TRUE(near(gi.at(i), cpu_gi.at(i), 0, 0)) << i;
            const double d = double(xs[i]) - double(ts[i]);
            EXPECT_TRUE(near(y.at(i), elementwise_loss_ref(op, d, 1.0), 2e-6, 0)) << i;
        }
        EXPECT_EQ(std::signbit(gi.at(4)), std::signbit(cpu_gi.at(4)));
        // A NaN term makes the sum NaN; without one, an inf term makes the mean inf.
        ASSERT_EQ(elementwise_forward(op, dx.dl(), dt.dl(), dscalar.dl(), NNF_REDUCTION_SUM, 1.0f), NNF_OK);
        ASSERT_TRUE(gpu_finished());
        dscalar.download();
        EXPECT_TRUE(std::isnan(scalar.at(0))) << scalar.at(0);
        TestTensor x2({3}), t2({3});
        x2.at(0) = inf, x2.at(1) = 1.0f, x2.at(2) = 2.0f;
        t2.at(0) = 0.0f, t2.at(1) = 0.0f, t2.at(2) = 0.0f;
        OnDevice dx2(x2), dt2(t2);
        ASSERT_EQ(elementwise_forward(op, dx2.dl(), dt2.dl(), dscalar.dl(), NNF_REDUCTION_MEAN, 1.0f), NNF_OK);
        ASSERT_TRUE(gpu_finished());
        dscalar.download();
        EXPECT_EQ(scalar.at(0), inf);
    }
}

TEST_F(CudaLossTest, EmptyInputsMeanIsNaNSumIsZeroNoneWritesNothing) {
    for (const char *op : kOps) {
        SCOPED_TRACE(op);
        TestTensor x({0, 4}), t({0, 4}), y({0, 4}), scalar({}), g1({}), gi({0, 4});
        g1.at(0) = 1.0f;
        // Empty tensors are never dereferenced: kDLCUDA views of no memory.
        DLTensor ex = claimed_on_gpu(x), et = claimed_on_gpu(t), ey = claimed_on_gpu(y), egi = claimed_on_gpu(gi);
        OnDevice dscalar(scalar), dg1(g1);
        DLTensor *dx = &ex, *dt = &et, *dy = &ey, *dgi = &egi;
        EXPECT_EQ(elementwise_forward(op, dx, dt, dy, NNF_REDUCTION_NONE, 1.0f), NNF_OK) << nnf_last_error();
        EXPECT_EQ(elementwise_backward(op, dg1.dl(), dx, dt, dgi, NNF_REDUCTION_MEAN, 1.0f), NNF_OK) << nnf_last_error();
        ASSERT_EQ(elementwise_forward(op, dx, dt, dscalar.dl(), NNF_REDUCTION_MEAN, 1.0f), NNF_OK) << nnf_last_error();
        ASSERT_TRUE(gpu_finished());
        dscalar.download();
        EXPECT_TRUE(std::isnan(scalar.at(0))) << scalar.at(0);
        ASSERT_EQ(elementwise_forward(op, dx, dt, dscalar.dl(), NNF_REDUCTION_SUM, 1.0f), NNF_OK) << nnf_last_error();
        ASSERT_TRUE(gpu_finished());
        dscalar.download();
        EXPECT_EQ(scalar.at(0), 0.0f);
    }
}

TEST_F(CudaLossTest, BackwardInPlaceOverTheInput) {
    TestTensor x({40, 30}), t({40, 30}), g1({}), reference({40, 30});
    fill_random(x, 11);
    fill_random(t, 12);
    g1.at(0) = 2.0f;
    ASSERT_EQ(nnf_mse_loss_backward(g1.dl(), x.dl(), t.dl(), reference.dl(), nullptr), NNF_OK);
    OnDevice dx(x), dt(t), dg1(g1);
    ASSERT_EQ(nnf_mse_loss_backward(dg1.dl(), dx.dl(), dt.dl(), dx.dl(), nullptr), NNF_OK) << nnf_last_error();
    ASSERT_TRUE(gpu_finished());
    dx.download();
    for (int64_t i = 0; i < x.size(); ++i) ASSERT_TRUE(near(x.at(i), reference.at(i), 1e-6, 1e-30)) << i;
}

// A kDLCUDA view of host class indices that is never dereferenced (see claimed_on_gpu).
DLTensor indices_claimed_on_gpu(std::vector<int64_t> &indices, int64_t *shape) {
    *shape = static_cast<int64_t>(indices.size());
    DLTensor t = {};
    t.data = indices.data();
    t.device = {kDLCUDA, 0};
    t.ndim = 1;
    t.dtype = {kDLInt, 64, 1};
    t.shape = shape;
    return t;
}

class CudaClassificationTest : public ::testing::Test {
protected:
    void SetUp() override { NNF_SKIP_WITHOUT_GPU(); }
};

// Class indices with every `ignore_every`-th one ignore_index (-100).
KernelArg labels(std::vector<int64_t> shape, int64_t classes, unsigned seed, int ignore_every = 0) {
    KernelArg t = class_indices(std::move(shape), classes, seed);
    if (ignore_every > 0) {
        const int64_t ignored = -100;
        for (int64_t r = 0; r < t.count(); r += ignore_every) std::memcpy(t.bytes.data() + r * 8, &ignored, 8);
    }
    return t;
}

// Class counts on either side of the driver's warp-to-block switch (1024), rows not a multiple
// of a block's 8, each with weights, ignored rows and label smoothing, every reduction.
TEST_F(CudaClassificationTest, CrossEntropyWithClassIndicesMatchesTheCpu) {
    for (auto [n, c] : {std::pair<int64_t, int64_t>{37, 10}, {5, 1000}, {9, 1025}, {3, 5000}, {2, 70001}}) {
        for (float smoothing : {0.0f, 0.1f}) {
            for (nnf_reduction r : {NNF_REDUCTION_MEAN, NNF_REDUCTION_SUM, NNF_REDUCTION_NONE}) {
                SCOPED_TRACE(testing::Message() << n << " x " << c << ", smoothing " << smoothing << ", reduction " << r);
                nnf_cross_entropy_params p = nnf_cross_entropy_default_params();
                p.label_smoothing = smoothing;
                p.reduction = r;
                const std::vector<int64_t> out_shape = r == NNF_REDUCTION_NONE ? std::vector<int64_t>{n}
                                                                              : std::vector<int64_t>{};
                auto forward = [&](DLTensor *x, DLTensor *t, DLTensor *w, DLTensor *out) {
                    return nnf_cross_entropy_forward(x, t, w, out, &p);
                };
                expect_gpu_matches_cpu(forward,
                                       std::array<KernelArg, 4>{floats({n, c}, -8, 8, 1), labels({n}, c, 2, 5),
                                                                floats({c}, 0.5f, 2, 3), output(out_shape)},
                                       kRel, kAbs);
                auto backward = [&](DLTensor *g, DLTensor *x, DLTensor *t, DLTensor *grad) {
                    return nnf_cross_entropy_backward(g, x, t, nullptr, grad, &p);
                };
                expect_gpu_matches_cpu(backward,
                                       std::array<KernelArg, 4>{floats(out_shape, -2, 2, 4), floats({n, c}, -8, 8, 5),
                                                                labels({n}, c, 6, 3), output({n, c})},
                                       kRel, kAbs);
            }
        }
    }
}

// forward_backward (the forward kernel, then the backward one), in place over the logits, and a
// (N, C, d) layout whose class dim has stride d.
TEST_F(CudaClassificationTest, CrossEntropyForwardBackwardInPlaceAndOverPositions) {
    const nnf_cross_entropy_params p = nnf_cross_entropy_default_params();
    auto in_place = [&](DLTensor *x, DLTensor *t, DLTensor *out) {
        return nnf_cross_entropy_forward_backward(x, t, nullptr, nullptr, out, x, &p);
    };
    expect_gpu_matches_cpu(in_place, std::array<KernelArg, 3>{floats({64, 3000}, -20, 20, 7), labels({64}, 3000, 8),
                                                              output({})},
                           kRel, kAbs);
    auto spatial = [&](DLTensor *x, DLTensor *t, DLTensor *g, DLTensor *out, DLTensor *grad) {
        return nnf_cross_entropy_forward_backward(x, t, nullptr, g, out, grad, &p);
    };
    expect_gpu_matches_cpu(spatial,
                           std::array<KernelArg, 5>{floats({4, 7, 33}, -5, 5, 9), labels({4, 33}, 7, 10, 4),
                                                    floats({}, 0.5f, 1, 11), output({}), output({4, 7, 33})},
                           kRel, kAbs);
}

TEST_F(CudaClassificationTest, CrossEntropyWithProbabilitiesMatchesTheCpu) {
    for (auto [n, c] : {std::pair<int64_t, int64_t>{37, 10}, {3, 5000}}) {
        for (float smoothing : {0.0f, 0.2f}) {
            SCOPED_TRACE(testing::Message() << n << " x " << c << ", smoothing " << smoothing);
            nnf_cross_entropy_params p = nnf_cross_entropy_default_params();
            p.label_smoothing = smoothing;
            auto forward_backward = [&](DLTensor *x, DLTensor *q, DLTensor *w, DLTensor *out, DLTensor *grad) {
                return nnf_cross_entropy_forward_backward(x, q, w, nullptr, out, grad, &p);
            };
            expect_gpu_matches_cpu(forward_backward,
                                   std::array<KernelArg, 5>{floats({n, c}, -8, 8, 12), floats({n, c}, 0, 1, 13),
                                                            floats({c}, 0.5f, 2, 14), output({}), output({n, c})},
                                   kRel, kAbs);
        }
    }
}

// Weighted and unweighted, ignored rows, every reduction, and total_weight; over positions too.
TEST_F(CudaClassificationTest, NllLossForwardMatchesTheCpu) {
    for (nnf_reduction r : {NNF_REDUCTION_MEAN, NNF_REDUCTION_SUM, NNF_REDUCTION_NONE}) {
        SCOPED_TRACE(testing::Message() << "reduction " << r);
        nnf_nll_loss_params p = nnf_nll_loss_default_params();
        p.reduction = r;
        const std::vector<int64_t> out_shape = r == NNF_REDUCTION_NONE ? std::vector<int64_t>{300} : std::vector<int64_t>{};
        auto weighted = [&](DLTensor *x, DLTensor *t, DLTensor *w, DLTensor *out, DLTensor *total_weight) {
            return nnf_nll_loss_forward(x, t, w, out, total_weight, &p);
        };
        expect_gpu_matches_cpu(weighted,
                               std::array<KernelArg, 5>{floats({300, 20}, -5, 0, 22), labels({300}, 20, 23, 7),
                                                        floats({20}, 0.5f, 2, 24), output(out_shape), output({})},
                               kRel, kAbs);
        const std::vector<int64_t> od_shape = r == NNF_REDUCTION_NONE ? std::vector<int64_t>{4, 33} : std::vector<int64_t>{};
        auto unweighted = [&](DLTensor *x, DLTensor *t, DLTensor *out) {
            return nnf_nll_loss_forward(x, t, nullptr, out, nullptr, &p);
        };
        expect_gpu_matches_cpu(unweighted,
                               std::array<KernelArg, 3>{floats({4, 7, 33}, -5, 0, 25), labels({4, 33}, 7, 26, 4),
                                                        output(od_shape)},
                               kRel, kAbs);
    }
}

TEST_F(CudaClassificationTest, NllLossBackwardMatchesTheCpu) {
    for (nnf_reduction r : {NNF_REDUCTION_MEAN, NNF_REDUCTION_NONE}) {
        nnf_nll_loss_params p = nnf_nll_loss_default_params();
        p.reduction = r;
        const std::vector<int64_t> g_shape = r == NNF_REDUCTION_NONE ? std::vector<int64_t>{300} : std::vector<int64_t>{};
        auto backward = [&](DLTensor *g, DLTensor *x, DLTensor *t, DLTensor *w, DLTensor *grad) {
            return nnf_nll_loss_backward(g, x, t, w, grad, &p);
        };
        expect_gpu_matches_cpu(backward,
                               std::array<KernelArg, 5>{floats(g_shape, -2, 2, 15), floats({300, 20}, -5, 0, 16),
                                                        labels({300}, 20, 17, 7), floats({20}, 0.5f, 2, 18),
                                                        output({300, 20})},
                               kRel, kAbs);
        // Unweighted (the driver's device 1), over positions: the class dim has stride d.
        const std::vector<int64_t> gd_shape = r == NNF_REDUCTION_NONE ? std::vector<int64_t>{4, 33} : std::vector<int64_t>{};
        auto unweighted = [&](DLTensor *g, DLTensor *x, DLTensor *t, DLTensor *grad) {
            return nnf_nll_loss_backward(g, x, t, nullptr, grad, &p);
        };
        expect_gpu_matches_cpu(unweighted,
                               std::array<KernelArg, 4>{floats(gd_shape, -2, 2, 19), floats({4, 7, 33}, -5, 0, 20),
                                                        labels({4, 33}, 7, 21, 4), output({4, 7, 33})},
                               kRel, kAbs);
    }
}

// A class index out of range in device memory: found on the host copy, nothing written.
TEST_F(CudaClassificationTest, BadClassIndicesOnTheDeviceAreReportedBeforeAnyWrite) {
    using Backward = nnf_status (*)(const DLTensor *, const DLTensor *, const DLTensor *, const DLTensor *, DLTensor *,
                                    const void *);
    auto nll = [](const DLTensor *g, const DLTensor *x, const DLTensor *t, const DLTensor *w, DLTensor *grad,
                  const void *) { return nnf_nll_loss_backward(g, x, t, w, grad, nullptr); };
    auto ce = [](const DLTensor *g, const DLTensor *x, const DLTensor *t, const DLTensor *w, DLTensor *grad,
                 const void *) { return nnf_cross_entropy_backward(g, x, t, w, grad, nullptr); };
    for (Backward backward : {static_cast<Backward>(nll), static_cast<Backward>(ce)}) {
        std::array<KernelArg, 3> args{floats({3, 4}, -1, 1, 19), labels({3}, 4, 20), output({3, 4})};
        const int64_t bad = 4;
        std::memcpy(args[1].bytes.data() + 16, &bad, 8);
        std::vector<std::unique_ptr<DeviceBuffer>> device;
        std::array<DLTensor, 3> views = upload_all(args, &device);
        KernelArg one = floats({}, 1, 1, 0);
        DeviceBuffer g(4);
        g.upload(one.bytes.data());
        DLTensor g_view = one.view(g.data(), {kDLCUDA, 0});
        EXPECT_EQ(backward(&g_view, &views[0], &views[1], nullptr, &views[2], nullptr), NNF_ERR_INDEX_OUT_OF_RANGE);
        EXPECT_NE(std::string(nnf_last_error()).find("target[2] = 4 is out of range"), std::string::npos)
            << nnf_last_error();
        std::vector<unsigned char> after(args[2].bytes.size());
        device[2]->download(after.data());
        EXPECT_EQ(after, args[2].bytes);
    }
}

// Runs everywhere: a CUDA tensor next to a CPU one, or on another device, is rejected before any
// device work.
TEST(CudaLossValidation, MixedDevicesAreRejectedWithoutWriting) {
    TestTensor x({4, 5}), t({4, 5}), y({4, 5}), scalar({});
    fill_random(x, 1);
    fill_random(t, 2);
    DLTensor x_gpu = claimed_on_gpu(x), t_gpu1 = claimed_on_gpu(t, 1);
    for (const char *op : kOps) {
        SCOPED_TRACE(op);
        for (nnf_reduction r : {NNF_REDUCTION_NONE, NNF_REDUCTION_MEAN, NNF_REDUCTION_SUM}) {
            DLTensor *out = r == NNF_REDUCTION_NONE ? y.dl() : scalar.dl();
            EXPECT_EQ(elementwise_forward(op, &x_gpu, t.dl(), out, r, 1.0f), NNF_ERR_UNSUPPORTED_DEVICE) << nnf_last_error();
            EXPECT_EQ(elementwise_forward(op, &x_gpu, &t_gpu1, out, r, 1.0f), NNF_ERR_UNSUPPORTED_DEVICE) << nnf_last_error();
            EXPECT_EQ(elementwise_backward(op, x.dl(), &x_gpu, t.dl(), y.dl(), NNF_REDUCTION_NONE, 1.0f),
                      NNF_ERR_UNSUPPORTED_DEVICE)
                << nnf_last_error();
        }
    }
    for (int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.at(i), TestTensor::kSentinel);
    EXPECT_EQ(scalar.at(0), TestTensor::kSentinel);
}

// Runs everywhere: CUDA tensors reach the CUDA kernels (not NNF_ERR_NOT_BUILT_FOR_TARGET); where
// no driver can be loaded the call fails with the reason and writes nothing.
TEST(CudaLossValidation, CudaTensorsWithoutADriverFailWithTheReason) {
    if (CudaDriver::get().available()) GTEST_SKIP() << "a GPU is present: the numerical tests cover this path";
    TestTensor x({4, 5}), t({4, 5}), y({4, 5}), scalar({}), g1({}), empty_x({0}), empty_y({0});
    fill_random(x, 1);
    fill_random(t, 2);
    DLTensor x_gpu = claimed_on_gpu(x), t_gpu = claimed_on_gpu(t), y_gpu = claimed_on_gpu(y),
             s_gpu = claimed_on_gpu(scalar), g_gpu = claimed_on_gpu(g1), ex_gpu = claimed_on_gpu(empty_x);
    for (const char *op : kOps) {
        SCOPED_TRACE(op);
        const std::string forward = std::string("nnf_") + op + "_forward", backward = std::string("nnf_") + op + "_backward";
        EXPECT_EQ(elementwise_forward(op, &x_gpu, &t_gpu, &y_gpu, NNF_REDUCTION_NONE, 1.0f), NNF_ERR_RUNTIME_FAILURE);
        EXPECT_NE(std::string(nnf_last_error()).find(forward), std::string::npos) << nnf_last_error();
        for (nnf_reduction r : {NNF_REDUCTION_MEAN, NNF_REDUCTION_SUM}) {
            EXPECT_EQ(elementwise_forward(op, &x_gpu, &t_gpu, &s_gpu, r, 1.0f), NNF_ERR_RUNTIME_FAILURE);
            EXPECT_NE(std::string(nnf_last_error()).find(forward), std::string::npos) << nnf_last_error();
            // Even a mean of nothing is not written without a driver.
            EXPECT_EQ(elementwise_forward(op, &ex_gpu, &ex_gpu, &s_gpu, r, 1.0f), NNF_ERR_RUNTIME_FAILURE);
            EXPECT_EQ(elementwise_backward(op, &g_gpu, &x_gpu, &t_gpu, &y_gpu, r, 1.0f), NNF_ERR_RUNTIME_FAILURE);
            EXPECT_NE(std::string(nnf_last_error()).find(backward), std::string::npos) << nnf_last_error();
        }
        EXPECT_EQ(elementwise_backward(op, &y_gpu, &x_gpu, &t_gpu, &y_gpu, NNF_REDUCTION_NONE, 1.0f), NNF_ERR_RUNTIME_FAILURE);
    }
    // nll_loss's backward too, before its class indices are copied to the host.
    std::vector<int64_t> targets = {0, 1, 2, 1};
    int64_t target_shape[1];
    DLTensor labels = indices_claimed_on_gpu(targets, target_shape);
    EXPECT_EQ(nnf_nll_loss_backward(&g_gpu, &x_gpu, &labels, nullptr, &y_gpu, nullptr), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_nll_loss_backward"), std::string::npos) << nnf_last_error();
    EXPECT_EQ(nnf_nll_loss_forward(&x_gpu, &labels, nullptr, &s_gpu, nullptr, nullptr), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_nll_loss_forward"), std::string::npos) << nnf_last_error();
    EXPECT_EQ(nnf_cross_entropy_forward(&x_gpu, &labels, nullptr, &s_gpu, nullptr), NNF_ERR_RUNTIME_FAILURE);
    EXPECT_NE(std::string(nnf_last_error()).find("nnf_cross_entropy_forward"), std::string::npos) << nnf_last_error();
    for (int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.at(i), TestTensor::kSentinel);
    EXPECT_EQ(scalar.at(0), TestTensor::kSentinel);
}

}  // namespace
}  // namespace nnf::test

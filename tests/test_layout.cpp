// The runtime's layout planning and slicing (runtime/tensor.h), which every family relies on
// for strides, rank and tensors over 2^31 elements.
#include <map>

#include "tensor.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

TEST(Layout, ContiguousTensorsCollapseToOneDimension) {
    TestTensor x({2, 3, 4, 5, 6, 7}), y({2, 3, 4, 5, 6, 7});
    const DLTensor *tensors[] = {y.dl(), x.dl()};
    const rt::Layout layout = rt::plan_layout(tensors, 2);
    ASSERT_EQ(layout.rank, 1);
    EXPECT_EQ(layout.extent[0], 2 * 3 * 4 * 5 * 6 * 7);
    EXPECT_EQ(layout.stride[0][0], 1);
    EXPECT_EQ(layout.stride[1][0], 1);
}

TEST(Layout, DimensionsFollowTheOutputStridesAndUnitDimsDrop) {
    // Output transposed (column-major 2-D), input row-major with a padded row.
    TestTensor x({3, 1, 4}, {8, 100, 1}), y({3, 1, 4}, {1, 7, 3});
    const DLTensor *tensors[] = {y.dl(), x.dl()};
    const rt::Layout layout = rt::plan_layout(tensors, 2);
    ASSERT_EQ(layout.rank, 2);
    EXPECT_EQ(layout.extent[0], 3);  // the output's unit-stride dim comes first
    EXPECT_EQ(layout.stride[0][0], 1);
    EXPECT_EQ(layout.stride[1][0], 8);
    EXPECT_EQ(layout.extent[1], 4);
    EXPECT_EQ(layout.stride[0][1], 3);
    EXPECT_EQ(layout.stride[1][1], 1);
}

// Every element of the layout is visited exactly once, and no slice spans more than the limit.
void expect_slices_cover(const rt::Layout &layout, int64_t total, int64_t limit) {
    rt::set_max_span_per_call_for_testing(limit);
    std::map<intptr_t, int> visits;
    int calls = 0;
    rt::for_each_slice(layout, [&](halide_buffer_t *buffers) {
        ++calls;
        const halide_buffer_t &b = buffers[0];
        int64_t span = 0;
        for (int d = 0; d < b.dimensions; ++d) {
            span += static_cast<int64_t>(b.dim[d].extent) * rt::abs64(b.dim[d].stride);
        }
        EXPECT_LE(span, limit);
        for (int j = 0; j < b.dim[1].extent; ++j) {
            for (int i = 0; i < b.dim[0].extent; ++i) {
                ++visits[reinterpret_cast<intptr_t>(b.host) + 4 * (i * b.dim[0].stride + j * b.dim[1].stride)];
            }
        }
        return 0;
    });
    rt::set_max_span_per_call_for_testing(0);
    EXPECT_EQ(static_cast<int64_t>(visits.size()), total);
    for (const auto &[address, count] : visits) ASSERT_EQ(count, 1);
    EXPECT_GT(calls, 1);
}

TEST(Layout, SlicesCoverLongRowsOnce) {
    TestTensor y({10007});
    const DLTensor *tensors[] = {y.dl()};
    expect_slices_cover(rt::plan_layout(tensors, 1), 10007, 1000);
}

TEST(Layout, SlicesCoverManyRowsAndHigherDimsOnce) {
    TestTensor y({3, 4, 50, 7}, {10000, 2000, 20, 2});
    const DLTensor *tensors[] = {y.dl()};
    const rt::Layout layout = rt::plan_layout(tensors, 1);
    EXPECT_EQ(layout.rank, 4);
    expect_slices_cover(layout, 3 * 4 * 50 * 7, 300);
}

TEST(Layout, ASliceStopsAtTheFirstKernelFailure) {
    TestTensor y({100});
    const DLTensor *tensors[] = {y.dl()};
    rt::set_max_span_per_call_for_testing(10);
    int calls = 0;
    const int result = rt::for_each_slice(rt::plan_layout(tensors, 1), [&](halide_buffer_t *) { return ++calls == 3 ? -7 : 0; });
    rt::set_max_span_per_call_for_testing(0);
    EXPECT_EQ(result, -7);
    EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace nnf::test

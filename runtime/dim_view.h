// Same-shaped tensors viewed around one logical dimension, as 3-D (inner, dim, outer) slices:
// the layout of the ops that treat one dimension specially (prelu's channel dim, softmax's
// reduced dim). Unlike plan_layout (tensor.h), which may reorder and merge any dims for purely
// elementwise ops, this keeps `dim` apart and never moves a dim across it.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>

#include "HalideRuntime.h"
#include "tensor.h"

namespace nnf::rt {

struct DimView {
    static constexpr int kMaxTensors = 4;
    int num_tensors = 0;
    // [0] the dims after `dim` (row-major, merged), [1] `dim` itself, [2] the dims before it.
    // A side with no dims (or only extent-1 dims) has extent 1.
    int64_t extent[3] = {1, 1, 1};
    int64_t stride[kMaxTensors][3] = {};  // in elements
    // Dims that could not be merged into [0] or [2] (the strides of some tensor break the
    // merge); the caller loops over them.
    int rest_rank = 0;
    int64_t rest_extent[NNF_MAX_DIMS] = {};
    int64_t rest_stride[kMaxTensors][NNF_MAX_DIMS] = {};
    char *base[kMaxTensors] = {};
};

// `dim` in [0, ndim) of tensors[0]'s shape, or -1 for none (the whole tensor is inner). All
// tensors have the same shape.
DimView plan_dim_view(const DLTensor *const *tensors, int num_tensors, int dim);

// The largest index span of `dim` across the tensors: a view whose dim alone needs more than
// max_span_per_call() cannot be cut (the kernels need a whole row) and is refused by drivers.
int64_t dim_span(const DimView &view);

// Calls call(buffers) with 3-D halide_buffer_t views (one per tensor, same order) covering the
// view: once per position of the rest dims, with the outer (and, if needed, the inner) extent
// cut so that each call's index span stays within max_span_per_call() and, if
// `max_elements_per_call` > 0, each call covers about that many elements at most (whole rows of
// `dim`, which is never cut). Stops at the first non-zero return and returns it.
template<typename Call>
int for_each_dim_slice(const DimView &view, Call &&call, int64_t max_elements_per_call = 0) {
    const int n = view.num_tensors;
    const int64_t limit = max_span_per_call();
    int64_t s[3] = {0, 0, 0};  // the largest |stride| of any tensor per view dim
    for (int t = 0; t < n; ++t) {
        for (int d = 0; d < 3; ++d) s[d] = std::max(s[d], abs64(view.stride[t][d]));
    }
    const int64_t row_span = s[1] * (view.extent[1] - 1);
    const int64_t room = std::max<int64_t>(limit - row_span, 1);
    const int64_t unlimited = INT64_MAX;
    const int64_t rows_allowed = max_elements_per_call > 0 ? max_elements_per_call / view.extent[1] : unlimited;
    const int64_t inner_per_call = std::clamp<int64_t>(
        std::min(s[0] == 0 ? view.extent[0] : room / s[0], rows_allowed), 1, view.extent[0]);
    int64_t outer_per_call = 1;
    if (inner_per_call == view.extent[0]) {
        const int64_t left = room - s[0] * (inner_per_call - 1);
        const int64_t planes_allowed = rows_allowed == unlimited ? unlimited : rows_allowed / view.extent[0];
        outer_per_call = std::clamp<int64_t>(std::min(s[2] == 0 ? view.extent[2] : left / s[2], planes_allowed), 1,
                                             view.extent[2]);
    }
    int64_t index[NNF_MAX_DIMS] = {};
    halide_buffer_t buffers[DimView::kMaxTensors];
    halide_dimension_t dims[DimView::kMaxTensors][3];
    while (true) {
        for (int64_t outer = 0; outer < view.extent[2]; outer += outer_per_call) {
            const int64_t outers = std::min(outer_per_call, view.extent[2] - outer);
            for (int64_t inner = 0; inner < view.extent[0]; inner += inner_per_call) {
                const int64_t inners = std::min(inner_per_call, view.extent[0] - inner);
                for (int t = 0; t < n; ++t) {
                    int64_t offset = outer * view.stride[t][2] + inner * view.stride[t][0];
                    for (int d = 0; d < view.rest_rank; ++d) offset += index[d] * view.rest_stride[t][d];
                    const int64_t extents[3] = {inners, view.extent[1], outers};
                    for (int d = 0; d < 3; ++d) {
                        // An extent-1 dim never moves; stride 0 keeps its stride out of Halide's
                        // int32 checks.
                        const int64_t stride = extents[d] > 1 ? view.stride[t][d] : 0;
                        dims[t][d] = halide_dimension_t(0, static_cast<int32_t>(extents[d]),
                                                        static_cast<int32_t>(stride));
                    }
                    buffers[t] = halide_buffer_t();
                    buffers[t].host = reinterpret_cast<uint8_t *>(view.base[t] + offset * 4);
                    buffers[t].type = halide_type_t(halide_type_float, 32);
                    buffers[t].dimensions = 3;
                    buffers[t].dim = dims[t];
                }
                if (int result = call(buffers)) return result;
            }
        }
        int d = 0;
        for (; d < view.rest_rank; ++d) {
            if (++index[d] < view.rest_extent[d]) break;
            index[d] = 0;
        }
        if (d == view.rest_rank) return 0;
    }
}

}  // namespace nnf::rt

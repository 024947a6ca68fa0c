// Implementation of nnf::rt::for_each_slice (a template, so the per-slice call inlines).
#pragma once

#include <algorithm>
#include <cstdlib>

namespace nnf::rt {

namespace detail {

// Slices of dims [0, 2) of `layout` starting at base pointers `base`, with the inner and outer
// extents cut so that every tensor's index span stays within `limit`.
template<typename Call>
int for_each_2d_slice(const Layout &layout, char *const *base, int64_t limit, Call &call) {
    const int n = layout.num_tensors;
    const int64_t e0 = layout.rank > 0 ? layout.extent[0] : 1;
    const int64_t e1 = layout.rank > 1 ? layout.extent[1] : 1;
    auto stride = [&](int t, int d) { return layout.rank > d ? layout.stride[t][d] : 0; };

    int64_t s0 = 0, s1 = 0;  // the largest |stride| of any tensor in each dim
    for (int t = 0; t < n; ++t) {
        s0 = std::max(s0, abs64(stride(t, 0)));
        s1 = std::max(s1, abs64(stride(t, 1)));
    }
    // Halide checks extent * |stride| of every dim against 2^31 - 1 and computes addresses in
    // int32, so a call covers cols * s0 + rows * s1 <= limit. Cut dim 0 first, then take as
    // many rows of dim 0 as fit. The output has stride >= 1 in dim 0, so progress is made.
    const int64_t cols_per_call = std::clamp<int64_t>(s0 == 0 ? e0 : limit / s0, 1, std::min<int64_t>(e0, limit));
    int64_t rows_per_call = 1;
    if (cols_per_call == e0) {
        const int64_t room = limit - cols_per_call * s0;
        rows_per_call = std::clamp<int64_t>(s1 == 0 ? e1 : room / s1, 1, std::min<int64_t>(e1, limit));
    }

    halide_buffer_t buffers[Layout::kMaxTensors];
    halide_dimension_t dims[Layout::kMaxTensors][2];
    for (int64_t row = 0; row < e1; row += rows_per_call) {
        const int64_t rows = std::min(rows_per_call, e1 - row);
        for (int64_t col = 0; col < e0; col += cols_per_call) {
            const int64_t cols = std::min(cols_per_call, e0 - col);
            for (int t = 0; t < n; ++t) {
                // A dim of extent 1 never moves, so its stride is irrelevant; 0 keeps huge
                // strides out of Halide's int32 checks.
                const int64_t stride0 = cols > 1 ? stride(t, 0) : 0, stride1 = rows > 1 ? stride(t, 1) : 0;
                dims[t][0] = halide_dimension_t(0, static_cast<int32_t>(cols), static_cast<int32_t>(stride0));
                dims[t][1] = halide_dimension_t(0, static_cast<int32_t>(rows), static_cast<int32_t>(stride1));
                buffers[t] = halide_buffer_t();
                buffers[t].host = reinterpret_cast<uint8_t *>(base[t] + (row * stride(t, 1) + col * stride(t, 0)) * 4);
                buffers[t].type = halide_type_t(halide_type_float, 32);
                buffers[t].dimensions = 2;
                buffers[t].dim = dims[t];
            }
            if (int result = call(buffers)) return result;
        }
    }
    return 0;
}

}  // namespace detail

template<typename Call>
int for_each_slice(const Layout &layout, Call &&call) {
    const int n = layout.num_tensors;
    const int outer_rank = std::max(layout.rank - 2, 0);
    int64_t index[NNF_MAX_DIMS] = {};
    char *base[Layout::kMaxTensors];
    // An odometer over the dims above the first two; each position is one 2-D problem.
    while (true) {
        for (int t = 0; t < n; ++t) {
            int64_t offset = 0;
            for (int d = 0; d < outer_rank; ++d) offset += index[d] * layout.stride[t][d + 2];
            base[t] = layout.base[t] + offset * 4;
        }
        if (int result = detail::for_each_2d_slice(layout, base, max_span_per_call(), call)) return result;
        int d = 0;
        for (; d < outer_rank; ++d) {
            if (++index[d] < layout.extent[d + 2]) break;
            index[d] = 0;
        }
        if (d == outer_rank) return 0;
    }
}

}  // namespace nnf::rt

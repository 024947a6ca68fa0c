#include "dim_view.h"

namespace nnf::rt {
namespace {

// Merges dims [first, last) of the tensors' shape, innermost (highest index) first, into groups
// that are contiguous in every tensor. Returns the number of groups; group 0 is the innermost.
int merge_dims(const DLTensor *const *tensors, int num_tensors, int first, int last, int64_t *extent,
               int64_t (*stride)[NNF_MAX_DIMS]) {
    const DLTensor &shape = *tensors[0];
    int groups = 0;
    for (int d = last - 1; d >= first; --d) {
        if (shape.shape[d] == 1) continue;
        bool merge = groups > 0;
        for (int t = 0; merge && t < num_tensors; ++t) {
            merge = stride_of(*tensors[t], d) == stride[t][groups - 1] * extent[groups - 1];
        }
        if (merge) {
            extent[groups - 1] *= shape.shape[d];
            continue;
        }
        for (int t = 0; t < num_tensors; ++t) stride[t][groups] = stride_of(*tensors[t], d);
        extent[groups++] = shape.shape[d];
    }
    return groups;
}

}  // namespace

DimView plan_dim_view(const DLTensor *const *tensors, int num_tensors, int dim) {
    DimView view;
    view.num_tensors = num_tensors;
    const int ndim = tensors[0]->ndim;
    for (int t = 0; t < num_tensors; ++t) {
        view.base[t] = static_cast<char *>(tensors[t]->data) + tensors[t]->byte_offset;
    }
    auto take_groups = [&](int first, int last, int slot) {
        int64_t extent[NNF_MAX_DIMS];
        int64_t stride[DimView::kMaxTensors][NNF_MAX_DIMS];
        const int groups = merge_dims(tensors, num_tensors, first, last, extent, stride);
        // Group 0, the one nearest `dim` on either side, takes the view slot (on the inner side
        // it holds the last dim, usually the unit-stride one the kernels vectorize); the rest
        // are looped over.
        const int chosen = 0;
        for (int g = 0; g < groups; ++g) {
            if (g == chosen) {
                view.extent[slot] = extent[g];
                for (int t = 0; t < num_tensors; ++t) view.stride[t][slot] = stride[t][g];
            } else {
                view.rest_extent[view.rest_rank] = extent[g];
                for (int t = 0; t < num_tensors; ++t) view.rest_stride[t][view.rest_rank] = stride[t][g];
                ++view.rest_rank;
            }
        }
    };
    if (dim < 0) {
        take_groups(0, ndim, 0);
        return view;
    }
    take_groups(dim + 1, ndim, 0);
    view.extent[1] = tensors[0]->shape[dim];
    for (int t = 0; t < num_tensors; ++t) view.stride[t][1] = view.extent[1] > 1 ? stride_of(*tensors[t], dim) : 0;
    take_groups(0, dim, 2);
    return view;
}

int64_t dim_span(const DimView &view) {
    int64_t span = 0;
    for (int t = 0; t < view.num_tensors; ++t) span = std::max(span, abs64(view.stride[t][1]) * (view.extent[1] - 1));
    return span;
}

}  // namespace nnf::rt

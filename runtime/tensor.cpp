#include "tensor.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "error.h"

namespace nnf::rt {
namespace {

std::atomic<int64_t> span_limit_for_testing{0};

int64_t element_bytes(const DLTensor &t) {
    return (t.dtype.bits * t.dtype.lanes + 7) / 8;
}

// [lowest, highest] byte addresses a non-empty tensor touches, as offsets from its element 0.
void byte_offsets(const DLTensor &t, int64_t *low, int64_t *high) {
    *low = *high = 0;
    for (int d = 0; d < t.ndim; ++d) {
        const int64_t reach = (t.shape[d] - 1) * stride_of(t, d) * element_bytes(t);
        (reach < 0 ? *low : *high) += reach;
    }
    *high += element_bytes(t) - 1;
}

// [lowest, highest] byte addresses a non-empty tensor touches.
void byte_range(const DLTensor &t, uintptr_t *lo, uintptr_t *hi) {
    int64_t low, high;
    byte_offsets(t, &low, &high);
    const uintptr_t base = reinterpret_cast<uintptr_t>(element0(t));
    *lo = base + low;
    *hi = base + high;
}

// No strides, or the row-major ones (dims of extent 1 may have any stride): the common case,
// which needs no sorting or merging and cannot overlap itself.
bool is_dense_row_major(const DLTensor &t) {
    if (!t.strides) return true;
    int64_t expected = 1;
    for (int d = t.ndim - 1; d >= 0; --d) {
        if (t.shape[d] != 1 && t.strides[d] != expected) return false;
        expected *= t.shape[d];
    }
    return true;
}

}  // namespace

int64_t stride_of(const DLTensor &t, int d) {
    if (t.strides) return t.strides[d];
    int64_t s = 1;
    for (int k = t.ndim - 1; k > d; --k) s *= t.shape[k];
    return s;
}

char *element0(const DLTensor &t) {
    return static_cast<char *>(t.data) + t.byte_offset;
}

int64_t element_count(const DLTensor &t) {
    int64_t n = 1;
    for (int d = 0; d < t.ndim; ++d) n *= t.shape[d];
    return n;
}

int copy_view_from_cuda(int device_id, const DLTensor &t, std::vector<unsigned char> *bytes, DLTensor *on_host) {
    *on_host = t;
    on_host->byte_offset = 0;
    on_host->device = DLDevice{kDLCPU, 0};
    if (element_count(t) == 0) {
        bytes->clear();
        on_host->data = nullptr;
        return 0;
    }
    int64_t low, high;
    byte_offsets(t, &low, &high);
    bytes->resize(static_cast<size_t>(high - low + 1));
    on_host->data = bytes->data() - low;  // element 0 of the copy (low <= 0)
    return copy_from_cuda(device_id, element0(t) + low, bytes->data(), static_cast<int64_t>(bytes->size()));
}

nnf_status check_tensor(const char *function, const TensorArg &arg) {
    const DLTensor *t = arg.tensor;
    if (!t) return fail(function, NNF_ERR_INVALID_ARGUMENT, "%s is NULL", arg.name);
    if (t->dtype.code != kDLFloat || t->dtype.bits != 32 || t->dtype.lanes != 1) {
        return fail(function, NNF_ERR_UNSUPPORTED_DTYPE, "%s has dtype (code %d, bits %d, lanes %d); expected float32",
                    arg.name, t->dtype.code, t->dtype.bits, t->dtype.lanes);
    }
    if (t->ndim < 0 || t->ndim > NNF_MAX_DIMS) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT, "%s has %d dimensions; at most %d are supported", arg.name, t->ndim,
                    NNF_MAX_DIMS);
    }
    if (t->ndim > 0 && !t->shape) return fail(function, NNF_ERR_INVALID_ARGUMENT, "%s has NULL shape", arg.name);
    for (int d = 0; d < t->ndim; ++d) {
        if (t->shape[d] < 0) {
            return fail(function, NNF_ERR_INVALID_ARGUMENT, "%s has negative extent %" PRId64 " in dim %d", arg.name,
                        t->shape[d], d);
        }
    }
    if (element_count(*t) == 0) return NNF_OK;
    if (!t->data) return fail(function, NNF_ERR_INVALID_ARGUMENT, "%s has NULL data", arg.name);
    if (reinterpret_cast<uintptr_t>(element0(*t)) % 4 != 0) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT, "%s data + byte_offset is not 4-byte aligned", arg.name);
    }
    return NNF_OK;
}

namespace {

// -1 for devices nnfuse cannot run on.
int backend_of(const DLDevice &device) {
    switch (device.device_type) {
    case kDLCPU:
    case kDLCUDAHost: return static_cast<int>(Backend::cpu);
    case kDLCUDA:
    case kDLCUDAManaged: return static_cast<int>(Backend::cuda);
    default: return -1;
    }
}

const char *describe_device(const DLDevice &device, char *text, size_t size) {
    if (backend_of(device) == static_cast<int>(Backend::cpu)) {
        std::snprintf(text, size, "the CPU");
    } else if (backend_of(device) == static_cast<int>(Backend::cuda)) {
        std::snprintf(text, size, "CUDA device %d", device.device_id);
    } else {
        std::snprintf(text, size, "device type %d", static_cast<int>(device.device_type));
    }
    return text;
}

}  // namespace

nnf_status check_devices(const char *function, const TensorArg *args, int count, bool cuda_kernels, Backend *backend,
                         int *device_id, const char *no_cuda_reason) {
    const DLDevice &first = args[0].tensor->device;
    char a[48], b[48];
    for (int i = 0; i < count; ++i) {
        const DLDevice &device = args[i].tensor->device;
        if (backend_of(device) < 0) {
            return fail(function, NNF_ERR_UNSUPPORTED_DEVICE,
                        "%s is on %s; nnfuse runs on the CPU (kDLCPU) and CUDA (kDLCUDA)", args[i].name,
                        describe_device(device, a, sizeof a));
        }
        const bool same = backend_of(device) == backend_of(first) &&
                          (backend_of(device) == static_cast<int>(Backend::cpu) || device.device_id == first.device_id);
        if (!same) {
            return fail(function, NNF_ERR_UNSUPPORTED_DEVICE, "%s is on %s but %s is on %s; all tensors must share a device",
                        args[i].name, describe_device(device, a, sizeof a), args[0].name,
                        describe_device(first, b, sizeof b));
        }
    }
    *backend = static_cast<Backend>(backend_of(first));
    *device_id = first.device_id;
    if (*backend == Backend::cuda && !cuda_kernels) {
        return fail(function, NNF_ERR_NOT_BUILT_FOR_TARGET, "%s is on CUDA device %d, but %s", args[0].name,
                    first.device_id,
                    no_cuda_reason ? no_cuda_reason
                                   : "this build of nnfuse has no CUDA kernels (configure with -DNNFUSE_CUDA=ON)");
    }
    return NNF_OK;
}

nnf_status check_same_shape(const char *function, const TensorArg &a, const TensorArg &b) {
    bool same = a.tensor->ndim == b.tensor->ndim;
    for (int d = 0; same && d < a.tensor->ndim; ++d) same = a.tensor->shape[d] == b.tensor->shape[d];
    if (same) return NNF_OK;
    auto describe = [](const DLTensor &t, char *out, size_t size) {
        int used = std::snprintf(out, size, "[");
        for (int d = 0; d < t.ndim && used < static_cast<int>(size); ++d) {
            used += std::snprintf(out + used, size - used, d ? ", %" PRId64 : "%" PRId64, t.shape[d]);
        }
        if (used < static_cast<int>(size)) std::snprintf(out + used, size - used, "]");
    };
    char sa[160], sb[160];
    describe(*a.tensor, sa, sizeof sa);
    describe(*b.tensor, sb, sizeof sb);
    return fail(function, NNF_ERR_SHAPE_MISMATCH, "%s has shape %s but %s has shape %s", b.name, sb, a.name, sa);
}

nnf_status check_no_self_overlap(const char *function, const TensorArg &output) {
    // Sorted by |stride|, each dim must step past everything the inner dims span.
    const DLTensor &t = *output.tensor;
    if (is_dense_row_major(t)) return NNF_OK;
    int order[NNF_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < t.ndim; ++d) {
        if (t.shape[d] > 1) order[n++] = d;
    }
    std::sort(order, order + n, [&](int a, int b) { return abs64(stride_of(t, a)) < abs64(stride_of(t, b)); });
    int64_t span = 0;
    for (int i = 0; i < n; ++i) {
        const int64_t s = abs64(stride_of(t, order[i]));
        if (s <= span) {
            return fail(function, NNF_ERR_INVALID_ARGUMENT,
                        "%s has stride %" PRId64 " in dim %d, so two of its elements share an address", output.name,
                        stride_of(t, order[i]), order[i]);
        }
        span += s * (t.shape[order[i]] - 1);
    }
    return NNF_OK;
}

nnf_status check_output_aliasing(const char *function, const TensorArg &output, const TensorArg &input) {
    const DLTensor &o = *output.tensor, &i = *input.tensor;
    uintptr_t olo, ohi, ilo, ihi;
    byte_range(o, &olo, &ohi);
    byte_range(i, &ilo, &ihi);
    if (ohi < ilo || ihi < olo) return NNF_OK;
    bool same_view = element0(o) == element0(i) && o.ndim == i.ndim;
    for (int d = 0; same_view && d < o.ndim; ++d) {
        same_view = o.shape[d] == 1 || stride_of(o, d) == stride_of(i, d);
    }
    if (same_view) return NNF_OK;
    return fail(function, NNF_ERR_INVALID_ARGUMENT,
                "%s overlaps %s without being the same view; only exact in-place (same data, offset and strides) is "
                "allowed",
                output.name, input.name);
}

Layout plan_layout(const DLTensor *const *tensors, int num_tensors) {
    Layout layout;
    layout.num_tensors = num_tensors;
    const DLTensor &out = *tensors[0];
    for (int t = 0; t < num_tensors; ++t) layout.base[t] = element0(*tensors[t]);
    // All dense row-major (the same shape): one dim of every element, what the general path
    // below would merge them into, without its cost (it was a tenth of a 4K-element relu call).
    bool dense = true;
    for (int t = 0; dense && t < num_tensors; ++t) dense = is_dense_row_major(*tensors[t]);
    if (dense) {
        const int64_t count = element_count(out);
        if (count > 1) {
            layout.rank = 1;
            layout.extent[0] = count;
            for (int t = 0; t < num_tensors; ++t) layout.stride[t][0] = 1;
        }
        return layout;
    }
    int dims[NNF_MAX_DIMS];
    int64_t order_stride[NNF_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < out.ndim; ++d) {
        if (out.shape[d] != 1) {
            dims[n] = d;
            order_stride[n++] = abs64(stride_of(out, d));
        }
    }
    // Innermost first: ascending output stride; ties keep row-major order (last dim first).
    // Insertion sort: stable, and at most 16 dims (std::stable_sort allocates).
    for (int i = 1; i < n; ++i) {
        const int d = dims[i];
        const int64_t s = order_stride[i];
        int j = i;
        for (; j > 0 && (order_stride[j - 1] > s || (order_stride[j - 1] == s && dims[j - 1] < d)); --j) {
            dims[j] = dims[j - 1];
            order_stride[j] = order_stride[j - 1];
        }
        dims[j] = d;
        order_stride[j] = s;
    }
    for (int k = 0; k < n; ++k) {
        const int d = dims[k];
        bool merge = layout.rank > 0;
        const int r = layout.rank - 1;
        for (int t = 0; merge && t < num_tensors; ++t) {
            merge = stride_of(*tensors[t], d) == layout.stride[t][r] * layout.extent[r];
        }
        if (merge) {
            layout.extent[r] *= out.shape[d];
        } else {
            for (int t = 0; t < num_tensors; ++t) layout.stride[t][layout.rank] = stride_of(*tensors[t], d);
            layout.extent[layout.rank++] = out.shape[d];
        }
    }
    return layout;
}

int64_t max_span_per_call() {
    const int64_t testing = span_limit_for_testing.load(std::memory_order_relaxed);
    // 2^30, not 2^31 - 1: Halide's loop bounds round extents up to split factors in int32
    // (ceil(extent / task) as (extent + task - 1) / task), which must not overflow either.
    return testing > 0 ? testing : int64_t{1} << 30;
}

void set_max_span_per_call_for_testing(int64_t span) {
    span_limit_for_testing.store(span, std::memory_order_relaxed);
}

}  // namespace nnf::rt

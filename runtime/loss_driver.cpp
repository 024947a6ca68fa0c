#include "loss_driver.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <limits>
#include <string>
#include <vector>

#include "cpu_dispatch.h"
#include "cpu_tensor_checks.h"
#include "cuda_support.h"
#include "error.h"
#include "pointwise_driver.h"
#include "tensor.h"

namespace nnf::rt {
namespace {

std::atomic<int64_t> rows_per_call_for_testing{0};

// Blocks of about this many logits per kernel call: the row reductions and the gradient then
// read the block from L2 (256 KB), so the logits come from memory once.
constexpr int64_t kLogitsPerCall = 64 * 1024;

const float kOne = 1.0f;

std::string shape_string(const DLTensor &t) {
    std::string s = "[";
    for (int d = 0; d < t.ndim; ++d) s += (d ? ", " : "") + std::to_string(t.shape[d]);
    return s + "]";
}

// A shape in place (no heap: a small call's whole budget is a few hundred nanoseconds).
struct Shape {
    int64_t extent[NNF_MAX_DIMS] = {};
    int rank = 0;
    Shape() = default;
    Shape(std::initializer_list<int64_t> e) {
        for (int64_t v : e) extent[rank++] = v;
    }
    void push_back(int64_t v) { extent[rank++] = v; }
};

std::string shape_string(const Shape &shape) {
    std::string s = "[";
    for (int d = 0; d < shape.rank; ++d) s += (d ? ", " : "") + std::to_string(shape.extent[d]);
    return s + "]";
}

bool has_shape(const DLTensor &t, const Shape &shape) {
    if (t.ndim != shape.rank) return false;
    for (int d = 0; d < t.ndim; ++d) {
        if (t.shape[d] != shape.extent[d]) return false;
    }
    return true;
}

nnf_status check_reduction(const char *function, nnf_reduction reduction) {
    if (reduction != NNF_REDUCTION_NONE && reduction != NNF_REDUCTION_MEAN && reduction != NNF_REDUCTION_SUM) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT,
                    "params->reduction = %d is not an nnf_reduction value (NONE 0, MEAN 1, SUM 2)",
                    static_cast<int>(reduction));
    }
    return NNF_OK;
}

// A reduced loss (or its grad_output) is one element: 0-d as PyTorch's, or any shape of one
// element.
nnf_status check_one_element(const char *function, const TensorArg &arg, const char *why) {
    if (element_count(*arg.tensor) != 1) {
        return fail(function, NNF_ERR_SHAPE_MISMATCH, "%s has shape %s but %s needs one element", arg.name,
                    shape_string(*arg.tensor).c_str(), why);
    }
    return NNF_OK;
}

const char *reduction_name(nnf_reduction r) {
    return r == NNF_REDUCTION_MEAN ? "reduction mean" : "reduction sum";
}

float *float_at(const DLTensor &t) {
    return reinterpret_cast<float *>(element0(t));
}

// Sums doubles with Neumaier's compensation: partial sums of 2^31 rows keep full double accuracy.
// An inf or NaN term makes the sum inf or NaN, as PyTorch's; the correction is kept only while
// the sum is finite (inf - inf there would turn an inf sum into NaN).
struct CompensatedSum {
    double sum = 0, compensation = 0;
    void add(double v) {
        const double t = sum + v;
        if (std::isfinite(t)) compensation += std::fabs(sum) >= std::fabs(v) ? (sum - t) + v : (v - t) + sum;
        sum = t;
    }
    double value() const { return std::isfinite(sum) ? sum + compensation : sum; }
};

// ---- Elementwise losses on CUDA ----------------------------------------------------------------
//
// Reduction none and the gradients run the pointwise CUDA kernels through run_pointwise. Mean
// and sum run the CUDA forward_sum kernel, which writes one double partial per block (not per
// row as on the CPU: a contiguous tensor is one long row, compiler/generators/loss_generator.cpp)
// into a small scratch device buffer; the driver waits on the caller's stream, copies those few
// partials (at most kMaxPartials doubles, 8 KB) to the host and adds them with the CPU path's
// compensated sum. Why on the host: the result is one float the driver must finish anyway (mean
// divides by the count in double, as on the CPU), the copy is tiny next to reading the tensors,
// and the same CompensatedSum gives the same inf/NaN rules and double accuracy as the CPU,
// whatever the number of slices. The cost is one wait on the stream per slice (usually one).

// Blocks of the forward_sum kernel: at most this many partials per slice, each block summing at
// least kElementsPerPartial elements.
constexpr int64_t kMaxPartials = 1024;
constexpr int64_t kElementsPerPartial = 16 * 1024;
// The kernel indexes the flattened slice in int32: slices are cut into row ranges of at most
// this many elements (a row longer than that is one range).
constexpr int64_t kMaxElementsPerSumCall = int64_t{1} << 30;

template<typename Kernel>
Kernel *elementwise_cuda_twin(Kernel *cpu) {
    return cpu ? cuda_twin_of(cpu) : nullptr;
}

nnf_status check_cuda_driver(const char *function) {
    const char *why = nullptr;
    if (cuda_driver_available(&why)) return NNF_OK;
    return fail(function, NNF_ERR_RUNTIME_FAILURE, "%s", why);
}

// Writes one float to device memory at `address` (the caller's stream).
int write_device_float(int device_id, void *address, float value) {
    halide_dimension_t dim(0, 1, 1);
    halide_buffer_t b = halide_buffer_t();
    b.host = static_cast<uint8_t *>(address);
    b.type = halide_type_t(halide_type_float, 32);
    b.dimensions = 1;
    b.dim = &dim;
    return run_on_cuda(device_id, &b, 1, [&](halide_buffer_t *d) {
        d->host = reinterpret_cast<uint8_t *>(&value);
        d->set_host_dirty(true);
        int r = halide_copy_to_device(nullptr, d, cuda_device_interface());
        // `value` lives on this stack frame: the copy must be done before it goes.
        if (r == 0) r = halide_device_sync(nullptr, d);
        d->host = nullptr;
        return r;
    });
}

// The sum of the losses of a validated call on CUDA tensors into `total`.
int cuda_elementwise_loss_sum(const DLTensor *input, const DLTensor *target, float width, int device_id,
                              ElementwiseLossSumKernel kernel, CompensatedSum *total) {
    const DLTensor *tensors[] = {input, target};
    const Layout layout = plan_layout(tensors, 2);
    std::vector<double> partials(static_cast<size_t>(kMaxPartials));
    halide_dimension_t partial_dim(0, static_cast<int32_t>(kMaxPartials), 1);
    halide_buffer_t scratch = halide_buffer_t();
    scratch.host = reinterpret_cast<uint8_t *>(partials.data());
    scratch.type = halide_type_t(halide_type_float, 64);
    scratch.dimensions = 1;
    scratch.dim = &partial_dim;
    const int result = for_each_slice(layout, [&](halide_buffer_t *b) {
        const int64_t e0 = b[0].dim[0].extent, e1 = b[0].dim[1].extent;
        const int64_t rows_per_call = std::max<int64_t>(1, kMaxElementsPerSumCall / std::max<int64_t>(e0, 1));
        for (int64_t row = 0; row < e1; row += rows_per_call) {
            const int64_t rows = std::min(rows_per_call, e1 - row);
            halide_buffer_t part[2] = {b[0], b[1]};
            halide_dimension_t dims[2][2];
            for (int t = 0; t < 2; ++t) {
                dims[t][0] = b[t].dim[0];
                dims[t][1] = b[t].dim[1];
                dims[t][1].extent = static_cast<int32_t>(rows);
                part[t].dim = dims[t];
                part[t].host = b[t].host + row * static_cast<int64_t>(b[t].dim[1].stride) * 4;
            }
            const int64_t count = e0 * rows;
            const int64_t blocks =
                std::min(kMaxPartials, std::max<int64_t>(1, (count + kElementsPerPartial - 1) / kElementsPerPartial));
            partial_dim.extent = static_cast<int32_t>(blocks);
            const int r = run_on_cuda(device_id, part, 2, [&](halide_buffer_t *d) {
                if (!scratch.device) {
                    partial_dim.extent = static_cast<int32_t>(kMaxPartials);
                    if (int e = halide_device_malloc(nullptr, &scratch, cuda_device_interface())) return e;
                    partial_dim.extent = static_cast<int32_t>(blocks);
                }
                if (int e = kernel(&d[0], &d[1], width, &scratch)) return e;
                // The kernel ran on the caller's stream; the copy may not wait for it.
                if (int e = halide_device_sync(nullptr, &scratch)) return e;
                scratch.set_device_dirty(true);
                if (int e = halide_copy_to_host(nullptr, &scratch)) return e;
                if (int e = halide_device_sync(nullptr, &scratch)) return e;
                for (int64_t p = 0; p < blocks; ++p) total->add(partials[static_cast<size_t>(p)]);
                return 0;
            });
            if (r) return r;
        }
        return 0;
    });
    if (scratch.device) {
        run_on_cuda(device_id, &scratch, 0, [&](halide_buffer_t *) { return halide_device_free(nullptr, &scratch); });
    }
    return result;
}

}  // namespace

void set_loss_rows_per_call_for_testing(int64_t rows) {
    rows_per_call_for_testing = rows;
}

// ---- Elementwise losses ----------------------------------------------------------------------

nnf_status run_elementwise_loss_forward(const char *function, const DLTensor *input, const DLTensor *target,
                                        DLTensor *output, nnf_reduction reduction, float width,
                                        const ElementwiseLossKernels &kernels) {
    if (nnf_status s = check_reduction(function, reduction)) return s;
    if (reduction == NNF_REDUCTION_NONE) {
        auto with = [&](ElementwiseLossForwardKernel kernel) {
            return [kernel, width](halide_buffer_t *in, halide_buffer_t *out) { return kernel(&in[0], &in[1], width, out); };
        };
        if (ElementwiseLossForwardKernel cuda = elementwise_cuda_twin(kernels.none)) {
            return run_pointwise(function, {{"input", input}, {"target", target}}, {"output", output},
                                 with(kernels.none), with(cuda));
        }
        return run_pointwise(function, {{"input", input}, {"target", target}}, {"output", output}, with(kernels.none),
                             nullptr);
    }
    const TensorArg args[] = {{"input", input}, {"target", target}, {"output", output}};
    ElementwiseLossSumKernel cuda_sum = elementwise_cuda_twin(kernels.sum);
    for (const TensorArg &a : args) {
        if (nnf_status s = check_tensor(function, a)) return s;
    }
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, args, 3, cuda_sum != nullptr, &backend, &device_id)) return s;
    if (nnf_status s = check_same_shape(function, args[0], args[1])) return s;
    if (nnf_status s = check_one_element(function, args[2], reduction_name(reduction))) return s;
    const int64_t n = element_count(*input);
    CompensatedSum total;
    if (backend == Backend::cuda) {
        if (nnf_status s = check_cuda_driver(function)) return s;
        clear_kernel_error();
        if (n > 0) {
            if (nnf_status s = kernel_status(
                    function, cuda_elementwise_loss_sum(input, target, width, device_id, cuda_sum, &total))) {
                return s;
            }
        }
        // mean of nothing is NaN, as on the CPU.
        const double value = reduction == NNF_REDUCTION_MEAN ? total.value() / static_cast<double>(n) : total.value();
        return kernel_status(function, write_device_float(device_id, element0(*output), static_cast<float>(value)));
    }
    if (n > 0) {
        const DLTensor *tensors[] = {input, target};
        const Layout layout = plan_layout(tensors, 2);
        std::vector<double> row_sums;
        mark_kernels_started();
        clear_kernel_error();
        const int result = for_each_slice(layout, [&](halide_buffer_t *b) {
            const int32_t rows = b[0].dim[1].extent;
            row_sums.resize(static_cast<size_t>(rows));
            halide_dimension_t dim(0, rows, 1);
            halide_buffer_t out = halide_buffer_t();
            out.host = reinterpret_cast<uint8_t *>(row_sums.data());
            out.type = halide_type_t(halide_type_float, 64);
            out.dimensions = 1;
            out.dim = &dim;
            if (int r = kernels.sum(&b[0], &b[1], width, &out)) return r;
            for (double v : row_sums) total.add(v);
            return 0;
        });
        if (nnf_status s = kernel_status(function, result)) return s;
    }
    // mean of nothing is NaN, as PyTorch's (0 / 0).
    const double value = reduction == NNF_REDUCTION_MEAN ? total.value() / static_cast<double>(n) : total.value();
    *float_at(*output) = static_cast<float>(value);
    return NNF_OK;
}

nnf_status run_elementwise_loss_backward(const char *function, const DLTensor *grad_output, const DLTensor *input,
                                         const DLTensor *target, DLTensor *grad_input, nnf_reduction reduction,
                                         float width, const ElementwiseLossKernels &kernels) {
    if (nnf_status s = check_reduction(function, reduction)) return s;
    ElementwiseLossBackwardKernel cuda_kernel = elementwise_cuda_twin(kernels.backward);
    auto with = [&](ElementwiseLossBackwardKernel kernel, float scale) {
        return [kernel, width, scale](halide_buffer_t *in, halide_buffer_t *out) {
            return kernel(&in[0], &in[1], &in[2], width, scale, out);
        };
    };
    // run_pointwise with the CPU kernel and, where built, its CUDA twin for kDLCUDA tensors.
    auto run = [&](const DLTensor *gradient, float scale) {
        if (cuda_kernel) {
            return run_pointwise(function, {{"grad_output", gradient}, {"input", input}, {"target", target}},
                                 {"grad_input", grad_input}, with(kernels.backward, scale), with(cuda_kernel, scale));
        }
        return run_pointwise(function, {{"grad_output", gradient}, {"input", input}, {"target", target}},
                             {"grad_input", grad_input}, with(kernels.backward, scale), nullptr);
    };
    if (reduction == NNF_REDUCTION_NONE) return run(grad_output, 1.0f);
    if (nnf_status s = check_tensor(function, {"grad_output", grad_output})) return s;
    if (nnf_status s = check_tensor(function, {"input", input})) return s;
    if (nnf_status s = check_one_element(function, {"grad_output", grad_output}, reduction_name(reduction))) return s;
    // The one grad_output element, broadcast to the input's shape with zero strides.
    int64_t zero_strides[NNF_MAX_DIMS] = {};
    DLTensor broadcast = *grad_output;
    broadcast.ndim = input->ndim;
    broadcast.shape = input->shape;
    broadcast.strides = zero_strides;
    broadcast.byte_offset = 0;
    broadcast.data = element0(*grad_output);
    const int64_t n = element_count(*input);
    // ATen's norm: 1 / numel under mean.
    const float scale = reduction == NNF_REDUCTION_MEAN && n > 0 ? static_cast<float>(1.0 / static_cast<double>(n)) : 1.0f;
    // On CUDA the broadcast element is read on the device, where grad_output lives.
    return run(&broadcast, scale);
}

// ---- Classification losses -------------------------------------------------------------------

namespace {

// One tensor of a classification call in the logical dims [N, C, d1..dK] of the input (a 1-D
// input (C) is [1, C]): per-row tensors have stride 0 along C, a broadcast scalar 0 everywhere,
// the weight 0 everywhere but C.
struct ViewTensor {
    char *base = nullptr;
    int element_size = 4;
    halide_type_t type = halide_type_t(halide_type_float, 32);
    int64_t stride[NNF_MAX_DIMS + 1] = {};
};

// Row-major coordinates of row `r` over `shape`, as "[n, d1, ...]" ("[]" for a 0-d target).
std::string position_string(int64_t r, const Shape &shape) {
    Shape index = shape;
    for (int d = shape.rank; d-- > 0;) {
        index.extent[d] = shape.extent[d] ? r % shape.extent[d] : 0;
        r = shape.extent[d] ? r / shape.extent[d] : 0;
    }
    return shape_string(index);
}

// ---- Class-index rows on the host --------------------------------------------------------------
//
// The class indices are walked here, not in a Halide kernel: every index must be checked before
// anything is written, and nll_loss's forward is nothing but a gather (one load per row; no
// arithmetic for a vectorizer to win). Profiled on 64 rows of 1024 classes, the old sequence (an
// index check with a multi-index offset recomputed per row and a Neumaier sum of the weights
// with a branch per row, a heap vector of row losses, a Halide call, a second Neumaier sum)
// spent half of its 1.6 us outside the kernel. nll_loss's mean and sum now check, gather and sum
// in one pass into locals, and write the output only when every index was good.

// The rows (the input's shape without its class dim) in row-major order, with each tensor's
// element stride per row dim. A 1-D input's single row is rank 1, extent 1.
struct RowGeometry {
    int rank = 1;
    int64_t extent[NNF_MAX_DIMS] = {1};
    int64_t x_stride[NNF_MAX_DIMS] = {}, target_stride[NNF_MAX_DIMS] = {}, out_stride[NNF_MAX_DIMS] = {};
    const float *x = nullptr;
    const int64_t *target = nullptr;
    float *out = nullptr;
    const float *weight = nullptr;  // nullptr: unweighted
    int64_t x_class_stride = 0, weight_stride = 0, classes = 0, ignore_index = 0;
};

// One run: `n` consecutive rows along the innermost row dim.
struct RowRun {
    const float *x;
    const int64_t *target;
    float *out;
    int64_t x_step, target_step, out_step, n;
};

// Calls run(first_row, RowRun) for the runs covering rows [first, first + count) in row-major
// order; stops at the first run that returns a row >= 0 (a bad index) and returns that row, or -1.
template<typename Run>
int64_t walk_rows(const RowGeometry &g, int64_t first, int64_t count, Run &&run) {
    int64_t index[NNF_MAX_DIMS];
    int64_t r = first;
    for (int d = g.rank; d-- > 0;) {
        index[d] = r % g.extent[d];
        r /= g.extent[d];
    }
    const int inner = g.rank - 1;
    int64_t row = first;
    while (count > 0) {
        int64_t xo = 0, to = 0, oo = 0;
        for (int d = 0; d < g.rank; ++d) {
            xo += index[d] * g.x_stride[d];
            to += index[d] * g.target_stride[d];
            oo += index[d] * g.out_stride[d];
        }
        const int64_t n = std::min(count, g.extent[inner] - index[inner]);
        const RowRun run_at{g.x + xo, g.target + to, g.out ? g.out + oo : nullptr, g.x_stride[inner],
                            g.target_stride[inner], g.out_stride[inner], n};
        const int64_t bad = run(row, run_at);
        if (bad >= 0) return bad;
        row += n;
        count -= n;
        index[inner] += n;
        for (int d = inner; d > 0 && index[d] >= g.extent[d]; --d) {
            index[d] = 0;
            ++index[d - 1];
        }
    }
    return -1;
}

// Rows per chunk: the unit of the host passes' parallel tasks and of their partial sums. Fixed,
// whatever the thread count, so the partials (summed plainly in double within a chunk, then
// added in chunk order with compensation) give the same bits on every thread count. 2048 rows
// of double sums lose nothing a float result can show.
constexpr int64_t kRowsPerChunk = 2048;
// Host passes over fewer rows than this run on the calling thread: a thread-pool hand-off costs
// microseconds, a row a few nanoseconds.
constexpr int64_t kRowsForThreads = 4 * kRowsPerChunk;

// What a chunk of rows gives: the first bad index's row (-1: none), the rows kept (not
// ignore_index), their summed weight (weighted only) and their summed loss (nll_loss only).
struct ChunkSums {
    int64_t first_bad = -1;
    int64_t kept = 0;
    double weight = 0, loss = 0;
};

bool index_is_bad(int64_t t, int64_t classes) {
    return static_cast<uint64_t>(t) >= static_cast<uint64_t>(classes);
}

// A row's class for the loads: its target, or the (in-range, unused) class 0 when ignored, so
// that the loads need no branch.
int64_t load_class(int64_t t, bool keep) {
    return keep ? t : 0;
}

// weight[c], 1 when unweighted.
template<bool kWeighted>
float class_weight(const RowGeometry &g, int64_t c) {
    return kWeighted ? g.weight[c * g.weight_stride] : 1.0f;
}

// The index check of a run and its kept rows' count or summed weight. Branch-free but for the
// bad index: ignored rows are common in padded batches.
template<bool kWeighted>
int64_t check_run(const RowGeometry &g, int64_t row0, const RowRun &r, ChunkSums *sums) {
    int64_t kept = 0;
    double w0 = 0, w1 = 0;
    int64_t j = 0;
    for (; j < r.n; ++j) {
        const int64_t t = r.target[j * r.target_step];
        const bool keep = t != g.ignore_index;
        if (keep && index_is_bad(t, g.classes)) break;
        kept += keep;
        if (kWeighted) {
            const double w = keep ? static_cast<double>(class_weight<true>(g, load_class(t, keep))) : 0.0;
            ((j & 1) ? w1 : w0) += w;
        }
    }
    sums->kept += kept;
    sums->weight += w0 + w1;
    return j < r.n ? row0 + j : -1;
}

// nll_loss's row loss, as the Halide kernel's (ops::nll_loss): -w_t x_t in float, 0 when ignored.
float nll_row_loss(const RowGeometry &g, const float *x, int64_t c, float w, bool keep) {
    const float loss = -w * x[c * g.x_class_stride];
    return keep ? loss : 0.0f;
}

// nll_loss's reduced forward on a run: check, gather and sum in one pass. Four accumulators:
// the loads of later rows (cache misses on a large input) are not held up behind one chain of
// double adds. On 64K rows of 1024 classes each row's load is a TLB miss (a page walk, nested in
// a VM) and dominates (83% of the time in the gather's load, perf); software prefetching 8 to
// 128 rows ahead gained nothing measurable, so there is none.
template<bool kWeighted>
int64_t nll_sum_run(const RowGeometry &g, int64_t row0, const RowRun &r, ChunkSums *sums) {
    double loss[4] = {0, 0, 0, 0}, weight[4] = {0, 0, 0, 0};
    int64_t kept = 0;
    int64_t j = 0;
    auto one = [&](int64_t k, int lane) {
        const int64_t t = r.target[k * r.target_step];
        const bool keep = t != g.ignore_index;
        if (keep && index_is_bad(t, g.classes)) return false;
        kept += keep;
        const int64_t c = load_class(t, keep);
        const float w = class_weight<kWeighted>(g, c);
        loss[lane] += nll_row_loss(g, r.x + k * r.x_step, c, w, keep);
        if (kWeighted) weight[lane] += keep ? static_cast<double>(w) : 0.0;
        return true;
    };
    bool good = true;
    for (; good && j + 4 <= r.n; j += 4) {
        good = one(j, 0) && one(j + 1, 1) && one(j + 2, 2) && one(j + 3, 3);
    }
    if (good) {
        for (; j < r.n; ++j) {
            if (!one(j, 0)) {
                good = false;
                break;
            }
        }
    }
    sums->kept += kept;
    sums->loss += (loss[0] + loss[1]) + (loss[2] + loss[3]);
    sums->weight += (weight[0] + weight[1]) + (weight[2] + weight[3]);
    if (good) return -1;
    // The unrolled loop stopped in a group of four: the first bad row of that group.
    for (j = std::max<int64_t>(0, j - 4);; ++j) {
        const int64_t t = r.target[j * r.target_step];
        if (t != g.ignore_index && index_is_bad(t, g.classes)) return row0 + j;
    }
}

// nll_loss's reduction none, after the check: the per-row losses.
template<bool kWeighted>
int64_t nll_write_run(const RowGeometry &g, const RowRun &r) {
    for (int64_t j = 0; j < r.n; ++j) {
        const int64_t t = r.target[j * r.target_step];
        const bool keep = t != g.ignore_index;
        const int64_t c = load_class(t, keep);
        r.out[j * r.out_step] = nll_row_loss(g, r.x + j * r.x_step, c, class_weight<kWeighted>(g, c), keep);
    }
    return -1;
}

// Runs chunk(c, first_row, count) for every chunk of `rows`, on Halide's thread pool (the one
// nnf_set_num_threads sizes) when there are enough rows to pay for it.
template<typename Chunk>
int for_each_row_chunk(int64_t rows, Chunk &&chunk) {
    const int64_t chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
    auto one = [&](int64_t c) {
        const int64_t first = c * kRowsPerChunk;
        chunk(c, first, std::min(kRowsPerChunk, rows - first));
    };
    if (rows < kRowsForThreads || chunks > std::numeric_limits<int32_t>::max()) {
        for (int64_t c = 0; c < chunks; ++c) one(c);
        return 0;
    }
    using One = decltype(one);
    auto task = [](void *, int c, uint8_t *closure) {
        (*reinterpret_cast<One *>(closure))(c);
        return 0;
    };
    return halide_do_par_for(nullptr, task, 0, static_cast<int>(chunks), reinterpret_cast<uint8_t *>(&one));
}

// Sums per chunk, then combined in chunk order (the same bits on every thread count). A small
// call keeps its one chunk on the stack.
struct ChunkTotals {
    int64_t first_bad = -1;
    int64_t kept = 0;
    CompensatedSum weight, loss;
};

template<typename PerChunk>
int sum_row_chunks(int64_t rows, PerChunk &&per_chunk, ChunkTotals *totals) {
    const int64_t chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
    ChunkSums local[4];
    std::unique_ptr<ChunkSums[]> heap;
    ChunkSums *sums = local;
    if (chunks > 4) {
        heap.reset(new ChunkSums[static_cast<size_t>(chunks)]);
        sums = heap.get();
    }
    const int result = for_each_row_chunk(rows, [&](int64_t c, int64_t first, int64_t count) {
        ChunkSums &s = sums[c];
        s.first_bad = per_chunk(first, count, &s);
    });
    if (result) return result;
    for (int64_t c = 0; c < chunks; ++c) {
        const ChunkSums &s = sums[c];
        if (s.first_bad >= 0) {
            totals->first_bad = s.first_bad;
            return 0;
        }
        totals->kept += s.kept;
        totals->weight.add(s.weight);
        totals->loss.add(s.loss);
    }
    return 0;
}

// Sums `n` floats: plainly in double within chunks of kRowsPerChunk, the chunks with
// compensation (the row losses of a reduced cross_entropy).
double sum_floats(const float *v, int64_t n) {
    CompensatedSum total;
    for (int64_t first = 0; first < n; first += kRowsPerChunk) {
        const int64_t end = std::min(n, first + kRowsPerChunk);
        double s[4] = {0, 0, 0, 0};
        int64_t j = first;
        for (; j + 4 <= end; j += 4) {
            for (int k = 0; k < 4; ++k) s[k] += static_cast<double>(v[j + k]);
        }
        for (; j < end; ++j) s[0] += static_cast<double>(v[j]);
        total.add((s[0] + s[1]) + (s[2] + s[3]));
    }
    return total.value();
}

// ---- Classification losses on CUDA --------------------------------------------------------------
//
// cross_entropy's CUDA kernels are a warp per row (up to kWarpPerRowMaxClasses classes) or a
// block per row; each computes its rows' max and summed exps before it writes, so the gradient
// may overwrite the logits. forward_backward runs the forward kernel, then the backward one: two
// reads of the logits, as a fused kernel on a GPU would need anyway (its two outputs are two
// kernels). The class indices and the weights are copied to the host, checked and summed there
// (the mean's divisor) before any kernel runs; mean and sum copy the per-row losses back and add
// them as on the CPU. nll_loss's CUDA forward is one thread per row (on the CPU it is a host
// gather: its CPU kernel serves only to find the CUDA twin), its backward one thread per element.

constexpr int64_t kWarpPerRowMaxClasses = 1024;
// The kernels put a call's i (the positions d1..dK merged) on the grid's y dimension.
constexpr int64_t kMaxCudaGridY = 65535;

struct CudaClassificationKernels {
    ClassificationForwardKernel forward[2] = {};  // [0] a warp per row, [1] a block per row
    NllBackwardKernel backward[2] = {};
};

// cross_entropy's kernels come per row group; nll_loss's (`row_groups` false) are one of each,
// per element (backward) or per row (forward), found for either group.
CudaClassificationKernels cuda_classification_kernels(const ClassificationKernels &k, bool row_groups) {
    CudaClassificationKernels c;
    const CudaRowGroup groups[2] = {CudaRowGroup::warp, CudaRowGroup::block};
    for (int g = 0; g < 2; ++g) {
        const CudaRowGroup group = row_groups ? groups[g] : CudaRowGroup::any;
        if (k.forward) c.forward[g] = cuda_twin_of(k.forward, group);
        if (k.backward.with_exps) {
            // cross_entropy: the CUDA twin recomputes the exps (runtime/cuda_support.h).
            c.backward[g] = reinterpret_cast<NllBackwardKernel>(
                find_cuda_twin(reinterpret_cast<AnyKernel>(k.backward.with_exps), group));
        } else if (k.backward.without_exps) {
            c.backward[g] = cuda_twin_of(k.backward.without_exps, group);
        }
    }
    return c;
}

// Device memory of one CUDA call: the constant 1 (for a missing weight or grad_output, as the
// CPU path's kOne) followed by `rows` floats for the per-row losses of mean and sum.
class CudaScratch {
public:
    CudaScratch(int device_id, int64_t rows) : device_id_(device_id) {
        dim_ = halide_dimension_t(0, static_cast<int32_t>(rows + 1), 1);
        buffer_.type = halide_type_t(halide_type_float, 32);
        buffer_.dimensions = 1;
        buffer_.dim = &dim_;
    }
    ~CudaScratch() {
        if (buffer_.device) {
            run_on_cuda(device_id_, nullptr, 0, [&](halide_buffer_t *) { return halide_device_free(nullptr, &buffer_); });
        }
    }
    CudaScratch(const CudaScratch &) = delete;
    CudaScratch &operator=(const CudaScratch &) = delete;

    // Allocates the device memory and writes the 1 there (the kernels write the rows).
    int upload() {
        const int r = run_on_cuda(device_id_, nullptr, 0, [&](halide_buffer_t *) {
            return halide_device_malloc(nullptr, &buffer_, cuda_device_interface());
        });
        return r ? r : write_device_float(device_id_, reinterpret_cast<void *>(buffer_.device), 1.0f);
    }
    const float *one() const { return reinterpret_cast<const float *>(buffer_.device); }
    float *row_losses() const { return reinterpret_cast<float *>(buffer_.device) + 1; }
    // The per-row losses, after the kernels queued on this thread's stream.
    int download_row_losses(float *host, int64_t rows) const {
        return copy_from_cuda(device_id_, row_losses(), host, rows * static_cast<int64_t>(sizeof(float)));
    }

private:
    int device_id_;
    halide_dimension_t dim_;
    halide_buffer_t buffer_ = halide_buffer_t();
};

}  // namespace

nnf_status run_classification_loss(const char *function, const ClassificationCall &call) {
    using Mode = ClassificationMode;
    const bool want_loss = call.mode != Mode::backward;
    const bool want_grad = call.mode != Mode::forward;
    if (nnf_status s = check_reduction(function, call.reduction)) return s;

    // Tensors and dtypes.
    if (nnf_status s = check_tensor(function, {"input", call.input})) return s;
    const DLTensor *target = call.target;
    if (!target) return fail(function, NNF_ERR_INVALID_ARGUMENT, "target is NULL");
    const bool indices = target->dtype.code == kDLInt && target->dtype.bits == 64 && target->dtype.lanes == 1;
    if (!indices) {
        if (call.log_probabilities) {
            return fail(function, NNF_ERR_UNSUPPORTED_DTYPE,
                        "target has dtype (code %d, bits %d, lanes %d); expected int64 class indices",
                        target->dtype.code, target->dtype.bits, target->dtype.lanes);
        }
        if (target->dtype.code != kDLFloat || target->dtype.bits != 32 || target->dtype.lanes != 1) {
            return fail(function, NNF_ERR_UNSUPPORTED_DTYPE,
                        "target has dtype (code %d, bits %d, lanes %d); expected int64 class indices or float32 "
                        "class probabilities",
                        target->dtype.code, target->dtype.bits, target->dtype.lanes);
        }
    }
    if (indices) {
        // check_tensor is for float32; the same checks for the int64 indices, 8-byte aligned.
        DLTensor as_float = *target;
        as_float.dtype = {kDLFloat, 32, 1};
        if (nnf_status s = check_tensor(function, {"target", &as_float})) return s;
        if (element_count(*target) > 0 && reinterpret_cast<uintptr_t>(element0(*target)) % 8 != 0) {
            return fail(function, NNF_ERR_INVALID_ARGUMENT, "target data + byte_offset is not 8-byte aligned");
        }
    } else if (nnf_status s = check_tensor(function, {"target", target})) {
        return s;
    }
    TensorArg args[8];
    int num_args = 0;
    args[num_args++] = {"input", call.input};
    args[num_args++] = {"target", target};
    if (call.weight) args[num_args++] = {"weight", call.weight};
    if (want_grad && call.grad_output) args[num_args++] = {"grad_output", call.grad_output};
    if (want_loss) args[num_args++] = {"output", call.output};
    if (want_loss && call.total_weight) args[num_args++] = {"total_weight", call.total_weight};
    if (want_grad) args[num_args++] = {"grad_input", call.grad_input};
    for (int a = 2; a < num_args; ++a) {
        if (nnf_status s = check_tensor(function, args[a])) return s;
    }
    if (call.mode == Mode::backward && !call.grad_output) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT, "grad_output is NULL");
    }
    const ClassificationKernels &kernels = indices ? call.index_kernels : call.probability_kernels;
    // The CUDA twins only for a call with a CUDA tensor: a CPU call of a short batch takes a
    // fraction of a microsecond, which the twin table's searches would add to.
    bool any_on_cuda = false;
    for (int a = 0; a < num_args; ++a) any_on_cuda = any_on_cuda || args[a].tensor->device.device_type == kDLCUDA;
    const CudaClassificationKernels cuda_kernels =
        any_on_cuda ? cuda_classification_kernels(kernels, !call.log_probabilities) : CudaClassificationKernels{};
    const bool cuda_complete = (!want_loss || cuda_kernels.forward[0]) && (!want_grad || cuda_kernels.backward[0]);
    Backend backend;
    int device_id;
    if (nnf_status s = check_devices(function, args, num_args, cuda_complete, &backend, &device_id)) return s;
    const bool on_cuda = backend == Backend::cuda;
    if (on_cuda) {
        if (nnf_status s = check_cuda_driver(function)) return s;
    }

    // Shapes: input (C), (N, C) or (N, C, d1..dK); rows are the input's shape without dim 1.
    const DLTensor &input = *call.input;
    if (input.ndim < 1) {
        return fail(function, NNF_ERR_SHAPE_MISMATCH, "input has shape [] but needs a class dim: (C), (N, C) or (N, C, d1..dK)");
    }
    const int class_dim = input.ndim == 1 ? 0 : 1;
    const int64_t C = input.shape[class_dim];
    Shape row_shape, input_shape;
    for (int d = 0; d < input.ndim; ++d) {
        if (d != class_dim) row_shape.push_back(input.shape[d]);
        input_shape.push_back(input.shape[d]);
    }
    int64_t rows = 1;
    for (int d = 0; d < row_shape.rank; ++d) rows *= row_shape.extent[d];
    if (indices && !has_shape(*target, row_shape)) {
        return fail(function, NNF_ERR_SHAPE_MISMATCH, "target has shape %s but input %s needs class indices of shape %s",
                    shape_string(*target).c_str(), shape_string(input).c_str(), shape_string(row_shape).c_str());
    }
    if (!indices && !has_shape(*target, input_shape)) {
        return fail(function, NNF_ERR_SHAPE_MISMATCH,
                    "target has shape %s but class probabilities must have the input's shape %s",
                    shape_string(*target).c_str(), shape_string(input).c_str());
    }
    if (call.weight && !has_shape(*call.weight, {C})) {
        return fail(function, NNF_ERR_SHAPE_MISMATCH, "weight has shape %s but input %s has %" PRId64 " classes",
                    shape_string(*call.weight).c_str(), shape_string(input).c_str(), C);
    }
    const bool none = call.reduction == NNF_REDUCTION_NONE;
    if (want_loss) {
        if (none && !has_shape(*call.output, row_shape)) {
            return fail(function, NNF_ERR_SHAPE_MISMATCH, "output has shape %s but reduction none needs %s",
                        shape_string(*call.output).c_str(), shape_string(row_shape).c_str());
        }
        if (!none) {
            if (nnf_status s = check_one_element(function, {"output", call.output}, reduction_name(call.reduction))) return s;
        }
        if (call.total_weight) {
            if (nnf_status s = check_one_element(function, {"total_weight", call.total_weight}, "total_weight")) return s;
        }
    }
    if (want_grad) {
        if (call.grad_output) {
            if (none && !has_shape(*call.grad_output, row_shape)) {
                return fail(function, NNF_ERR_SHAPE_MISMATCH, "grad_output has shape %s but reduction none needs %s",
                            shape_string(*call.grad_output).c_str(), shape_string(row_shape).c_str());
            }
            if (!none) {
                if (nnf_status s = check_one_element(function, {"grad_output", call.grad_output},
                                                     reduction_name(call.reduction))) {
                    return s;
                }
            }
        }
        if (nnf_status s = check_same_shape(function, {"input", call.input}, {"grad_input", call.grad_input})) return s;
    }
    if (C == 0 && rows > 0) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT, "input %s has no classes", shape_string(input).c_str());
    }
    const bool empty = rows == 0 || C == 0;
    if (want_grad && !empty) {
        const TensorArg grad{"grad_input", call.grad_input};
        if (nnf_status s = check_no_self_overlap(function, grad)) return s;
        if (nnf_status s = check_output_aliasing(function, grad, {"input", call.input})) return s;
        if (!indices) {
            if (nnf_status s = check_output_aliasing(function, grad, {"target", target})) return s;
        }
        if (call.weight) {
            if (nnf_status s = check_output_aliasing(function, grad, {"weight", call.weight})) return s;
        }
    }
    if (want_loss && none && !empty) {
        const TensorArg out{"output", call.output};
        if (nnf_status s = check_no_self_overlap(function, out)) return s;
        // The per-row losses are written while the logits are still being read.
        if (nnf_status s = check_output_aliasing(function, out, {"input", call.input})) return s;
        if (want_grad) {
            if (nnf_status s = check_output_aliasing(function, out, {"grad_input", call.grad_input})) return s;
        }
    }

    // The logical dims [N, C, d1..dK] and every tensor's strides in them.
    const int L = input.ndim == 1 ? 2 : input.ndim;
    int64_t extent[NNF_MAX_DIMS + 1];
    extent[0] = input.ndim == 1 ? 1 : input.shape[0];
    extent[1] = C;
    for (int d = 2; d < L; ++d) extent[d] = input.shape[d];
    auto full_view = [&](const DLTensor &t) {
        ViewTensor v;
        v.base = element0(t);
        if (t.ndim == 1) {
            v.stride[1] = stride_of(t, 0);
        } else {
            for (int d = 0; d < L; ++d) v.stride[d] = stride_of(t, d);
        }
        return v;
    };
    auto row_view = [&](const DLTensor &t) {  // shape row_shape
        ViewTensor v;
        v.base = element0(t);
        for (int d = 0; d < t.ndim; ++d) v.stride[d == 0 ? 0 : d + 1] = stride_of(t, d);
        return v;
    };
    auto scalar_view = [&](const float *value) {
        ViewTensor v;
        v.base = reinterpret_cast<char *>(const_cast<float *>(value));
        return v;
    };

    // Class indices: every target in [0, C) or ignore_index, checked before anything is written;
    // and the mean's divisor, the summed weight of the non-ignored targets.
    ViewTensor target_view;
    if (indices) {
        target_view = row_view(*target);
        target_view.element_size = 8;
        target_view.type = halide_type_t(halide_type_int, 64);
    } else {
        target_view = full_view(*target);
    }
    ViewTensor weight_view = call.weight ? ViewTensor() : scalar_view(&kOne);
    if (call.weight) {
        weight_view.base = element0(*call.weight);
        weight_view.stride[1] = stride_of(*call.weight, 0);
    }
    // The rows as the host walks them (class indices only).
    RowGeometry geometry;
    if (indices && !empty) {
        if (row_shape.rank > 0) {
            geometry.rank = row_shape.rank;
            for (int d = 0; d < row_shape.rank; ++d) {
                geometry.extent[d] = row_shape.extent[d];
                geometry.x_stride[d] = stride_of(input, d == 0 ? 0 : d + 1);
                geometry.target_stride[d] = stride_of(*target, d);
                if (want_loss && none) geometry.out_stride[d] = stride_of(*call.output, d);
            }
        }
        geometry.x = reinterpret_cast<const float *>(element0(input));
        geometry.target = reinterpret_cast<const int64_t *>(element0(*target));
        if (want_loss && none) geometry.out = float_at(*call.output);
        if (call.weight) {
            geometry.weight = float_at(*call.weight);
            geometry.weight_stride = stride_of(*call.weight, 0);
        }
        geometry.x_class_stride = stride_of(input, class_dim);
        geometry.classes = C;
        geometry.ignore_index = call.ignore_index;
    }
    // On CUDA the indices (and the weights, for the mean's divisor) are checked on host copies.
    std::vector<unsigned char> host_target, host_weight;
    if (on_cuda && indices && !empty) {
        DLTensor target_on_host, weight_on_host;
        int r = copy_view_from_cuda(device_id, *target, &host_target, &target_on_host);
        if (r == 0) geometry.target = reinterpret_cast<const int64_t *>(element0(target_on_host));
        if (r == 0 && call.weight) {
            r = copy_view_from_cuda(device_id, *call.weight, &host_weight, &weight_on_host);
            geometry.weight = float_at(weight_on_host);
        }
        if (nnf_status s = kernel_status(function, r)) return s;
    }
    auto out_of_range = [&](int64_t row) {
        int64_t offset = 0, r = row;
        for (int d = geometry.rank; d-- > 0;) {
            offset += (r % geometry.extent[d]) * geometry.target_stride[d];
            r /= geometry.extent[d];
        }
        return fail(function, NNF_ERR_INDEX_OUT_OF_RANGE,
                    "target%s = %" PRId64 " is out of range for %" PRId64 " classes (ignore_index %" PRId64 ")",
                    position_string(row, row_shape).c_str(), geometry.target[offset], C, call.ignore_index);
    };
    // The mean's divisor as PyTorch's: the summed weight of the non-ignored targets (0 / 0 = NaN
    // when all are ignored), for probabilities N d1..dK.
    auto divisor_of = [&](const ChunkTotals &totals) {
        return call.weight ? totals.weight.value() : static_cast<double>(totals.kept);
    };
    const bool mean = call.reduction == NNF_REDUCTION_MEAN;

    // Every class index checked (the first bad row found), with the kept rows' count or weight.
    auto check_all_indices = [&](ChunkTotals *totals) {
        const bool weighted = call.weight != nullptr;
        return sum_row_chunks(
            rows,
            [&](int64_t first, int64_t count, ChunkSums *sums) {
                return walk_rows(geometry, first, count, [&](int64_t row0, const RowRun &r) {
                    return weighted ? check_run<true>(geometry, row0, r, sums) : check_run<false>(geometry, row0, r, sums);
                });
            },
            totals);
    };

    // nll_loss forward on the CPU: no Halide kernel (see "Class-index rows on the host" above).
    if (call.log_probabilities && call.mode == Mode::forward && indices && !on_cuda) {
        ChunkTotals totals;
        if (!empty) {
            const bool weighted = call.weight != nullptr;
            int result;
            if (!none) {
                result = sum_row_chunks(
                    rows,
                    [&](int64_t first, int64_t count, ChunkSums *sums) {
                        return walk_rows(geometry, first, count, [&](int64_t row0, const RowRun &r) {
                            return weighted ? nll_sum_run<true>(geometry, row0, r, sums)
                                            : nll_sum_run<false>(geometry, row0, r, sums);
                        });
                    },
                    &totals);
            } else {
                // Every index checked before the first loss is written.
                result = check_all_indices(&totals);
                if (result == 0 && totals.first_bad < 0) {
                    result = for_each_row_chunk(rows, [&](int64_t, int64_t first, int64_t count) {
                        walk_rows(geometry, first, count, [&](int64_t, const RowRun &r) {
                            return weighted ? nll_write_run<true>(geometry, r) : nll_write_run<false>(geometry, r);
                        });
                    });
                }
            }
            if (nnf_status s = kernel_status(function, result)) return s;
            if (totals.first_bad >= 0) return out_of_range(totals.first_bad);
        }
        const double divisor = divisor_of(totals);
        if (!none) {
            const double total = totals.loss.value();
            *float_at(*call.output) = static_cast<float>(mean ? total / divisor : total);
        }
        if (call.total_weight) *float_at(*call.total_weight) = static_cast<float>(divisor);
        return NNF_OK;
    }

    // Class indices: every target in [0, C) or ignore_index, checked before anything is written;
    // and the mean's divisor.
    ChunkTotals index_totals;
    if (indices && !empty) {
        const int result = check_all_indices(&index_totals);
        if (nnf_status s = kernel_status(function, result)) return s;
        if (index_totals.first_bad >= 0) return out_of_range(index_totals.first_bad);
    }
    const double divisor = indices ? divisor_of(index_totals) : static_cast<double>(rows);
    const float grad_scale_factor = mean ? static_cast<float>(1.0 / divisor) : 1.0f;

    if (!(want_loss && want_grad ? kernels.forward_backward != nullptr
                                 : (want_loss ? kernels.forward != nullptr : kernels.backward.defined()))) {
        return fail(function, NNF_ERR_INVALID_ARGUMENT, "this target dtype has no kernel for the call");
    }

    // Mean and sum: one float per row, summed in double. Not zeroed (the kernel writes every
    // row), and on the stack for a small call.
    float row_losses_local[256];
    std::unique_ptr<float[]> row_losses_heap;
    float *row_losses = row_losses_local;
    // On CUDA the constant 1 and the per-row losses live in device scratch.
    std::unique_ptr<CudaScratch> cuda_scratch;
    if (on_cuda && !empty) {
        cuda_scratch = std::make_unique<CudaScratch>(device_id, want_loss && !none ? rows : 0);
        if (nnf_status s = kernel_status(function, cuda_scratch->upload())) return s;
        if (!call.weight) weight_view = scalar_view(cuda_scratch->one());
    }
    ViewTensor x_view = full_view(input), loss_view, grad_view, grad_scale_view;
    if (want_loss) {
        if (none) {
            loss_view = row_view(*call.output);
        } else {
            if (rows > static_cast<int64_t>(std::size(row_losses_local))) {
                row_losses_heap.reset(new float[static_cast<size_t>(rows)]);
                row_losses = row_losses_heap.get();
            }
            DLTensor scratch = {};
            scratch.data = cuda_scratch ? cuda_scratch->row_losses() : row_losses;
            scratch.ndim = static_cast<int32_t>(row_shape.rank);
            scratch.shape = row_shape.extent;
            loss_view = row_view(scratch);
        }
    }
    if (want_grad) {
        grad_view = full_view(*call.grad_input);
        if (!call.grad_output) {
            grad_scale_view = scalar_view(cuda_scratch ? cuda_scratch->one() : &kOne);
        } else if (none) {
            grad_scale_view = row_view(*call.grad_output);
        } else {
            grad_scale_view = scalar_view(float_at(*call.grad_output));
        }
    }

    if (!empty) {
        // The d dims merged where every tensor allows it; the innermost (merged) one is the
        // kernels' i, the others are looped here.
        ViewTensor *views[] = {&x_view, &target_view, &weight_view, &loss_view, &grad_view, &grad_scale_view};
        const bool used[] = {true, true, true, want_loss, want_grad, want_grad};
        int64_t d_extent[NNF_MAX_DIMS];
        int64_t d_stride[6][NNF_MAX_DIMS];
        int nd = 0;
        for (int d = 2; d < L; ++d) {
            if (extent[d] == 1) continue;
            bool merge = nd > 0;
            for (int t = 0; merge && t < 6; ++t) {
                if (used[t]) merge = d_stride[t][nd - 1] == views[t]->stride[d] * extent[d];
            }
            if (merge) {
                d_extent[nd - 1] *= extent[d];
                for (int t = 0; t < 6; ++t) d_stride[t][nd - 1] = views[t]->stride[d];
            } else {
                d_extent[nd] = extent[d];
                for (int t = 0; t < 6; ++t) d_stride[t][nd] = views[t]->stride[d];
                ++nd;
            }
        }
        const int64_t ni = nd > 0 ? d_extent[nd - 1] : 1;
        const int64_t N = extent[0];
        int64_t budget = rows_per_call_for_testing.load();
        // A CPU call is a block of rows that stays in L2; a CUDA call as many rows as the
        // kernels' int32 indices and the grid allow.
        if (budget <= 0) budget = on_cuda ? std::numeric_limits<int64_t>::max() : std::max<int64_t>(1, kLogitsPerCall / C);
        int64_t i_block = std::min(ni, budget);
        if (on_cuda) i_block = std::min(i_block, kMaxCudaGridY);
        int64_t o_block = std::clamp<int64_t>(budget / i_block, 1, N);
        const int64_t limit = max_span_per_call();
        auto span = [&](int64_t ib, int64_t ob) {
            int64_t worst = 0;
            for (int t = 0; t < 6; ++t) {
                if (!used[t]) continue;
                const int64_t si = nd > 0 ? d_stride[t][nd - 1] : 0;
                worst = std::max(worst, abs64(views[t]->stride[1]) * (C - 1) + abs64(si) * (ib - 1) +
                                            abs64(views[t]->stride[0]) * (ob - 1));
            }
            return worst;
        };
        while (span(i_block, o_block) > limit && o_block > 1) o_block = (o_block + 1) / 2;
        while (span(i_block, o_block) > limit && i_block > 1) i_block = (i_block + 1) / 2;
        if (span(i_block, o_block) > limit) {
            return fail(function, NNF_ERR_INVALID_ARGUMENT,
                        "one row of %" PRId64 " classes spans %" PRId64 " elements in memory; at most %" PRId64
                        " are supported",
                        C, span(1, 1), limit);
        }

        // buffers[6] is cross_entropy's exps: grad_input's buffer again (loss_driver.h).
        halide_buffer_t buffers[7];
        halide_dimension_t dims[6][3];
        auto make = [&](int t, int64_t offset, int64_t ib, int64_t ob, int rank_kind) {
            // rank_kind: 3 = (c, i, o), 2 = (i, o), 1 = (c)
            const ViewTensor &v = *views[t];
            const int64_t si = nd > 0 ? d_stride[t][nd - 1] : 0;
            const int64_t c_stride = C > 1 ? v.stride[1] : 0, i_stride = ib > 1 ? si : 0,
                          o_stride = ob > 1 ? v.stride[0] : 0;
            int n = 0;
            if (rank_kind != 2) dims[t][n++] = halide_dimension_t(0, static_cast<int32_t>(C), static_cast<int32_t>(c_stride));
            if (rank_kind != 1) {
                dims[t][n++] = halide_dimension_t(0, static_cast<int32_t>(ib), static_cast<int32_t>(i_stride));
                dims[t][n++] = halide_dimension_t(0, static_cast<int32_t>(ob), static_cast<int32_t>(o_stride));
            }
            buffers[t] = halide_buffer_t();
            buffers[t].host = reinterpret_cast<uint8_t *>(v.base + offset * v.element_size);
            buffers[t].type = v.type;
            buffers[t].dimensions = n;
            buffers[t].dim = dims[t];
        };
        const int target_rank = indices ? 2 : 3;
        // One call's CUDA kernels on buffers[0..5] (their host fields hold device addresses).
        const int group = C <= kWarpPerRowMaxClasses ? 0 : 1;
        auto run_cuda_kernels = [&] {
            int r = 0;
            if (want_loss) {
                halide_buffer_t b[4] = {buffers[0], buffers[1], buffers[2], buffers[3]};
                r = run_on_cuda(device_id, b, 4, [&](halide_buffer_t *d) {
                    return cuda_kernels.forward[group](&d[0], &d[1], &d[2], call.ignore_index, call.label_smoothing,
                                                       &d[3]);
                });
            }
            if (want_grad && r == 0) {
                halide_buffer_t b[5] = {buffers[0], buffers[1], buffers[2], buffers[5], buffers[4]};
                r = run_on_cuda(device_id, b, 5, [&](halide_buffer_t *d) {
                    return cuda_kernels.backward[group](&d[0], &d[1], &d[2], call.ignore_index, call.label_smoothing,
                                                        &d[3], grad_scale_factor, &d[4]);
                });
            }
            return r;
        };
        int64_t index[NNF_MAX_DIMS] = {};
        mark_kernels_started();
        clear_kernel_error();
        int result = 0;
        while (result == 0) {
            for (int64_t o = 0; result == 0 && o < N; o += o_block) {
                const int64_t ob = std::min(o_block, N - o);
                for (int64_t i = 0; result == 0 && i < ni; i += i_block) {
                    const int64_t ib = std::min(i_block, ni - i);
                    for (int t = 0; t < 6; ++t) {
                        if (!used[t]) continue;
                        int64_t offset = o * views[t]->stride[0] + (nd > 0 ? i * d_stride[t][nd - 1] : 0);
                        for (int d = 0; d + 1 < nd; ++d) offset += index[d] * d_stride[t][d];
                        make(t, offset, ib, ob, t == 0 || t == 4 ? 3 : (t == 1 ? target_rank : (t == 2 ? 1 : 2)));
                    }
                    if (on_cuda) {
                        result = run_cuda_kernels();
                        continue;
                    }
                    if (want_grad) buffers[6] = buffers[4];
                    if (want_loss && want_grad) {
                        result = kernels.forward_backward(&buffers[0], &buffers[1], &buffers[2], call.ignore_index,
                                                          call.label_smoothing, &buffers[5], grad_scale_factor,
                                                          &buffers[3], &buffers[6], &buffers[4]);
                    } else if (want_loss) {
                        result = kernels.forward(&buffers[0], &buffers[1], &buffers[2], call.ignore_index,
                                                 call.label_smoothing, &buffers[3]);
                    } else if (kernels.backward.with_exps) {
                        result = kernels.backward.with_exps(&buffers[0], &buffers[1], &buffers[2], call.ignore_index,
                                                            call.label_smoothing, &buffers[5], grad_scale_factor,
                                                            &buffers[6], &buffers[4]);
                    } else {
                        result = kernels.backward.without_exps(&buffers[0], &buffers[1], &buffers[2],
                                                               call.ignore_index, call.label_smoothing, &buffers[5],
                                                               grad_scale_factor, &buffers[4]);
                    }
                }
            }
            int d = 0;
            for (; d + 1 < nd; ++d) {
                if (++index[d] < d_extent[d]) break;
                index[d] = 0;
            }
            if (d + 1 >= nd) break;
        }
        if (nnf_status s = kernel_status(function, result)) return s;
    }
    // The reduced loss and total_weight: written here, to the device on CUDA.
    auto store = [&](DLTensor *t, double value) {
        const float v = static_cast<float>(value);
        if (!on_cuda) {
            *float_at(*t) = v;
            return NNF_OK;
        }
        return kernel_status(function, write_device_float(device_id, element0(*t), v));
    };
    if (want_loss && !none) {
        if (cuda_scratch) {
            if (nnf_status s = kernel_status(function, cuda_scratch->download_row_losses(row_losses, rows))) return s;
        }
        const double total = empty ? 0.0 : sum_floats(row_losses, rows);
        if (nnf_status s = store(call.output, mean ? total / divisor : total)) return s;
    }
    if (want_loss && call.total_weight) return store(call.total_weight, divisor);
    return NNF_OK;
}

}  // namespace nnf::rt

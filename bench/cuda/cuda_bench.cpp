// Every pointwise op, forward and backward, on a GPU, timed with CUDA events, beside a
// device-to-device copy of the same bytes (the memory roofline); and the row ops (softmax,
// cross_entropy, nll_loss) on rows x classes. Counters: elements/s and bytes/s (the bytes a single pass
// must read + write); the label carries the device's nominal bandwidth. The PyTorch anchors on
// the same sizes: bench/cuda/torch_cuda_anchors.py.
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_driver.h"
#include "op_table.h"

namespace nnf::bench {
namespace {

using test::CudaDriver;
using test::DeviceBuffer;

DLTensor device_tensor(const DeviceBuffer &buffer, int64_t *shape, int ndim, DLDataType dtype = {kDLFloat, 32, 1}) {
    DLTensor t{};
    t.data = buffer.data();
    t.device = {kDLCUDA, 0};
    t.ndim = ndim;
    t.dtype = dtype;
    t.shape = shape;
    return t;
}

DLTensor device_vector(const DeviceBuffer &buffer, int64_t *shape) {
    return device_tensor(buffer, shape, 1);
}

// Nominal DRAM bandwidth from the memory clock and bus width, in GB/s.
double nominal_bandwidth_gbs() {
    int clock_khz = 0, bus_bits = 0;
    CudaDriver::get().cuDeviceGetAttribute(&clock_khz, 36 /* MEMORY_CLOCK_RATE */, 0);
    CudaDriver::get().cuDeviceGetAttribute(&bus_bits, 37 /* GLOBAL_MEMORY_BUS_WIDTH */, 0);
    return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
}

// Times `call` with events on the default stream, one iteration per benchmark iteration.
template<typename Call>
void time_on_gpu(benchmark::State &state, int64_t n, double tensors, Call &&call) {
    const CudaDriver &cuda = CudaDriver::get();
    void *start = nullptr, *stop = nullptr;
    cuda.cuEventCreate(&start, 0);
    cuda.cuEventCreate(&stop, 0);
    if (!call()) {
        state.SkipWithError(nnf_last_error());
        return;
    }
    cuda.cuCtxSynchronize();
    for (auto _ : state) {
        cuda.cuEventRecord(start, nullptr);
        call();
        cuda.cuEventRecord(stop, nullptr);
        cuda.cuEventSynchronize(stop);
        float ms = 0;
        cuda.cuEventElapsedTime(&ms, start, stop);
        state.SetIterationTime(ms / 1e3);
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.SetBytesProcessed(static_cast<int64_t>(static_cast<double>(state.iterations() * n) * 4 * tensors));
    state.SetLabel(cuda.device_name() + ", nominal " + std::to_string(static_cast<int>(nominal_bandwidth_gbs())) +
                   " GB/s");
}

void copy(benchmark::State &state) {
    const int64_t n = state.range(0);
    DeviceBuffer x(n * 4), y(n * 4);
    time_on_gpu(state, n, 2, [&] {
        return CudaDriver::get().cuMemcpyDtoDAsync(reinterpret_cast<uint64_t>(y.data()),
                                                  reinterpret_cast<uint64_t>(x.data()), n * 4, nullptr) == 0;
    });
}

void op(benchmark::State &state, const rt::OpInfo *info, bool backward) {
    const int64_t n = state.range(0);
    int64_t shape[] = {n};
    // Inputs in each op's working range: a ramp over [-8, 8).
    std::vector<float> host(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) host[static_cast<size_t>(i)] = -8.0f + 16.0f * static_cast<float>(i % 4096) / 4096;
    DeviceBuffer a(n * 4), b(n * 4), c(n * 4);
    a.upload(host.data());
    b.upload(host.data());
    DLTensor ta = device_vector(a, shape), tb = device_vector(b, shape), tc = device_vector(c, shape);
    const DLTensor *forward_in[] = {&ta};
    const DLTensor *backward_in[] = {&ta, &tb};
    DLTensor *out[] = {&tc};
    time_on_gpu(state, n, backward ? 3 : 2, [&] {
        return (backward ? info->backward(backward_in, out, nullptr) : info->forward(forward_in, out, nullptr)) == NNF_OK;
    });
}

// Row ops on (rows, classes) = (state.range(0), state.range(1)), logits uniform in [-4, 4).
// Beside the mean cross_entropy, two that split its time: reduction none (no per-row losses
// copied to the host and added) and nll_loss's mean (the same index copy and check, a gather
// kernel).
enum class RowOp { softmax, cross_entropy, cross_entropy_none, nll_loss, cross_entropy_forward_backward };

void rows(benchmark::State &state, RowOp kind) {
    const int64_t rows = state.range(0), classes = state.range(1), n = rows * classes;
    std::vector<float> host(static_cast<size_t>(n));
    uint32_t seed = 1;
    for (float &v : host) {
        seed = seed * 1664525u + 1013904223u;
        v = -4.0f + 8.0f * static_cast<float>(seed >> 8) / 16777216.0f;
    }
    std::vector<int64_t> labels(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) labels[static_cast<size_t>(r)] = (r * 7919) % classes;
    DeviceBuffer x(n * 4), y(n * 4), target(rows * 8), loss(4);
    x.upload(host.data());
    target.upload(labels.data());
    int64_t shape[] = {rows, classes}, target_shape[] = {rows}, scalar_shape[] = {1};
    DLTensor tx = device_tensor(x, shape, 2), ty = device_tensor(y, shape, 2),
             tt = device_tensor(target, target_shape, 1, {kDLInt, 64, 1}), tl = device_tensor(loss, scalar_shape, 0),
             row_losses = device_tensor(y, target_shape, 1);
    const nnf_softmax_params softmax = nnf_softmax_default_params();
    const nnf_cross_entropy_params ce = nnf_cross_entropy_default_params();
    nnf_cross_entropy_params ce_none = ce;
    ce_none.reduction = NNF_REDUCTION_NONE;
    const nnf_nll_loss_params nll = nnf_nll_loss_default_params();
    // Bytes of one pass: softmax reads x and writes y; the loss reads x (nll_loss one element
    // per row: counted as all of x, as for the others); the loss with its gradient reads x and
    // writes the gradient.
    const double tensors = kind == RowOp::softmax || kind == RowOp::cross_entropy_forward_backward ? 2 : 1;
    time_on_gpu(state, n, tensors, [&] {
        switch (kind) {
        case RowOp::softmax: return nnf_softmax_forward(&tx, &ty, &softmax) == NNF_OK;
        case RowOp::cross_entropy: return nnf_cross_entropy_forward(&tx, &tt, nullptr, &tl, &ce) == NNF_OK;
        case RowOp::cross_entropy_none:
            return nnf_cross_entropy_forward(&tx, &tt, nullptr, &row_losses, &ce_none) == NNF_OK;
        case RowOp::nll_loss: return nnf_nll_loss_forward(&tx, &tt, nullptr, &tl, nullptr, &nll) == NNF_OK;
        case RowOp::cross_entropy_forward_backward:
            return nnf_cross_entropy_forward_backward(&tx, &tt, nullptr, nullptr, &tl, &ty, &ce) == NNF_OK;
        }
        return false;
    });
    state.counters["rows_per_second"] =
        benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}

const int registered = [] {
    const std::vector<int64_t> sizes = {1 << 20, 16 << 20, 256 << 20};
    auto *b = benchmark::RegisterBenchmark("cuda/copy", copy);
    for (int64_t n : sizes) b->Arg(n);
    b->UseManualTime()->Unit(benchmark::kMicrosecond);
    int count = 0;
    const rt::OpInfo *ops = rt::op_table(&count);
    for (int i = 0; i < count; ++i) {
        if (std::string(ops[i].family) != "pointwise") continue;
        for (bool backward : {false, true}) {
            const std::string name = std::string("cuda/") + ops[i].name + (backward ? "_backward" : "_forward");
            auto *r = benchmark::RegisterBenchmark(name.c_str(), op, &ops[i], backward);
            for (int64_t n : sizes) r->Arg(n);
            r->UseManualTime()->Unit(benchmark::kMicrosecond);
        }
    }
    const std::pair<const char *, RowOp> row_ops[] = {{"cuda/softmax_forward", RowOp::softmax},
                                                       {"cuda/cross_entropy_forward", RowOp::cross_entropy},
                                                       {"cuda/cross_entropy_none_forward", RowOp::cross_entropy_none},
                                                       {"cuda/nll_loss_forward", RowOp::nll_loss},
                                                       {"cuda/cross_entropy_forward_backward",
                                                        RowOp::cross_entropy_forward_backward}};
    for (const auto &[name, kind] : row_ops) {
        auto *r = benchmark::RegisterBenchmark(name, rows, kind);
        // The anchors' shapes: ImageNet classes, a language model's vocabulary, few classes.
        r->Args({65536, 1000})->Args({8192, 32000})->Args({1048576, 10});
        r->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
    return 0;
}();

}  // namespace
}  // namespace nnf::bench

int main(int argc, char **argv) {
    if (!nnf::test::CudaDriver::get().available()) {
        std::fprintf(stderr, "no GPU: %s\n", nnf::test::CudaDriver::get().why_unavailable().c_str());
        return 0;
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

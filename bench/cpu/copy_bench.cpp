// The memory roofline: memcpy of the bytes an op reads and writes, on the same thread counts.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "bench_problem.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace nnf::bench {
namespace {

// Below this many floats a second thread costs more than it brings (PyTorch's pointwise grain
// size is 32768 elements for the same reason).
constexpr int64_t kParallelCopyMinFloats = 65536;

void parallel_copy(float *dst, const float *src, int64_t count, int threads) {
#if defined(_OPENMP)
    if (threads > 1 && count >= kParallelCopyMinFloats) {
#pragma omp parallel num_threads(threads)
        {
            const int64_t parts = omp_get_num_threads();
            // Chunks of whole cache lines, so no line is written by two threads.
            const int64_t chunk = (count + parts - 1) / parts / 16 * 16 + 16;
            const int64_t begin = std::min<int64_t>(count, chunk * omp_get_thread_num());
            const int64_t end = std::min<int64_t>(count, begin + chunk);
            std::memcpy(dst + begin, src + begin, static_cast<size_t>(end - begin) * sizeof(float));
        }
        return;
    }
#endif
    (void)threads;
    std::memcpy(dst, src, static_cast<size_t>(count) * sizeof(float));
}

void run_copy(benchmark::State &state, int tensors) {
    const int64_t n = state.range(0);
    const int threads = static_cast<int>(state.range(1));
    // T tensors of n floats moved = reading and writing n * T / 2 floats.
    const int64_t count = n * tensors / 2;
    FloatBuffer src(count), dst(count);
    for (int64_t i = 0; i < count; ++i) src.data()[i] = static_cast<float>(i & 1023);
    parallel_copy(dst.data(), src.data(), count, threads);  // warm-up
    for (auto _ : state) {
        parallel_copy(dst.data(), src.data(), count, threads);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.SetBytesProcessed(state.iterations() * count * 2 * static_cast<int64_t>(sizeof(float)));
#if defined(_OPENMP)
    state.SetLabel("memcpy, OpenMP threads");
#else
    state.SetLabel("memcpy, 1 thread (built without OpenMP)");
#endif
}

}  // namespace

void register_copy_benchmarks() {
    // Forward problems move 2 tensors (x in, y out), backward ones 3 (grad_output and the saved
    // tensor in, grad_input out); classification losses 1 or 2 (bench_problem.cpp).
    for (int tensors : {1, 2, 3}) {
        const std::string name = "copy/tensors" + std::to_string(tensors);
        auto *b = benchmark::RegisterBenchmark(name.c_str(), run_copy, tensors);
        for (int64_t n : problem_sizes()) {
            for (int t : thread_counts()) b->Args({n, t});
        }
        b->ArgNames({"n", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
    }
}

}  // namespace nnf::bench

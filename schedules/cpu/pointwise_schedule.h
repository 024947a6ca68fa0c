// CPU schedule of the pointwise family, as a function of a few named knobs.
#pragma once

#include <vector>

#include "Halide.h"

namespace nnf::schedules {

struct PointwiseCpuKnobs {
    // Vector width as a multiple of the target's natural float vector (2 = two registers per
    // iteration, which hides the latency of the polynomial chains in the transcendental ops).
    int vector_multiple = 2;
    // Extra unrolling of the vector loop.
    int unroll = 1;
    // Elements of the innermost dimension one parallel task covers. 32K floats in and out is
    // 256 KiB: large enough to amortize the thread-pool hand-off, small enough to balance.
    int elements_per_task = 32 * 1024;
    // Below this many elements in all, run on the calling thread (no thread-pool hand-off).
    int serial_below = 16 * 1024;
};

// Schedules `output` (a 2-D Func over (inner, outer)). `dense` is true when every buffer has
// inner stride 1: those rows get vector loads and stores, others a scalar fallback. `elements`
// is the output's element count, for the serial small-tensor case.
void schedule_pointwise_cpu(Halide::Func output, const Halide::Expr &dense, const Halide::Expr &elements,
                            const Halide::Target &target, const PointwiseCpuKnobs &knobs = {});
// The same with several dense conditions, each with its own vectorized loop nests (say, an
// input that is either contiguous or a broadcast scalar with stride 0).
void schedule_pointwise_cpu(Halide::Func output, const std::vector<Halide::Expr> &dense_conditions,
                            const Halide::Expr &elements, const Halide::Target &target,
                            const PointwiseCpuKnobs &knobs = {});

}  // namespace nnf::schedules

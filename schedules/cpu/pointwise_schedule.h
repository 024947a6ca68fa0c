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

// Schedules `output` (a 2-D Func over (inner, outer)) whose inputs are `inputs` (2-D buffers of
// the same shape). Dense rows (inner stride 1 everywhere) get vector loads and stores; other
// strides get a gather/scatter fallback.
void schedule_pointwise_cpu(Halide::Func output, const std::vector<Halide::OutputImageParam> &buffers,
                            const Halide::Target &target, const PointwiseCpuKnobs &knobs = {});

}  // namespace nnf::schedules

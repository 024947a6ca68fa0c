// GPU (CUDA) schedule of the prelu family.
#pragma once

#include "Halide.h"

namespace nnf::schedules {

struct PreluGpuKnobs {
    // Threads per block along the inner dim, and elements per thread, as the pointwise family.
    int threads = 256;
    int elements_per_thread = 4;
    // Threads summing one channel's weight gradient.
    int reduction_threads = 256;
};

// `elementwise` is a 3-D Func over (inner, channel, outer): the pointwise family's schedule
// (gpu/pointwise_schedule.h) over inner and the fused (channel, outer). `weight_sum`, if defined, is the
// per-channel reduction (a pure definition plus one update over an RDom of (inner, outer)) and
// `grad_weight` its output: one block per channel, each thread summing elements
// `reduction_threads` apart in the flattened (inner, outer) plane, the partials combined in
// shared memory.
void schedule_prelu_gpu(Halide::Func elementwise, Halide::Func weight_sum, Halide::Func grad_weight,
                        const PreluGpuKnobs &knobs = {});

}  // namespace nnf::schedules

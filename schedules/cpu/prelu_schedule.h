// CPU schedule of the prelu family.
#pragma once

#include <vector>

#include "Halide.h"

namespace nnf::schedules {

struct PreluCpuKnobs {
    // Vector width as a multiple of the target's natural float vector.
    int vector_multiple = 2;
    // Elements of the inner (after-channel) dim one parallel task covers.
    int elements_per_task = 32 * 1024;
};

// `elementwise` is a 3-D Func over (inner, channel, outer) whose 3-D buffers are `buffers`; dense
// inner rows get vector loads and stores. `weight_sum`, if defined, is the per-channel reduction
// (a pure definition plus one update over an RDom of (inner, outer)); it is parallel over
// channels.
void schedule_prelu_cpu(Halide::Func elementwise, const std::vector<Halide::OutputImageParam> &buffers,
                        Halide::Func weight_sum, Halide::Func grad_weight, const Halide::Target &target,
                        const PreluCpuKnobs &knobs = {});

}  // namespace nnf::schedules

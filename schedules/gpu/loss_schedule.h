// GPU (CUDA) schedules of the loss family. Elementwise losses (mse, l1, smooth_l1, huber):
// reduction none and the gradients are pointwise (gpu/pointwise_schedule.h), mean and sum use
// the partial sums below. nll_loss's gradient: below.
#pragma once

#include "Halide.h"

namespace nnf::schedules {

struct LossGpuKnobs {
    // Threads of the block that sums one partial.
    int threads = 256;
};

// `partials` is 1-D over the block p, `sum` a Func over p with a pure definition and one update
// over a 1-D RDom (the block's chunk of the flattened slice): one block per partial, thread t
// summing the chunk's elements t, t + threads, ... (consecutive threads read consecutive
// elements: coalesced), the per-thread double sums rfactored into shared memory and added up by
// one thread of the block (Halide 21 has no 64-bit warp shuffles).
void schedule_loss_partial_sums_gpu(Halide::Func partials, Halide::Func sum, const LossGpuKnobs &knobs = {});

// nll_loss's gradient (c, i, o), zero but at each row's target: one thread per element.
void schedule_nll_gradient_gpu(Halide::Func grad, const LossGpuKnobs &knobs = {});

}  // namespace nnf::schedules

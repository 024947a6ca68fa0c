// GPU (CUDA) schedule of the pointwise family.
#pragma once

#include <vector>

#include "Halide.h"

namespace nnf::schedules {

struct PointwiseGpuKnobs {
    // Threads per block along the inner dimension (a multiple of the 32-thread warp).
    int threads = 256;
    // Elements each thread handles, 'threads' apart, so that every warp access stays
    // coalesced while a block covers threads * elements_per_thread elements.
    int elements_per_thread = 4;
};

// Schedules `output` (a 2-D Func over (inner, outer)): blocks over the inner dimension and
// the outer one (fused into the grid's x dimension), threads over inner.
void schedule_pointwise_gpu(Halide::Func output, const PointwiseGpuKnobs &knobs = {});
// The same over two of `output`'s pure vars: `inner` (threads) and `outer` (a fused var, for
// a Func of more dims).
void schedule_pointwise_gpu(Halide::Func output, const Halide::Var &inner, const Halide::Var &outer,
                            const PointwiseGpuKnobs &knobs = {});

// Several outputs over the same 2-D domain, none reading another, in one kernel: each is
// scheduled as above and every thread computes its elements of each output in turn, in the
// order given (so a later output may overwrite an input that earlier ones read, in place). One
// launch, and inputs they share come from DRAM once.
void schedule_pointwise_gpu_fused(const std::vector<Halide::Func> &outputs, const PointwiseGpuKnobs &knobs = {});

}  // namespace nnf::schedules

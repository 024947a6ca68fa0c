#include "gpu/pointwise_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_pointwise_gpu(Func output, const PointwiseGpuKnobs &knobs) {
    schedule_pointwise_gpu(output, output.args()[0], output.args()[1], knobs);
}

void schedule_pointwise_gpu(Func output, const Var &inner, const Var &outer, const PointwiseGpuKnobs &knobs) {
    Var block("block"), step("step"), thread("thread"), tile("tile");
    // inner = (block * elements_per_thread + step) * threads + thread: consecutive threads read
    // consecutive elements in each unrolled step. The steps are inside the thread loop, so that
    // each thread issues all its loads before its first store; a step loop outside the threads
    // would make Halide put a block barrier between steps and leave one load in flight per
    // thread (relu forward moved 2.5 TB/s where an H200 copies 4.2). The row's blocks and the
    // rows are one grid dimension (x, up to 2^31 - 1 blocks): the grid's y would stop at 65535.
    output.split(inner, block, thread, knobs.threads * knobs.elements_per_thread, TailStrategy::GuardWithIf)
        .split(thread, step, thread, knobs.threads, TailStrategy::GuardWithIf)
        .reorder(step, thread, block, outer)
        .fuse(block, outer, tile)
        .unroll(step)
        .gpu_blocks(tile)
        .gpu_threads(thread);
}

void schedule_pointwise_gpu_fused(const std::vector<Func> &outputs, const PointwiseGpuKnobs &knobs) {
    for (const Func &f : outputs) schedule_pointwise_gpu(f, knobs);
    // The loops down to the thread are identical, so they fuse; the unrolled steps stay apart.
    for (size_t k = 1; k < outputs.size(); ++k) {
        Func(outputs[k]).compute_with(outputs[0], Var("thread"));
    }
}

}  // namespace nnf::schedules

#include "gpu/prelu_schedule.h"

#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_prelu_gpu(Func elementwise, Func weight_sum, Func grad_weight, const PreluGpuKnobs &knobs) {
    Var inner = elementwise.args()[0], channel = elementwise.args()[1], outer = elementwise.args()[2];
    Var block("block"), step("step"), thread("thread"), rows("rows");
    elementwise.split(inner, block, thread, knobs.threads * knobs.elements_per_thread, TailStrategy::GuardWithIf)
        .split(thread, step, thread, knobs.threads, TailStrategy::GuardWithIf)
        .reorder(step, thread, block, channel, outer)  // steps inside the thread: see the pointwise schedule
        .unroll(step)
        .fuse(channel, outer, rows)
        .fuse(block, rows, block)
        .gpu_blocks(block)
        .gpu_threads(thread);

    if (grad_weight.defined()) {
        // One block per channel over its whole (inner, outer) plane, fused into one RVar.
        RVar plane("plane");
        weight_sum.update(0).fuse(weight_sum.rvars(0)[0], weight_sum.rvars(0)[1], plane);
        schedule_block_sum_gpu(grad_weight, weight_sum, plane, knobs.reduction_threads);
    }
}

}  // namespace nnf::schedules

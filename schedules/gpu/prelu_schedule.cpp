#include "gpu/prelu_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_prelu_gpu(Func elementwise, Func weight_sum, Func grad_weight, const PreluGpuKnobs &knobs) {
    Var inner = elementwise.args()[0], channel = elementwise.args()[1], outer = elementwise.args()[2];
    Var block("block"), step("step"), thread("thread"), rows("rows");
    elementwise.split(inner, block, thread, knobs.threads * knobs.elements_per_thread, TailStrategy::GuardWithIf)
        .split(thread, step, thread, knobs.threads, TailStrategy::GuardWithIf)
        .reorder(thread, step, block, channel, outer)
        .unroll(step)
        .fuse(channel, outer, rows)
        .fuse(block, rows, block)
        .gpu_blocks(block)
        .gpu_threads(thread);

    if (grad_weight.defined()) {
        Var c = grad_weight.args()[0];
        grad_weight.gpu_blocks(c);
        weight_sum.compute_at(grad_weight, c);
        RVar along_inner = weight_sum.rvars(0)[0], along_outer = weight_sum.rvars(0)[1];
        RVar plane("plane"), steps("steps"), lanes("lanes");
        Var partial_thread("partial_thread");
        Func partial = weight_sum.update(0)
                           .fuse(along_inner, along_outer, plane)
                           .split(plane, steps, lanes, knobs.reduction_threads, TailStrategy::GuardWithIf)
                           .reorder(steps, lanes)
                           .rfactor(lanes, partial_thread);
        partial.compute_at(grad_weight, c).gpu_threads(partial_thread);
        partial.update(0).gpu_threads(partial_thread);
    }
}

}  // namespace nnf::schedules

#include "cpu/prelu_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_prelu_cpu(Func elementwise, const std::vector<OutputImageParam> &buffers, Func weight_sum,
                        Func grad_weight, const Target &target, const PreluCpuKnobs &knobs) {
    Var inner = elementwise.args()[0], channel = elementwise.args()[1], outer = elementwise.args()[2];
    Var task("task"), rows("rows"), block("block"), lane("lane");
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;

    Expr dense = Internal::const_true();
    for (const OutputImageParam &b : buffers) {
        // The runtime passes any stride (0 for a broadcast weight); vector loads need the dense case.
        b.dim(0).set_stride(Expr());
        if (b.dimensions() == 3) dense = dense && b.dim(0).stride() == 1;
    }
    // Tasks: a chunk of the inner dim in one (channel, outer) row.
    auto split_tasks = [&](Stage stage) {
        stage.split(inner, task, inner, knobs.elements_per_task, TailStrategy::GuardWithIf)
            .fuse(channel, outer, rows)
            .fuse(task, rows, task)
            .parallel(task);
    };
    Stage vectorized = elementwise.specialize(dense);
    split_tasks(vectorized);
    // Predicated tails never recompute an element, which in-place calls rely on.
    vectorized.split(inner, block, lane, vector, TailStrategy::Predicate).vectorize(lane);
    split_tasks(elementwise);

    if (grad_weight.defined()) {
        // One channel per task, each summing its (inner, outer) plane in double.
        grad_weight.parallel(grad_weight.args()[0]);
        weight_sum.compute_at(grad_weight, grad_weight.args()[0]);
    }
}

}  // namespace nnf::schedules

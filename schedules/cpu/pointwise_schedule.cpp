#include "cpu/pointwise_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_pointwise_cpu(Func output, const Expr &dense, const Expr &elements, const Target &target,
                            const PointwiseCpuKnobs &knobs) {
    Var inner = output.args()[0], outer = output.args()[1];
    Var task("task"), block("block"), lane("lane");
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;

    // Predicate keeps the tail vectorized with masked loads/stores and never recomputes an
    // element, which in-place calls (output aliasing input) rely on: ShiftInwards would read
    // an input element it had already overwritten.
    auto vectorize_rows = [&](Stage stage) {
        stage.split(inner, block, lane, vector * knobs.unroll, TailStrategy::Predicate)
            .vectorize(lane, vector);
        if (knobs.unroll > 1) stage.unroll(lane);
    };

    // Specializations copy the schedule at the time they are made, so each one is written out.
    Stage small = output.specialize(dense && elements < knobs.serial_below);
    vectorize_rows(small);

    Stage large = output.specialize(dense);
    large.split(inner, task, inner, knobs.elements_per_task, TailStrategy::GuardWithIf)
        .fuse(task, outer, task)
        .parallel(task);
    vectorize_rows(large);

    // Strided rows: parallel over rows and tasks, scalar inner loop.
    output.split(inner, task, inner, knobs.elements_per_task, TailStrategy::GuardWithIf)
        .fuse(task, outer, task)
        .parallel(task);
}

}  // namespace nnf::schedules

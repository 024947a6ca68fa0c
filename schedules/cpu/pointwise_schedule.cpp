#include "cpu/pointwise_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_pointwise_cpu(Func output, const Expr &dense, const Expr &elements, const Target &target,
                            const PointwiseCpuKnobs &knobs) {
    schedule_pointwise_cpu(output, std::vector<Expr>{dense}, elements, target, knobs);
}

void schedule_pointwise_cpu(Func output, const std::vector<Expr> &dense_conditions, const Expr &elements,
                            const Target &target, const PointwiseCpuKnobs &knobs) {
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

    // Parallel tasks of about elements_per_task elements: long rows are cut into pieces, short
    // rows (views that could not be merged into one, e.g. padded or transposed 2-D) are grouped.
    // Cutting a short row into a 32K-element task would run the guarded loop over the whole
    // task length for a few elements (measured: 0.02 G elements/s on rows of 256).
    const Expr row_length = output.output_buffer().dim(0).extent();
    const Expr long_rows = row_length >= knobs.elements_per_task;
    const Expr rows_per_task = max(1, knobs.elements_per_task / max(row_length, 1));
    auto cut_long_rows = [&](Stage stage) {
        stage.split(inner, task, inner, knobs.elements_per_task, TailStrategy::GuardWithIf)
            .fuse(task, outer, task)
            .parallel(task);
    };
    auto group_short_rows = [&](Stage stage) {
        stage.split(outer, task, outer, rows_per_task, TailStrategy::GuardWithIf).parallel(task);
    };

    // Specializations copy the schedule at the time they are made, so each one is written out.
    for (const Expr &dense : dense_conditions) {
        Stage small = output.specialize(dense && elements < knobs.serial_below);
        vectorize_rows(small);

        Stage dense_long = output.specialize(dense && long_rows);
        cut_long_rows(dense_long);
        vectorize_rows(dense_long);

        Stage dense_short = output.specialize(dense);
        group_short_rows(dense_short);
        vectorize_rows(dense_short);
    }

    // Strided rows: the same tasks, scalar inner loop.
    Stage strided_long = output.specialize(long_rows);
    cut_long_rows(strided_long);
    group_short_rows(output);
}

}  // namespace nnf::schedules

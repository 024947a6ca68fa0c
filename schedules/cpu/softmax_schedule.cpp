#include "cpu/softmax_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_softmax_rows_cpu(Func output, const std::vector<Func> &row_stages,
                               const std::vector<Func> &element_stages, const Target &target,
                               const SoftmaxCpuKnobs &knobs) {
    Var k = output.args()[0], row = output.args()[1];
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    output.parallel(row);
    // Predicated tails never recompute an element (in place, y may alias x).
    output.vectorize(k, vector, TailStrategy::Predicate);
    // The reductions run along the row, serially (the sum in double); the exps, the expensive
    // part, are vectorized into a row-local buffer.
    for (Func f : row_stages) f.compute_at(output, row);
    for (Func f : element_stages) f.compute_at(output, row).vectorize(f.args()[0], vector, TailStrategy::Predicate);
}

void schedule_softmax_columns_cpu(Func output, const std::vector<Func> &row_stages,
                                  const std::vector<Func> &element_stages, const Target &target,
                                  const SoftmaxCpuKnobs &knobs) {
    Var i = output.args()[0], k = output.args()[1], outer = output.args()[2];
    Var block("block"), lane("lane"), task("task");
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    output.split(i, block, lane, vector, TailStrategy::GuardWithIf)
        .reorder(lane, k, block, outer)
        .fuse(block, outer, task)
        .parallel(task)
        .vectorize(lane);
    // Each task holds `vector` columns of the reduced dim: the max and sum reduce across k with
    // one vector of i per step.
    for (Func f : row_stages) {
        f.compute_at(output, task).vectorize(f.args()[0], vector, TailStrategy::GuardWithIf);
        for (int u = 0; u < f.num_update_definitions(); ++u) {
            f.update(u).vectorize(f.args()[0], vector, TailStrategy::GuardWithIf);
        }
    }
    for (Func f : element_stages) {
        f.compute_at(output, task).vectorize(f.args()[0], vector, TailStrategy::GuardWithIf);
    }
}

}  // namespace nnf::schedules

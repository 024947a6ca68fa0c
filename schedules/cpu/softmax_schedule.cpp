#include "cpu/softmax_schedule.h"

namespace nnf::schedules {

using namespace Halide;

namespace {

// Every definition of f specialized on `dense`, after its schedule is set (a specialization
// copies the schedule as it is when made).
void specialize_dense(Func f, const Expr &dense) {
    f.specialize(dense);
    for (int u = 0; u < f.num_update_definitions(); ++u) f.update(u).specialize(dense);
}

}  // namespace

void schedule_softmax_rows_cpu(Func output, const std::vector<Func> &row_stages,
                               const std::vector<Func> &element_stages, const Expr &dense, const Target &target,
                               const SoftmaxCpuKnobs &knobs) {
    Var k = output.args()[0], row = output.args()[1], task("task");
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    // A task per row cost as much as a 1024-float row itself; short rows share a task.
    const Expr row_length = output.output_buffer().dim(0).extent();
    const Expr rows_per_task = max(1, knobs.elements_per_task / max(1, row_length));
    output.split(row, task, row, rows_per_task, TailStrategy::GuardWithIf).parallel(task);
    // Predicated tails never recompute an element (in place, y may alias x).
    output.vectorize(k, vector, TailStrategy::Predicate);
    specialize_dense(output, dense);
    // The reductions along the row are vectorized by rfactor: `vector` partial maxima (sums, in
    // double) over strided subsets of the row, then one short reduction across them. The exps,
    // the expensive part, are vectorized into a row-local buffer.
    for (Func f : row_stages) {
        f.compute_at(output, row);
        RVar along_row = f.rvars(0)[0], steps("steps"), lanes("lanes");
        Var lane("lane");
        Func partial = f.update(0)
                           .split(along_row, steps, lanes, vector, TailStrategy::GuardWithIf)
                           .rfactor(lanes, lane);
        partial.compute_at(output, row).vectorize(lane);
        partial.update(0).vectorize(lane);
        specialize_dense(partial, dense);
        specialize_dense(f, dense);
    }
    for (Func f : element_stages) {
        // One row-sized buffer per task, reused by its rows (allocated per row, it was a
        // malloc and free per row).
        f.store_at(output, task).compute_at(output, row).vectorize(f.args()[0], vector, TailStrategy::Predicate);
        specialize_dense(f, dense);
    }
}

void schedule_softmax_columns_cpu(Func output, const std::vector<Func> &row_stages,
                                  const std::vector<Func> &element_stages, const Expr &dense, const Target &target,
                                  const SoftmaxCpuKnobs &knobs) {
    Var i = output.args()[0], k = output.args()[1], outer = output.args()[2];
    Var block("block"), lane("lane"), task("task");
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    output.split(i, block, lane, vector, TailStrategy::GuardWithIf)
        .reorder(lane, k, block, outer)
        .fuse(block, outer, task)
        .parallel(task)
        .vectorize(lane);
    specialize_dense(output, dense);
    // Each task holds `vector` columns of the reduced dim: the max and sum reduce across k with
    // one vector of i per step.
    for (Func f : row_stages) {
        f.compute_at(output, task).vectorize(f.args()[0], vector, TailStrategy::GuardWithIf);
        for (int u = 0; u < f.num_update_definitions(); ++u) {
            f.update(u).vectorize(f.args()[0], vector, TailStrategy::GuardWithIf);
        }
        specialize_dense(f, dense);
    }
    for (Func f : element_stages) {
        f.compute_at(output, task).vectorize(f.args()[0], vector, TailStrategy::GuardWithIf);
        specialize_dense(f, dense);
    }
}

}  // namespace nnf::schedules

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
    // Long rows (a 1-D x is one row) are cut into tasks of elements_per_task; otherwise each
    // (channel, outer) row is a task. Splitting short rows by elements_per_task would run the
    // guarded vector loop over the whole task length for a few elements (measured: 256-element
    // rows ran at 0.02 G elements/s that way).
    const Expr long_rows = buffers[0].dim(0).extent() > 2 * knobs.elements_per_task;
    Stage long_dense = elementwise.specialize(dense && long_rows);
    long_dense.split(inner, task, inner, knobs.elements_per_task, TailStrategy::GuardWithIf)
        .fuse(channel, outer, rows)
        .fuse(task, rows, task)
        .parallel(task);
    // Predicated tails never recompute an element, which in-place calls rely on.
    long_dense.split(inner, block, lane, vector, TailStrategy::Predicate).vectorize(lane);
    // Short rows are grouped into tasks of about elements_per_task elements: one task per row
    // cost more than the row itself (64-float rows of [N, 64, 64] ran at 23% of copy speed).
    const Expr rows_per_task = max(1, knobs.elements_per_task / max(1, buffers[0].dim(0).extent()));
    Stage short_dense = elementwise.specialize(dense);
    short_dense.fuse(channel, outer, rows).split(rows, task, rows, rows_per_task, TailStrategy::GuardWithIf).parallel(task);
    short_dense.split(inner, block, lane, vector, TailStrategy::Predicate).vectorize(lane);
    // Strided rows: scalar, in the same tasks.
    elementwise.fuse(channel, outer, rows).split(rows, task, rows, rows_per_task, TailStrategy::GuardWithIf).parallel(task);

    if (grad_weight.defined()) {
        // The (inner, outer) plane of every channel is summed in double in memory order: chunks
        // of whole outer rows (about elements_per_task elements each) run in parallel, each
        // walking its rows channel by channel with `vector` lanes of partial sums along the
        // inner dim (rfactor), and the chunks' lanes are added at the end in a fixed order.
        // A task per channel instead read 64-float rows 16 KB apart ([N, 64, 64]: 0.48 G
        // elements/s at 64M against oneDNN's 1.05).
        Var c = grad_weight.args()[0], lane("lane"), chunk("chunk");
        const std::vector<RVar> r = weight_sum.rvars(0);  // (inner, outer)
        RVar steps("steps"), lanes("lanes"), chunks("chunks"), rows("rows");
        const Expr row_elements = buffers[0].dim(0).extent() * buffers[0].dim(1).extent();
        const Expr rows_per_chunk = max(1, knobs.elements_per_task / max(1, row_elements));
        weight_sum.compute_root();
        Func partial = weight_sum.update(0)
                           .split(r[0], steps, lanes, vector, TailStrategy::GuardWithIf)
                           .split(r[1], chunks, rows, rows_per_chunk, TailStrategy::GuardWithIf)
                           .rfactor({{lanes, lane}, {chunks, chunk}});
        // rfactor's Func is (c, lane, chunk): lanes innermost in memory, for vector accumulators.
        partial.reorder_storage(lane, c, chunk).compute_root().vectorize(lane).parallel(chunk);
        partial.update(0).reorder(lane, steps, c, rows, chunk).vectorize(lane).parallel(chunk);
        partial.update(0).specialize(dense);
    }
}

}  // namespace nnf::schedules

#include "cpu/loss_schedule.h"

#include "cpu/pointwise_schedule.h"

namespace nnf::schedules {

using namespace Halide;

int loss_reduction_lanes(const Target &target) {
    // Two vectors: a row reduction is a chain of dependent vector ops (max, or double adds);
    // two (four for double sums) chains hide the latency, which one did not (1.25x faster
    // cross_entropy forward on AVX-512).
    return 2 * target.natural_vector_size<float>();
}

void schedule_loss_elementwise_cpu(Func output, const std::vector<Expr> &dense_conditions, const Target &target,
                                   const LossCpuKnobs &knobs) {
    // One losses' slice is the same 2-D (i, j) view the pointwise family gets, so it gets the
    // same tasks (a whole 1-D tensor is one row: parallel over j alone ran on one thread).
    const Expr elements = cast<int64_t>(output.output_buffer().dim(0).extent()) * output.output_buffer().dim(1).extent();
    PointwiseCpuKnobs pointwise;
    pointwise.vector_multiple = knobs.vector_multiple;
    schedule_pointwise_cpu(output, dense_conditions, elements, target, pointwise);
}

namespace {

// The lanes computed inside the total's loop over `at` (Var::outermost() for a 0-D total).
void schedule_lanes(ops::LaneReduction r, const Var &at) {
    Var lane = r.partial.args()[0];
    r.partial.compute_at(LoopLevel(r.total, at)).vectorize(lane);
    r.partial.update(0).vectorize(lane);
    // The lanes combined by a vector tree (a horizontal reduction), not a serial chain. atomic()
    // lets Halide reassociate the max or sum: the order of the lanes' terms is arbitrary anyway.
    r.total.update(0).atomic().vectorize(r.lane);
    r.total.update(1).unscheduled();  // the tail: fewer terms than lanes, serial
}

}  // namespace

void schedule_loss_row_sums_cpu(Func output, ops::LaneReduction sum, const Expr &dense, const Target &) {
    Var j = output.args()[0];
    output.parallel(j);
    sum.total.compute_at(output, j);
    schedule_lanes(sum, sum.total.args()[0]);
    // A row (a whole 1-D tensor is one) is summed in chunks of kChunk lane vectors (64K floats
    // on AVX-512) in parallel: rfactor gives each chunk its own partial lanes, which the row's
    // lanes then add in chunk order.
    constexpr int kChunk = 2048;
    RVar k = sum.partial.rvars(0)[0], chunk("chunk"), within("within");
    Var u("u");
    Func chunks = sum.partial.update(0).split(k, chunk, within, kChunk).rfactor(chunk, u);
    Var lane = chunks.args()[0];
    chunks.compute_at(sum.total, sum.total.args()[0]).vectorize(lane).parallel(u);
    chunks.update(0).vectorize(lane).parallel(u);
    output.specialize(dense);
}

void schedule_classification_cpu(ops::ClassificationStages s, const Expr &dense,
                                 const std::vector<Expr> &specializations, const Target &target,
                                 const LossCpuKnobs &knobs) {
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    auto specialize = [](Func f, const std::vector<Expr> &conditions) {
        for (const Expr &condition : conditions) f.specialize(condition);
    };
    // Parallel tasks of whole rows, at least knobs.logits_per_task logits each: one row of 1024
    // classes per task made the thread pool's hand-off cost more than the work (nll_loss
    // backward on 64K logits ran 3.3x slower on 2 threads than on 1).
    const Expr rows_per_task = max(1, knobs.logits_per_task / max(s.classes, 1));
    auto parallel_rows = [&](Func f, const Var &o) {
        Var task("task");
        f.split(o, task, o, rows_per_task, TailStrategy::GuardWithIf).parallel(task);
    };
    if (s.weight_total.total.defined()) {
        s.weight_total.total.compute_root();
        schedule_lanes(s.weight_total, Var::outermost());
    }
    if (s.row_stats.defined()) {
        // cross_entropy: block-wide stages in dependency order, each row's reductions inside its
        // stage. Block-wide rather than row by row even for the forward: the stats pass then
        // streams the block from memory at full speed and the exps read it from L2 (1.1x faster
        // forward at 16M, 1.07x at 64K, than each row's max and exp sum in turn).
        for (Func f : {s.row_stats, s.row_sums}) {
            f.compute_root();
            parallel_rows(f, f.args()[1]);
        }
        for (ops::LaneReduction &r : s.row_reductions) {
            r.total.compute_at(s.row_stats, s.row_stats.args()[0]);
            schedule_lanes(r, r.total.args()[0]);
        }
        s.exp_sum.total.compute_at(s.row_sums, s.row_sums.args()[0]);
        schedule_lanes(s.exp_sum, s.exp_sum.total.args()[0]);
        // Specializations copy the schedule so far: they come last.
        specialize(s.row_stats, specializations);
        s.row_sums.specialize(dense);
    }
    if (s.exps.defined()) {
        Var c = s.exps.args()[0], o = s.exps.args()[2];
        // GuardWithIf: a tail never recomputes an element, so the stages may work in place.
        s.exps.vectorize(c, vector, TailStrategy::GuardWithIf);
        parallel_rows(s.exps, o);
        s.exps.specialize(dense);
    }
    if (s.row_loss.defined()) {
        // One value per row from per-row stages (or nll_loss's gather): vectorized across rows.
        Var o = s.row_loss.args()[1];
        s.row_loss.vectorize(o, vector, TailStrategy::GuardWithIf);
    }
    if (s.grad.defined()) {
        Var c = s.grad.args()[0], o = s.grad.args()[2];
        s.grad.vectorize(c, vector, TailStrategy::GuardWithIf);
        parallel_rows(s.grad, o);
        specialize(s.grad, specializations);
    }
}

}  // namespace nnf::schedules

#include "cpu/loss_schedule.h"

namespace nnf::schedules {

using namespace Halide;

int loss_reduction_lanes(const Target &target) {
    // Two vectors: a row reduction is a chain of dependent vector ops (max, or double adds);
    // two (four for double sums) chains hide the latency, which one did not (1.25x faster
    // cross_entropy forward on AVX-512).
    return 2 * target.natural_vector_size<float>();
}

void schedule_loss_elementwise_cpu(Func output, const Expr &dense, const Target &target, const LossCpuKnobs &knobs) {
    Var i = output.args()[0], j = output.args()[1];
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    // GuardWithIf: a tail never recomputes an element, so the output may alias x in place.
    output.vectorize(i, vector, TailStrategy::GuardWithIf).parallel(j);
    output.specialize(dense);
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
    output.specialize(dense);
    sum.total.compute_at(output, j);
    schedule_lanes(sum, sum.total.args()[0]);
}

void schedule_classification_cpu(ops::ClassificationStages s, const Expr &dense,
                                 const std::vector<Expr> &specializations, const Target &target,
                                 const LossCpuKnobs &knobs) {
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    auto specialize = [](Func f, const std::vector<Expr> &conditions) {
        for (const Expr &condition : conditions) f.specialize(condition);
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
        for (Func f : {s.row_stats, s.row_sums}) f.compute_root().parallel(f.args()[1]);
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
        s.exps.vectorize(c, vector, TailStrategy::GuardWithIf).parallel(o);
        s.exps.specialize(dense);
    }
    if (s.row_loss.defined()) {
        // One value per row from per-row stages (or nll_loss's gather): vectorized across rows.
        Var o = s.row_loss.args()[1];
        s.row_loss.vectorize(o, vector, TailStrategy::GuardWithIf);
    }
    if (s.grad.defined()) {
        Var c = s.grad.args()[0], o = s.grad.args()[2];
        s.grad.vectorize(c, vector, TailStrategy::GuardWithIf).parallel(o);
        specialize(s.grad, specializations);
    }
}

}  // namespace nnf::schedules

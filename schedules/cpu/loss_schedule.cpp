#include "cpu/loss_schedule.h"

namespace nnf::schedules {

using namespace Halide;

int loss_reduction_lanes(const Target &target) {
    return target.natural_vector_size<float>();
}

void schedule_loss_elementwise_cpu(Func output, const Expr &dense, const Target &target, const LossCpuKnobs &knobs) {
    Var i = output.args()[0], j = output.args()[1];
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    // GuardWithIf: a tail never recomputes an element, so the output may alias x in place.
    output.vectorize(i, vector, TailStrategy::GuardWithIf).parallel(j);
    output.specialize(dense);
}

namespace {

void schedule_lanes(ops::LaneReduction r, const Var &lane_var_owner_level) {
    Var lane = r.partial.args()[0];
    r.partial.compute_at(r.total, lane_var_owner_level).vectorize(lane);
    r.partial.update(0).vectorize(lane);
}

}  // namespace

void schedule_loss_row_sums_cpu(Func output, ops::LaneReduction sum, const Expr &dense, const Target &) {
    Var j = output.args()[0];
    output.parallel(j);
    output.specialize(dense);
    sum.total.compute_at(output, j);
    schedule_lanes(sum, sum.total.args()[0]);
}

void schedule_classification_cpu(ops::ClassificationStages s, const std::vector<Expr> &specializations,
                                 const Target &target,
                                 const LossCpuKnobs &knobs) {
    const int vector = target.natural_vector_size<float>() * knobs.vector_multiple;
    if (s.weight_total.defined()) s.weight_total.compute_root();
    if (s.row_stats.defined()) {
        Var i = s.row_stats.args()[0], o = s.row_stats.args()[1];
        s.row_stats.compute_root().parallel(o);
        for (const Expr &condition : specializations) s.row_stats.specialize(condition);
        for (ops::LaneReduction &r : s.row_reductions) {
            r.total.compute_at(s.row_stats, i);
            schedule_lanes(r, r.total.args()[0]);
        }
    }
    if (s.row_loss.defined()) {
        // nll_loss's row loss is a gather per row: vectorized across rows.
        Var o = s.row_loss.args()[1];
        s.row_loss.vectorize(o, vector, TailStrategy::GuardWithIf);
    }
    if (s.grad.defined()) {
        Var c = s.grad.args()[0], o = s.grad.args()[2];
        s.grad.vectorize(c, vector, TailStrategy::GuardWithIf).parallel(o);
        for (const Expr &condition : specializations) s.grad.specialize(condition);
    }
}

}  // namespace nnf::schedules

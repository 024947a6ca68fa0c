#include "gpu/loss_schedule.h"

#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_loss_partial_sums_gpu(Func partials, Func sum, const LossGpuKnobs &knobs) {
    schedule_block_sum_gpu(partials, sum, sum.rvars(0)[0], knobs.threads);
}

void schedule_cross_entropy_gpu(Func output, const ops::ClassificationStages &stages, const RowGroup &group) {
    const std::vector<Var> args = output.args();
    const bool per_class = args.size() == 3;  // grad (c, i, o), else row_loss (i, o)
    const Var i = args[per_class ? 1 : 0], o = args[per_class ? 2 : 1];
    Var row_block("row_block"), row_in_block("row_in_block"), step("step"), thread("thread");
    output.split(o, row_block, row_in_block, group.rows_per_block, TailStrategy::GuardWithIf);
    if (per_class) {
        output.split(args[0], step, thread, group.threads_per_row, TailStrategy::GuardWithIf)
            .reorder(step, thread, row_in_block, row_block, i)
            .gpu_threads(thread, row_in_block);
    } else {
        output.reorder(row_in_block, row_block, i).gpu_threads(row_in_block);
    }
    // Row blocks on x (up to 2^31 - 1), i on y.
    output.gpu_blocks(row_block, i);
    for (const ops::LaneReduction &r : stages.row_reductions) {
        reduce_across_threads(r.total, output, row_block, group);
    }
    reduce_across_threads(stages.exp_sum.total, output, row_block, group);
    reduce_across_threads(stages.weight_total.total, output, row_block, group);
    for (Func f : {stages.row_stats, stages.row_sums}) compute_per_row_in_block(f, output, row_block, group);
}

void schedule_nll_gpu(Func output, const LossGpuKnobs &knobs) {
    const std::vector<Var> args = output.args();
    Var all("all"), block("block"), thread("thread");
    output.fuse(args[0], args[1], all);
    if (args.size() == 3) output.fuse(all, args[2], all);
    output.gpu_tile(all, block, thread, knobs.threads, TailStrategy::GuardWithIf);
}

}  // namespace nnf::schedules

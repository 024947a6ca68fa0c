#include "gpu/loss_schedule.h"

#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_loss_partial_sums_gpu(Func partials, Func sum, const LossGpuKnobs &knobs) {
    schedule_block_sum_gpu(partials, sum, sum.rvars(0)[0], knobs.threads);
}

namespace {

// gpu_threads over 1 to 3 loops, innermost (thread x) first.
template<typename FuncOrStage>
void gpu_threads(FuncOrStage &&f, const std::vector<VarOrRVar> &loops) {
    if (loops.size() == 1) f.gpu_threads(loops[0]);
    if (loops.size() == 2) f.gpu_threads(loops[0], loops[1]);
    if (loops.size() == 3) f.gpu_threads(loops[0], loops[1], loops[2]);
}

// Shared memory of a constant size per block for `f`, a Func over some of (lane, i, o): a call
// with fewer rows than a block's would otherwise size it by min(rows, rows_per_block), and
// Halide 21's packing of such allocations rounded a float array of 3, 5 or 7 rows down to whole
// doubles (the last row's max was overwritten).
void bound_block_storage(Func f, const RowGroup &group, const std::string &lane, const std::string &o) {
    for (const Var &v : f.args()) {
        // i is one per block (a grid dim).
        f.bound_storage(v, v.name() == lane ? group.threads_per_row : (v.name() == o ? group.rows_per_block : 1));
    }
}

// `f` (pure over the rows (i, o) or over nothing, update 0 reducing over one RVar) reduced by
// the group's threads per row at `output`'s `at`: thread t takes terms t, t + threads, ..., into
// a shared-memory partial; then one thread per row combines the partials in order. The threads
// are x along the row and y over o, as in the output's loops (i is one per block).
void reduce_across_threads(Func f, Func output, const Var &at, const RowGroup &group) {
    const int threads = group.threads_per_row;
    RVar along = f.rvars(0)[0], steps("steps"), lanes("lanes");
    Var lane("lane");
    Func partial = f.update(0)
                       .split(along, steps, lanes, threads, TailStrategy::GuardWithIf)
                       .reorder(steps, lanes)
                       .rfactor(lanes, lane);
    std::vector<VarOrRVar> partial_threads = {lane};
    const std::vector<Var> rows = f.args();
    for (auto v = rows.rbegin(); v != rows.rend(); ++v) partial_threads.push_back(*v);  // o before i
    std::vector<VarOrRVar> update_order = {steps};
    update_order.insert(update_order.end(), partial_threads.begin(), partial_threads.end());
    partial.compute_at(output, at).reorder(partial_threads);
    gpu_threads(partial, partial_threads);
    gpu_threads(partial.update(0).reorder(update_order), partial_threads);
    f.compute_at(output, at);
    const std::string o = rows.empty() ? "" : rows.back().name();
    bound_block_storage(partial, group, lane.name(), o);
    bound_block_storage(f, group, lane.name(), o);
    if (!rows.empty()) {
        const std::vector<VarOrRVar> row_threads(rows.begin(), rows.end());
        gpu_threads(f, row_threads);
        gpu_threads(f.update(0), row_threads);
    }
}

}  // namespace

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
    for (Func f : {stages.row_stats, stages.row_sums}) {
        const std::vector<Var> rows = f.args();
        gpu_threads(f.compute_at(output, row_block), std::vector<VarOrRVar>(rows.begin(), rows.end()));
        bound_block_storage(f, group, "", rows.back().name());
    }
}

void schedule_nll_gpu(Func output, const LossGpuKnobs &knobs) {
    const std::vector<Var> args = output.args();
    Var all("all"), block("block"), thread("thread");
    output.fuse(args[0], args[1], all);
    if (args.size() == 3) output.fuse(all, args[2], all);
    output.gpu_tile(all, block, thread, knobs.threads, TailStrategy::GuardWithIf);
}

}  // namespace nnf::schedules

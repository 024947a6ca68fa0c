#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

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
        int extent = 1;  // i: one per block (a grid dim)
        if (v.name() == lane) extent = group.threads_per_row;
        if (v.name() == o) extent = group.rows_per_block;
        f.bound_storage(v, extent);
    }
}

}  // namespace

void reduce_across_threads(Func f, Func output, const Var &at, const RowGroup &group) {
    RVar along = f.rvars(0)[0], steps("steps"), lanes("lanes");
    Var lane("lane");
    Func partial = f.update(0)
                       .split(along, steps, lanes, group.threads_per_row, TailStrategy::GuardWithIf)
                       .reorder(steps, lanes)
                       .rfactor(lanes, lane);
    // Each thread accumulates its partial in a register (computed inside its thread loop, one
    // value) and then stores it once to shared memory, where the row's threads meet. Accumulated
    // in shared memory, a shared load and store sat between consecutive terms, and ncu on an
    // H200 found the warps waiting on their global loads half of the time, DRAM at 17 %; in a
    // register cross_entropy ran 1.1-1.5x faster (docs/results/gpu-2026-11-27-cross-entropy.md).
    Func in_shared = partial.in(f);
    // lane innermost, so that it is thread x as in the output's loops: in the default order (the
    // rows innermost) a block per row became 256 x 256 threads, a failed launch.
    std::vector<VarOrRVar> partial_threads = {lane};
    const std::vector<Var> rows = f.args();
    for (auto v = rows.rbegin(); v != rows.rend(); ++v) partial_threads.push_back(*v);  // o before i
    in_shared.compute_at(output, at).reorder(partial_threads);
    gpu_threads(in_shared, partial_threads);
    partial.compute_at(in_shared, lane);
    f.compute_at(output, at);
    const std::string o = rows.empty() ? "" : rows.back().name();
    bound_block_storage(in_shared, group, lane.name(), o);
    bound_block_storage(f, group, lane.name(), o);
    if (!rows.empty()) {
        const std::vector<VarOrRVar> row_threads(rows.begin(), rows.end());
        gpu_threads(f, row_threads);
        gpu_threads(f.update(0), row_threads);
    }
}

void compute_per_row_in_block(Func f, Func output, const Var &at, const RowGroup &group) {
    const std::vector<Var> rows = f.args();
    gpu_threads(f.compute_at(output, at), std::vector<VarOrRVar>(rows.begin(), rows.end()));
    bound_block_storage(f, group, "", rows.back().name());
}

void schedule_rows_gpu(Func output, const std::vector<Func> &row_stages, const RowGroup &group) {
    Var k = output.args()[0], row = output.args()[1];
    Var row_block("row_block"), row_in_block("row_in_block"), step("step"), thread("thread");
    output.split(row, row_block, row_in_block, group.rows_per_block, TailStrategy::GuardWithIf)
        .split(k, step, thread, group.threads_per_row, TailStrategy::GuardWithIf)
        .reorder(step, thread, row_in_block, row_block)
        .gpu_blocks(row_block)
        .gpu_threads(thread, row_in_block);
    for (Func f : row_stages) reduce_across_threads(f, output, row_block, group);
}

void schedule_block_sum_gpu(Func output, Func sum, const RVar &along, int threads) {
    Var v = output.args()[0];
    output.gpu_blocks(v);
    sum.compute_at(output, v);
    RVar steps("steps"), lanes("lanes");
    Var partial_thread("partial_thread");
    Func partial = sum.update(0)
                       .split(along, steps, lanes, threads, TailStrategy::GuardWithIf)
                       .reorder(steps, lanes)
                       .rfactor(lanes, partial_thread);
    partial.compute_at(output, v).gpu_threads(partial_thread);
    partial.update(0).gpu_threads(partial_thread);
}

}  // namespace nnf::schedules

#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_rows_gpu(Func output, const std::vector<Func> &row_stages, const RowGroup &group) {
    Var k = output.args()[0], row = output.args()[1];
    Var row_block("row_block"), row_in_block("row_in_block"), step("step"), thread("thread");
    output.split(row, row_block, row_in_block, group.rows_per_block, TailStrategy::GuardWithIf)
        .split(k, step, thread, group.threads_per_row, TailStrategy::GuardWithIf)
        .reorder(step, thread, row_in_block, row_block)
        .gpu_blocks(row_block)
        .gpu_threads(thread, row_in_block);
    for (Func f : row_stages) {
        RVar along_row = f.rvars(0)[0], steps("steps"), threads("threads");
        Var partial_thread("partial_thread");
        Var f_row = f.args()[0];
        Func partial = f.update(0)
                           .split(along_row, steps, threads, group.threads_per_row, TailStrategy::GuardWithIf)
                           .reorder(steps, threads)
                           .rfactor(threads, partial_thread);
        // partial_thread innermost, so that it is thread x as in the output's loops: in the
        // default order (f_row innermost) the block became threads_per_row x threads_per_row
        // threads, 1024 for a warp per row and 65536 (a failed launch) for a block per row.
        partial.compute_at(output, row_block).reorder(partial_thread, f_row).gpu_threads(partial_thread, f_row);
        partial.update(0).reorder(steps, partial_thread, f_row).gpu_threads(partial_thread, f_row);
        f.compute_at(output, row_block).gpu_threads(f_row);
        f.update(0).gpu_threads(f_row);
    }
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

#include "gpu/softmax_schedule.h"

#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_softmax_rows_gpu(Func output, const std::vector<Func> &row_stages, bool warp_per_row) {
    schedule_rows_gpu(output, row_stages, warp_per_row ? kWarpPerRow : kBlockPerRow);
}

void schedule_softmax_columns_gpu(Func output, const std::vector<Func> &row_stages, const SoftmaxGpuKnobs &knobs) {
    Var i = output.args()[0], k = output.args()[1], outer = output.args()[2];
    Var block("block"), thread("thread");
    // Every block index on the grid's x dimension: y and z stop at 65535 blocks.
    output.split(i, block, thread, knobs.column_threads, TailStrategy::GuardWithIf)
        .reorder(k, thread, block, outer)
        .fuse(block, outer, block)
        .gpu_blocks(block)
        .gpu_threads(thread);
    // Each thread's column reductions are scalars in registers.
    for (Func f : row_stages) f.compute_at(output, thread);
}

}  // namespace nnf::schedules

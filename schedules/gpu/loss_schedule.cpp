#include "gpu/loss_schedule.h"

#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_loss_partial_sums_gpu(Func partials, Func sum, const LossGpuKnobs &knobs) {
    schedule_block_sum_gpu(partials, sum, sum.rvars(0)[0], knobs.threads);
}

void schedule_nll_gradient_gpu(Func grad, const LossGpuKnobs &knobs) {
    const std::vector<Var> args = grad.args();
    Var all("all"), block("block"), thread("thread");
    grad.fuse(args[0], args[1], all).fuse(all, args[2], all).gpu_tile(all, block, thread, knobs.threads,
                                                                      TailStrategy::GuardWithIf);
}

}  // namespace nnf::schedules

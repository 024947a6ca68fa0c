#include "gpu/loss_schedule.h"

#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_loss_partial_sums_gpu(Func partials, Func sum, const LossGpuKnobs &knobs) {
    schedule_block_sum_gpu(partials, sum, sum.rvars(0)[0], knobs.threads);
}

}  // namespace nnf::schedules

#include "gpu/prelu_schedule.h"

#include "gpu/pointwise_schedule.h"
#include "gpu/row_reduction_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_prelu_gpu(Func elementwise, Func weight_sum, Func grad_weight, const PreluGpuKnobs &knobs) {
    // The pointwise family's schedule over (inner, the channel and outer dims fused).
    Var inner = elementwise.args()[0], channel = elementwise.args()[1], outer = elementwise.args()[2];
    Var rows("rows");
    elementwise.fuse(channel, outer, rows);
    schedule_pointwise_gpu(elementwise, inner, rows, {knobs.threads, knobs.elements_per_thread});

    if (grad_weight.defined()) {
        // One block per channel over its whole (inner, outer) plane, fused into one RVar.
        RVar plane("plane");
        weight_sum.update(0).fuse(weight_sum.rvars(0)[0], weight_sum.rvars(0)[1], plane);
        schedule_block_sum_gpu(grad_weight, weight_sum, plane, knobs.reduction_threads);
    }
}

}  // namespace nnf::schedules

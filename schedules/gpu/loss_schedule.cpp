#include "gpu/loss_schedule.h"

namespace nnf::schedules {

using namespace Halide;

void schedule_loss_partial_sums_gpu(Func partials, Func sum, const LossGpuKnobs &knobs) {
    Var p = partials.args()[0];
    partials.gpu_blocks(p);
    sum.compute_at(partials, p);
    RVar along = sum.rvars(0)[0], steps("steps"), lanes("lanes");
    Var partial_thread("partial_thread");
    Func per_thread = sum.update(0)
                          .split(along, steps, lanes, knobs.threads, TailStrategy::GuardWithIf)
                          .reorder(steps, lanes)
                          .rfactor(lanes, partial_thread);
    per_thread.compute_at(partials, p).gpu_threads(partial_thread);
    per_thread.update(0).gpu_threads(partial_thread);
}

}  // namespace nnf::schedules

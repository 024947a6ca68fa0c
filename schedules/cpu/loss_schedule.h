// CPU schedules of the loss family.
#pragma once

#include <vector>

#include "Halide.h"
#include "ops/loss_ops.h"

namespace nnf::schedules {

struct LossCpuKnobs {
    // Vector width as a multiple of the target's natural float vector.
    int vector_multiple = 1;
    // Classification losses: logits per parallel task (whole rows; a row longer than this is
    // one task). 16K floats is 64 KiB: 4 tasks in the runtime's 64K-logit blocks.
    int logits_per_task = 16 * 1024;
};

// The lanes of ops::lane_reduce for this target (its natural float vector).
int loss_reduction_lanes(const Halide::Target &target);

// Elementwise losses on 2-D slices (i, j): the pointwise family's schedule (parallel tasks of
// long rows cut into pieces or short rows grouped, vectorized along i). Each of
// `dense_conditions` (every buffer's dim 0 has stride 1, or a broadcast one has stride 0) gets
// its own loop nests with dense vector loads instead of the gathers any stride needs.
void schedule_loss_elementwise_cpu(Halide::Func output, const std::vector<Halide::Expr> &dense_conditions,
                                   const Halide::Target &target, const LossCpuKnobs &knobs = {});

// The per-row partial sums of an elementwise loss: output(j) over slices (i, j); the lanes of
// the reduction along i are vectorized, rows run in parallel, and a long row is summed in
// parallel chunks whose partial sums are added in a fixed order (the same result for every
// thread count).
void schedule_loss_row_sums_cpu(Halide::Func output, ops::LaneReduction sum, const Halide::Expr &dense,
                                const Halide::Target &target);

// Classification losses on blocks of rows (c, i, o) small enough to stay in L2 (the runtime
// sizes them), the per-row reductions' lanes vectorized, everything parallel over o.
// cross_entropy runs block-wide stages in this order: the row stats (the only stage that reads
// the logits besides the exps), the exps (the gradient passes store them in the gradient's
// memory), their row sums, then the outputs (the gradient scales the exps in place). That order
// is what lets the gradient overwrite the logits; the logits come from memory once, the other
// passes read the block from L2.
// nll_loss: the row loss vectorized across rows (a gather), the gradient along c.
// `dense` is true when every (c, i, o) buffer has unit stride along c; `specializations` are
// conditions (most specific first, each implying dense) under which the row stats and the
// gradient get their own loop nests: a uniform or contiguous weight, no label smoothing (whose
// extra row sum and weight loads then disappear).
void schedule_classification_cpu(ops::ClassificationStages stages, const Halide::Expr &dense,
                                 const std::vector<Halide::Expr> &specializations, const Halide::Target &target,
                                 const LossCpuKnobs &knobs = {});

}  // namespace nnf::schedules

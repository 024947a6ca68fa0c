// GPU (CUDA) schedules of the loss family. Elementwise losses (mse, l1, smooth_l1, huber):
// reduction none and the gradients are pointwise (gpu/pointwise_schedule.h), mean and sum use
// the partial sums below. Classification losses (cross_entropy, nll_loss): a warp or a block per
// row, below.
#pragma once

#include "Halide.h"
#include "gpu/row_reduction_schedule.h"
#include "ops/loss_ops.h"

namespace nnf::schedules {

struct LossGpuKnobs {
    // Threads of the block that sums one partial.
    int threads = 256;
};

// `partials` is 1-D over the block p, `sum` a Func over p with a pure definition and one update
// over a 1-D RDom (the block's chunk of the flattened slice): one block per partial, thread t
// summing the chunk's elements t, t + threads, ... (consecutive threads read consecutive
// elements: coalesced), the per-thread double sums rfactored into shared memory and added up by
// one thread of the block (Halide 21 has no 64-bit warp shuffles).
void schedule_loss_partial_sums_gpu(Halide::Func partials, Halide::Func sum, const LossGpuKnobs &knobs = {});

// cross_entropy on blocks of rows (c, i, o), from ops::cross_entropy with lanes 1 (plain
// reductions). `output` is stages.row_loss (i, o) or stages.grad (c, i, o): one kernel each, a
// forward and a backward call on the same rows making two (the driver's forward_backward).
// Rows (o) are grouped as `group` says, `group.threads_per_row` threads reading a row's classes
// threads apart (coalesced where the class dim is dense); i is the grid's y (at most 65535: the
// driver cuts i into calls of that many). Every per-row value (the row max, the summed exps, the
// smoothing and target sums) is reduced by the row's threads (reduce_across_threads) and
// computed for the block's rows before any output is written: the gradient may
// overwrite the logits in place. The exps are recomputed, not stored: a GPU has arithmetic to
// spare, not memory passes. The weights' total (label smoothing only) is reduced the same way
// in every block.
void schedule_cross_entropy_gpu(Halide::Func output, const ops::ClassificationStages &stages, const RowGroup &group);

// cross_entropy's long rows: a block of 256 threads per row, 2 rows per block. With one row per
// block (softmax's kBlockPerRow) the forward's only thread loop over rows has extent 1, and
// Halide 21 dropped the output's stores (the ptxas tests now catch a kernel without them).
constexpr RowGroup kBlockPerRowPair{256, 2};

// nll_loss's row_loss (i, o), one thread per row (a gather), or its gradient (c, i, o), zero but
// at each row's target, one thread per element.
void schedule_nll_gpu(Halide::Func output, const LossGpuKnobs &knobs = {});

}  // namespace nnf::schedules

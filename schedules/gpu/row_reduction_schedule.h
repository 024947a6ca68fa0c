// GPU schedules shared by the families that reduce: along rows (softmax), a warp per row for
// short rows and a block per row for long ones (the runtime picks between the two kernels by row
// length); and a block per sum (prelu's grad_weight, the losses' partial sums).
#pragma once

#include <vector>

#include "Halide.h"

namespace nnf::schedules {

// Warp size of every CUDA GPU so far.
constexpr int kWarpLanes = 32;

struct RowGroup {
    int threads_per_row;  // a multiple of the warp
    int rows_per_block;
};
// One warp per row, 8 rows (256 threads) per block: short rows.
constexpr RowGroup kWarpPerRow{kWarpLanes, 8};
// One block of 256 threads per row: long rows.
constexpr RowGroup kBlockPerRow{256, 1};

// `output` is 2-D over (k, row), k along the row; each row is handled by `group.threads_per_row`
// threads, `group.rows_per_block` rows per block. Each of `row_stages` (Funcs over row alone
// whose first update reduces over k) is rfactored into one partial per thread, thread t taking
// elements t, t + threads, ... (coalesced loads). The partials go to shared memory, where one
// thread per row combines them (Halide 21 has no 64-bit warp shuffles, and the sums are
// double). The row's threads then write it, `threads_per_row` apart. Per-element stages are
// left inline: recomputing an exp costs less than a second trip to memory.
// `row_stages` come in dependency order: a stage may read the ones before it (softmax's sum of
// exp(x - max) reads the max), which are computed before it in the same block.
void schedule_rows_gpu(Halide::Func output, const std::vector<Halide::Func> &row_stages, const RowGroup &group);

// One block per element of the 1-D `output` over var v, which reads `sum` (a Func over v with a
// pure definition and one update reducing over the RVar `along`): thread t of the block's
// `threads` reduces elements t, t + threads, ... (consecutive threads read consecutive
// elements: coalesced), and the per-thread partials, rfactored into shared memory, are combined
// by one thread (double sums: Halide 21 has no 64-bit warp shuffles).
void schedule_block_sum_gpu(Halide::Func output, Halide::Func sum, const Halide::RVar &along, int threads);

}  // namespace nnf::schedules

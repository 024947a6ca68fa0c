// GPU schedules shared by the families that reduce along rows (softmax, cross-entropy): a warp
// per row for short rows, a block per row for long ones. The runtime picks between the two
// kernels by row length.
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

}  // namespace nnf::schedules

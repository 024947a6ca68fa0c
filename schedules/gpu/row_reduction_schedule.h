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

// `f` (pure over its rows, (row), (i, o) or none, update 0 reducing over one RVar along the
// row) computed at `output`'s loop `at` (a block of rows), its reduction spread over the group's
// threads per row: thread t accumulates terms t, t + threads, ... (coalesced loads) in a
// register, stores its partial once to shared memory, and one thread per row combines the
// partials in order (Halide 21 has no 64-bit warp shuffles, and the sums are double). The
// threads are x along the row and y over the block's rows (its last var), as in the output's
// loops; any other row var (i) is one per block. Shared memory has a fixed size per block.
// Measured on an H200 (docs/results/gpu-2026-11-27-cross-entropy.md): accumulating in shared
// memory instead made cross_entropy 1.1-1.5x slower (one shape 2 % faster) and softmax on
// 1000-element rows 1.5x slower, but softmax on 32000- and 10-element rows 1.13x and 1.18x faster.
void reduce_across_threads(Halide::Func f, Halide::Func output, const Halide::Var &at, const RowGroup &group);

// `f` (pure over its rows, no reduction) computed at `output`'s loop `at`, one thread per row of
// the block, in shared memory of a fixed size.
void compute_per_row_in_block(Halide::Func f, Halide::Func output, const Halide::Var &at, const RowGroup &group);

// `output` is 2-D over (k, row), k along the row; each row is handled by `group.threads_per_row`
// threads, `group.rows_per_block` rows per block. Each of `row_stages` (Funcs over row alone
// whose first update reduces over k) is reduced by reduce_across_threads. The row's threads
// then write it, `threads_per_row` apart. Per-element stages are left inline: recomputing an
// exp costs less than a second trip to memory.
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

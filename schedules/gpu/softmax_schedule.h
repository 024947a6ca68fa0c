// GPU (CUDA) schedules of the softmax family: one per layout of the reduced dim, and for rows
// (the reduced dim innermost) one per row length class, chosen by runtime/softmax_driver.cpp.
#pragma once

#include <vector>

#include "Halide.h"

namespace nnf::schedules {

struct SoftmaxGpuKnobs {
    // Columns: threads per block along the dims after the reduced one (one column each).
    int column_threads = 128;
};

// Rows: a 2-D output over (k, row), k the reduced dim. A warp per row (short rows) or a block
// per row (long rows), as gpu/row_reduction_schedule.h describes. `row_stages` are the per-row
// reductions (max, then sum); per-element stages (the exps) stay inline.
void schedule_softmax_rows_gpu(Halide::Func output, const std::vector<Halide::Func> &row_stages, bool warp_per_row);

// Columns: a 3-D output over (i, k, outer). One thread per (i, outer) column walks the reduced
// dim k serially, its reductions in registers; neighbouring threads read neighbouring i, so
// every step is coalesced.
void schedule_softmax_columns_gpu(Halide::Func output, const std::vector<Halide::Func> &row_stages,
                                  const SoftmaxGpuKnobs &knobs = {});

}  // namespace nnf::schedules

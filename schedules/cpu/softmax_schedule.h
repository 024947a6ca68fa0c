// CPU schedules of the softmax family: one per layout of the reduced dim.
#pragma once

#include <vector>

#include "Halide.h"

namespace nnf::schedules {

struct SoftmaxCpuKnobs {
    // Vector width as a multiple of the target's natural float vector.
    int vector_multiple = 2;
    // Rows shorter than this are grouped into parallel tasks of about this many elements.
    int elements_per_task = 16 * 1024;
};

// Rows: a 2-D output over (k, row), k the reduced dim. Parallel over rows; each row computes its
// max, exps (a row-local buffer) and sum, then the output, vectorized along the row.
// `row_stages` are the per-row Funcs (max, sum), `element_stages` the per-element ones (exps).
// `dense` is true when every buffer has unit stride in its first dim: every stage is
// specialized on it, so those rows get contiguous vector loads instead of gathers.
void schedule_softmax_rows_cpu(Halide::Func output, const std::vector<Halide::Func> &row_stages,
                               const std::vector<Halide::Func> &element_stages, const Halide::Expr &dense,
                               const Halide::Target &target, const SoftmaxCpuKnobs &knobs = {});

// Columns: a 3-D output over (i, k, outer), k the reduced dim and i the dims after it. Parallel
// over (vector of i, outer) blocks; each block keeps its stages for all k in a local buffer and
// vectorizes over i.
void schedule_softmax_columns_cpu(Halide::Func output, const std::vector<Halide::Func> &row_stages,
                                  const std::vector<Halide::Func> &element_stages, const Halide::Expr &dense,
                                  const Halide::Target &target, const SoftmaxCpuKnobs &knobs = {});

}  // namespace nnf::schedules

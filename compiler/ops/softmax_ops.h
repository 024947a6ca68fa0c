// Algorithms of the softmax family (softmax, log_softmax, softmin with inverse temperature beta)
// along one reduced dim of a Func. Pure Halide Funcs, no scheduling: the stages are returned so
// that schedules (schedules/cpu/softmax_schedule.h) can place the row-local buffers.
#pragma once

#include <string>
#include <vector>

#include "Halide.h"

namespace nnf::ops {

enum class SoftmaxKind { softmax, log_softmax, softmin };

// Throws std::invalid_argument for an op outside the family.
SoftmaxKind softmax_kind(const std::string &op);

// A reduction along `args[reduced]` of a Func over `args`, the reduced var running over
// [0, extent).
struct SoftmaxShape {
    std::vector<Halide::Var> args;
    int reduced;
    Halide::Expr extent;
};

struct SoftmaxForwardStages {
    Halide::Func row_max;  // max over the row of s x, s = beta (softmin: -beta)
    Halide::Func shifted;  // s x - row_max: <= 0, so exp never overflows
    Halide::Func exps;     // exp(shifted)
    Halide::Func row_sum;  // sum of exps, in double
    Halide::Func y;
};

struct SoftmaxBackwardStages {
    Halide::Func terms;    // grad y (softmax, softmin) or grad (log_softmax)
    Halide::Func row_sum;  // their row sum, in double
    Halide::Func grad_input;
};

SoftmaxForwardStages softmax_forward(SoftmaxKind kind, Halide::Func x, const Halide::Expr &beta,
                                     const SoftmaxShape &shape);
SoftmaxBackwardStages softmax_backward(SoftmaxKind kind, Halide::Func grad_output, Halide::Func y,
                                       const Halide::Expr &beta, const SoftmaxShape &shape);

}  // namespace nnf::ops

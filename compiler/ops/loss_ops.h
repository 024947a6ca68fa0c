// Algorithms of the loss family: the elementwise losses (mse, l1, smooth_l1, huber) and the
// classification losses (nll_loss, cross_entropy with class-index or probability targets).
// Pure Halide Funcs, no scheduling: the stages are returned so that schedules
// (schedules/cpu/loss_schedule.h) can place them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "Halide.h"

namespace nnf::ops {

enum class ElementwiseLoss { mse, l1, smooth_l1, huber };

// Throws std::invalid_argument for an op that is not an elementwise loss.
ElementwiseLoss elementwise_loss_kind(const std::string &op);
bool is_elementwise_loss(const std::string &op);

// The loss of one element from d = x - target; `width` is beta (smooth_l1) or delta (huber).
Halide::Expr elementwise_loss(ElementwiseLoss kind, const Halide::Expr &d, const Halide::Expr &width);
// Its derivative with respect to x (ATen's *_backward at grad_output 1, norm 1).
Halide::Expr elementwise_loss_derivative(ElementwiseLoss kind, const Halide::Expr &d, const Halide::Expr &width);

// A reduction of term(k) over k in [0, extent) for every position of `rest`, split into `lanes`
// interleaved partial results (lane l takes k = l, l + lanes, ...) and a tail, so that the
// schedule can vectorize across lanes: a serial reduction does not vectorize, and rfactor would
// need the same split. `lanes` is the target's vector width, chosen by the generator; with
// lanes <= 1 there is no partial and total's update 0 reduces over all k (for GPU schedules,
// which split it across threads with rfactor).
struct LaneReduction {
    Halide::Func partial;  // (lane, rest...); undefined when lanes <= 1
    Halide::Func total;    // (rest...): update 0 combines the lanes over `lane`, update 1 adds the tail
    Halide::RVar lane;
};
enum class Combine {
    sum_f64,  // terms summed in double: a row of 256K terms keeps ~1e-11 relative error
    max,      // float max; may drop a NaN term (callers propagate NaN through a later sum)
};
LaneReduction lane_reduce(const std::function<Halide::Expr(const Halide::Expr &k)> &term,
                          const std::vector<Halide::Var> &rest, const Halide::Expr &extent, int lanes,
                          Combine combine, const std::string &name);

// Classification losses over a 3-D view (c, i, o): c the class, (i, o) one row (a position
// (n, d1..dK) of the target). The runtime hands blocks of rows; every per-row value that reads
// the logits is computed for the block before any output, so that the gradient may overwrite
// the logits.
struct ClassificationInputs {
    Halide::Func x;            // (c, i, o) logits (cross_entropy) or log-probabilities (nll_loss)
    Halide::Func target;       // (i, o) int64 class indices, or (c, i, o) probabilities
    Halide::Func weight;       // (c)
    Halide::Expr classes;      // C
    Halide::Expr ignore_index; // int64; class-index targets only
    Halide::Expr label_smoothing;
    Halide::Func grad_scale;   // (i, o): grad_output per row (a broadcast scalar under mean/sum)
    Halide::Expr scale;        // 1 / the mean's divisor, or 1
    // cross_entropy's gradient passes: an undefined Func (c, i, o) stored in the gradient's own
    // memory (the generator's `exps` output, which the runtime points at grad_input). The
    // algorithm defines it as exp(x - row max) and reads it back twice, for the row sums and for
    // the gradient: one exp per logit and no memory beyond the gradient. Left undefined
    // (forward), the sums recompute the exps inline.
    Halide::Func exps;
};

struct ClassificationStages {
    Halide::Func row_stats;            // (i, o): per-row values read from the logits
    LaneReduction weight_total;        // (): sum of the weights over the classes (label smoothing)
    std::vector<LaneReduction> row_reductions;  // the reductions row_stats reads
    Halide::Func exps;                 // (c, i, o): in.exps, when defined
    Halide::Func row_sums;             // (i, o): sum_c exp(x - row max), summed in double
    LaneReduction exp_sum;             // the reduction row_sums reads
    Halide::Func row_loss;             // (i, o)
    Halide::Func grad;                 // (c, i, o)
    Halide::Expr classes;              // C (schedules size their parallel tasks by it)
};

enum class Targets { indices, probabilities };

// cross_entropy = nll_loss(log_softmax(x)) with PyTorch's label smoothing and weights: the
// row losses (want_loss) and the gradient (want_grad, which needs in.exps).
ClassificationStages cross_entropy(const ClassificationInputs &in, Targets targets, bool want_loss, bool want_grad,
                                   int lanes);
// nll_loss on log-probabilities x (class-index targets).
ClassificationStages nll_loss(const ClassificationInputs &in);

}  // namespace nnf::ops

#include "ops/loss_ops.h"

#include <limits>
#include <stdexcept>

#include "math/nnf_math.h"

namespace nnf::ops {

using namespace Halide;

namespace {

// Halide compiles float code with no-NaNs/no-infs flags and folds comparisons assuming no NaN;
// the losses must keep IEEE semantics (inf losses of -inf logits, NaN rows, 0 * inf = NaN where
// PyTorch gets NaN), so every value that can meet a non-finite operand is strict.
Expr ieee(const Expr &e) {
    return strict_float(e);
}

// exp that keeps a NaN argument NaN whatever the fast-math exp does with it.
Expr exp_keep_nan(const Expr &e) {
    return select(Halide::is_nan(e), e, math::exp(e));
}

Expr f32(float v) {
    return Expr(v);
}

}  // namespace

ElementwiseLoss elementwise_loss_kind(const std::string &op) {
    if (op == "mse_loss") return ElementwiseLoss::mse;
    if (op == "l1_loss") return ElementwiseLoss::l1;
    if (op == "smooth_l1_loss") return ElementwiseLoss::smooth_l1;
    if (op == "huber_loss") return ElementwiseLoss::huber;
    throw std::invalid_argument("no elementwise loss algorithm for op '" + op + "'");
}

bool is_elementwise_loss(const std::string &op) {
    return op == "mse_loss" || op == "l1_loss" || op == "smooth_l1_loss" || op == "huber_loss";
}

// ATen's formulas (aten/src/ATen/native/Loss.cpp and the CPU kernels):
//   smooth_l1: z < beta ? 0.5 z^2 / beta : z - 0.5 beta, z = |d|; beta = 0 dispatches to l1_loss,
//              which the second branch gives exactly (z - 0) without dividing by 0.
//   huber:     z < delta ? 0.5 z^2 : delta (z - 0.5 delta).
Expr elementwise_loss(ElementwiseLoss kind, const Expr &d, const Expr &width) {
    const Expr z = abs(d);
    switch (kind) {
    case ElementwiseLoss::mse: return ieee(d * d);
    case ElementwiseLoss::l1: return ieee(z);
    case ElementwiseLoss::smooth_l1: return ieee(select(z < width, f32(0.5f) * z * z / width, z - f32(0.5f) * width));
    case ElementwiseLoss::huber: return ieee(select(z < width, f32(0.5f) * z * z, width * (z - f32(0.5f) * width)));
    }
    return Expr();
}

// ATen's backward kernels: mse 2 d; l1 sgn(d) (0 at 0; NaN stays NaN); smooth_l1 -1 for
// d <= -beta, 1 for d >= beta, else d / beta (beta = 0 is l1's sgn: the branches would give -1
// at d = 0); huber -delta, delta, else d.
Expr elementwise_loss_derivative(ElementwiseLoss kind, const Expr &d, const Expr &width) {
    const Expr sgn = select(d > 0.0f, f32(1.0f), select(d < 0.0f, f32(-1.0f), d * 0.0f));
    switch (kind) {
    case ElementwiseLoss::mse: return ieee(f32(2.0f) * d);
    case ElementwiseLoss::l1: return ieee(sgn);
    case ElementwiseLoss::smooth_l1:
        return ieee(select(width == 0.0f, sgn, select(d <= -width, f32(-1.0f), select(d >= width, f32(1.0f), d / width))));
    case ElementwiseLoss::huber: return ieee(select(d <= -width, -width, select(d >= width, width, d)));
    }
    return Expr();
}

LaneReduction lane_reduce(const std::function<Expr(const Expr &k)> &term, const std::vector<Var> &rest,
                          const Expr &extent, int lanes, Combine combine, const std::string &name) {
    LaneReduction r{Func(name + "_lanes"), Func(name)};
    Var lane("lane");
    std::vector<Var> partial_args = {lane};
    partial_args.insert(partial_args.end(), rest.begin(), rest.end());
    std::vector<Expr> rest_e(rest.begin(), rest.end());
    const bool sum = combine == Combine::sum_f64;
    const Expr init = sum ? Expr(0.0) : Internal::make_const(Float(32), -std::numeric_limits<double>::infinity());
    auto join = [&](const Expr &acc, const Expr &v) {
        if (sum) return ieee(acc + cast<double>(v));
        return ieee(select(Halide::is_nan(acc) || Halide::is_nan(v), acc + v, max(acc, v)));
    };
    const Expr chunks = extent / lanes;
    RDom k(0, chunks, name + "_k");
    r.partial(partial_args) = init;
    r.partial(partial_args) = join(r.partial(partial_args), term(k * lanes + lane));
    RDom l(0, lanes, name + "_lane");
    std::vector<Expr> at_lane = {Expr(l)};
    at_lane.insert(at_lane.end(), rest_e.begin(), rest_e.end());
    r.total(rest) = init;
    r.total(rest) = ieee(sum ? r.total(rest_e) + r.partial(at_lane)
                             : select(Halide::is_nan(r.total(rest_e)) || Halide::is_nan(r.partial(at_lane)),
                                      r.total(rest_e) + r.partial(at_lane), max(r.total(rest_e), r.partial(at_lane))));
    RDom tail(chunks * lanes, extent - chunks * lanes, name + "_tail");
    r.total(rest) = join(r.total(rest_e), term(tail));
    return r;
}

// Per row (PyTorch's cross_entropy_loss_label_smoothing and cross_entropy_loss_prob_target),
// with m the row max, s = log(sum exp(x - m)), lse = m + s, eps = label_smoothing, w the weight,
// W = sum_c w_c, t the target:
//   indices:       loss = (1 - eps) w_t (lse - x_t) + (eps / C) sum_c w_c (lse - x_c), 0 if t is ignored
//                  grad = p_c ((1 - eps) w_t + eps W / C) - (1 - eps) w_t [c = t] - (eps / C) w_c
//   probabilities: q_c = (1 - eps) target_c + eps / C;  B = sum_c w_c q_c
//                  loss = sum_c w_c q_c (lse - x_c),     grad = p_c B - w_c q_c
// lse - x_c is summed as s + (m - x_c): both terms are >= 0, so nothing cancels however large
// the logits. With eps = 0 the smoothing term is left out entirely (as PyTorch, which then never
// forms it): (eps / C) sum w_c (lse - x_c) would be 0 * inf = NaN for a -inf logit.
ClassificationStages cross_entropy(const ClassificationInputs &in, Targets targets, bool want_loss, int lanes) {
    ClassificationStages s;
    Var c("c"), i("i"), o("o");
    const std::vector<Var> row = {i, o};
    const Expr eps = in.label_smoothing, C = in.classes;
    const Expr smoothing = eps > 0.0f;
    const Expr eps_per_class = eps / cast<float>(C);

    LaneReduction row_max = lane_reduce([&](const Expr &k) { return in.x(k, i, o); }, row, C, lanes,
                                        Combine::max_nan_propagating, "row_max");
    const Expr m = row_max.total(i, o);
    // x - m is <= 0 (exp never overflows); inf - inf (a +inf logit, or a row of -inf) is NaN, as
    // in PyTorch's log_softmax.
    auto shifted = [&](const Expr &k) { return ieee(in.x(k, i, o) - m); };
    LaneReduction sum_exp = lane_reduce([&](const Expr &k) { return exp_keep_nan(shifted(k)); }, row, C, lanes,
                                        Combine::sum_f64, "row_sum_exp");
    const Expr log_sum = math::log(cast<float>(sum_exp.total(i, o)));
    s.row_reductions = {row_max, sum_exp};

    Func weight_total("weight_total");
    RDom all_classes(0, C, "all_classes");
    weight_total() = cast<double>(0);
    weight_total() += cast<double>(in.weight(all_classes));
    s.weight_total = weight_total;
    const Expr W = cast<float>(weight_total());

    std::vector<Expr> stats = {m, log_sum};
    Expr coefficient, loss;
    Expr ignored, t;
    if (targets == Targets::indices) {
        ignored = in.target(i, o) == in.ignore_index;
        t = clamp(cast<int32_t>(in.target(i, o)), 0, C - 1);  // the runtime checked the range
        const Expr w_t = in.weight(t);
        coefficient = select(smoothing, (1.0f - eps) * w_t + eps_per_class * W, w_t);
        if (want_loss) {
            LaneReduction smooth = lane_reduce(
                [&](const Expr &k) { return ieee(in.weight(k) * (m - in.x(k, i, o))); }, row, C, lanes,
                Combine::sum_f64, "row_smooth");
            s.row_reductions.push_back(smooth);
            const Expr nll = ieee(w_t * (log_sum + (m - in.x(t, i, o))));
            const Expr smooth_loss = ieee(W * log_sum + cast<float>(smooth.total(i, o)));
            loss = ieee(select(ignored, 0.0f, select(smoothing, (1.0f - eps) * nll + eps_per_class * smooth_loss, nll)));
        }
    } else {
        auto q = [&](const Expr &k) {
            return select(smoothing, in.target(k, i, o) * (1.0f - eps) + eps_per_class, in.target(k, i, o));
        };
        LaneReduction weighted_q = lane_reduce([&](const Expr &k) { return in.weight(k) * q(k); }, row, C, lanes,
                                               Combine::sum_f64, "row_weighted_target");
        s.row_reductions.push_back(weighted_q);
        coefficient = cast<float>(weighted_q.total(i, o));
        if (want_loss) {
            LaneReduction cross = lane_reduce(
                [&](const Expr &k) { return ieee(in.weight(k) * q(k) * (m - in.x(k, i, o))); }, row, C, lanes,
                Combine::sum_f64, "row_cross");
            s.row_reductions.push_back(cross);
            loss = ieee(coefficient * log_sum + cast<float>(cross.total(i, o)));
        }
    }
    stats.push_back(coefficient);
    if (want_loss) stats.push_back(loss);
    s.row_stats = Func("row_stats");
    s.row_stats(i, o) = Tuple(stats);
    if (want_loss) {
        s.row_loss = Func("row_loss");
        s.row_loss(i, o) = s.row_stats(i, o)[3];
    }

    s.grad = Func("grad");
    // The gradient reads only row_stats (computed for the whole block first), never the row
    // reductions: they are gone by then, and the logits may already be overwritten.
    const Expr p = exp_keep_nan(ieee(ieee(in.x(c, i, o) - s.row_stats(i, o)[0]) - s.row_stats(i, o)[1]));
    const Expr row_scale = in.grad_scale(i, o) * in.scale;
    const Expr A = s.row_stats(i, o)[2];
    if (targets == Targets::indices) {
        const Expr w_t = in.weight(t);
        const Expr g = p * A - select(c == t, select(smoothing, (1.0f - eps) * w_t, w_t), 0.0f) -
                       select(smoothing, eps_per_class * in.weight(c), 0.0f);
        s.grad(c, i, o) = ieee(select(ignored, 0.0f, row_scale * g));
    } else {
        s.grad(c, i, o) = ieee(row_scale * (p * A - in.weight(c) * select(smoothing, in.target(c, i, o) * (1.0f - eps) + eps_per_class, in.target(c, i, o))));
    }
    return s;
}

// ATen's nll_loss forward and backward: -w_t x_t per row, and -w_t grad_output at the target
// (0 elsewhere and on ignored rows). The input's values never enter the gradient.
ClassificationStages nll_loss(const ClassificationInputs &in) {
    ClassificationStages s;
    Var c("c"), i("i"), o("o");
    const Expr ignored = in.target(i, o) == in.ignore_index;
    const Expr t = clamp(cast<int32_t>(in.target(i, o)), 0, in.classes - 1);
    s.row_loss = Func("row_loss");
    s.row_loss(i, o) = ieee(select(ignored, 0.0f, -in.weight(t) * in.x(t, i, o)));
    s.grad = Func("grad");
    s.grad(c, i, o) = ieee(select(!ignored && c == t, -in.weight(t) * (in.grad_scale(i, o) * in.scale), 0.0f));
    return s;
}

}  // namespace nnf::ops

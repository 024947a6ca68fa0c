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

// ATen's backward kernels: mse 2 d; smooth_l1 -1 for d <= -beta, 1 for d >= beta, else d / beta
// (beta = 0 is l1's sgn: the branches would give -1 at d = 0); huber -delta, delta, else d. A NaN
// d stays NaN in these three. l1_loss is composite in ATen, |d| under autograd, whose gradient is
// grad * sgn(d); at::sgn and at::sign are (0 < d) - (d < 0), so 0 at 0 and also 0 at NaN
// (checked on torch 2.15's CPU kernels): a NaN difference gets gradient 0 from l1, unlike the
// others.
Expr elementwise_loss_derivative(ElementwiseLoss kind, const Expr &d, const Expr &width) {
    const Expr sgn = select(d > 0.0f, f32(1.0f), select(d < 0.0f, f32(-1.0f), f32(0.0f)));
    switch (kind) {
    case ElementwiseLoss::mse: return ieee(f32(2.0f) * d);
    case ElementwiseLoss::l1: return ieee(sgn);
    // < and >, not ATen's <= and >= (the same values: d / beta is exactly +-1 at d = +-beta): the
    // kernels Halide 21 made of d <= -beta took it as true for a NaN d (as !(-beta < d)), on every
    // x86 path, and returned -1 / -delta there.
    case ElementwiseLoss::smooth_l1:
        return ieee(select(width == 0.0f, sgn, select(d < -width, f32(-1.0f), select(d > width, f32(1.0f), d / width))));
    case ElementwiseLoss::huber: return ieee(select(d < -width, -width, select(d > width, width, d)));
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
    // Not ieee(): strict_float would reach into the terms and keep LLVM from contracting the
    // polynomials of an exp there into FMAs (1.6x slower sums of exps). Terms that need IEEE
    // semantics wrap themselves; a plain double add keeps NaN and inf anyway.
    auto join = [&](const Expr &acc, const Expr &v) {
        if (sum) return acc + cast<double>(v);
        return max(acc, v);
    };
    if (lanes <= 1) {
        // One plain reduction (no partial): a GPU schedule splits it across threads by rfactor.
        RDom k(0, extent, name + "_k");
        r.total(rest) = init;
        r.total(rest) = join(r.total(rest_e), term(k));
        return r;
    }
    const Expr chunks = extent / lanes;
    RDom k(0, chunks, name + "_k");
    r.partial(partial_args) = init;
    r.partial(partial_args) = join(r.partial(partial_args), term(k * lanes + lane));
    RDom l(0, lanes, name + "_lane");
    r.lane = l.x;
    std::vector<Expr> at_lane = {Expr(l)};
    at_lane.insert(at_lane.end(), rest_e.begin(), rest_e.end());
    r.total(rest) = init;
    r.total(rest) = join(r.total(rest_e), r.partial(at_lane));
    RDom tail(chunks * lanes, extent - chunks * lanes, name + "_tail");
    r.total(rest) = join(r.total(rest_e), term(tail));
    return r;
}

// Per row (PyTorch's cross_entropy_loss_label_smoothing and cross_entropy_loss_prob_target),
// with m the row max, e_c = exp(x_c - m), S = sum_c e_c, lse = m + log S, eps = label_smoothing,
// w the weight, W = sum_c w_c, t the target:
//   indices:       loss = (1 - eps) w_t (lse - x_t) + (eps / C) sum_c w_c (lse - x_c), 0 if t is ignored
//                       = A log S + P,  A = (1 - eps) w_t + eps W / C,
//                                       P = (1 - eps) w_t (m - x_t) + (eps / C) sum_c w_c (m - x_c)
//                  grad = e_c A / S - (1 - eps) w_t [c = t] - (eps / C) w_c
//   probabilities: q_c = (1 - eps) target_c + eps / C;  A = sum_c w_c q_c
//                  loss = A log S + P,  P = sum_c w_c q_c (m - x_c);    grad = e_c A / S - w_c q_c
// (the gradient times grad_output, times 1 / the mean's divisor). log S and every m - x_c are
// >= 0, so nothing cancels however large the logits. With eps = 0 the smoothing terms are left
// out entirely (as PyTorch, which then never forms them): (eps / C) sum w_c (m - x_c) would be
// 0 * inf = NaN for a -inf logit.
//
// One exp per logit: the gradient passes store e_c in the gradient's memory (in.exps), sum them
// from there and scale them in place. Every per-row value that reads the logits (m, x_t, the
// smoothing sum) is in row_stats, computed for the whole block first: after that the logits may
// be overwritten. NaN logits reach everything through S (an exp of NaN is NaN), so the row max
// may ignore them; +inf gives inf - inf = NaN there too, and a row of -inf gives NaN as in
// PyTorch's log_softmax.
ClassificationStages cross_entropy(const ClassificationInputs &in, Targets targets, bool want_loss, bool want_grad,
                                   int lanes) {
    ClassificationStages s;
    s.classes = in.classes;
    Var c("c"), i("i"), o("o");
    const std::vector<Var> row = {i, o};
    const Expr eps = in.label_smoothing, C = in.classes;
    // Outside any ieee(): the specialization label_smoothing == 0 then folds the smoothing away.
    const Expr smoothing = eps > 0.0f;
    const Expr eps_per_class = ieee(eps / cast<float>(C));

    LaneReduction row_max = lane_reduce([&](const Expr &k) { return in.x(k, i, o); }, row, C, lanes, Combine::max,
                                        "row_max");
    const Expr m = row_max.total(i, o);
    s.row_reductions = {row_max};

    // Per kernel call (one row of a 256K-class input): a lane reduction, not a serial sum.
    s.weight_total = lane_reduce([&](const Expr &k) { return in.weight(k); }, {}, C, lanes, Combine::sum_f64,
                                 "weight_total");
    const Expr W = cast<float>(s.weight_total.total());

    Expr A, P, ignored = Internal::const_false(), t;
    if (targets == Targets::indices) {
        ignored = in.target(i, o) == in.ignore_index;
        t = clamp(cast<int32_t>(in.target(i, o)), 0, C - 1);  // the runtime checked the range
        const Expr w_t = in.weight(t);
        A = select(smoothing, ieee((1.0f - eps) * w_t + eps_per_class * W), w_t);
        if (want_loss) {
            const Expr nll = ieee(w_t * (m - in.x(t, i, o)));
            LaneReduction smooth = lane_reduce(
                [&](const Expr &k) { return ieee(in.weight(k) * (m - in.x(k, i, o))); }, row, C, lanes,
                Combine::sum_f64, "row_smooth");
            s.row_reductions.push_back(smooth);
            P = select(smoothing, ieee((1.0f - eps) * nll + eps_per_class * cast<float>(smooth.total(i, o))), nll);
        }
    } else {
        auto q = [&](const Expr &k) {
            return select(smoothing, ieee(in.target(k, i, o) * (1.0f - eps) + eps_per_class), in.target(k, i, o));
        };
        LaneReduction weighted_q = lane_reduce([&](const Expr &k) { return ieee(in.weight(k) * q(k)); }, row, C,
                                               lanes, Combine::sum_f64, "row_weighted_target");
        s.row_reductions.push_back(weighted_q);
        A = cast<float>(weighted_q.total(i, o));
        if (want_loss) {
            LaneReduction cross = lane_reduce(
                [&](const Expr &k) { return ieee(in.weight(k) * q(k) * (m - in.x(k, i, o))); }, row, C, lanes,
                Combine::sum_f64, "row_cross");
            s.row_reductions.push_back(cross);
            P = cast<float>(cross.total(i, o));
        }
    }
    std::vector<Expr> stats = {m, A};
    if (want_loss) stats.push_back(P);
    s.row_stats = Func("row_stats");
    s.row_stats(i, o) = Tuple(stats);
    const Expr row_m = s.row_stats(i, o)[0], row_A = s.row_stats(i, o)[1];

    // x - m is <= 0: exp never overflows. math::exp maps NaN to NaN.
    auto exp_shifted = [&](const Expr &k) { return math::exp(ieee(in.x(k, i, o) - row_m)); };
    std::function<Expr(const Expr &)> exp_term = exp_shifted;
    if (want_grad) {
        s.exps = in.exps;
        s.exps(c, i, o) = exp_shifted(c);
        exp_term = [&](const Expr &k) { return s.exps(k, i, o); };
    }
    s.exp_sum = lane_reduce(exp_term, row, C, lanes, Combine::sum_f64, "row_sum_exp");
    s.row_sums = Func("row_sums");
    s.row_sums(i, o) = cast<float>(s.exp_sum.total(i, o));
    const Expr S = s.row_sums(i, o);

    if (want_loss) {
        s.row_loss = Func("row_loss");
        s.row_loss(i, o) = select(ignored, 0.0f, ieee(row_A * math::log(S) + s.row_stats(i, o)[2]));
    }
    if (want_grad) {
        const Expr row_scale = ieee(in.grad_scale(i, o) * in.scale);
        const Expr e_scale = ieee(row_scale * row_A / S);  // per row
        Expr g;
        if (targets == Targets::indices) {
            const Expr w_t = in.weight(t);
            const Expr target_term = ieee(row_scale * select(smoothing, ieee((1.0f - eps) * w_t), w_t));
            const Expr smooth_scale = ieee(row_scale * eps_per_class);
            const Expr g_target = ieee(s.exps(c, i, o) * e_scale - select(c == t, target_term, 0.0f));
            g = select(ignored, 0.0f, select(smoothing, ieee(g_target - smooth_scale * in.weight(c)), g_target));
        } else {
            const Expr q_c = select(smoothing, ieee(in.target(c, i, o) * (1.0f - eps) + eps_per_class),
                                    in.target(c, i, o));
            g = ieee(s.exps(c, i, o) * e_scale - row_scale * in.weight(c) * q_c);
        }
        s.grad = Func("grad");
        s.grad(c, i, o) = g;
    }
    return s;
}

// ATen's nll_loss forward and backward: -w_t x_t per row, and -w_t grad_output at the target
// (0 elsewhere and on ignored rows). The input's values never enter the gradient.
ClassificationStages nll_loss(const ClassificationInputs &in) {
    ClassificationStages s;
    s.classes = in.classes;
    Var c("c"), i("i"), o("o");
    const Expr ignored = in.target(i, o) == in.ignore_index;
    const Expr t = clamp(cast<int32_t>(in.target(i, o)), 0, in.classes - 1);
    // The standard library's CPU forward is this formula as a host gather (runtime/loss_driver.cpp,
    // nll_row_loss), one load per row; its CUDA forward is the kernel of row_loss.
    s.row_loss = Func("row_loss");
    s.row_loss(i, o) = ieee(select(ignored, 0.0f, -in.weight(t) * in.x(t, i, o)));
    s.grad = Func("grad");
    s.grad(c, i, o) = ieee(select(!ignored && c == t, -in.weight(t) * (in.grad_scale(i, o) * in.scale), 0.0f));
    return s;
}

}  // namespace nnf::ops

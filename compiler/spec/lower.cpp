#include "spec/lower.h"

#include <functional>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "math/nnf_math.h"
#include "ops/loss_ops.h"
#include "ops/pointwise_ops.h"
#include "ops/prelu_ops.h"
#include "ops/rrelu_ops.h"
#include "registry/registry.h"

namespace nnf::spec {
namespace {

using Halide::cast;
using Halide::Func;
using Halide::ImageParam;
using Halide::RDom;
using Halide::select;
using Halide::Var;
using HExpr = Halide::Expr;

HExpr f32(double v) {
    return HExpr(static_cast<float>(v));
}

// NaN-propagating min / max, as torch.minimum / torch.maximum (x86 min/max drop NaN by
// operand order).
HExpr nan_min(const HExpr &a, const HExpr &b) {
    return Halide::strict_float(select(Halide::is_nan(a) || Halide::is_nan(b), a + b, Halide::min(a, b)));
}
HExpr nan_max(const HExpr &a, const HExpr &b) {
    return Halide::strict_float(select(Halide::is_nan(a) || Halide::is_nan(b), a + b, Halide::max(a, b)));
}

class Lowerer {
public:
    Lowerer(const Kernel &k, const Halide::Target &target) : k_(k), target_(target) {}

    LoweredKernel run() {
        LoweredKernel result;
        for (const TensorDecl &d : k_.inputs) {
            if (d.by_value) {
                Halide::Param<float> p(d.name);
                scalars_.emplace(d.name, p);
                result.arguments.push_back(p);
                continue;
            }
            const Halide::Type type = d.dtype == DType::f32   ? Halide::Float(32)
                                      : d.dtype == DType::i64 ? Halide::Int(64)
                                                              : Halide::Int(32);
            ImageParam p(type, static_cast<int>(d.dims.size()), d.name);
            for (size_t i = 0; i < d.dims.size(); ++i) {
                const int halide_dim = static_cast<int>(d.dims.size() - 1 - i);
                if (!extents_.count(d.dims[i])) extents_[d.dims[i]] = p.dim(halide_dim).extent();
            }
            if (!d.dims.empty()) {
                // Any strides come in (views, transposes, broadcasts); the schedule specializes on
                // unit stride.
                p.dim(0).set_stride(HExpr());
                dense_ = dense_ && p.dim(0).stride() == 1;
            }
            inputs_.emplace(d.name, p);
            result.arguments.push_back(p);
        }

        std::vector<Func> outputs;
        for (const std::string &name : k_.declared_output_names) {
            const TensorDecl &d = *k_.find_output(name);
            Func out("out_" + name);
            out(args(d.dims)) = value(*k_.values.at(name));
            outputs.push_back(out);
        }
        if (!k_.grads.empty()) differentiate();
        for (const std::string &x : k_.grads) {
            const TensorDecl &d = *k_.find_input(x);
            Func out("out_grad_" + x);
            auto it = gradients_.find(x);
            out(args(d.dims)) = it == gradients_.end() ? f32(0) : it->second;
            outputs.push_back(out);
        }

        size_t o = 0;
        for (Func &out : outputs) {
            const TensorDecl &d = k_.outputs[o++];
            if (d.dims.empty()) continue;
            out.output_buffer().dim(0).set_stride(HExpr());
            dense_ = dense_ && out.output_buffer().dim(0).stride() == 1;
        }
        o = 0;
        if (target_.has_gpu_feature()) {
            for (Func &out : outputs) schedule_output_gpu(out, k_.outputs[o++]);
            for (size_t i = 0; i < reductions_.size(); ++i) schedule_reduction_gpu(reductions_[i], reduction_domains_[i]);
        } else {
            for (Func &out : outputs) schedule_output(out, k_.outputs[o++]);
            for (size_t i = 0; i < reductions_.size(); ++i) schedule_reduction(reductions_[i], reduction_domains_[i]);
        }

        result.pipeline = Halide::Pipeline(outputs);
        result.index_checks = index_checks_;
        result.elementwise = reductions_.empty();
        return result;
    }

private:
    Var var(const std::string &dim) {
        auto it = vars_.find(dim);
        if (it == vars_.end()) it = vars_.emplace(dim, Var("d_" + dim)).first;
        return it->second;
    }

    // Halide's dim 0 is the innermost: the shape's last name.
    std::vector<Var> args(const Shape &shape) {
        std::vector<Var> v;
        for (auto it = shape.rbegin(); it != shape.rend(); ++it) v.push_back(var(*it));
        return v;
    }
    std::vector<HExpr> arg_exprs(const Shape &shape) {
        std::vector<HExpr> e;
        for (const Var &v : args(shape)) e.push_back(v);
        return e;
    }

    HExpr extent(const std::string &dim) {
        auto it = extents_.find(dim);
        if (it == extents_.end()) throw std::logic_error("dimension " + dim + " has no extent in any input");
        return it->second;
    }

    // The number of elements of a shape, as a float.
    HExpr element_count(const Shape &shape) {
        HExpr n = f32(1);
        for (const std::string &d : shape) n = n * cast<float>(extent(d));
        return n;
    }

    Shape without(const Shape &shape, const std::vector<std::string> &dims) {
        Shape rest;
        for (const std::string &d : shape) {
            if (std::find(dims.begin(), dims.end(), d) == dims.end()) rest.push_back(d);
        }
        return rest;
    }

    // The sum (in double) or NaN-propagating max of `e`, a function of `shape`, over `dims`: an
    // Expr over the remaining dims.
    enum class Reduce { sum, max };
    HExpr reduce(const HExpr &e, const Shape &shape, const std::vector<std::string> &dims, Reduce kind) {
        if (dims.empty()) return kind == Reduce::sum ? cast<double>(e) : e;
        const Shape rest = without(shape, dims);
        RDom r = reduction_domain(dims);
        const HExpr body = over_domain(e, dims, r);
        Func f;
        const std::vector<Var> a = args(rest);
        const std::vector<HExpr> ae = arg_exprs(rest);
        if (kind == Reduce::sum) {
            f(a) = cast<double>(0);
            f(ae) += cast<double>(body);
        } else {
            // A plain max, so that the schedule can vectorize it (rfactor proves max associative,
            // not a NaN-propagating select): where it drops a NaN, the NaN still reaches the
            // softmax through its row sum.
            f(a) = f32(-std::numeric_limits<float>::infinity());
            f(ae) = Halide::max(f(ae), body);
        }
        reductions_.push_back(f);
        reduction_domains_.push_back(r);
        return f(ae);
    }

    // The sums (in double) of several terms over the same dims in one pass: a Tuple reduction, so
    // the terms are read in one loop (each term its own accumulator, as rfactor vectorizes them).
    std::vector<HExpr> reduce_sums(const std::vector<HExpr> &terms, const Shape &shape,
                                   const std::vector<std::string> &dims) {
        const Shape rest = without(shape, dims);
        RDom r = reduction_domain(dims);
        Func f;
        const std::vector<Var> a = args(rest);
        const std::vector<HExpr> ae = arg_exprs(rest);
        f(a) = Halide::Tuple(std::vector<HExpr>(terms.size(), cast<double>(0)));
        std::vector<HExpr> updates;
        for (size_t i = 0; i < terms.size(); ++i) {
            updates.push_back(f(ae)[static_cast<int>(i)] + cast<double>(over_domain(terms[i], dims, r)));
        }
        f(ae) = Halide::Tuple(updates);
        reductions_.push_back(f);
        reduction_domains_.push_back(r);
        std::vector<HExpr> sums;
        for (size_t i = 0; i < terms.size(); ++i) sums.push_back(f(ae)[static_cast<int>(i)]);
        return sums;
    }

    RDom reduction_domain(const std::vector<std::string> &dims) {
        Halide::Region ranges;
        for (const std::string &d : dims) ranges.emplace_back(0, extent(d));
        return RDom(ranges);
    }
    // `e` with the reduced dims' Vars replaced by the domain's RVars.
    HExpr over_domain(const HExpr &e, const std::vector<std::string> &dims, const RDom &r) {
        HExpr body = e;
        for (size_t i = 0; i < dims.size(); ++i) {
            body = Halide::Internal::substitute(var(dims[i]).name(), r[static_cast<int>(i)], body);
        }
        return body;
    }

    // Sum of an adjoint of shape `from` down to the operand shape `to` (the broadcast dims).
    HExpr unbroadcast(const HExpr &adjoint, const Shape &from, const Shape &to) {
        std::vector<std::string> dims;
        for (const std::string &d : from) {
            if (std::find(to.begin(), to.end(), d) == to.end()) dims.push_back(d);
        }
        if (dims.empty()) return adjoint;
        return cast<float>(reduce(adjoint, from, dims, Reduce::sum));
    }

    ops::PointwiseParams pointwise_params(const Expr &call) {
        const registry::Op &op = registry::find_op(call.text);
        ops::PointwiseParams p;
        for (const registry::Param &param : op.params) {
            const ParamValue &v = call.params.at(param.name);
            if (param.type == registry::ParamType::enumeration) {
                p.variant = v.text;
            } else if (param.type == registry::ParamType::f32) {
                p.scalars[param.name] = f32(v.number);
            } else {
                p.scalars[param.name] = HExpr(static_cast<int32_t>(v.number));
            }
        }
        return p;
    }

    // softmax / log_softmax / softmin of `x` (a function of `shape`) along `dim`, with inverse
    // temperature beta: the algorithm of compiler/ops/softmax_ops.cpp (max-shifted exps, the
    // row sum in double, NaN rows kept NaN), written over named dims so that several softmaxes
    // and their gradients can share one pipeline (softmax_ops names its stages, which Halide
    // requires to be unique within a pipeline).
    struct SoftmaxParts {
        HExpr shifted, exps, sum;  // sum: double
        HExpr shifted_sum;         // double; only where asked for
    };
    // With `shifted_sum`, the row sum of the shifted values too (label smoothing's sum of the
    // log-probabilities is shifted_sum - C log(sum)), in the same pass as the sum of the exps.
    SoftmaxParts softmax_parts(const HExpr &x, const Shape &shape, const std::string &dim, const HExpr &scale,
                               bool shifted_sum = false) {
        SoftmaxParts s;
        const HExpr z = scale * x;
        const HExpr row_max = reduce(z, shape, {dim}, Reduce::max);
        s.shifted = Halide::strict_float(z - row_max);
        s.exps = select(Halide::is_nan(s.shifted), s.shifted, math::exp(s.shifted));
        if (shifted_sum && !target_.has_gpu_feature()) {
            const std::vector<HExpr> sums = reduce_sums({s.exps, s.shifted}, shape, {dim});
            s.sum = sums[0];
            s.shifted_sum = sums[1];
        } else {
            s.sum = reduce(s.exps, shape, {dim}, Reduce::sum);
            // CUDA: two block reductions, the schedule the GPU suite has run (a Tuple one compiles
            // to PTX but has not run on a device yet).
            if (shifted_sum) s.shifted_sum = reduce(s.shifted, shape, {dim}, Reduce::sum);
        }
        return s;
    }

    // sum / mean: the dims they reduce over (all, or the one named by dim=) and how many elements.
    std::vector<std::string> summed_dims(const Expr &e) {
        return e.reduced_dim.empty() ? e.args[0]->shape : std::vector<std::string>{e.reduced_dim};
    }
    HExpr summed_count(const Expr &e) {
        return element_count(summed_dims(e));
    }

    // rrelu's slope per element: (lower + upper) / 2 in evaluation; in training the standard
    // library's draw for the same element of a contiguous tensor of the input's shape (its
    // row-major index), so a spec and nnf_rrelu_forward with the same seed agree.
    HExpr rrelu_noise(const Expr &e) {
        const HExpr x = value(*e.args[0]);
        const double lower = e.params.at("lower").number, upper = e.params.at("upper").number;
        if (e.params.at("training").number == 0) {
            return rrelu_eval_noise(x, f32((lower + upper) / 2));
        }
        HExpr index = HExpr(int64_t{0});
        for (const std::string &d : e.shape) index = index * cast<int64_t>(extent(d)) + cast<int64_t>(var(d));
        const HExpr seed = HExpr(static_cast<uint64_t>(e.params.at("seed").number));
        return ops::rrelu_noise(x, f32(lower), f32(upper), ops::rrelu_uniform(seed, index));
    }
    // Evaluation: leaky_relu's slope; 1 where x > 0 or NaN, as in training.
    static HExpr rrelu_eval_noise(const HExpr &x, const HExpr &slope) {
        return Halide::strict_float(select(x > 0.0f || Halide::is_nan(x), f32(1), slope));
    }

    // beta (smooth_l1_loss) or delta (huber_loss); the other elementwise losses have no width.
    HExpr loss_width(const Expr &e) {
        for (const char *name : {"beta", "delta"}) {
            auto it = e.params.find(name);
            if (it != e.params.end()) return f32(it->second.number);
        }
        return f32(0);
    }

    HExpr value(const Expr &e) {
        auto it = memo_.find(&e);
        if (it != memo_.end()) return it->second;
        HExpr v = compute(e);
        memo_[&e] = v;
        return v;
    }

    HExpr input(const std::string &name) {
        if (auto scalar = scalars_.find(name); scalar != scalars_.end()) return scalar->second;
        const TensorDecl &d = *k_.find_input(name);
        return inputs_.at(name)(arg_exprs(d.dims));
    }

    // A class index as int32, clamped into range (the wrapper has rejected out-of-range ones;
    // ignored entries may hold any value).
    HExpr class_index(const HExpr &target, const std::string &class_dim) {
        return Halide::clamp(cast<int32_t>(target), 0, extent(class_dim) - 1);
    }

    struct LossParts {
        HExpr log_probs;  // the log-probabilities over the input's shape (cross_entropy) or the input itself
        HExpr valid, index, count, per_element;
        HExpr probabilities;  // cross_entropy: exp(log_probs)
    };
    std::map<const Expr *, LossParts> losses_;

    LossParts &loss_parts(const Expr &e) {
        auto it = losses_.find(&e);
        if (it != losses_.end()) return it->second;
        LossParts p;
        const Expr &in = *e.args[0], &target_expr = *e.args[1];
        const std::string &c = e.reduced_dim;
        const HExpr x = value(in), target = value(target_expr);
        const double ls = e.callee == Callee::cross_entropy ? e.params.at("label_smoothing").number : 0.0;
        const int64_t ignore = static_cast<int64_t>(e.params.at("ignore_index").number);
        index_checks_.push_back({target_expr.text, c, ignore, e.text});
        p.valid = target != cast(target.type(), HExpr(ignore));
        p.index = class_index(target, c);
        HExpr smooth_term;
        if (e.callee == Callee::cross_entropy) {
            SoftmaxParts s = softmax_parts(x, in.shape, c, f32(1), ls > 0);
            const HExpr log_sum = math::log(cast<float>(s.sum));
            p.log_probs = s.shifted - log_sum;
            p.probabilities = s.exps * cast<float>(Halide::Internal::make_const(Halide::Float(64), 1.0) / s.sum);
            // The sum of the row's log-probabilities without another pass over the logits (a
            // reduction of log_probs was a fourth one: it needs the row sum first).
            if (ls > 0) smooth_term = cast<float>(s.shifted_sum - cast<double>(extent(c)) * cast<double>(log_sum));
        } else {
            p.log_probs = x;
        }
        const HExpr picked = Halide::Internal::substitute(var(c).name(), p.index, p.log_probs);
        HExpr loss = -picked;
        if (ls > 0) {
            loss = -(f32(1 - ls) * picked + (f32(ls) / cast<float>(extent(c))) * smooth_term);
        }
        p.per_element = select(p.valid, loss, f32(0));
        const Shape target_shape = target_expr.shape;
        p.count = cast<float>(reduce(select(p.valid, 1.0f, 0.0f), target_shape, target_shape, Reduce::sum));
        return losses_[&e] = p;
    }

    HExpr compute(const Expr &e) {
        switch (e.kind) {
        case Expr::number: return f32(e.value);
        case Expr::string: throw std::logic_error("string in an expression");
        case Expr::name:
            if (k_.find_input(e.text)) return input(e.text);
            return value(*k_.values.at(e.text));
        case Expr::negate: return -value(*e.args[0]);
        case Expr::binary: {
            const HExpr a = value(*e.args[0]), b = value(*e.args[1]);
            if (e.text == "+") return a + b;
            if (e.text == "-") return a - b;
            if (e.text == "*") return a * b;
            if (e.text == "/") return a / b;
            if (e.text == "<") return a < b;
            if (e.text == "<=") return a <= b;
            if (e.text == ">") return a > b;
            if (e.text == ">=") return a >= b;
            if (e.text == "==") return a == b;
            if (e.text == "!=") return a != b;
            throw std::logic_error("operator " + e.text);
        }
        case Expr::call: break;
        }
        switch (e.callee) {
        case Callee::where: return select(value(*e.args[0]), value(*e.args[1]), value(*e.args[2]));
        case Callee::min: return nan_min(value(*e.args[0]), value(*e.args[1]));
        case Callee::max: return nan_max(value(*e.args[0]), value(*e.args[1]));
        case Callee::abs: return Halide::abs(value(*e.args[0]));
        case Callee::exp: return math::exp(value(*e.args[0]));
        case Callee::log: return math::log(value(*e.args[0]));
        case Callee::sqrt: return Halide::sqrt(value(*e.args[0]));
        case Callee::sum:
        case Callee::mean: {
            const Shape &shape = e.args[0]->shape;
            const HExpr sum = cast<float>(reduce(value(*e.args[0]), shape, summed_dims(e), Reduce::sum));
            return e.callee == Callee::sum ? sum : sum / summed_count(e);
        }
        case Callee::pointwise_op:
            return ops::pointwise_algorithm(e.text).forward(value(*e.args[0]), pointwise_params(e));
        case Callee::softmax_op: {
            const double beta = e.params.at("beta").number;
            const HExpr scale = f32(e.text == "softmin" ? -beta : beta);
            SoftmaxParts s = softmax_parts(value(*e.args[0]), e.args[0]->shape, e.reduced_dim, scale);
            if (e.text == "log_softmax") return s.shifted - math::log(cast<float>(s.sum));
            return s.exps * cast<float>(Halide::Internal::make_const(Halide::Float(64), 1.0) / s.sum);
        }
        case Callee::rrelu: return ops::rrelu_forward(value(*e.args[0]), rrelu_noise(e));
        // The weight is a function of the channel dim's name, so it is indexed by the channel.
        case Callee::prelu: return ops::prelu_forward(value(*e.args[0]), value(*e.args[1]));
        case Callee::elementwise_loss: {
            const Shape &shape = e.args[0]->shape;
            const HExpr d = value(*e.args[0]) - value(*e.args[1]);
            const HExpr per_element = ops::elementwise_loss(ops::elementwise_loss_kind(e.text), d, loss_width(e));
            const std::string reduction = e.params.at("reduction").text;
            if (reduction == "none") return per_element;
            const HExpr sum = cast<float>(reduce(per_element, shape, shape, Reduce::sum));
            return reduction == "sum" ? sum : sum / element_count(shape);
        }
        case Callee::cross_entropy:
        case Callee::nll_loss: {
            LossParts &p = loss_parts(e);
            const std::string reduction = e.params.at("reduction").text;
            const Shape &target_shape = e.args[1]->shape;
            if (reduction == "none") return p.per_element;
            const HExpr sum = cast<float>(reduce(p.per_element, target_shape, target_shape, Reduce::sum));
            // mean over the non-ignored targets: all ignored gives 0/0 = NaN, as PyTorch >= 1.11.
            return reduction == "sum" ? sum : Halide::strict_float(sum / p.count);
        }
        case Callee::none: break;
        }
        throw std::logic_error("unresolved call " + e.text);
    }

    // ---- reverse-mode differentiation over the spec's expression tree ----

    bool depends_on_grad_input(const Expr &e) {
        if (e.kind == Expr::name) {
            if (k_.find_input(e.text)) return std::find(k_.grads.begin(), k_.grads.end(), e.text) != k_.grads.end();
            auto v = k_.values.find(e.text);
            return v != k_.values.end() && depends_on_grad_input(*v->second);
        }
        for (const ExprPtr &a : e.args) {
            if (depends_on_grad_input(*a)) return true;
        }
        return false;
    }

    void accumulate(const std::string &input_name, const HExpr &g) {
        auto it = gradients_.find(input_name);
        if (it == gradients_.end()) {
            gradients_[input_name] = g;
        } else {
            it->second = it->second + g;
        }
    }

    // Adds d(seed . e)/d(inputs) for the adjoint `adjoint` of `e` (an Expr over e.shape).
    void backprop(const Expr &e, const HExpr &adjoint) {
        if (!depends_on_grad_input(e)) return;
        auto to = [&](const Expr &operand, const HExpr &g) { backprop(operand, unbroadcast(g, e.shape, operand.shape)); };
        switch (e.kind) {
        case Expr::number:
        case Expr::string: return;
        case Expr::name:
            if (k_.find_input(e.text)) {
                accumulate(e.text, adjoint);
            } else {
                backprop(*k_.values.at(e.text), adjoint);
            }
            return;
        case Expr::negate: backprop(*e.args[0], -adjoint); return;
        case Expr::binary: {
            const Expr &l = *e.args[0], &r = *e.args[1];
            const HExpr a = value(l), b = value(r);
            if (e.text == "+") {
                to(l, adjoint);
                to(r, adjoint);
            } else if (e.text == "-") {
                to(l, adjoint);
                to(r, -adjoint);
            } else if (e.text == "*") {
                to(l, adjoint * b);
                to(r, adjoint * a);
            } else if (e.text == "/") {
                to(l, adjoint / b);
                to(r, -adjoint * a / (b * b));
            }
            return;  // comparisons have no gradient
        }
        case Expr::call: break;
        }
        const HExpr y = value(e);
        switch (e.callee) {
        case Callee::where: {
            const HExpr c = value(*e.args[0]);
            to(*e.args[1], select(c, adjoint, f32(0)));
            to(*e.args[2], select(c, f32(0), adjoint));
            return;
        }
        case Callee::min:
        case Callee::max: {
            // As ATen's minimum/maximum backward: ties split the gradient evenly.
            const HExpr a = value(*e.args[0]), b = value(*e.args[1]);
            const HExpr a_wins = e.callee == Callee::min ? a < b : a > b;
            const HExpr b_wins = e.callee == Callee::min ? b < a : b > a;
            to(*e.args[0], select(a == b, adjoint * 0.5f, a_wins, adjoint, f32(0)));
            to(*e.args[1], select(a == b, adjoint * 0.5f, b_wins, adjoint, f32(0)));
            return;
        }
        case Callee::abs: {
            const HExpr a = value(*e.args[0]);
            to(*e.args[0], adjoint * select(a > 0.0f, f32(1), a < 0.0f, f32(-1), f32(0)));
            return;
        }
        // The adjoint over the kept dims broadcasts along the summed ones.
        case Callee::sum: to(*e.args[0], adjoint); return;
        case Callee::mean: to(*e.args[0], adjoint / summed_count(e)); return;
        case Callee::rrelu: to(*e.args[0], ops::rrelu_backward(adjoint, rrelu_noise(e))); return;
        case Callee::prelu: {
            // grad_weight sums the per-element terms over every dim but the channel (unbroadcast).
            const HExpr x = value(*e.args[0]), w = value(*e.args[1]);
            to(*e.args[0], ops::prelu_grad_input(adjoint, x, w));
            to(*e.args[1], ops::prelu_grad_weight_term(adjoint, x));
            return;
        }
        case Callee::elementwise_loss: {
            // The registry's derivative in d = input - target (ATen's *_backward), chained.
            const Shape &shape = e.args[0]->shape;
            const HExpr g = e.params.at("reduction").text == "mean" ? adjoint / element_count(shape) : adjoint;
            const HExpr d = value(*e.args[0]) - value(*e.args[1]);
            const HExpr dd = g * ops::elementwise_loss_derivative(ops::elementwise_loss_kind(e.text), d, loss_width(e));
            backprop(*e.args[0], dd);
            backprop(*e.args[1], -dd);
            return;
        }
        case Callee::exp: to(*e.args[0], adjoint * y); return;
        case Callee::log: to(*e.args[0], adjoint / value(*e.args[0])); return;
        case Callee::sqrt: to(*e.args[0], adjoint / (2.0f * y)); return;
        case Callee::pointwise_op: {
            const registry::Op &op = registry::find_op(e.text);
            const HExpr saved = op.saved == registry::Saved::input ? value(*e.args[0]) : y;
            to(*e.args[0], ops::pointwise_algorithm(e.text).backward(adjoint, saved, pointwise_params(e)));
            return;
        }
        case Callee::softmax_op: {
            // As softmax_ops' backward: s y (g - sum(g y)); log_softmax: s (g - exp(y) sum(g)).
            const double beta = e.params.at("beta").number;
            const HExpr scale = f32(e.text == "softmin" ? -beta : beta);
            const Shape &shape = e.shape;
            if (e.text == "log_softmax") {
                const HExpr sum = cast<float>(reduce(adjoint, shape, {e.reduced_dim}, Reduce::sum));
                to(*e.args[0], scale * (adjoint - math::exp(y) * sum));
            } else {
                const HExpr sum = cast<float>(reduce(adjoint * y, shape, {e.reduced_dim}, Reduce::sum));
                to(*e.args[0], scale * (y * (adjoint - sum)));
            }
            return;
        }
        case Callee::cross_entropy:
        case Callee::nll_loss: {
            LossParts &p = loss_parts(e);
            const std::string reduction = e.params.at("reduction").text;
            // The adjoint of each per-element loss.
            const HExpr g = reduction == "mean" ? adjoint / p.count : adjoint;
            const Expr &in = *e.args[0];
            const HExpr is_target = var(e.reduced_dim) == p.index;
            HExpr d;
            if (e.callee == Callee::cross_entropy) {
                const double ls = e.params.at("label_smoothing").number;
                HExpr q = select(is_target, f32(1 - ls), f32(0));
                if (ls > 0) q = q + f32(ls) / cast<float>(extent(e.reduced_dim));
                d = (p.probabilities - q) * g;
            } else {
                d = select(is_target, -g, f32(0));
            }
            backprop(in, select(p.valid, d, f32(0)));
            return;
        }
        default: return;
        }
    }

    void differentiate() {
        for (const std::string &name : k_.declared_output_names) {
            const TensorDecl &d = *k_.find_output(name);
            const Expr &e = *k_.values.at(name);
            const HExpr seed = d.dims.empty() ? f32(1) : input("grad_" + name);
            backprop(e, unbroadcast(seed, d.dims, e.shape));
        }
    }

    // ---- schedules ----

    // Vectorized along the innermost dim over whole rows (predicated tail: an element is never
    // recomputed, which in-place calls rely on), parallel over blocks of rows of about 16K
    // elements. A single long row is cut into 32K-element tasks instead.
    // schedules/cpu's schedule_pointwise_cpu is not used: it splits the innermost dim into 32K
    // tasks before vectorizing, and for rows shorter than that the predicated epilogue of each
    // task runs all 32K/vector iterations (masked) — 1024 x 1024 bias_gelu took 155 ms instead of
    // about 1 ms (measured). The standard library merges dims into long rows and rarely meets it.
    void schedule_output(Func out, const TensorDecl &d) {
        const int rank = static_cast<int>(d.dims.size());
        if (rank == 0) return;
        const int vector = target_.natural_vector_size<float>() * 2;
        Var inner = out.args()[0];
        Var task("task"), chunk("chunk");
        const HExpr row = out.output_buffer().dim(0).extent();
        if (rank == 1) {
            out.split(inner, task, inner, 32 * 1024, Halide::TailStrategy::GuardWithIf)
                .vectorize(inner, vector, Halide::TailStrategy::Predicate)
                .parallel(task);
            return;
        }
        Var outer = out.args()[static_cast<size_t>(rank - 1)];
        // In int64: with large buffers the rows may number 2^31 or more.
        HExpr rows = cast<int64_t>(out.output_buffer().dim(rank - 1).extent());
        for (int i = 1; i < rank - 1; ++i) rows = rows * cast<int64_t>(out.output_buffer().dim(i).extent());
        const HExpr few_long_rows = rows < 8 && row >= 64 * 1024;
        auto schedule = [&](Halide::Stage stage, bool long_rows) {
            if (long_rows) {
                stage.split(inner, task, inner, 32 * 1024, Halide::TailStrategy::GuardWithIf)
                    .vectorize(inner, vector, Halide::TailStrategy::Predicate)
                    .parallel(task);
                return;
            }
            stage.vectorize(inner, vector, Halide::TailStrategy::Predicate);
            if (rank == 2) {
                const HExpr rows_per_task = Halide::max(1, (16 * 1024) / Halide::max(row, 1));
                stage.split(outer, task, outer, rows_per_task, Halide::TailStrategy::GuardWithIf).parallel(task);
            } else {
                stage.parallel(outer);
            }
        };
        // Unit stride in every buffer gets dense vector loads; other strides gathers. Each
        // specialization copies the schedule when it is made, so each is written out.
        schedule(out.specialize(dense_ && few_long_rows), true);
        schedule(out.specialize(dense_), false);
        schedule(out.specialize(few_long_rows), true);
        schedule(out, false);
    }

    // Reductions are computed once, before the outputs, in parallel over their outermost kept
    // dim, in tasks of about 16K terms (a task per row of 1024 terms spent more on the thread
    // pool than on the row: 64 such rows ran no faster on 2 threads than on 1). A reduction
    // along one dim is vectorized: rfactor splits it into `vector` interleaved partial results
    // (lane l takes k = l, l + vector, ...), combined at the end of each row.
    void schedule_reduction(Func f, RDom r) {
        f.compute_root();
        if (!f.args().empty()) {
            Var outer = f.args().back(), task("task");
            const HExpr terms_per_row = r.dimensions() == 1 ? r.x.extent() : HExpr(1);
            const HExpr rows_per_task = Halide::max(1, (16 * 1024) / Halide::max(terms_per_row, 1));
            f.split(outer, task, outer, rows_per_task, Halide::TailStrategy::GuardWithIf).parallel(task);
            f.update(0).split(outer, task, outer, rows_per_task, Halide::TailStrategy::GuardWithIf).parallel(task);
        }
        if (r.dimensions() != 1) return;
        const int vector = target_.natural_vector_size<float>();
        Halide::RVar ro("ro"), ri("ri");
        Var lane("lane");
        f.update(0).split(r.x, ro, ri, vector, Halide::TailStrategy::GuardWithIf);
        Func partial = f.update(0).rfactor(ri, lane);
        if (f.args().empty()) {
            partial.compute_root();
        } else {
            partial.compute_at(f, f.args().back());
        }
        partial.vectorize(lane);
        partial.update(0).vectorize(lane);
        // Unit stride in every buffer: dense vector loads. Without this the partial loaded its
        // lanes one by one at the buffers' runtime stride, and the three root passes of a fused
        // cross_entropy cost more than its gradient.
        partial.update(0).specialize(dense_);
    }

    // ---- GPU (CUDA) schedules ----
    // Every Func runs on the GPU: the kernel's buffers are the caller's device memory, which the
    // host never reads.

    // Threads per block. A warp's 32 threads take 32 consecutive elements of the innermost dim.
    static constexpr int kGpuThreads = 256;

    // An output's dims fused into one index, cut into blocks of kGpuThreads threads. The
    // wrapper limits every tensor to fewer than 2^31 elements, so the fused index fits int32
    // and the grid's x dimension (2^31 - 1 blocks); the grid's y and z (65535) are not used.
    // A scalar output is one thread.
    void schedule_output_gpu(Func out, const TensorDecl &d) {
        if (d.dims.empty()) {
            out.gpu_single_thread();
            return;
        }
        Var flat = fuse_all(out, out.args());
        Var block("block"), thread("thread");
        out.gpu_tile(flat, block, thread, kGpuThreads, Halide::TailStrategy::GuardWithIf);
    }

    // Fuses `vars` (innermost first) of `stage` into one Var.
    static Var fuse_all(Halide::Stage stage, const std::vector<Var> &vars) {
        Var flat = vars[0];
        for (size_t i = 1; i < vars.size(); ++i) {
            Var fused(flat.name() + "_" + vars[i].name());
            stage.fuse(flat, vars[i], fused);
            flat = fused;
        }
        return flat;
    }

    // A reduction that keeps dims: one block per kept element (the kept dims fused). Its
    // kGpuThreads threads split the innermost reduced dim (thread t takes k = t, t + threads,
    // ..., consecutive threads consecutive elements), each looping over the other reduced dims;
    // the per-thread partials, rfactored into shared memory, are combined by one thread in a
    // fixed order (the result does not depend on timing). The same as
    // schedules/gpu/row_reduction_schedule's block per sum, for any number of dims.
    void schedule_block_per_element_gpu(Func f, const Halide::RVar &innermost) {
        Halide::RVar steps("steps"), lanes("lanes");
        Var lane("lane");
        // rfactor first: the partials' Func inherits the loop types of f's kept dims.
        Func partial = f.update(0)
                           .split(innermost, steps, lanes, kGpuThreads, Halide::TailStrategy::GuardWithIf)
                           .rfactor(lanes, lane);
        Var kept = fuse_all(f, f.args());
        Var kept_update = fuse_all(f.update(0), f.args());
        f.compute_root().gpu_blocks(kept);
        f.update(0).gpu_blocks(kept_update);
        partial.compute_at(f, kept_update).gpu_threads(lane);
        partial.update(0).gpu_threads(lane);
    }

    // Reductions are computed once, before the outputs, in their own kernels. A reduction to a
    // scalar first sums blocks of its domain in parallel: its outermost reduced dim is split
    // into chunks (single rows when there are several reduced dims; 64K elements of a 1-D
    // domain), rfactored into one partial per chunk, computed one block per chunk as above.
    // The chunks' partials (one per row: thousands) are then added by one block, thread t taking
    // partials t, t + threads, ..., and one thread adds those kGpuThreads sums, in order.
    void schedule_reduction_gpu(Func f, RDom r) {
        if (!f.args().empty()) {
            schedule_block_per_element_gpu(f, r[0]);
            return;
        }
        const int outermost = r.dimensions() - 1;
        const int chunk = r.dimensions() == 1 ? 64 * 1024 : 1;
        Halide::RVar chunks("chunks"), in_chunk("in_chunk");
        Var chunk_index("chunk_index");
        Func partial = f.update(0)
                           .split(r[outermost], chunks, in_chunk, chunk, Halide::TailStrategy::GuardWithIf)
                           .rfactor(chunks, chunk_index);
        // The chunk's own dims, innermost first: the 1-D domain's in_chunk, or r[0].
        const std::vector<Halide::RVar> inner = partial.rvars(0);
        schedule_block_per_element_gpu(partial, inner.front());

        Halide::RVar steps("steps"), lanes("lanes");
        Var lane("lane"), block("block"), thread("thread");
        Func lane_sums = f.update(0)
                             .split(f.rvars(0).front(), steps, lanes, kGpuThreads, Halide::TailStrategy::GuardWithIf)
                             .rfactor(lanes, lane);
        lane_sums.compute_root().gpu_tile(lane, block, thread, kGpuThreads, Halide::TailStrategy::GuardWithIf);
        lane_sums.update(0).gpu_tile(lane, block, thread, kGpuThreads, Halide::TailStrategy::GuardWithIf);
        f.compute_root().gpu_single_thread();
        f.update(0).gpu_single_thread();
    }

    const Kernel &k_;
    Halide::Target target_;
    std::map<std::string, Var> vars_;
    std::map<std::string, ImageParam> inputs_;
    std::map<std::string, HExpr> scalars_;  // scalar parameters, by name
    std::map<std::string, HExpr> extents_;
    std::map<const Expr *, HExpr> memo_;
    std::map<std::string, HExpr> gradients_;
    std::vector<Func> reductions_;
    std::vector<RDom> reduction_domains_;
    std::vector<IndexCheck> index_checks_;
    HExpr dense_ = Halide::Internal::const_true();
};

}  // namespace

LoweredKernel lower(const Kernel &kernel, const Halide::Target &target) {
    return Lowerer(kernel, target).run();
}

}  // namespace nnf::spec

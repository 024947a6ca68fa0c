// The generator of the loss family. One instance compiles one kernel:
//   op=<registry name> pass=<one of loss_kernel_passes(op)>
// Elementwise losses (mse, l1, smooth_l1, huber) on 2-D slices (i, j) (runtime/tensor.h):
//   forward_none (x, target, width, y)              y = loss(x - target) per element
//   forward_sum  (x, target, width, row_sum)         row_sum(j) = sum_i loss, in double
//   backward     (grad_output, x, target, width, scale, grad_input)
// Classification losses on blocks of rows (c, i, o) (runtime/loss_driver.cpp), class indices as
// int64 (i, o) or, for *_probabilities, float (c, i, o):
//   forward          (x, target, weight, ignore_index, label_smoothing, row_loss)
//   backward         (x, target, weight, ignore_index, label_smoothing, grad_scale, scale, [exps,] grad_input)
//   forward_backward (x, target, weight, ignore_index, label_smoothing, grad_scale, scale, row_loss, exps, grad_input)
// cross_entropy's `exps` is grad_input's memory passed a second time (runtime/loss_driver.cpp):
// the exps of the logits are stored there, summed, then scaled in place into the gradient
// (ops::ClassificationInputs::exps); nll_loss's backward has no exps.
// ("targets": Halide reserves "target" for the generator's Target.) `width` is beta (smooth_l1) or delta (huber), unused by mse and l1; nll_loss ignores
// label_smoothing and probability targets ignore ignore_index (one signature per shape of kernel).
// CUDA, elementwise losses: forward_none and backward as the pointwise GPU schedule;
// forward_sum, same signature, writes one double partial per block instead of one per row:
// row_sum(p) sums the p-th of row_sum's extent equal chunks of the slice flattened (i fastest),
// so a contiguous tensor (one long row) still spreads over many blocks; the driver picks the
// extent and adds the partials on the host (runtime/loss_driver.cpp).
// CUDA, classification losses: cross_entropy's forward and backward[_probabilities], a warp or
// a block per row (row_group=warp|block), and nll_loss's forward (a thread per row) and backward
// (a thread per element). cross_entropy's backward has no `exps` there (it recomputes them; the
// CPU kernel's twin of another signature), and there is no forward_backward: the driver runs
// the forward and the backward kernels.
#include <stdexcept>

#include "Halide.h"
#include "cpu/loss_schedule.h"
#include "gpu/loss_schedule.h"
#include "gpu/pointwise_schedule.h"
#include "ops/loss_ops.h"
#include "registry/registry.h"

namespace nnf {
namespace {

using namespace Halide;

class LossGenerator : public Generator<LossGenerator> {
public:
    GeneratorParam<std::string> op{"op", ""};
    GeneratorParam<std::string> pass{"pass", "forward"};
    // CUDA classification kernels: a warp per row (short rows) or a block per row.
    GeneratorParam<std::string> row_group{"row_group", "block"};

    void configure() {
        const registry::Op &spec = registry::find_op(op, registry::Family::loss);
        elementwise_ = ops::is_elementwise_loss(op);
        const std::string p = pass;
        if (elementwise_) {
            if (p != "forward_none" && p != "forward_sum" && p != "backward") {
                throw std::invalid_argument("pass must be forward_none, forward_sum or backward for " + spec.name);
            }
            if (p == "backward") grad_output_ = add_input<Buffer<float>>("grad_output", 2);
            x_ = add_input<Buffer<float>>("x", 2);
            target_ = add_input<Buffer<float>>("targets", 2);
            width_ = add_input<float>("width");
            if (p == "backward") {
                scale_ = add_input<float>("scale");
                grad_ = add_output<Buffer<float>>("grad_input", 2);
            } else if (p == "forward_none") {
                y_ = add_output<Buffer<float>>("y", 2);
            } else {
                row_sum_ = add_output<Buffer<double>>("row_sum", 1);
            }
            return;
        }
        probabilities_ = p.size() > 14 && p.compare(p.size() - 14, 14, "_probabilities") == 0;
        const std::string base = probabilities_ ? p.substr(0, p.size() - 14) : p;
        if (base != "forward" && base != "backward" && base != "forward_backward") {
            throw std::invalid_argument("pass must be forward, backward or forward_backward[_probabilities]");
        }
        if (probabilities_ && spec.name != "cross_entropy") {
            throw std::invalid_argument("probability targets are cross_entropy's only");
        }
        want_loss_ = base != "backward";
        want_grad_ = base != "forward";
        gpu_ = get_target().has_gpu_feature();
        if (gpu_ && want_loss_ && want_grad_) {
            throw std::invalid_argument("CUDA has no forward_backward kernel: the driver runs forward, then backward");
        }
        x_ = add_input<Buffer<float>>("x", 3);
        if (probabilities_) {
            target_ = add_input<Buffer<float>>("targets", 3);
        } else {
            target_indices_ = add_input<Buffer<int64_t>>("targets", 2);
        }
        weight_ = add_input<Buffer<float>>("weight", 1);
        ignore_index_ = add_input<int64_t>("ignore_index");
        label_smoothing_ = add_input<float>("label_smoothing");
        if (want_grad_) {
            grad_scale_ = add_input<Buffer<float>>("grad_scale", 2);
            scale_ = add_input<float>("scale");
        }
        if (want_loss_) row_loss_ = add_output<Buffer<float>>("row_loss", 2);
        if (want_grad_ && spec.name == "cross_entropy" && !gpu_) exps_ = add_output<Buffer<float>>("exps", 3);
        if (want_grad_) grad_ = add_output<Buffer<float>>("grad_input", 3);
    }

    void generate() {
        if (elementwise_) return generate_elementwise();
        ops::ClassificationInputs in;
        in.x = *x_;
        in.target = probabilities_ ? Func(*target_) : Func(*target_indices_);
        in.weight = *weight_;
        in.classes = x_->dim(0).extent();
        in.ignore_index = *ignore_index_;
        in.label_smoothing = *label_smoothing_;
        if (want_grad_) {
            in.grad_scale = *grad_scale_;
            in.scale = *scale_;
        } else {
            Var i, o;
            in.grad_scale(i, o) = 1.0f;
            in.scale = 1.0f;
        }
        if (exps_) in.exps = Func(*exps_);
        if (gpu_) in.exps = Func("exps");  // inline: recomputed where read
        // On a GPU, plain reductions: the schedule splits them across a row's threads.
        const int lanes = gpu_ ? 1 : schedules::loss_reduction_lanes(get_target());
        ops::ClassificationStages s =
            op.value() == "nll_loss"
                ? ops::nll_loss(in)
                : ops::cross_entropy(in, probabilities_ ? ops::Targets::probabilities : ops::Targets::indices,
                                     want_loss_, want_grad_, lanes);
        Var c("c"), i("i"), o("o");
        ops::ClassificationStages scheduled = s;
        scheduled.row_loss = Func();
        scheduled.grad = Func();
        if (want_loss_) {
            (*row_loss_)(i, o) = s.row_loss(i, o);
            scheduled.row_loss = Func(*row_loss_);
        }
        if (want_grad_) {
            (*grad_)(c, i, o) = s.grad(c, i, o);
            scheduled.grad = Func(*grad_);
        }
        // Any strides come in: the class dim of a (N, C, d1..dK) input has stride d1..dK.
        for (OutputImageParam b : buffers()) b.dim(0).set_stride(Expr());
        if (gpu_) return schedule_classification_gpu(scheduled);
        x_->set_estimates({{0, 1024}, {0, 1}, {0, 64}});
        // Without a weight the runtime passes one 1 with stride 0; a weight tensor is usually
        // contiguous. Gathering weight[c] with an unknown stride cost more than the exps.
        const Expr dense = dense_condition(), no_smoothing = *label_smoothing_ == 0.0f;
        std::vector<Expr> specializations;
        for (int weight_stride : {0, 1}) {
            const Expr w = weight_->dim(0).stride() == weight_stride;
            specializations.push_back(dense && w && no_smoothing);
            specializations.push_back(dense && w);
        }
        schedules::schedule_classification_cpu(scheduled, dense, specializations, get_target());
    }

private:
    // One kernel per output (the CUDA passes have one each). Strides need no specialization on a
    // GPU (a warp's loads coalesce or not by address); label smoothing 0 drops the weights' total.
    void schedule_classification_gpu(const ops::ClassificationStages &s) {
        Func out = want_loss_ ? s.row_loss : s.grad;
        if (op.value() == "nll_loss") return schedules::schedule_nll_gpu(out);
        const std::string group = row_group;
        if (group != "warp" && group != "block") throw std::invalid_argument("row_group must be warp or block");
        schedules::schedule_cross_entropy_gpu(out, s, group == "warp" ? schedules::kWarpPerRow : schedules::kBlockPerRowPair);
        out.specialize(*label_smoothing_ == 0.0f);
    }

    // Every buffer with elements along dim 0 (not the per-row ones) has unit stride there.
    Expr dense_condition() {
        Expr dense = Internal::const_true();
        // Not the weight: without one, the runtime passes a single 1 with stride 0.
        for (Input<Buffer<float>> *b : {x_, target_}) {
            if (b) dense = dense && (*b).dim(0).stride() == 1;
        }
        for (Output<Buffer<float>> *b : {y_, exps_, grad_}) {
            if (b) dense = dense && (*b).dim(0).stride() == 1;
        }
        return dense;
    }

    void generate_elementwise() {
        const ops::ElementwiseLoss kind = ops::elementwise_loss_kind(op);
        Var i("i"), j("j");
        const Expr d = (*x_)(i, j) - (*target_)(i, j);
        if (get_target().has_gpu_feature()) return generate_elementwise_gpu(kind, i, j, d);
        if (grad_) {
            // strict_float: the derivative may be NaN or inf (as PyTorch's), which fast-math flags
            // would let LLVM assume it is not.
            (*grad_)(i, j) = strict_float(ops::elementwise_loss_derivative(kind, d, *width_) *
                                          ((*grad_output_)(i, j) * *scale_));
            // grad_output is a full tensor (reduction none) or one value broadcast with stride 0.
            schedules::schedule_loss_elementwise_cpu(Func(*grad_),
                                                     {dense_condition() && grad_output_->dim(0).stride() == 1,
                                                      dense_condition() && grad_output_->dim(0).stride() == 0},
                                                     get_target());
        } else if (y_) {
            (*y_)(i, j) = ops::elementwise_loss(kind, d, *width_);
            schedules::schedule_loss_elementwise_cpu(Func(*y_), {dense_condition()}, get_target());
        } else {
            ops::LaneReduction sum = ops::lane_reduce(
                [&](const Expr &k) { return ops::elementwise_loss(kind, (*x_)(k, j) - (*target_)(k, j), *width_); },
                {j}, x_->dim(0).extent(), schedules::loss_reduction_lanes(get_target()), ops::Combine::sum_f64,
                "row_sum");
            (*row_sum_)(j) = sum.total(j);
            schedules::schedule_loss_row_sums_cpu(Func(*row_sum_), sum, dense_condition(), get_target());
        }
        for (OutputImageParam b : buffers()) b.dim(0).set_stride(Expr());
    }

    // The CUDA kernels: strides need no specialization on a GPU (a warp's loads coalesce or not
    // by address).
    void generate_elementwise_gpu(ops::ElementwiseLoss kind, Var i, Var j, const Expr &d) {
        if (grad_) {
            (*grad_)(i, j) = strict_float(ops::elementwise_loss_derivative(kind, d, *width_) *
                                          ((*grad_output_)(i, j) * *scale_));
            schedules::schedule_pointwise_gpu(Func(*grad_));
        } else if (y_) {
            (*y_)(i, j) = ops::elementwise_loss(kind, d, *width_);
            schedules::schedule_pointwise_gpu(Func(*y_));
        } else {
            // Element k of the slice flattened is (k % e0, k / e0); block p sums k in
            // [p * chunk, (p + 1) * chunk). The driver keeps e0 * e1 + chunk within int32.
            Var p("p");
            const Expr e0 = x_->dim(0).extent(), e1 = x_->dim(1).extent();
            const Expr total = e0 * e1, blocks = row_sum_->dim(0).extent();
            const Expr chunk = (total + blocks - 1) / blocks;
            RDom r(0, chunk, "r");
            const Expr flat = p * chunk + r;
            const Expr k = min(flat, total - 1);
            const Expr ki = clamp(k % e0, 0, e0 - 1), kj = clamp(k / e0, 0, e1 - 1);
            Func partial_sum("partial_sum");
            partial_sum(p) = cast<double>(0);
            partial_sum(p) += select(flat < total,
                                     cast<double>(ops::elementwise_loss(kind, (*x_)(ki, kj) - (*target_)(ki, kj), *width_)),
                                     cast<double>(0));
            (*row_sum_)(p) = partial_sum(p);
            schedules::schedule_loss_partial_sums_gpu(Func(*row_sum_), partial_sum);
        }
        for (OutputImageParam b : buffers()) b.dim(0).set_stride(Expr());
    }

    std::vector<OutputImageParam> buffers() {
        std::vector<OutputImageParam> result;
        for (Input<Buffer<float>> *b : {x_, target_, grad_output_, weight_, grad_scale_}) {
            if (b) result.push_back(ImageParam(*b));
        }
        if (target_indices_) result.push_back(ImageParam(*target_indices_));
        for (Output<Buffer<float>> *b : {y_, exps_, grad_, row_loss_}) {
            if (b) result.push_back(OutputImageParam(*b));
        }
        if (row_sum_) result.push_back(OutputImageParam(*row_sum_));
        return result;
    }

    bool elementwise_ = false, probabilities_ = false, want_loss_ = false, want_grad_ = false, gpu_ = false;
    Input<Buffer<float>> *x_ = nullptr, *target_ = nullptr, *grad_output_ = nullptr, *weight_ = nullptr,
                         *grad_scale_ = nullptr;
    Input<Buffer<int64_t>> *target_indices_ = nullptr;
    Input<float> *width_ = nullptr, *scale_ = nullptr, *label_smoothing_ = nullptr;
    Input<int64_t> *ignore_index_ = nullptr;
    Output<Buffer<float>> *y_ = nullptr, *exps_ = nullptr, *grad_ = nullptr, *row_loss_ = nullptr;
    Output<Buffer<double>> *row_sum_ = nullptr;
};

}  // namespace
}  // namespace nnf

HALIDE_REGISTER_GENERATOR(nnf::LossGenerator, nnf_loss)

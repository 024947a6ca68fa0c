// PyTorch (ATen's C++ API, CPU) on the problems of bench_problem.h: the `at::*_out` kernels
// where ATen has them, so allocation is not timed; ops PyTorch only composes (softsign,
// tanhshrink, softmin) run as the eager composition a PyTorch user writes, temporaries included.
// Tensors wrap the problem's buffers (at::from_blob), so every library reads the same bytes.
//
// Adding a comparison for a new op: one entry in kTorchAdapters.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/headeronly/version.h>

#include <map>
#include <stdexcept>
#include <string>

#include "bench_problem.h"

namespace nnf::bench {
namespace {

struct TorchTensors {
    const OpCase *op;
    at::Tensor x, y, saved, grad_output, grad_input, weight, grad_weight;
    at::Tensor target, loss, grad_loss;  // losses: float target or int64 classes; the reduced loss
    // State ATen keeps between passes (log_sigmoid's buffer, rrelu's noise, nll_loss's
    // total_weight, cross_entropy's saved log_softmax), or an output ATen allocates.
    at::Tensor scratch, scratch2;
};

using TorchCall = void (*)(TorchTensors &);

struct TorchAdapter {
    TorchCall forward;
    TorchCall backward;  // nullptr: no comparison for the backward
    TorchCall prepare;   // nullptr, or makes `scratch` (untimed)
    TorchCall forward_backward = nullptr;  // the forward then the backward (bench_problem.h)
};

double p(const TorchTensors &t, const char *name) {
    return t.op->param(name);
}

// The fixed constants of torch.nn.functional.selu.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

int64_t reduction(const TorchTensors &t) {
    return static_cast<int64_t>(p(t, "reduction"));  // nnf_reduction and at::Reduction agree: none, mean, sum
}

int64_t ignore_index(const TorchTensors &t) {
    return static_cast<int64_t>(p(t, "ignore_index"));
}

c10::string_view gelu_approximate(const TorchTensors &t) {
    return p(t, "approximate") == 0 ? "none" : "tanh";  // the registry's order: none|tanh
}

int64_t softmax_dim(const TorchTensors &t) {
    return static_cast<int64_t>(p(t, "dim"));
}

// x * beta as torch.nn.functional users write softmax(beta * x); beta = 1 stays x.
at::Tensor scaled_input(const TorchTensors &t, double sign) {
    const double beta = sign * p(t, "beta");
    return beta == 1 ? t.x : t.x * beta;
}

void scale_gradient(TorchTensors &t, double sign) {
    const double beta = sign * p(t, "beta");
    if (beta != 1) t.grad_input.mul_(beta);
}

const std::map<std::string, TorchAdapter> kTorchAdapters = {
    {"relu",
     {[](TorchTensors &t) { at::relu_out(t.y, t.x); },
      [](TorchTensors &t) { at::threshold_backward_out(t.grad_input, t.grad_output, t.x, 0); }}},
    {"relu6",  // F.relu6 is hardtanh(x, 0, 6)
     {[](TorchTensors &t) { at::hardtanh_out(t.y, t.x, 0, 6); },
      [](TorchTensors &t) { at::hardtanh_backward_out(t.grad_input, t.grad_output, t.x, 0, 6); }}},
    {"leaky_relu",
     {[](TorchTensors &t) { at::leaky_relu_out(t.y, t.x, p(t, "negative_slope")); },
      [](TorchTensors &t) {
          at::leaky_relu_backward_out(t.grad_input, t.grad_output, t.x, p(t, "negative_slope"), false);
      }}},
    {"sigmoid",
     {[](TorchTensors &t) { at::sigmoid_out(t.y, t.x); },
      [](TorchTensors &t) { at::sigmoid_backward_out(t.grad_input, t.grad_output, t.saved); }}},
    {"tanh",
     {[](TorchTensors &t) { at::tanh_out(t.y, t.x); },
      [](TorchTensors &t) { at::tanh_backward_out(t.grad_input, t.grad_output, t.saved); }}},
    {"softplus",
     {[](TorchTensors &t) { at::softplus_out(t.y, t.x, p(t, "beta"), p(t, "threshold")); },
      [](TorchTensors &t) {
          at::softplus_backward_out(t.grad_input, t.grad_output, t.x, p(t, "beta"), p(t, "threshold"));
      }}},
    {"elu",
     {[](TorchTensors &t) { at::elu_out(t.y, t.x, p(t, "alpha"), 1, 1); },
      [](TorchTensors &t) { at::elu_backward_out(t.grad_input, t.grad_output, p(t, "alpha"), 1, 1, false, t.x); }}},
    {"celu",  // at::celu is elu(x, alpha, 1, 1 / alpha)
     {[](TorchTensors &t) { at::elu_out(t.y, t.x, p(t, "alpha"), 1, 1 / p(t, "alpha")); },
      [](TorchTensors &t) {
          at::elu_backward_out(t.grad_input, t.grad_output, p(t, "alpha"), 1, 1 / p(t, "alpha"), false, t.x);
      }}},
    {"selu",  // at::selu is elu(x, alpha, scale, 1)
     {[](TorchTensors &t) { at::elu_out(t.y, t.x, kSeluAlpha, kSeluScale, 1); },
      [](TorchTensors &t) {
          at::elu_backward_out(t.grad_input, t.grad_output, kSeluAlpha, kSeluScale, 1, false, t.x);
      }}},
    {"softsign",  // F.softsign: x / (x.abs() + 1); its gradient written the same eager way
     {[](TorchTensors &t) { at::div_out(t.y, t.x, at::abs(t.x).add_(1)); },
      [](TorchTensors &t) { at::div_out(t.grad_input, t.grad_output, at::abs(t.x).add_(1).square_()); }}},
    {"tanhshrink",  // F.tanhshrink: x - x.tanh(); gradient grad * tanh(x)^2
     {[](TorchTensors &t) { at::sub_out(t.y, t.x, at::tanh(t.x)); },
      [](TorchTensors &t) { at::mul_out(t.grad_input, t.grad_output, at::tanh(t.x).square_()); }}},
    {"log_sigmoid",  // ATen's CPU forward also writes a buffer its backward reads
     {[](TorchTensors &t) { at::log_sigmoid_forward_out(t.y, t.scratch, t.x); },
      [](TorchTensors &t) { at::log_sigmoid_backward_out(t.grad_input, t.grad_output, t.x, t.scratch); },
      [](TorchTensors &t) {
          t.scratch = at::empty_like(t.x);
          at::Tensor output = at::empty_like(t.x);
          at::log_sigmoid_forward_out(output, t.scratch, t.x);
      }}},
    {"hardtanh",
     {[](TorchTensors &t) { at::hardtanh_out(t.y, t.x, p(t, "min_val"), p(t, "max_val")); },
      [](TorchTensors &t) {
          at::hardtanh_backward_out(t.grad_input, t.grad_output, t.x, p(t, "min_val"), p(t, "max_val"));
      }}},
    {"threshold",
     {[](TorchTensors &t) { at::threshold_out(t.y, t.x, p(t, "threshold"), p(t, "value")); },
      [](TorchTensors &t) { at::threshold_backward_out(t.grad_input, t.grad_output, t.x, p(t, "threshold")); }}},
    {"softshrink",
     {[](TorchTensors &t) { at::softshrink_out(t.y, t.x, p(t, "lambd")); },
      [](TorchTensors &t) { at::softshrink_backward_out(t.grad_input, t.grad_output, t.x, p(t, "lambd")); }}},
    {"hardshrink",
     {[](TorchTensors &t) { at::hardshrink_out(t.y, t.x, p(t, "lambd")); },
      [](TorchTensors &t) { at::hardshrink_backward_out(t.grad_input, t.grad_output, t.x, p(t, "lambd")); }}},
    {"gelu",
     {[](TorchTensors &t) { at::gelu_out(t.y, t.x, gelu_approximate(t)); },
      [](TorchTensors &t) { at::gelu_backward_out(t.grad_input, t.grad_output, t.x, gelu_approximate(t)); }}},
    {"softmax",
     {[](TorchTensors &t) { at::_softmax_out(t.y, scaled_input(t, 1), softmax_dim(t), false); },
      [](TorchTensors &t) {
          at::_softmax_backward_data_out(t.grad_input, t.grad_output, t.saved, softmax_dim(t), at::kFloat);
          scale_gradient(t, 1);
      }}},
    {"log_softmax",
     {[](TorchTensors &t) { at::_log_softmax_out(t.y, scaled_input(t, 1), softmax_dim(t), false); },
      [](TorchTensors &t) {
          at::_log_softmax_backward_data_out(t.grad_input, t.grad_output, t.saved, softmax_dim(t), at::kFloat);
          scale_gradient(t, 1);
      }}},
    {"softmin",  // F.softmin is softmax(-x): the negation is a temporary
     {[](TorchTensors &t) { at::_softmax_out(t.y, scaled_input(t, -1), softmax_dim(t), false); },
      [](TorchTensors &t) {
          at::_softmax_backward_data_out(t.grad_input, t.grad_output, t.saved, softmax_dim(t), at::kFloat);
          scale_gradient(t, -1);
      }}},
    // ATen has no out= variant of prelu: the output allocation is timed, as every PyTorch user pays it.
    {"prelu",
     {[](TorchTensors &t) { t.scratch = at::prelu(t.x, t.weight); },
      [](TorchTensors &t) { std::tie(t.scratch, std::ignore) = at::_prelu_kernel_backward(t.grad_output, t.x, t.weight); }}},
    {"rrelu",
     {[](TorchTensors &t) {
          at::rrelu_with_noise_out(t.y, t.x, t.scratch, p(t, "lower"), p(t, "upper"), p(t, "training") != 0);
      },
      [](TorchTensors &t) {
          at::rrelu_with_noise_backward_out(t.grad_input, t.grad_output, t.x, t.scratch, p(t, "lower"),
                                            p(t, "upper"), p(t, "training") != 0, false);
      },
      [](TorchTensors &t) {
          t.scratch = at::empty_like(t.x);
          at::Tensor output = at::empty_like(t.x);
          at::rrelu_with_noise_out(output, t.x, t.scratch, p(t, "lower"), p(t, "upper"), p(t, "training") != 0);
      }}},
    // The elementwise losses' at::*_loss_out reject a 0-d out tensor they cannot resize to the
    // input's shape (ATen 2.15 reduces through an input-shaped temporary in `out`): forward runs
    // the functional form users call (F.mse_loss, ...), its temporary included.
    {"mse_loss",
     {[](TorchTensors &t) { t.scratch = at::mse_loss(t.x, t.target, reduction(t)); },
      [](TorchTensors &t) { at::mse_loss_backward_out(t.grad_input, t.grad_loss, t.x, t.target, reduction(t)); }}},
    // F.l1_loss is composite in ATen (no kernel of its own): eager, as autograd runs it.
    {"l1_loss",
     {[](TorchTensors &t) { t.scratch = at::l1_loss(t.x, t.target, reduction(t)); },
      [](TorchTensors &t) {
          at::Tensor scale = reduction(t) == at::Reduction::Mean ? t.grad_loss / t.x.numel() : t.grad_loss;
          at::mul_out(t.grad_input, at::sgn(t.x - t.target), scale);
      }}},
    {"smooth_l1_loss",
     {[](TorchTensors &t) { t.scratch = at::smooth_l1_loss(t.x, t.target, reduction(t), p(t, "beta")); },
      [](TorchTensors &t) {
          at::smooth_l1_loss_backward_out(t.grad_input, t.grad_loss, t.x, t.target, reduction(t), p(t, "beta"));
      }}},
    {"huber_loss",
     {[](TorchTensors &t) { t.scratch = at::huber_loss(t.x, t.target, reduction(t), p(t, "delta")); },
      [](TorchTensors &t) {
          at::huber_loss_backward_out(t.grad_input, t.grad_loss, t.x, t.target, reduction(t), p(t, "delta"));
      }}},
    {"nll_loss",
     {[](TorchTensors &t) {
          at::nll_loss_forward_out(t.loss, t.scratch, t.x, t.target, {}, reduction(t), ignore_index(t));
      },
      [](TorchTensors &t) {
          at::nll_loss_backward_out(t.grad_input, t.grad_loss, t.x, t.target, {}, reduction(t), ignore_index(t),
                                    t.scratch);
      },
      [](TorchTensors &t) {
          t.scratch = at::empty({}, t.x.options());  // total_weight
          at::nll_loss_forward_out(t.loss, t.scratch, t.x, t.target, {}, reduction(t), ignore_index(t));
      }}},
    // F.cross_entropy is log_softmax + nll_loss in ATen; backward as autograd runs it, from the
    // saved log_softmax.
    {"cross_entropy",
     {[](TorchTensors &t) {
          t.scratch = at::cross_entropy_loss(t.x, t.target, {}, reduction(t), ignore_index(t), p(t, "label_smoothing"));
      },
      [](TorchTensors &t) {
          at::Tensor grad_log_probs = at::nll_loss_backward(t.grad_loss, t.scratch, t.target, {}, reduction(t),
                                                            ignore_index(t), t.scratch2);
          at::_log_softmax_backward_data_out(t.grad_input, grad_log_probs, t.scratch, 1, at::kFloat);
      },
      [](TorchTensors &t) {
          t.scratch = at::_log_softmax(t.x, 1, false);
          t.scratch2 = std::get<1>(at::nll_loss_forward(t.scratch, t.target, {}, reduction(t), ignore_index(t)));
      },
      // Training's forward and backward as autograd runs F.cross_entropy (label_smoothing 0):
      // log_softmax saved for the backward, nll_loss, then both backwards.
      [](TorchTensors &t) {
          at::Tensor log_probs = at::_log_softmax(t.x, 1, false);
          at::Tensor total_weight;
          std::tie(t.scratch, total_weight) = at::nll_loss_forward(log_probs, t.target, {}, reduction(t), ignore_index(t));
          at::Tensor grad_log_probs = at::nll_loss_backward(t.grad_loss, log_probs, t.target, {}, reduction(t),
                                                            ignore_index(t), total_weight);
          at::_log_softmax_backward_data_out(t.grad_input, grad_log_probs, log_probs, 1, at::kFloat);
      }}},
    // Ops PyTorch has that the registry may gain: they compare as soon as the op lands.
    {"silu",
     {[](TorchTensors &t) { at::silu_out(t.y, t.x); },
      [](TorchTensors &t) { at::silu_backward_out(t.grad_input, t.grad_output, t.x); }}},
    {"hardswish",
     {[](TorchTensors &t) { at::hardswish_out(t.y, t.x); },
      [](TorchTensors &t) { at::hardswish_backward_out(t.grad_input, t.grad_output, t.x); }}},
    {"hardsigmoid",
     {[](TorchTensors &t) { at::hardsigmoid_out(t.y, t.x); },
      [](TorchTensors &t) { at::hardsigmoid_backward_out(t.grad_input, t.grad_output, t.x); }}},
    {"mish", {[](TorchTensors &t) { at::mish_out(t.y, t.x); }, nullptr}},
};

at::Tensor wrap(const FloatBuffer &buffer, const std::vector<int64_t> &shape) {
    if (!buffer.data()) return {};
    return at::from_blob(buffer.data(), shape, at::TensorOptions().dtype(at::kFloat));
}

}  // namespace
}  // namespace nnf::bench

int main(int argc, char **argv) {
    using namespace nnf::bench;
    Implementation torch;
    torch.name = "pytorch";
    torch.has_op = [](const OpCase &op, Direction direction) {
        auto adapter = kTorchAdapters.find(op.info->name);
        if (adapter == kTorchAdapters.end()) return false;
        if (direction == Direction::forward_backward) return adapter->second.forward_backward != nullptr;
        return direction == Direction::forward || adapter->second.backward != nullptr;
    };
    torch.prepare = [](Problem &problem, int) -> std::function<bool()> {
        const TorchAdapter &adapter = kTorchAdapters.at(problem.op.info->name);
        auto tensors = std::make_shared<TorchTensors>();
        tensors->op = &problem.op;
        tensors->x = wrap(problem.x, problem.shape);
        tensors->y = wrap(problem.y, problem.shape);
        tensors->saved = problem.op.info->backward_takes_output ? tensors->y : tensors->x;
        tensors->grad_output = wrap(problem.grad_output, problem.shape);
        tensors->grad_input = wrap(problem.grad_input, problem.shape);
        tensors->weight = wrap(problem.weight, problem.weight_shape);
        tensors->grad_weight = wrap(problem.grad_weight, problem.weight_shape);
        if (!problem.class_target.empty()) {
            tensors->target = at::from_blob(problem.class_target.data(), problem.target_shape,
                                            at::TensorOptions().dtype(at::kLong));
        } else {
            tensors->target = wrap(problem.target, problem.shape);
        }
        tensors->loss = wrap(problem.loss, {});
        tensors->grad_loss = wrap(problem.grad_loss, {});
        if (adapter.prepare) adapter.prepare(*tensors);
        const TorchCall call = problem.direction == Direction::forward            ? adapter.forward
                               : problem.direction == Direction::backward         ? adapter.backward
                                                                                  : adapter.forward_backward;
        return [tensors, call] {
            call(*tensors);
            return true;
        };
    };
    torch.set_threads = [](int threads) { at::set_num_threads(threads); };
    torch.label = [] { return std::string("torch ") + TORCH_VERSION + " cpu_capability=" + at::get_cpu_capability(); };
    register_op_benchmarks(torch);
    return run_benchmarks(argc, argv);
}

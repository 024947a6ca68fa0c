// The generator of the prelu family. One instance compiles one kernel:
//   op=<registry name> pass=forward|backward
// on 3-D views (inner, channel, outer) that runtime/prelu_driver.cpp builds, with a 1-D weight
// of the channel extent (stride 0 when one weight is shared). C signatures:
//   forward:  (x, weight, y)
//   backward: (grad_output, x, weight, grad_weight, grad_input), grad_weight holding this call's
//             per-channel sums (the driver adds the calls up). On CUDA the driver views a
//             shared weight's tensors with one channel, so grad_weight is the whole sum.
#include <stdexcept>

#include "Halide.h"
#include "cpu/prelu_schedule.h"
#include "gpu/prelu_schedule.h"
#include "ops/prelu_ops.h"
#include "registry/registry.h"

namespace nnf {
namespace {

using namespace Halide;

class PreluGenerator : public Generator<PreluGenerator> {
public:
    GeneratorParam<std::string> op{"op", ""};
    GeneratorParam<std::string> pass{"pass", "forward"};
    GeneratorParam<std::string> variant{"variant", ""};

    void configure() {
        const registry::Op &spec = registry::find_op(op, registry::Family::prelu);
        forward_ = registry::is_forward_pass(pass);
        if (!forward_) grad_output_ = add_input<Buffer<float, 3>>("grad_output");
        x_ = add_input<Buffer<float, 3>>("x");
        weight_ = add_input<Buffer<float, 1>>("weight");
        // grad_weight is declared first: Halide realizes independent outputs in declaration order,
        // and in-place calls (grad_input aliasing grad_output) need the sums read grad_output
        // before grad_input overwrites it (tested).
        if (!forward_) grad_weight_ = add_output<Buffer<float, 1>>("grad_weight");
        output_ = add_output<Buffer<float, 3>>(forward_ ? "y" : "grad_input");
    }

    void generate() {
        Var i("i"), c("c"), o("o");
        std::vector<OutputImageParam> buffers = {ImageParam(*x_), ImageParam(*weight_), OutputImageParam(*output_)};
        Func weight_sum("weight_sum"), grad_weight;
        if (forward_) {
            (*output_)(i, c, o) = ops::prelu_forward((*x_)(i, c, o), (*weight_)(c));
        } else {
            (*output_)(i, c, o) = ops::prelu_grad_input((*grad_output_)(i, c, o), (*x_)(i, c, o), (*weight_)(c));
            // Summed in double: a channel may hold millions of terms.
            RDom r(0, x_->dim(0).extent(), 0, x_->dim(2).extent(), "r");
            weight_sum(c) = cast<double>(0);
            weight_sum(c) += cast<double>(ops::prelu_grad_weight_term((*grad_output_)(r.x, c, r.y), (*x_)(r.x, c, r.y)));
            (*grad_weight_)(c) = cast<float>(weight_sum(c));
            grad_weight = *grad_weight_;
            buffers.push_back(ImageParam(*grad_output_));
            buffers.push_back(OutputImageParam(*grad_weight_));
            grad_output_->set_estimates({{0, 1024}, {0, 64}, {0, 16}});
            grad_weight_->set_estimates({{0, 64}});
        }
        x_->set_estimates({{0, 1024}, {0, 64}, {0, 16}});
        weight_->set_estimates({{0, 64}});
        output_->set_estimates({{0, 1024}, {0, 64}, {0, 16}});
        if (get_target().has_gpu_feature()) {
            // Strides need no specialization on a GPU: a warp's loads coalesce or not by address.
            for (OutputImageParam &b : buffers) b.dim(0).set_stride(Expr());
            schedules::schedule_prelu_gpu(output_->operator Func(), weight_sum, grad_weight);
        } else {
            schedules::schedule_prelu_cpu(output_->operator Func(), buffers, weight_sum, grad_weight, get_target());
        }
    }

private:
    bool forward_ = true;
    Input<Buffer<float, 3>> *grad_output_ = nullptr;
    Input<Buffer<float, 3>> *x_ = nullptr;
    Input<Buffer<float, 1>> *weight_ = nullptr;
    Output<Buffer<float, 3>> *output_ = nullptr;
    Output<Buffer<float, 1>> *grad_weight_ = nullptr;
};

}  // namespace
}  // namespace nnf

HALIDE_REGISTER_GENERATOR(nnf::PreluGenerator, nnf_prelu)

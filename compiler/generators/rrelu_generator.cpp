// The generator of the rrelu family: its training kernels. One instance compiles one kernel:
//   op=<registry name> pass=forward|backward
// on the runtime's 2-D slices (runtime/rrelu_driver.cpp). C signatures:
//   forward:  (x, lower, upper, seed, index_base, index_stride0, index_stride1, noise, y), where
//             element (i, j) of the slice is row-major element index_base + i index_stride0 +
//             j index_stride1 of the logical tensor: the counter of its random slope
//   backward: (grad_output, noise, grad_input)
// Evaluation uses leaky_relu's kernels. On a GPU target the kernels use the pointwise family's
// GPU schedule; the slopes are bit-identical to the CPU's (ops/rrelu_ops.cpp says why).
#include <stdexcept>

#include "Halide.h"
#include "cpu/pointwise_schedule.h"
#include "gpu/pointwise_schedule.h"
#include "ops/rrelu_ops.h"
#include "registry/registry.h"

namespace nnf {
namespace {

using namespace Halide;

class RreluGenerator : public Generator<RreluGenerator> {
public:
    GeneratorParam<std::string> op{"op", ""};
    GeneratorParam<std::string> pass{"pass", "forward"};
    GeneratorParam<std::string> variant{"variant", ""};

    void configure() {
        const registry::Op &spec = registry::find_op(op, registry::Family::rrelu);
        forward_ = registry::is_forward_pass(pass);
        if (forward_) {
            x_ = add_input<Buffer<float, 2>>("x");
            lower_ = add_input<float>("lower");
            upper_ = add_input<float>("upper");
            seed_ = add_input<uint64_t>("seed");
            index_base_ = add_input<int64_t>("index_base");
            index_stride0_ = add_input<int64_t>("index_stride0");
            index_stride1_ = add_input<int64_t>("index_stride1");
            // noise before y: y reads noise, so noise (which reads x) is complete before y may
            // overwrite x in place.
            noise_out_ = add_output<Buffer<float, 2>>("noise");
            output_ = add_output<Buffer<float, 2>>("y");
        } else {
            grad_output_ = add_input<Buffer<float, 2>>("grad_output");
            noise_in_ = add_input<Buffer<float, 2>>("noise");
            output_ = add_output<Buffer<float, 2>>("grad_input");
        }
    }

    void generate() {
        Var i("i"), j("j");
        std::vector<OutputImageParam> buffers;
        if (forward_) {
            Expr index = Expr(*index_base_) + cast<int64_t>(i) * Expr(*index_stride0_) +
                         cast<int64_t>(j) * Expr(*index_stride1_);
            Expr noise = ops::rrelu_noise((*x_)(i, j), *lower_, *upper_, ops::rrelu_uniform(Expr(*seed_), index));
            (*noise_out_)(i, j) = noise;
            // On a GPU both outputs come from one kernel (scheduled below), which needs y not to
            // read the noise output: it recomputes the same expression instead. The CPU's y reads
            // the noise just written.
            (*output_)(i, j) =
                ops::rrelu_forward((*x_)(i, j), get_target().has_gpu_feature() ? noise : Expr((*noise_out_)(i, j)));
            buffers = {ImageParam(*x_), OutputImageParam(*noise_out_), OutputImageParam(*output_)};
        } else {
            (*output_)(i, j) = ops::rrelu_backward((*grad_output_)(i, j), (*noise_in_)(i, j));
            buffers = {ImageParam(*grad_output_), ImageParam(*noise_in_), OutputImageParam(*output_)};
        }
        // Slices of any stride come in (as in the pointwise family); the schedule specializes on
        // unit inner strides.
        Expr dense = Internal::const_true();
        for (OutputImageParam &b : buffers) {
            b.dim(0).set_stride(Expr());
            dense = dense && b.dim(0).stride() == 1;
            b.set_estimates({{0, 1 << 16}, {0, 1}});
        }
        if (get_target().has_gpu_feature()) {
            if (forward_) {
                // noise and y in one kernel: one launch, and x comes from DRAM once. Each
                // element of x is read only by its own thread, before that thread stores y
                // there, so y may replace x in place.
                schedules::schedule_pointwise_gpu_fused({*noise_out_, *output_});
            } else {
                schedules::schedule_pointwise_gpu(*output_);
            }
            return;
        }
        const Expr elements = cast<int64_t>(output_->dim(0).extent()) * output_->dim(1).extent();
        if (forward_) schedules::schedule_pointwise_cpu(*noise_out_, dense, elements, get_target());
        schedules::schedule_pointwise_cpu(*output_, dense, elements, get_target());
    }

private:
    bool forward_ = true;
    Input<Buffer<float, 2>> *x_ = nullptr, *grad_output_ = nullptr, *noise_in_ = nullptr;
    Input<float> *lower_ = nullptr, *upper_ = nullptr;
    Input<uint64_t> *seed_ = nullptr;
    Input<int64_t> *index_base_ = nullptr, *index_stride0_ = nullptr, *index_stride1_ = nullptr;
    Output<Buffer<float, 2>> *noise_out_ = nullptr, *output_ = nullptr;
};

}  // namespace
}  // namespace nnf

HALIDE_REGISTER_GENERATOR(nnf::RreluGenerator, nnf_rrelu)

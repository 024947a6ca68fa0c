// The generator of the softmax family. One instance compiles one kernel:
//   op=<registry name> pass=forward|backward variant=rows|columns
// on views that runtime/softmax_driver.cpp builds around the reduced dim:
//   rows:    2-D (k, row), k the reduced dim (used when no dims follow it, e.g. dim = -1)
//   columns: 3-D (i, k, outer), i the merged dims after k (vectorized), outer those before it
// C signatures: forward (x, beta, y); backward (grad_output, y, beta, grad_input).
// For a GPU target the rows kernel comes in two schedules, row_group=warp (short rows) or
// row_group=block (long rows); the driver picks one by row length. Other targets ignore it.
#include <stdexcept>

#include "Halide.h"
#include "cpu/softmax_schedule.h"
#include "gpu/softmax_schedule.h"
#include "ops/softmax_ops.h"
#include "registry/registry.h"

namespace nnf {
namespace {

using namespace Halide;

class SoftmaxGenerator : public Generator<SoftmaxGenerator> {
public:
    GeneratorParam<std::string> op{"op", ""};
    GeneratorParam<std::string> pass{"pass", "forward"};
    GeneratorParam<std::string> variant{"variant", "rows"};
    GeneratorParam<std::string> row_group{"row_group", "warp"};

    void configure() {
        const registry::Op &spec = registry::find_op(op, registry::Family::softmax);
        forward_ = registry::is_forward_pass(pass);
        rows_ = variant.value() == "rows";
        if (!rows_ && variant.value() != "columns") throw std::invalid_argument("variant must be rows or columns");
        if (row_group.value() != "warp" && row_group.value() != "block") {
            throw std::invalid_argument("row_group must be warp or block");
        }
        const int rank = rows_ ? 2 : 3;
        if (forward_) {
            first_ = add_input<Buffer<float>>("x", rank);
        } else {
            first_ = add_input<Buffer<float>>("grad_output", rank);
            second_ = add_input<Buffer<float>>("y", rank);
        }
        beta_ = add_input<float>("beta");
        output_ = add_output<Buffer<float>>(forward_ ? "y" : "grad_input", rank);
    }

    void generate() {
        const ops::SoftmaxKind kind = ops::softmax_kind(op);
        Var i("i"), k("k"), outer("outer");
        ops::SoftmaxShape shape;
        shape.args = rows_ ? std::vector<Var>{k, outer} : std::vector<Var>{i, k, outer};
        shape.reduced = rows_ ? 0 : 1;
        shape.extent = first_->dim(shape.reduced).extent();
        std::vector<Func> row_stages, element_stages;
        std::vector<OutputImageParam> buffers = {ImageParam(*first_), OutputImageParam(*output_)};
        if (forward_) {
            ops::SoftmaxForwardStages s = ops::softmax_forward(kind, *first_, *beta_, shape);
            (*output_)(shape.args) = s.y(shape.args);
            row_stages = {s.row_max, s.row_sum};
            element_stages = {s.exps};
            s.shifted.compute_inline();
        } else {
            ops::SoftmaxBackwardStages s = ops::softmax_backward(kind, *first_, *second_, *beta_, shape);
            (*output_)(shape.args) = s.grad_input(shape.args);
            row_stages = {s.row_sum};
            buffers.push_back(ImageParam(*second_));
        }
        // Any strides come in (the unit-stride constraint is lifted); the schedules specialize
        // on unit strides.
        Expr dense = Internal::const_true();
        for (OutputImageParam &b : buffers) {
            b.dim(0).set_stride(Expr());
            dense = dense && b.dim(0).stride() == 1;
            if (rows_) {
                b.set_estimates({{0, 1024}, {0, 256}});
            } else {
                b.set_estimates({{0, 256}, {0, 64}, {0, 16}});
            }
        }
        if (get_target().has_gpu_feature()) {
            // Per-element stages stay inline: recomputing exp beats storing a row on a GPU.
            if (rows_) {
                schedules::schedule_softmax_rows_gpu(*output_, row_stages, row_group.value() == "warp");
            } else {
                schedules::schedule_softmax_columns_gpu(*output_, row_stages);
            }
        } else if (rows_) {
            schedules::schedule_softmax_rows_cpu(*output_, row_stages, element_stages, dense, get_target());
        } else {
            schedules::schedule_softmax_columns_cpu(*output_, row_stages, element_stages, dense, get_target());
        }
    }

private:
    bool forward_ = true, rows_ = true;
    Input<Buffer<float>> *first_ = nullptr, *second_ = nullptr;
    Input<float> *beta_ = nullptr;
    Output<Buffer<float>> *output_ = nullptr;
};

}  // namespace
}  // namespace nnf

HALIDE_REGISTER_GENERATOR(nnf::SoftmaxGenerator, nnf_softmax)

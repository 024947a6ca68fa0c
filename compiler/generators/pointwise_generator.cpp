// The generator of the pointwise family. One instance compiles one kernel:
//   op=<registry name> pass=forward|backward variant=<enum value or empty>
// Its C signature is: tensors (forward: x; backward: grad_output, then x or y), then the
// op's runtime parameters in registry order, then the output (y or grad_input). The C ABI
// emitter (nnfc emit-c-api) relies on this order.
#include <functional>
#include <map>
#include <stdexcept>

#include "Halide.h"
#include "cpu/pointwise_schedule.h"
#include "gpu/pointwise_schedule.h"
#include "ops/pointwise_ops.h"
#include "registry/registry.h"

namespace nnf {
namespace {

using namespace Halide;

class PointwiseGenerator : public Generator<PointwiseGenerator> {
public:
    GeneratorParam<std::string> op{"op", ""};
    GeneratorParam<std::string> pass{"pass", "forward"};
    GeneratorParam<std::string> variant{"variant", ""};

    void configure() {
        const registry::Op &spec = registry::find_op(op, registry::Family::pointwise);
        const bool forward = registry::is_forward_pass(pass);

        std::vector<std::string> tensor_names;
        if (forward) {
            tensor_names = {"x"};
        } else {
            tensor_names = {"grad_output", spec.saved == registry::Saved::input ? "x" : "y"};
        }
        for (const std::string &name : tensor_names) tensors_.push_back(add_input<Buffer<float, 2>>(name));
        for (const registry::Param *param : spec.runtime_params()) {
            switch (param->type) {
            case registry::ParamType::f32: add_scalar<float>(param->name); break;
            case registry::ParamType::i32: add_scalar<int32_t>(param->name); break;
            case registry::ParamType::u64: add_scalar<uint64_t>(param->name); break;
            case registry::ParamType::i64: add_scalar<int64_t>(param->name); break;
            case registry::ParamType::boolean: add_scalar<bool>(param->name); break;
            case registry::ParamType::enumeration: break;  // compile-time: the variant
            case registry::ParamType::reduction:
                throw std::invalid_argument("pointwise op '" + spec.name + "' cannot take a reduction parameter");
            }
        }
        output_ = add_output<Buffer<float, 2>>(forward ? "y" : "grad_input");
    }

    void generate() {
        const ops::PointwiseAlgorithm &algorithm = ops::pointwise_algorithm(op);
        ops::PointwiseParams params;
        params.variant = variant;
        for (const auto &[name, read] : scalars_) params.scalars[name] = read();

        Var i("i"), j("j");
        if (pass.value() == "forward") {
            (*output_)(i, j) = algorithm.forward((*tensors_[0])(i, j), params);
        } else {
            (*output_)(i, j) = algorithm.backward((*tensors_[0])(i, j), (*tensors_[1])(i, j), params);
        }

        // The runtime passes slices of any stride (views, transposes, broadcasts), so Halide's
        // default "innermost stride is 1" constraint is lifted; schedules specialize on it.
        std::vector<OutputImageParam> buffers;
        for (auto *t : tensors_) buffers.push_back(ImageParam(*t));
        buffers.push_back(OutputImageParam(*output_));
        Expr dense = Internal::const_true();
        for (OutputImageParam &b : buffers) {
            b.dim(0).set_stride(Expr());
            dense = dense && b.dim(0).stride() == 1;
        }
        const Expr elements = cast<int64_t>(output_->dim(0).extent()) * output_->dim(1).extent();

        for (auto *t : tensors_) t->set_estimates({{0, 1 << 16}, {0, 1}});
        output_->set_estimates({{0, 1 << 16}, {0, 1}});
        if (get_target().has_gpu_feature()) {
            schedules::schedule_pointwise_gpu(*output_);
        } else {
            schedules::schedule_pointwise_cpu(*output_, dense, elements, get_target());
        }
    }

private:
    template<typename T>
    void add_scalar(const std::string &name) {
        GeneratorInput<T> *input = add_input<T>(name);
        scalars_[name] = [input] { return Expr(*input); };
    }

    std::vector<Input<Buffer<float, 2>> *> tensors_;
    // Scalar inputs have different C++ types; each entry reads its value once generate() runs.
    std::map<std::string, std::function<Expr()>> scalars_;
    Output<Buffer<float, 2>> *output_ = nullptr;
};

}  // namespace
}  // namespace nnf

HALIDE_REGISTER_GENERATOR(nnf::PointwiseGenerator, nnf_pointwise)

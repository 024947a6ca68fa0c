// A test-only kernel: every nnf::math function applied to one input vector, one output each
// (y_exp, y_log, ...), compiled ahead of time for the library's CPU targets. It lets the AOT
// path, and the arm-64 build under qemu, sweep the math the same way the JIT sweep does on x86.
#include "Halide.h"
#include "math/nnf_math.h"

namespace nnf {
namespace {

using namespace Halide;

class MathProbeGenerator : public Generator<MathProbeGenerator> {
public:
    Input<Buffer<float, 1>> x{"x"};

    void configure() {
        for (const math::FunctionInfo &f : math::functions()) {
            outputs_.push_back(add_output<Buffer<float, 1>>(std::string("y_") + f.name));
        }
    }

    void generate() {
        Var i("i");
        const int vector = get_target().natural_vector_size<float>() * 2;
        for (size_t k = 0; k < outputs_.size(); ++k) {
            Func y = *outputs_[k];
            y(i) = math::functions()[k].fn(x(i));
            // The same vector shape as the kernels (schedules/cpu): masked tail, no recompute.
            y.vectorize(i, vector, TailStrategy::Predicate);
        }
    }

private:
    std::vector<Output<Buffer<float, 1>> *> outputs_;
};

}  // namespace
}  // namespace nnf

HALIDE_REGISTER_GENERATOR(nnf::MathProbeGenerator, nnf_math_probe)

// nnf::math as the kernels run it: compiled ahead of time for each CPU path (x86-64 paths forced
// with NNF_MAX_ISA, arm-64 NEON under qemu), swept over 2^20 inputs spread across all binades
// plus every binade edge and special value, against double references, in ULPs of the float
// result. The exhaustive 2^32 sweeps are tools/ulp_sweep's (docs/math.md).
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "HalideRuntime.h"
#include "nnf_math_probe.h"
#include "test_tensor.h"

namespace nnf::test {
namespace {

struct MathReference {
    std::function<double(double)> f;
    double max_ulp;  // the bound for the function over all floats
};

double sigmoid_ref(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

const std::map<std::string, MathReference> &references() {
    static const std::map<std::string, MathReference> table = {
        {"exp", {[](double x) { return std::exp(x); }, 1}},
        {"expm1", {[](double x) { return std::expm1(x); }, 1}},
        {"log", {[](double x) { return std::log(x); }, 1}},
        {"log1p", {[](double x) { return std::log1p(x); }, 1}},
        {"tanh", {[](double x) { return std::tanh(x); }, 2}},
        {"erf", {[](double x) { return std::erf(x); }, 2}},
        {"erfc", {[](double x) { return std::erfc(x); }, 2}},
        {"sigmoid", {sigmoid_ref, 2}},
        {"softplus", {[](double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }, 2}},
        {"log_sigmoid",
         {[](double x) { return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x)); }, 2}},
    };
    return table;
}

// |got - ref| in units of the spacing of floats at ref (2^-149 below the normal range).
double ulp_error(float got, double ref) {
    if (std::isnan(ref) || std::isnan(got)) return std::isnan(ref) && std::isnan(got) ? 0 : INFINITY;
    const double rounded = static_cast<float>(ref);
    if (std::isinf(rounded) || std::isinf(got)) return static_cast<double>(got) == rounded ? 0 : INFINITY;
    int exponent;
    std::frexp(ref, &exponent);
    const double ulp = std::ldexp(1.0, std::max(exponent - 24, -149));
    return std::fabs(static_cast<double>(got) - ref) / ulp;
}

std::vector<float> sampled_inputs() {
    std::vector<float> v;
    auto push = [&](uint32_t bits) {
        float f;
        std::memcpy(&f, &bits, 4);
        v.push_back(f);
    };
    for (uint32_t i = 0; i < (1u << 20); ++i) push(i * 4096u + ((i * 2654435761u) >> 20));  // all binades
    for (uint32_t sign : {0u, 0x80000000u}) {
        for (uint32_t exponent = 0; exponent <= 0xff; ++exponent) {
            for (int d = -2; d <= 2; ++d) push(sign | ((exponent << 23) + d));  // binade edges
        }
    }
    return v;
}

TEST(MathAot, EveryFunctionWithinItsUlpBoundOnThisPath) {
    NNF_SKIP_UNLESS_ISA_AVAILABLE();
    const std::vector<float> inputs = sampled_inputs();
    const int n = static_cast<int>(inputs.size());
    const halide_filter_metadata_t *metadata = nnf_math_probe_metadata();
    std::vector<std::vector<float>> outputs;
    std::vector<std::string> names;
    std::vector<halide_buffer_t> buffers(static_cast<size_t>(metadata->num_arguments));
    std::vector<halide_dimension_t> dims(static_cast<size_t>(metadata->num_arguments), halide_dimension_t(0, n, 1));
    std::vector<void *> args;
    outputs.reserve(static_cast<size_t>(metadata->num_arguments));
    for (int a = 0; a < metadata->num_arguments; ++a) {
        const halide_filter_argument_t &arg = metadata->arguments[a];
        float *data = const_cast<float *>(inputs.data());
        if (arg.kind == halide_argument_kind_output_buffer) {
            outputs.emplace_back(static_cast<size_t>(n));
            names.push_back(std::string(arg.name).substr(2));  // "y_exp" -> "exp"
            data = outputs.back().data();
        }
        halide_buffer_t &b = buffers[static_cast<size_t>(a)];
        b = halide_buffer_t();
        b.host = reinterpret_cast<uint8_t *>(data);
        b.type = halide_type_t(halide_type_float, 32);
        b.dimensions = 1;
        b.dim = &dims[static_cast<size_t>(a)];
        args.push_back(&b);
    }
    ASSERT_EQ(nnf_math_probe_argv(args.data()), 0);
    ASSERT_EQ(names.size(), references().size()) << "a math function without a reference here, or the reverse";
    for (size_t k = 0; k < names.size(); ++k) {
        auto ref = references().find(names[k]);
        ASSERT_NE(ref, references().end()) << names[k];
        double worst = 0;
        float worst_input = 0;
        for (int i = 0; i < n; ++i) {
            const double e = ulp_error(outputs[k][static_cast<size_t>(i)], ref->second.f(inputs[static_cast<size_t>(i)]));
            if (e > worst) {
                worst = e;
                worst_input = inputs[static_cast<size_t>(i)];
            }
        }
        EXPECT_LE(worst, ref->second.max_ulp) << names[k] << " at x = " << worst_input << " (" << std::hexfloat
                                              << worst_input << std::defaultfloat << ")";
        RecordProperty(names[k] + "_max_ulp", std::to_string(worst));
    }
}

}  // namespace
}  // namespace nnf::test

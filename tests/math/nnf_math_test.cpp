// Sampled accuracy sweep, special values and generated-code checks for nnf::math.
// The exhaustive 2^32 sweeps live in tools/ulp_sweep (results in docs/math.md);
// this suite runs in seconds: 2^20 inputs spread over all binades, every binade
// edge, every special value and the known thresholds, per function per x86 path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "Halide.h"
#include "math/nnf_math.h"
#include "ulp_sweep.h"

namespace {

float from_bits(uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}
uint32_t to_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

// 2^20 strided bit patterns (stride 4096, jittered so low mantissa bits vary),
// plus both signs of every binade edge 2^e (e = -149..127) with neighbours,
// the extremes, zeros, infinities, NaNs and each function's thresholds.
std::vector<uint32_t> sample_inputs() {
    std::vector<uint32_t> v;
    v.reserve((1u << 20) + 8192);
    for (uint32_t i = 0; i < (1u << 20); i++) {
        v.push_back(i * 4096u + ((i * 2654435761u) >> 20));
    }
    for (uint32_t sign : {0u, 0x80000000u}) {
        // Denormal powers of two, then normal binade edges.
        for (int e = 0; e < 23; e++) {
            uint32_t p = 1u << e;
            for (int d = -2; d <= 2; d++) v.push_back(sign | (p + d));
        }
        for (uint32_t exp_field = 1; exp_field <= 0xff; exp_field++) {
            uint32_t p = exp_field << 23;
            for (int d = -3; d <= 3; d++) v.push_back(sign | (p + d));
        }
        for (uint32_t b : {0x00000000u, 0x00000001u, 0x007fffffu, 0x00800000u, 0x7f7fffffu, 0x7f800000u,
                           0x7f800001u, 0x7fc00000u, 0x7fffffffu, 0x3f800000u,
                           // exp overflow / underflow, tanh -> 1, erfc underflow, sigmoid -> 1.
                           0x42b17217u, 0x42b17218u, 0xc2cff1b4u, 0xc2cff1b5u, 0x41102cb3u, 0x41102cb4u,
                           0x4120de00u, 0x418aa123u, 0x33800000u, 0x3f3504f3u, 0x3fb504f3u,
                           // Clamps and branch points of the float32 kernels: exp/expm1 at
                           // -130/-18/89, expm1's k = 25 (16.98) and k = 1 (0.3466), tanh's
                           // 0.55 and 9.1, sigmoid's 18 and 130.
                           0x43020000u, 0x41900000u, 0x42b20000u, 0x4187de05u, 0x3eb17218u,
                           0x3f0ccccdu, 0x4111999au}) {
            for (int d = -3; d <= 3; d++) v.push_back(sign | (b + d));
        }
    }
    return v;
}

const std::vector<uint32_t> &inputs() {
    static const std::vector<uint32_t> v = sample_inputs();
    return v;
}

const std::vector<std::string> kIsas = {"avx512", "avx2", "baseline"};

std::vector<std::string> function_names() {
    std::vector<std::string> names;
    for (const auto &f : nnf::math::functions()) names.push_back(f.name);
    return names;
}

class SampledSweep : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(SampledSweep, WithinUlpBoundAndSpecialValuesExact) {
    const auto &[fname, isaname] = GetParam();
    const nnf::ulp::Isa *isa = nnf::ulp::find_isa(isaname);
    ASSERT_NE(isa, nullptr);
    if (!nnf::ulp::isa_available(*isa)) {
        GTEST_SKIP() << "this CPU cannot run the " << isaname << " path (" << isa->target << ")";
    }
    const nnf::math::FunctionInfo *fn = nnf::math::find_function(fname.c_str());
    ASSERT_NE(fn, nullptr);
    nnf::ulp::Evaluator eval(fname, nnf::ulp::isa_target(*isa));
    nnf::ulp::RefFn ref = nnf::ulp::reference(fname);

    const auto &bits = inputs();
    std::vector<float> in(bits.size()), out(bits.size());
    for (size_t i = 0; i < bits.size(); i++) in[i] = from_bits(bits[i]);
    eval.run(in.data(), out.data(), static_cast<int>(in.size()));

    nnf::ulp::Stats s;
    for (size_t i = 0; i < bits.size(); i++) {
        nnf::ulp::accumulate(s, fname, fn->max_ulp, bits[i], out[i], ref(static_cast<double>(in[i])));
    }
    std::printf("[ %s / %s ] %llu inputs, max %.4f ULP at 0x%08x (%.9g), %llu over 1 ULP\n", fname.c_str(),
                isaname.c_str(), static_cast<unsigned long long>(s.count), s.max_ulp, s.worst_bits,
                from_bits(s.worst_bits), static_cast<unsigned long long>(s.over_1ulp));
    EXPECT_EQ(s.over_bound, 0u) << fname << " exceeds " << fn->max_ulp << " ULP: max " << s.max_ulp
                                << " ULP at x = " << from_bits(s.worst_bits) << " (0x" << std::hex << s.worst_bits
                                << std::dec << "): got " << s.worst_out << ", reference " << s.worst_ref;
    EXPECT_LE(s.max_ulp, fn->max_ulp);
    EXPECT_EQ(s.special_mismatches, 0u)
        << "first at x = " << from_bits(s.first_special_bits) << " (0x" << std::hex << s.first_special_bits
        << std::dec << "): got " << s.first_special_out;
}

INSTANTIATE_TEST_SUITE_P(AllFunctionsAllPaths, SampledSweep,
                         ::testing::Combine(::testing::ValuesIn(function_names()), ::testing::ValuesIn(kIsas)),
                         [](const auto &info) {
                             return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

// The special values spelled out (the sweep checks them too, against libm).
struct Special {
    const char *fn;
    float x;
    float expected;
};
const float kInf = INFINITY;
const float kNaN = NAN;
const Special kSpecials[] = {
    {"exp", kNaN, kNaN},          {"exp", kInf, kInf},           {"exp", -kInf, 0.0f},
    {"exp", 0.0f, 1.0f},          {"exp", -0.0f, 1.0f},          {"exp", from_bits(0x42b17218u), kInf},
    {"exp", from_bits(0x42b17217u), 3.40279851e38f},             {"exp", -103.972084f, 0.0f},
    {"exp", -103.9720764f, 0x1p-149f},                           {"expm1", -0.0f, -0.0f},
    {"expm1", 0.0f, 0.0f},        {"expm1", kInf, kInf},         {"expm1", -kInf, -1.0f},
    {"expm1", kNaN, kNaN},        {"expm1", 0x1p-140f, 0x1p-140f},
    {"expm1", -20.0f, -1.0f},     {"expm1", from_bits(0x42b17218u), kInf},
    {"expm1", from_bits(0x42b17217u), 3.40279851e38f},          {"exp", -120.0f, 0.0f},
    {"exp", -1000.0f, 0.0f},      {"exp", 1000.0f, kInf},
    {"log", 0.0f, -kInf},         {"log", -0.0f, -kInf},         {"log", -1.0f, kNaN},
    {"log", -kInf, kNaN},         {"log", kInf, kInf},           {"log", 1.0f, 0.0f},
    {"log", kNaN, kNaN},          {"log1p", -0.0f, -0.0f},       {"log1p", -1.0f, -kInf},
    {"log1p", -2.0f, kNaN},       {"log1p", kInf, kInf},         {"log1p", 0x1p-149f, 0x1p-149f},
    {"tanh", -0.0f, -0.0f},       {"tanh", 0.0f, 0.0f},          {"tanh", 10.0f, 1.0f},
    {"tanh", -10.0f, -1.0f},      {"tanh", kInf, 1.0f},          {"tanh", -kInf, -1.0f},
    {"tanh", kNaN, kNaN},         {"erf", -0.0f, -0.0f},         {"erf", kInf, 1.0f},
    {"erf", -kInf, -1.0f},        {"erf", 4.0f, 1.0f},           {"erf", kNaN, kNaN},
    {"erfc", kInf, 0.0f},         {"erfc", -kInf, 2.0f},         {"erfc", 11.0f, 0.0f},
    {"erfc", -5.0f, 2.0f},        {"erfc", kNaN, kNaN},          {"erfc", 0.0f, 1.0f},
    {"erfc", -0.0f, 1.0f},        {"erfc", from_bits(0x4120ddfcu), 0.0f},  // first x with erfc -> 0
    {"erfc", from_bits(0x4120ddfbu), 0x1p-149f},                 {"erfc", -from_bits(0x407547cbu), 2.0f},
    {"erfc", -from_bits(0x407547cau), 0x1.fffffep+0f},           {"sigmoid", kInf, 1.0f},
    {"sigmoid", -kInf, 0.0f},     {"sigmoid", 20.0f, 1.0f},      {"sigmoid", -200.0f, 0.0f},
    {"sigmoid", kNaN, kNaN},      {"sigmoid", -0.0f, 0.5f},      {"sigmoid", 18.0f, 1.0f},
    {"sigmoid", -120.0f, 0.0f},   {"tanh", 9.1f, 1.0f},          {"tanh", -100.0f, -1.0f},      {"softplus", kInf, kInf},
    {"softplus", -kInf, 0.0f},    {"softplus", 100.0f, 100.0f},  {"softplus", kNaN, kNaN},
    {"log_sigmoid", -kInf, -kInf}, {"log_sigmoid", kInf, -0.0f}, {"log_sigmoid", 200.0f, -0.0f},
    {"log_sigmoid", -100.0f, -100.0f}, {"log_sigmoid", kNaN, kNaN},
    // float32 log1p, softplus, log_sigmoid and erf kernels: tiny, saturating and boundary inputs.
    {"log1p", 0.0f, 0.0f},        {"log1p", -0x1p-149f, -0x1p-149f},                     {"log1p", 0x1p-25f, 0x1p-25f},
    {"log1p", -0x1p-25f, -0x1p-25f}, {"log1p", -kInf, kNaN},     {"log1p", kNaN, kNaN},
    {"log1p", -1.0f + 0x1p-24f, from_bits(0xc1851592u)},  // log(2^-24)
    {"log1p", 3.40282347e38f, from_bits(0x42b17218u)},    {"log1p", 1.0f, from_bits(0x3f317218u)},  // ln 2
    {"erf", 0.0f, 0.0f},          {"erf", 0x1p-149f, 0x1p-149f}, {"erf", -0x1p-149f, -0x1p-149f},
    {"erf", from_bits(0x407ad445u), 1.0f},                       {"erf", -from_bits(0x407ad445u), -1.0f},
    {"erf", from_bits(0x407ad444u), 0x1.fffffep-1f},             {"erf", -kNaN, kNaN},
    {"softplus", -200.0f, 0.0f},  {"softplus", -104.0f, 0.0f},   {"softplus", 18.0f, 18.0f},
    {"softplus", -0x1p-149f, from_bits(0x3f317218u)},            {"softplus", -kNaN, kNaN},
    {"log_sigmoid", 104.0f, -0.0f}, {"log_sigmoid", -18.0f, from_bits(0xc1900000u)},  // -18 - e^-18 rounds to -18
    {"log_sigmoid", -kNaN, kNaN},
    // all-float32 erfc: tiny inputs round to 1, huge ones saturate by the clamp, NaN with the sign bit.
    {"erfc", 0x1p-149f, 1.0f},    {"erfc", -0x1p-149f, 1.0f},    {"erfc", 0x1p-26f, 1.0f},
    {"erfc", 1e30f, 0.0f},        {"erfc", -1e30f, 2.0f},        {"erfc", -kNaN, kNaN},
};

class SpecialValues : public ::testing::TestWithParam<std::string> {};

TEST_P(SpecialValues, Exact) {
    const nnf::ulp::Isa *isa = nnf::ulp::find_isa(GetParam());
    ASSERT_NE(isa, nullptr);
    if (!nnf::ulp::isa_available(*isa)) {
        GTEST_SKIP() << "this CPU cannot run the " << GetParam() << " path (" << isa->target << ")";
    }
    for (const auto &f : nnf::math::functions()) {
        std::vector<float> in, out;
        std::vector<float> expected;
        for (const auto &s : kSpecials) {
            if (std::strcmp(s.fn, f.name) == 0) {
                in.push_back(s.x);
                expected.push_back(s.expected);
            }
        }
        if (in.empty()) continue;
        out.resize(in.size());
        nnf::ulp::Evaluator(f.name, nnf::ulp::isa_target(*isa)).run(in.data(), out.data(), static_cast<int>(in.size()));
        for (size_t i = 0; i < in.size(); i++) {
            if (std::isnan(expected[i])) {
                EXPECT_TRUE(std::isnan(out[i])) << f.name << "(" << in[i] << ") = " << out[i] << ", want NaN";
            } else {
                EXPECT_EQ(to_bits(out[i]), to_bits(expected[i]))
                    << f.name << "(" << in[i] << ") = " << out[i] << ", want " << expected[i];
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllPaths, SpecialValues, ::testing::ValuesIn(kIsas));

// Generated code: vectorized, and no calls into libm (or any scalar math helper).
struct AsmTarget {
    const char *name;
    const char *target;
    const char *vector_op;  // a regex that proves packed float math in the loop
    const char *fma_op;     // packed FMA expected in the polynomials ("" for none)
};
const AsmTarget kAsmTargets[] = {
    {"avx512", "x86-64-linux-avx512_skylake", R"(v(mul|add|sub|fmadd\d+)p[sd]\s.*zmm)", R"(vfmadd\d+ps\s.*zmm)"},
    {"avx2", "x86-64-linux-avx2-fma-f16c", R"(v(mul|add|sub|fmadd\d+)p[sd]\s.*ymm)", R"(vfmadd\d+ps\s.*ymm)"},
    {"baseline", "x86-64-linux", R"(\s(mul|add|sub)p[sd]\s+%xmm)", ""},
    {"arm64", "arm-64-linux", R"(\s(fmul|fadd|fsub|fmla)\s+v\d+\.[24][sd])", R"(\sfmla\s+v\d+\.4s)"},
};

// Compiles one pipeline with one output per function to assembly; with
// `halide_tanh_control`, a pipeline of Halide's own tanh instead.
std::string assembly_for(const AsmTarget &t, bool halide_tanh_control = false) {
    // no_runtime: only the pipeline's own code is inspected, not Halide's runtime.
    Halide::Target target = Halide::Target(t.target).with_feature(Halide::Target::NoRuntime);
    Halide::ImageParam in(Halide::Float(32), 1, "in");
    Halide::Var x("x");
    std::vector<Halide::Func> outs;
    for (const auto &f : nnf::math::functions()) {
        if (halide_tanh_control) break;
        Halide::Func g(std::string("nnf_") + f.name);
        g(x) = f.fn(in(x));
        g.vectorize(x, target.natural_vector_size<float>(), Halide::TailStrategy::RoundUp);
        outs.push_back(g);
    }
    if (halide_tanh_control) {
        Halide::Func g("halide_tanh");
        g(x) = Halide::tanh(in(x));
        g.vectorize(x, target.natural_vector_size<float>(), Halide::TailStrategy::RoundUp);
        outs.push_back(g);
    }
    std::string path = ::testing::TempDir() + "nnf_math_" + t.name + (halide_tanh_control ? "_control" : "") + ".s";
    Halide::Pipeline(outs).compile_to_assembly(path, {in}, "nnf_math_all", target);
    std::ifstream file(path);
    std::stringstream ss;
    ss << file.rdbuf();
    return ss.str();
}

// Lines that call a math routine (libm, compiler-rt, SVML-style names);
// Halide runtime helpers (halide_error_*, ...) are fine.
std::vector<std::string> math_calls(const std::string &text) {
    static const std::regex math_call(
        R"(^\s*(call|callq|jmp|bl|b)\s+(?!_?halide_|_ZN6Halide)\S*(exp|log|tanh|erf|sin|cos|pow|floor|ceil|round|rint|trunc|fma|sqrt)\S*)",
        std::regex::icase);
    std::vector<std::string> found;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (std::regex_search(line, math_call)) found.push_back(line);
    }
    return found;
}

class GeneratedCode : public ::testing::TestWithParam<AsmTarget> {};

TEST_P(GeneratedCode, VectorizedWithoutLibmCalls) {
    const AsmTarget &t = GetParam();
    const std::string text = assembly_for(t);
    ASSERT_FALSE(text.empty());
    for (const auto &line : math_calls(text)) {
        ADD_FAILURE() << t.name << ": scalar math call: " << line;
    }
    int packed_ops = 0, fma_ops = 0;
    const std::regex vector_op(t.vector_op);
    const std::regex fma_op(*t.fma_op ? t.fma_op : "^$never");
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (std::regex_search(line, vector_op)) packed_ops++;
        if (std::regex_search(line, fma_op)) fma_ops++;
    }
    EXPECT_GT(packed_ops, 100) << t.name << ": too few packed float ops; is the code vectorized?";
    if (*t.fma_op) {
        EXPECT_GT(fma_ops, 10) << t.name << ": the polynomials should use packed FMA";
    }
    std::printf("[ %s ] %d packed float ops (%d packed float32 FMA), no math calls\n", t.name, packed_ops, fma_ops);
}

// CUDA: the PTX that Halide embeds in the host object has no calls (libdevice's
// __nv_expf and friends would appear as `call`), uses fma.rn.f32 and targets sm_70.
TEST(GeneratedCodeCuda, PtxWithoutCalls) {
    Halide::Target target("x86-64-linux-cuda-cuda_capability_70-no_runtime");
    Halide::ImageParam in(Halide::Float(32), 1, "in");
    Halide::Var x("x"), xo("xo"), xi("xi");
    std::vector<Halide::Func> outs;
    for (const auto &f : nnf::math::functions()) {
        Halide::Func g(std::string("nnf_") + f.name);
        g(x) = f.fn(in(x));
        g.gpu_tile(x, xo, xi, 128, Halide::TailStrategy::RoundUp);
        outs.push_back(g);
    }
    std::string path = ::testing::TempDir() + "nnf_math_cuda.s";
    Halide::Pipeline(outs).compile_to_assembly(path, {in}, "nnf_math_all", target);
    std::ifstream file(path);
    std::stringstream ss;
    ss << file.rdbuf();
    const std::string text = ss.str();
    EXPECT_NE(text.find(".target sm_70"), std::string::npos) << "no PTX found in " << path;
    // PTX calls are `call` / `call.uni`; host calls print as `callq`.
    std::smatch m;
    EXPECT_FALSE(std::regex_search(text, m, std::regex(R"(\bcall(\.uni)?\s)"))) << "PTX call: " << m.str();
    EXPECT_NE(text.find("fma.rn.f32"), std::string::npos) << "no fma.rn.f32 in the PTX";
}

// The check above must be able to fail: Halide's own tanh calls libm on x86.
TEST(GeneratedCodeControl, HalideTanhCallsLibmOnX86) {
    const std::string text = assembly_for(kAsmTargets[1], /*halide_tanh_control=*/true);
    EXPECT_FALSE(math_calls(text).empty()) << "the call detector found nothing in Halide::tanh's code";
}

INSTANTIATE_TEST_SUITE_P(Targets, GeneratedCode, ::testing::ValuesIn(kAsmTargets),
                         [](const auto &info) { return std::string(info.param.name); });

}  // namespace

// nnf_math_bench: G elements/s of each nnf::math function on L1-resident data
// (4096 floats in, 4096 out), single thread, side by side with Halide's built-ins
// and Sleef, on the AVX-512 and AVX2 paths.
//
// Benchmarks are named <function>/<implementation>/<isa>; items_per_second is
// elements per second. Halide pipelines are JIT-compiled (same code generation
// as AOT) before timing; each call processes the 4096 inputs kRepeat times
// through a stride-0 outer dimension, so the per-call overhead is amortized.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Halide.h"
#include "math/nnf_math.h"
#include "sleef_kernels.h"

namespace {

constexpr int kN = 4096;
constexpr int kRepeat = 16;

using Halide::Expr;

// Halide's own math (and the formulas a user would write with it).
struct Builtin {
    const char *function;
    const char *name;
    Expr (*fn)(Expr);
};
const Builtin kBuiltins[] = {
    {"exp", "halide_exp", [](Expr x) { return Halide::exp(x); }},
    {"exp", "halide_fast_exp", [](Expr x) { return Halide::fast_exp(x); }},
    {"expm1", "halide_exp_minus_1", [](Expr x) { return Halide::exp(x) - 1.0f; }},
    {"log", "halide_log", [](Expr x) { return Halide::log(x); }},
    {"log", "halide_fast_log", [](Expr x) { return Halide::fast_log(x); }},
    {"log1p", "halide_log_1_plus", [](Expr x) { return Halide::log(1.0f + x); }},
    {"tanh", "halide_tanh", [](Expr x) { return Halide::tanh(x); }},
    {"erf", "halide_erf", [](Expr x) { return Halide::erf(x); }},
    {"erfc", "halide_1_minus_erf", [](Expr x) { return 1.0f - Halide::erf(x); }},
    {"sigmoid", "halide_exp", [](Expr x) { return 1.0f / (1.0f + Halide::exp(-x)); }},
    {"sigmoid", "halide_fast_exp", [](Expr x) { return 1.0f / (1.0f + Halide::fast_exp(-x)); }},
    {"softplus", "halide_exp_log",
     [](Expr x) { return Halide::max(x, 0.0f) + Halide::log(1.0f + Halide::exp(-Halide::abs(x))); }},
    {"log_sigmoid", "halide_exp_log",
     [](Expr x) { return Halide::min(x, 0.0f) - Halide::log(1.0f + Halide::exp(-Halide::abs(x))); }},
};

struct IsaInfo {
    const char *name;
    const char *target;
    const nnf::bench::SleefKernel *sleef;
};
const IsaInfo kIsas[] = {
    {"avx512", "x86-64-linux-avx512_skylake", nnf::bench::kSleefAvx512},
    {"avx2", "x86-64-linux-avx2-fma-f16c", nnf::bench::kSleefAvx2},
};

// Inputs in a range where the function does real work (no saturation shortcuts).
std::vector<float> make_inputs(const std::string &function) {
    std::mt19937 rng(42);
    float lo = -10.0f, hi = 10.0f;
    if (function == "log") lo = 1e-3f, hi = 1e3f;
    if (function == "log1p") lo = -0.99f, hi = 100.0f;
    if (function == "exp" || function == "expm1") lo = -80.0f, hi = 80.0f;
    if (function == "erf" || function == "erfc" || function == "tanh") lo = -5.0f, hi = 5.0f;
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(kN);
    for (auto &x : v) x = d(rng);
    return v;
}

struct HalideKernel {
    Halide::Callable callable;
};

std::shared_ptr<HalideKernel> compile(Expr (*body)(const Expr &), const Halide::Target &target) {
    Halide::ImageParam in(Halide::Float(32), 1, "in");
    Halide::Var x("x"), r("r");
    Halide::Func f("f");
    f(x, r) = body(in(x));
    // Two vectors per iteration for instruction-level parallelism.
    f.vectorize(x, 2 * target.natural_vector_size<float>());
    auto k = std::make_shared<HalideKernel>();
    k->callable = f.compile_to_callable({in}, target);
    return k;
}

void run_halide(benchmark::State &state, std::shared_ptr<HalideKernel> k, std::vector<float> in) {
    std::vector<float> out(kN);
    Halide::Runtime::Buffer<float> bin(in.data(), kN);
    halide_dimension_t dims[2] = {{0, kN, 1}, {0, kRepeat, 0}};  // stride 0: rewrite the same 16 KB
    Halide::Runtime::Buffer<float> bout(out.data(), 2, dims);
    for (auto _ : state) {
        int rc = k->callable(bin.raw_buffer(), bout.raw_buffer());
        if (rc != 0) {
            state.SkipWithError("Halide pipeline failed");
            break;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * int64_t(kN) * kRepeat);
}

void run_sleef(benchmark::State &state, void (*fn)(const float *, float *, int), std::vector<float> in,
               std::string label) {
    std::vector<float> out(kN);
    state.SetLabel(label);
    for (auto _ : state) {
        for (int rep = 0; rep < kRepeat; rep++) {
            fn(in.data(), out.data(), kN);
            benchmark::ClobberMemory();
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * int64_t(kN) * kRepeat);
}

}  // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    __builtin_cpu_init();
    for (const auto &isa : kIsas) {
        bool ok = std::string(isa.name) == "avx512"
                      ? __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
                      : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        if (!ok) {
            std::fprintf(stderr, "nnf_math_bench: skipping %s, this CPU does not support it\n", isa.name);
            continue;
        }
        Halide::Target target(isa.target);
        for (const auto &fn : nnf::math::functions()) {
            std::vector<float> in = make_inputs(fn.name);
            std::string prefix = std::string(fn.name) + "/";
            auto ours = compile(fn.fn, target);
            benchmark::RegisterBenchmark((prefix + "nnf/" + isa.name).c_str(), run_halide, ours, in);
            for (const auto &b : kBuiltins) {
                if (std::string(b.function) != fn.name) continue;
                Halide::ImageParam hin(Halide::Float(32), 1, "in");
                Halide::Var x("x"), r("r");
                Halide::Func f("f");
                f(x, r) = b.fn(hin(x));
                f.vectorize(x, 2 * target.natural_vector_size<float>());
                auto k = std::make_shared<HalideKernel>();
                k->callable = f.compile_to_callable({hin}, target);
                benchmark::RegisterBenchmark((prefix + b.name + "/" + isa.name).c_str(), run_halide, k, in);
            }
            for (const auto *s = isa.sleef; s->function; s++) {
                if (std::string(s->function) != fn.name) continue;
                benchmark::RegisterBenchmark((prefix + "sleef/" + isa.name).c_str(), run_sleef, s->run, in,
                                             std::string(s->sleef));
            }
        }
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

#include "ulp_sweep.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "math/nnf_math.h"

namespace nnf::ulp {

const std::vector<Isa> &isas() {
    static const std::vector<Isa> list = {
        {"avx512", "x86-64-linux-avx512_skylake"},
        {"avx2", "x86-64-linux-avx2-fma-f16c"},
        {"baseline", "x86-64-linux"},
        {"host", "host"},
    };
    return list;
}

const Isa *find_isa(const std::string &name) {
    for (const auto &i : isas()) {
        if (name == i.name) {
            return &i;
        }
    }
    return nullptr;
}

bool isa_available(const Isa &isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (std::strcmp(isa.name, "avx512") == 0) {
        // avx512_skylake = F, CD, BW, DQ, VL.
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl");
    }
    if (std::strcmp(isa.name, "avx2") == 0) {
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    }
    return true;
#else
    return std::strcmp(isa.name, "host") == 0;
#endif
}

Halide::Target isa_target(const Isa &isa) {
    if (std::strcmp(isa.target, "host") == 0) {
        return Halide::get_host_target();
    }
    return Halide::Target(isa.target);
}

namespace {

double ref_sigmoid(double x) {
    return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}
double ref_softplus(double x) {
    return std::fmax(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
}
double ref_log_sigmoid(double x) {
    return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x));
}
double ref_exp(double x) { return std::exp(x); }
double ref_expm1(double x) { return std::expm1(x); }
double ref_log(double x) { return std::log(x); }
double ref_log1p(double x) { return std::log1p(x); }
double ref_tanh(double x) { return std::tanh(x); }
double ref_erf(double x) { return std::erf(x); }
double ref_erfc(double x) { return std::erfc(x); }

uint32_t float_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

}  // namespace

RefFn reference(const std::string &f) {
    if (f == "exp") return ref_exp;
    if (f == "expm1") return ref_expm1;
    if (f == "log") return ref_log;
    if (f == "log1p") return ref_log1p;
    if (f == "tanh") return ref_tanh;
    if (f == "erf") return ref_erf;
    if (f == "erfc") return ref_erfc;
    if (f == "sigmoid") return ref_sigmoid;
    if (f == "softplus") return ref_softplus;
    if (f == "log_sigmoid") return ref_log_sigmoid;
    return nullptr;
}

bool must_be_exact(const std::string &f, float rf) {
    if (rf == 0.0f || std::isinf(rf)) {
        return true;
    }
    if (rf != 1.0f && rf != -1.0f && rf != 2.0f) {
        return false;  // the common case, without string compares
    }
    if ((f == "tanh" || f == "erf") && (rf == 1.0f || rf == -1.0f)) {
        return true;
    }
    if (f == "sigmoid" && rf == 1.0f) {
        return true;
    }
    if (f == "erfc" && rf == 2.0f) {
        return true;
    }
    return false;
}

double ulp_of(double r) {
    double a = std::fabs(r);
    if (a < 0x1p-126) {
        return 0x1p-149;
    }
    int e;
    std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1)
    return std::ldexp(1.0, e - 24);
}

void Stats::merge(const Stats &o) {
    count += o.count;
    if (o.max_ulp > max_ulp) {
        max_ulp = o.max_ulp;
        worst_bits = o.worst_bits;
        worst_out = o.worst_out;
        worst_ref = o.worst_ref;
    }
    over_1ulp += o.over_1ulp;
    over_bound += o.over_bound;
    if (o.special_mismatches && !special_mismatches) {
        first_special_bits = o.first_special_bits;
        first_special_out = o.first_special_out;
    }
    special_mismatches += o.special_mismatches;
}

void accumulate(Stats &s, const std::string &function, double bound, uint32_t in_bits, float y, double ref) {
    s.count++;
    double err;
    bool special = false;
    if (std::isnan(ref) || std::isnan(y)) {
        special = std::isnan(ref) != std::isnan(y);
        err = special ? INFINITY : 0.0;
    } else {
        float rf = static_cast<float>(ref);
        if ((must_be_exact(function, rf) || y == 0.0f || std::isinf(y)) && float_bits(y) != float_bits(rf)) {
            special = true;
        }
        if (std::isinf(y) || std::isinf(rf)) {
            err = (y == rf) ? 0.0 : INFINITY;
        } else {
            err = std::fabs(static_cast<double>(y) - ref) / ulp_of(ref);
        }
    }
    if (special) {
        if (!s.special_mismatches) {
            s.first_special_bits = in_bits;
            s.first_special_out = y;
        }
        s.special_mismatches++;
    }
    if (err > 1.0) s.over_1ulp++;
    if (err > bound) s.over_bound++;
    if (err > s.max_ulp) {
        s.max_ulp = err;
        s.worst_bits = in_bits;
        s.worst_out = y;
        s.worst_ref = ref;
    }
}

Evaluator::Evaluator(const std::string &function, const Halide::Target &target) : function_(function) {
    const nnf::math::FunctionInfo *info = nnf::math::find_function(function.c_str());
    if (!info) {
        throw std::runtime_error("unknown function " + function);
    }
    Halide::ImageParam in(Halide::Float(32), 1, "in");
    Halide::Var x("x");
    Halide::Func f("nnf_" + function);
    f(x) = info->fn(in(x));
    f.vectorize(x, target.natural_vector_size<float>(), Halide::TailStrategy::GuardWithIf);
    callable_ = f.compile_to_callable({in}, target);
}

void Evaluator::run(const float *in, float *out, int n) const {
    Halide::Runtime::Buffer<const float> bin(in, n);
    Halide::Runtime::Buffer<float> bout(out, n);
    int rc = callable_(bin.raw_buffer(), bout.raw_buffer());
    if (rc != 0) {
        throw std::runtime_error("Halide pipeline failed with code " + std::to_string(rc));
    }
}

}  // namespace nnf::ulp

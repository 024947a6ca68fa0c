// ULP measurement of nnf::math functions against double-precision libm references.
// Shared by the nnf_ulp_sweep tool and the sampled tests in tests/math.
//
// Error of a float result y against the double reference r:
//   |y - r| / ulp(r), where ulp(r) is the spacing of float32 in the binade that
//   contains |r| (2^(e-23) for 2^e <= |r| < 2^(e+1)), and 2^-149 for |r| < 2^-126.
// A special-value mismatch is a result that is not bit-identical to the correctly
// rounded reference rf = (float)r where it must be: NaN vs non-NaN, rf or y infinite,
// rf or y zero (sign included), and rf = +-1 for tanh/erf/sigmoid, rf = 2 for erfc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "Halide.h"

namespace nnf::ulp {

struct Isa {
    const char *name;    // avx512, avx2, baseline, host
    const char *target;  // Halide target string ("host" for the host)
};
const std::vector<Isa> &isas();
const Isa *find_isa(const std::string &name);
// True when this CPU can run code compiled for the path.
bool isa_available(const Isa &isa);
Halide::Target isa_target(const Isa &isa);

// The double-precision reference for a function name (libm based).
using RefFn = double (*)(double);
RefFn reference(const std::string &function);
// Extra values that must be exact for this function (see header comment).
bool must_be_exact(const std::string &function, float rounded_reference);

double ulp_of(double r);

struct Stats {
    uint64_t count = 0;
    double max_ulp = 0;
    uint32_t worst_bits = 0;
    float worst_out = 0;
    double worst_ref = 0;
    uint64_t over_1ulp = 0;
    uint64_t over_bound = 0;
    uint64_t special_mismatches = 0;
    uint32_t first_special_bits = 0;
    float first_special_out = 0;
    void merge(const Stats &o);
};

// Compares one result with its reference and updates the statistics.
void accumulate(Stats &s, const std::string &function, double bound, uint32_t in_bits, float y, double ref);

// One nnf::math function JIT-compiled for one ISA path, vectorized at the
// target's natural width. Thread-safe to call.
class Evaluator {
public:
    Evaluator(const std::string &function, const Halide::Target &target);
    void run(const float *in, float *out, int n) const;

private:
    Halide::Callable callable_;
    std::string function_;
};

}  // namespace nnf::ulp

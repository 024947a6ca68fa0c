// Sleef loops over float arrays, compiled once per ISA (sleef_avx512.cpp, sleef_avx2.cpp).
#pragma once

namespace nnf::bench {

struct SleefKernel {
    const char *function;  // nnf::math name
    const char *sleef;     // what runs, e.g. "Sleef_expf16_u10"
    void (*run)(const float *in, float *out, int n);  // n: a multiple of 16
};

// Null-terminated tables.
extern const SleefKernel kSleefAvx512[];
extern const SleefKernel kSleefAvx2[];

}  // namespace nnf::bench

// Compiled with -mavx2 -mfma (see CMakeLists.txt); only called where the CPU has AVX2+FMA.
#include <immintrin.h>
#include <sleef.h>

#include "sleef_kernels.h"

namespace nnf::bench {
static inline __m256 abs256(__m256 x) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
}
#define VEC __m256
#define W 8
#define LOAD _mm256_loadu_ps
#define STORE _mm256_storeu_ps
#define SET1 _mm256_set1_ps
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps
#define MAX _mm256_max_ps
#define MIN _mm256_min_ps
#define ABS abs256
#define TABLE kSleefAvx2
#include "sleef_kernels.inc"
}  // namespace nnf::bench

// Compiled with -mavx512f (see CMakeLists.txt); only called where the CPU has AVX-512.
#include <immintrin.h>
#include <sleef.h>

#include "sleef_kernels.h"

namespace nnf::bench {
#define VEC __m512
#define W 16
#define LOAD _mm512_loadu_ps
#define STORE _mm512_storeu_ps
#define SET1 _mm512_set1_ps
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define DIV _mm512_div_ps
#define MAX _mm512_max_ps
#define MIN _mm512_min_ps
#define ABS _mm512_abs_ps
#define TABLE kSleefAvx512
#include "sleef_kernels.inc"
}  // namespace nnf::bench

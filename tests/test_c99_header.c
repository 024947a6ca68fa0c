/* The public header compiles as C99 with -Wall -Wextra -Werror -pedantic (see CMakeLists). */
#include <nnfuse/nnfuse.h>

int nnf_test_c99_header_compiles(void) {
    nnf_gelu_params params = nnf_gelu_default_params();
    params.approximate = NNF_GELU_APPROXIMATE_TANH;
    return (int)params.approximate + (int)NNF_OK + NNF_MAX_DIMS;
}

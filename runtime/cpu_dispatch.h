// CPU instruction-set selection for Halide's multitarget kernels.
#pragma once

#include "nnfuse/detail/kernel_support.h"  // mark_kernels_started
#include "nnfuse/nnfuse.h"

namespace nnf::rt {

// The highest path Halide's dispatch has chosen so far (-1 before any kernel ran). Tests use it
// to prove that a forced path really ran.
int dispatched_isa_for_testing();

}  // namespace nnf::rt

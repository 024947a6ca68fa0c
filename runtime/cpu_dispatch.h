// CPU instruction-set selection for Halide's multitarget kernels.
#pragma once

#include "nnfuse/nnfuse.h"

namespace nnf::rt {

// Installs the ISA cap (from nnf_set_max_isa or NNF_MAX_ISA) into Halide's dispatch and
// freezes it: each multitarget kernel chooses its path once, on its first call.
void mark_kernels_started();

// The highest path Halide's dispatch has chosen so far (-1 before any kernel ran). Tests use it
// to prove that a forced path really ran.
int dispatched_isa_for_testing();

}  // namespace nnf::rt

// Errors of the C ABI: a status plus a thread-local message naming function and argument.
// nnf::rt::fail, clear_kernel_error and kernel_error are declared in the installed
// nnfuse/detail/kernel_support.h, which the wrappers of fused spec kernels include too.
#pragma once

#include "nnfuse/detail/kernel_support.h"
#include "nnfuse/nnfuse.h"

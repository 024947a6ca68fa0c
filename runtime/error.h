// Errors of the C ABI: a status plus a thread-local message naming function and argument.
#pragma once

#include "nnfuse/nnfuse.h"

namespace nnf::rt {

// Records "<function>: <printf-formatted message>" as this thread's last error and returns
// `status`, so call sites read `return fail(fn, NNF_ERR_..., "...", ...);`.
nnf_status fail(const char *function, nnf_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

// Clears this thread's message of a kernel failure, before a kernel runs.
void clear_kernel_error();
// The message Halide reported for the last failed kernel on this thread ("" if none).
const char *kernel_error();

}  // namespace nnf::rt

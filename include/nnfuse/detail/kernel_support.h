/* The part of libnnfuse.a's runtime that kernels compiled by nnfc (the wrappers of fused spec
 * kernels) call: error reporting, DLTensor geometry and the ISA cap. Not a user API: it may
 * change with any release, together with nnfc. runtime/error.h, tensor.h and cpu_dispatch.h
 * include it, so the declarations the generated wrappers see are the ones the library is
 * compiled against. C++. */
#ifndef NNFUSE_DETAIL_KERNEL_SUPPORT_H
#define NNFUSE_DETAIL_KERNEL_SUPPORT_H

#include <cstdint>

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

// DLTensor geometry, in elements. The element stride of dim d (strides NULL: contiguous
// row-major); the address of element 0 (data + byte_offset); the number of elements (0 for an
// empty tensor, 1 for a scalar).
int64_t stride_of(const DLTensor &t, int d);
char *element0(const DLTensor &t);
int64_t element_count(const DLTensor &t);

// Installs the ISA cap (from nnf_set_max_isa or NNF_MAX_ISA) into Halide's dispatch and
// freezes it: each multitarget kernel chooses its path once, on its first call.
void mark_kernels_started();

}  // namespace nnf::rt

#endif /* NNFUSE_DETAIL_KERNEL_SUPPORT_H */

// CUDA execution of Halide kernels on caller memory: device pointers are wrapped in place, in
// the device's primary context, on the calling thread's stream (nnf_cuda_set_stream).
#pragma once

#include "HalideRuntime.h"
#include "nnfuse/nnfuse.h"

namespace nnf::rt {

// Turns `count` buffers whose `host` fields hold device addresses (as the slicer computed them)
// into wrapped CUDA device buffers, runs `kernel(context)` and detaches them again. Returns the
// kernel's result, or a Halide error code if wrapping failed.
int run_with_cuda_buffers(int device_id, halide_buffer_t *buffers, int count,
                          int (*kernel)(void *context, halide_buffer_t *buffers), void *context);

// Whether a CUDA driver can be loaded here (cached). On false, *why says why.
bool cuda_driver_available(const char **why);

}  // namespace nnf::rt

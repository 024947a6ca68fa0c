/* The part of libnnfuse.a's runtime that kernels compiled by nnfc (the wrappers of fused spec
 * kernels) call: error reporting, DLTensor geometry and the ISA cap. Not a user API: it may
 * change with any release, together with nnfc. runtime/error.h, tensor.h and cpu_dispatch.h
 * include it, so the declarations the generated wrappers see are the ones the library is
 * compiled against. C++. */
#ifndef NNFUSE_DETAIL_KERNEL_SUPPORT_H
#define NNFUSE_DETAIL_KERNEL_SUPPORT_H

#include <cstdint>
#include <vector>

#include "nnfuse/nnfuse.h"

struct halide_buffer_t;

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

// A tensor argument of a C ABI function: its name in the signature, for messages.
struct TensorArg {
    const char *name;
    const DLTensor *tensor;
};

// Where a call runs: on the CPU, or on one CUDA device (its data pointers are device pointers).
enum class Backend { cpu, cuda };

// Checks that all `count` (already checked) tensors are on one device that this call can run
// on: the CPU (kDLCPU, or pinned kDLCUDAHost memory), or CUDA (kDLCUDA, kDLCUDAManaged) when
// `cuda_kernels`. Mixed devices are NNF_ERR_UNSUPPORTED_DEVICE; CUDA tensors without CUDA
// kernels are NNF_ERR_NOT_BUILT_FOR_TARGET, with `no_cuda_reason` (default: this build of
// nnfuse has none) in the message.
nnf_status check_devices(const char *function, const TensorArg *args, int count, bool cuda_kernels, Backend *backend,
                         int *device_id, const char *no_cuda_reason = nullptr);

// Whether a CUDA driver can be loaded here (cached). On false, *why says why.
bool cuda_driver_available(const char **why);

// Turns `count` buffers whose `host` fields hold device addresses into wrapped CUDA device
// buffers (in the device's primary context, on this thread's stream: nnf_cuda_set_stream),
// runs `kernel(context, buffers)` and detaches them again. Returns the kernel's result, or a
// Halide error code if wrapping failed. A build without CUDA returns an error.
int run_with_cuda_buffers(int device_id, halide_buffer_t *buffers, int count,
                          int (*kernel)(void *context, halide_buffer_t *buffers), void *context);

// Copies `bytes` bytes of device memory at `device_address` to `host`, waiting for the copy
// (and the work queued before it on this thread's stream). Returns 0 or a Halide error code.
int copy_from_cuda(int device_id, const void *device_address, void *host, int64_t bytes);

// Copies the memory a CUDA tensor's view spans (element size from its dtype) into `bytes`,
// waiting as copy_from_cuda does, and sets *on_host to the same view of that copy on the CPU:
// for checks that read device data on the host (class indices). An empty tensor copies nothing.
// Returns 0 or a Halide error code.
int copy_view_from_cuda(int device_id, const DLTensor &t, std::vector<unsigned char> *bytes, DLTensor *on_host);

// Installs the ISA cap (from nnf_set_max_isa or NNF_MAX_ISA) into Halide's dispatch and
// freezes it: each multitarget kernel chooses its path once, on its first call.
void mark_kernels_started();

}  // namespace nnf::rt

#endif /* NNFUSE_DETAIL_KERNEL_SUPPORT_H */

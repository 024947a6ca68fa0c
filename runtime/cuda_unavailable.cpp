// The CUDA entry points of a library built without CUDA kernels (NNFUSE_CUDA=OFF).
#include "cuda_support.h"
#include "error.h"

namespace nnf::rt {

// No kernel has a CUDA twin, so drivers report NNF_ERR_NOT_BUILT_FOR_TARGET for CUDA tensors
// and never call the two functions below.
AnyKernel find_cuda_twin(AnyKernel, CudaRowGroup) {
    return nullptr;
}

bool cuda_driver_available(const char **why) {
    *why = "this build of nnfuse has no CUDA kernels (configure with -DNNFUSE_CUDA=ON)";
    return false;
}

const halide_device_interface_t *cuda_device_interface() {
    return nullptr;
}

int run_with_cuda_buffers(int, halide_buffer_t *, int, int (*)(void *, halide_buffer_t *), void *) {
    return halide_error_code_device_interface_no_device;
}

int copy_from_cuda(int, const void *, void *, int64_t) {
    return halide_error_code_device_interface_no_device;
}

}  // namespace nnf::rt

extern "C" bool nnf_has_cuda(void) {
    return false;
}

extern "C" nnf_status nnf_cuda_set_stream(void *) {
    return nnf::rt::fail("nnf_cuda_set_stream", NNF_ERR_NOT_BUILT_FOR_TARGET,
                         "this build of nnfuse has no CUDA kernels (configure with -DNNFUSE_CUDA=ON)");
}

extern "C" void *nnf_cuda_get_stream(void) {
    return nullptr;
}

extern "C" nnf_status nnf_cuda_empty_cache(void) {
    return NNF_OK;  // nothing was ever allocated on a device
}

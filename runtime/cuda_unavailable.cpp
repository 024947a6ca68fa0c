// The CUDA entry points of a library built without CUDA kernels (NNFUSE_CUDA=OFF).
#include "error.h"

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

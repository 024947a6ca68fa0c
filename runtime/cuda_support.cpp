#include "cuda_support.h"

#include <dlfcn.h>

#include <algorithm>
#include <mutex>

#include "HalideRuntimeCuda.h"
#include "error.h"
#include "pointwise_driver.h"  // kernel_status

namespace nnf::rt {
namespace {

// The few driver entry points nnfuse calls itself; Halide's runtime loads its own. Loading at
// run time keeps libnnfuse.a free of any link-time CUDA dependency.
using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
struct Driver {
    CUresult (*cuInit)(unsigned);
    CUresult (*cuDeviceGet)(CUdevice *, int);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
    const char *error = nullptr;
};

const Driver &driver() {
    static const Driver d = [] {
        Driver result{};
        void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib) lib = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            result.error = "no CUDA driver (libcuda.so.1) could be loaded";
            return result;
        }
        result.cuInit = reinterpret_cast<decltype(result.cuInit)>(dlsym(lib, "cuInit"));
        result.cuDeviceGet = reinterpret_cast<decltype(result.cuDeviceGet)>(dlsym(lib, "cuDeviceGet"));
        result.cuDevicePrimaryCtxRetain =
            reinterpret_cast<decltype(result.cuDevicePrimaryCtxRetain)>(dlsym(lib, "cuDevicePrimaryCtxRetain_v2"));
        if (!result.cuDevicePrimaryCtxRetain) {
            result.cuDevicePrimaryCtxRetain =
                reinterpret_cast<decltype(result.cuDevicePrimaryCtxRetain)>(dlsym(lib, "cuDevicePrimaryCtxRetain"));
        }
        if (!result.cuInit || !result.cuDeviceGet || !result.cuDevicePrimaryCtxRetain) {
            result.error = "the CUDA driver lacks cuInit, cuDeviceGet or cuDevicePrimaryCtxRetain";
        } else if (result.cuInit(0) != 0) {
            result.error = "cuInit failed: no usable CUDA device";
        }
        return result;
    }();
    return d;
}

constexpr int kMaxDevices = 64;
std::mutex contexts_mutex;
CUcontext primary_contexts[kMaxDevices] = {};

thread_local int current_device = 0;
thread_local void *current_stream = nullptr;

// The primary context is the one the CUDA runtime API (cudaMalloc, PyTorch, ...) uses, so the
// caller's pointers and streams belong to it. Retained once per device for the process.
int acquire_context(void * /*user_context*/, void **context, bool /*create*/) {
    const Driver &d = driver();
    if (d.error || current_device < 0 || current_device >= kMaxDevices) return halide_error_code_generic_error;
    std::lock_guard<std::mutex> lock(contexts_mutex);
    CUcontext &ctx = primary_contexts[current_device];
    if (!ctx) {
        CUdevice device;
        if (d.cuDeviceGet(&device, current_device) != 0 || d.cuDevicePrimaryCtxRetain(&ctx, device) != 0) {
            ctx = nullptr;
            return halide_error_code_generic_error;
        }
    }
    *context = ctx;
    return 0;
}

int release_context(void * /*user_context*/) {
    return 0;
}

int get_stream(void * /*user_context*/, void * /*context*/, void **stream) {
    *stream = current_stream;
    return 0;
}

}  // namespace

extern const CudaTwin kCudaTwins[];  // cuda_twin_table.cpp, generated
extern const int kCudaTwinCount;

AnyKernel find_cuda_twin(AnyKernel cpu, CudaRowGroup group) {
    // A few hundred entries, searched once per call: nothing next to a kernel launch.
    for (int i = 0; i < kCudaTwinCount; ++i) {
        if (kCudaTwins[i].cpu == cpu && kCudaTwins[i].group == group) return kCudaTwins[i].cuda;
    }
    return nullptr;
}

const halide_device_interface_t *cuda_device_interface() {
    return halide_cuda_device_interface();
}

bool cuda_driver_available(const char **why) {
    *why = driver().error;
    return !*why;
}

namespace {

std::once_flag runtime_hooks_once;

// Halide's CUDA runtime in the primary context, on this thread's stream, keeping freed device
// allocations for reuse (nnf_cuda_empty_cache).
void install_runtime_hooks() {
    std::call_once(runtime_hooks_once, [] {
        halide_set_cuda_acquire_context(acquire_context);
        halide_set_cuda_release_context(release_context);
        halide_set_cuda_get_stream(get_stream);
        halide_reuse_device_allocations(nullptr, true);
    });
}

}  // namespace

int run_with_cuda_buffers(int device_id, halide_buffer_t *buffers, int count,
                          int (*kernel)(void *context, halide_buffer_t *buffers), void *context) {
    install_runtime_hooks();
    current_device = device_id;
    int wrapped = 0, result = 0;
    while (wrapped < count) {
        const uint64_t address = reinterpret_cast<uint64_t>(buffers[wrapped].host);
        buffers[wrapped].host = nullptr;
        result = halide_cuda_wrap_device_ptr(nullptr, &buffers[wrapped], address);
        if (result != 0) break;
        ++wrapped;
    }
    if (result == 0) result = kernel(context, buffers);
    for (int i = 0; i < wrapped; ++i) {
        // The outputs are now device-dirty; nothing is copied back, the caller owns the memory.
        buffers[i].set_device_dirty(false);
        halide_cuda_detach_device_ptr(nullptr, &buffers[i]);
    }
    return result;
}

int copy_from_cuda(int device_id, const void *device_address, void *host, int64_t bytes) {
    // One byte buffer per 1 GiB piece: a halide_dimension_t extent is an int32.
    constexpr int64_t kPiece = int64_t{1} << 30;
    for (int64_t offset = 0; offset < bytes; offset += kPiece) {
        halide_dimension_t dim(0, static_cast<int32_t>(std::min(kPiece, bytes - offset)), 1);
        halide_buffer_t b = halide_buffer_t();
        b.host = const_cast<uint8_t *>(static_cast<const uint8_t *>(device_address)) + offset;
        b.type = halide_type_t(halide_type_uint, 8);
        b.dimensions = 1;
        b.dim = &dim;
        const int result = run_on_cuda(device_id, &b, 1, [&](halide_buffer_t *d) {
            d->host = static_cast<uint8_t *>(host) + offset;
            d->set_device_dirty(true);
            const int r = halide_copy_to_host(nullptr, d);
            d->host = nullptr;
            return r;
        });
        if (result != 0) return result;
    }
    return 0;
}

}  // namespace nnf::rt

extern "C" bool nnf_has_cuda(void) {
    return true;
}

extern "C" nnf_status nnf_cuda_set_stream(void *stream) {
    nnf::rt::current_stream = stream;
    return NNF_OK;
}

extern "C" void *nnf_cuda_get_stream(void) {
    return nnf::rt::current_stream;
}

extern "C" nnf_status nnf_cuda_empty_cache(void) {
    const char *why = nullptr;
    if (!nnf::rt::cuda_driver_available(&why)) return NNF_OK;  // nothing was ever allocated
    // Turning reuse off returns every unused allocation to the driver; then it is back on.
    const int result = nnf::rt::run_on_cuda(nnf::rt::current_device, nullptr, 0, [](halide_buffer_t *) {
        const int released = halide_reuse_device_allocations(nullptr, false);
        halide_reuse_device_allocations(nullptr, true);
        return released;
    });
    return nnf::rt::kernel_status("nnf_cuda_empty_cache", result);
}

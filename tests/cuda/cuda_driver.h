// The CUDA driver API, loaded at run time, for tests and benchmarks that need device memory
// without linking CUDA (the build machine may have none). available() is false, with a reason,
// where no driver or no GPU is present.
#pragma once

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace nnf::test {

class CudaDriver {
public:
    using Ptr = uint64_t;

    static const CudaDriver &get() {
        static const CudaDriver driver;
        return driver;
    }

    bool available() const { return why_.empty(); }
    const std::string &why_unavailable() const { return why_; }
    const std::string &device_name() const { return name_; }

    int (*cuMemAlloc)(Ptr *, size_t) = nullptr;
    int (*cuMemFree)(Ptr) = nullptr;
    int (*cuMemcpyHtoD)(Ptr, const void *, size_t) = nullptr;
    int (*cuMemcpyDtoH)(void *, Ptr, size_t) = nullptr;
    int (*cuMemcpyDtoDAsync)(Ptr, Ptr, size_t, void *) = nullptr;
    int (*cuCtxSynchronize)() = nullptr;
    int (*cuStreamCreate)(void **, unsigned) = nullptr;
    int (*cuStreamSynchronize)(void *) = nullptr;
    int (*cuStreamDestroy)(void *) = nullptr;
    int (*cuEventCreate)(void **, unsigned) = nullptr;
    int (*cuEventRecord)(void *, void *) = nullptr;
    int (*cuEventSynchronize)(void *) = nullptr;
    int (*cuEventElapsedTime)(float *, void *, void *) = nullptr;
    int (*cuDeviceGetAttribute)(int *, int, int) = nullptr;

private:
    template<typename T>
    bool load(void *lib, T &fn, const char *name) {
        fn = reinterpret_cast<T>(dlsym(lib, name));
        if (!fn) why_ = std::string("the CUDA driver lacks ") + name;
        return fn != nullptr;
    }

    CudaDriver() {
        void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            why_ = "no CUDA driver (libcuda.so.1) on this machine";
            return;
        }
        int (*cuInit)(unsigned) = nullptr;
        int (*cuDeviceGetCount)(int *) = nullptr;
        int (*cuDeviceGet)(int *, int) = nullptr;
        int (*cuDeviceGetName)(char *, int, int) = nullptr;
        int (*cuDevicePrimaryCtxRetain)(void **, int) = nullptr;
        int (*cuCtxSetCurrent)(void *) = nullptr;
        if (!load(lib, cuInit, "cuInit") || !load(lib, cuDeviceGetCount, "cuDeviceGetCount") ||
            !load(lib, cuDeviceGet, "cuDeviceGet") || !load(lib, cuDeviceGetName, "cuDeviceGetName") ||
            !load(lib, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain") ||
            !load(lib, cuCtxSetCurrent, "cuCtxSetCurrent") || !load(lib, cuMemAlloc, "cuMemAlloc_v2") ||
            !load(lib, cuMemFree, "cuMemFree_v2") || !load(lib, cuMemcpyHtoD, "cuMemcpyHtoD_v2") ||
            !load(lib, cuMemcpyDtoH, "cuMemcpyDtoH_v2") || !load(lib, cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2") || !load(lib, cuCtxSynchronize, "cuCtxSynchronize") ||
            !load(lib, cuStreamCreate, "cuStreamCreate") || !load(lib, cuStreamSynchronize, "cuStreamSynchronize") ||
            !load(lib, cuStreamDestroy, "cuStreamDestroy_v2") || !load(lib, cuEventCreate, "cuEventCreate") ||
            !load(lib, cuEventRecord, "cuEventRecord") || !load(lib, cuEventSynchronize, "cuEventSynchronize") ||
            !load(lib, cuEventElapsedTime, "cuEventElapsedTime") ||
            !load(lib, cuDeviceGetAttribute, "cuDeviceGetAttribute")) {
            return;
        }
        int count = 0, device = 0;
        void *context = nullptr;
        if (cuInit(0) != 0 || cuDeviceGetCount(&count) != 0 || count == 0) {
            why_ = "the CUDA driver found no GPU";
            return;
        }
        char name[256] = {};
        if (cuDeviceGet(&device, 0) != 0 || cuDeviceGetName(name, sizeof name, device) != 0 ||
            cuDevicePrimaryCtxRetain(&context, device) != 0 || cuCtxSetCurrent(context) != 0) {
            why_ = "could not make device 0's primary context current";
            return;
        }
        name_ = name;
    }

    std::string why_, name_;
};

// Device memory mirroring a host vector, freed on destruction.
class DeviceBuffer {
public:
    explicit DeviceBuffer(size_t bytes) : bytes_(bytes) {
        if (bytes_) CudaDriver::get().cuMemAlloc(&ptr_, bytes_);
    }
    ~DeviceBuffer() {
        if (ptr_) CudaDriver::get().cuMemFree(ptr_);
    }
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;

    void upload(const void *host) { CudaDriver::get().cuMemcpyHtoD(ptr_, host, bytes_); }
    void download(void *host) const { CudaDriver::get().cuMemcpyDtoH(host, ptr_, bytes_); }
    void *data() const { return reinterpret_cast<void *>(ptr_); }

private:
    CudaDriver::Ptr ptr_ = 0;
    size_t bytes_;
};

}  // namespace nnf::test

// What every CUDA suite shares: skipping (loudly) without a GPU, and a TestTensor's storage
// mirrored on the GPU behind a kDLCUDA view.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "cuda/cuda_driver.h"
#include "test_tensor.h"

#define NNF_SKIP_WITHOUT_GPU()                                                               \
    do {                                                                                     \
        if (!::nnf::test::CudaDriver::get().available()) {                                   \
            GTEST_SKIP() << "no GPU: " << ::nnf::test::CudaDriver::get().why_unavailable();   \
        }                                                                                    \
    } while (0)

namespace nnf::test {

// A TestTensor's whole storage (its view and the sentinels around it) on the GPU, with a
// kDLCUDA view of the same shape, strides and offset.
class OnDevice {
public:
    explicit OnDevice(TestTensor &host) : host_(host), buffer_(host.storage().size() * sizeof(float)), view_(*host.dl()) {
        buffer_.upload(host.storage().data());
        view_.data = buffer_.data();
        view_.device = {kDLCUDA, 0};
    }
    DLTensor *dl() { return &view_; }
    // Copies the device storage back over the host tensor's storage.
    void download() { buffer_.download(host_.storage().data()); }

private:
    TestTensor &host_;
    DeviceBuffer buffer_;
    DLTensor view_;
};

// A kDLCUDA view of a host tensor's memory that is never dereferenced: for the checks that
// must fail before any device work, on machines with or without a GPU.
inline DLTensor claimed_on_gpu(TestTensor &t, int device_id = 0) {
    DLTensor view = *t.dl();
    view.device = {kDLCUDA, device_id};
    return view;
}

// Waits for the GPU; the tests read results right after.
inline ::testing::AssertionResult gpu_finished() {
    if (CudaDriver::get().cuCtxSynchronize() == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "cuCtxSynchronize failed";
}

}  // namespace nnf::test

// A real tensor over 2^31 elements (8.6 GB, in place), which Halide's int32 indexing cannot
// address in one call. Skipped, with the reason, where the machine lacks the memory. About 30 s
// on the 2-core CI machine, nearly all of it the kernel faulting in 8.6 GB of fresh pages.
#include <sys/mman.h>
#include <sys/sysinfo.h>

#include "test_tensor.h"

namespace nnf::test {
namespace {

TEST(LargeTensor, ReluInPlaceOverTwoToThe31Elements) {
    NNF_SKIP_UNLESS_ISA_AVAILABLE();
    const int64_t n = (int64_t{1} << 31) + 17;
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    struct sysinfo info{};
    sysinfo(&info);
    const uint64_t available = static_cast<uint64_t>(info.freeram + info.bufferram) * info.mem_unit;
    if (available < bytes + (size_t{2} << 30)) {
        GTEST_SKIP() << "needs " << (bytes >> 20) << " MiB free for a 2^31 + 17 element tensor; "
                     << (available >> 20) << " MiB are";
    }
    void *memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(memory, MAP_FAILED);
    float *data = static_cast<float *>(memory);
    // -1 everywhere except a marker pattern near the int32 boundaries and the end.
    std::fill(data, data + n, -1.0f);
    const int64_t markers[] = {0, (int64_t{1} << 31) - 2, (int64_t{1} << 31) - 1, int64_t{1} << 31, n - 1};
    for (int64_t m : markers) data[m] = static_cast<float>(m % 1000 + 1);
    int64_t shape[] = {n};
    DLTensor x{};
    x.data = data;
    x.device = {kDLCPU, 0};
    x.ndim = 1;
    x.dtype = {kDLFloat, 32, 1};
    x.shape = shape;
    ASSERT_EQ(nnf_relu_forward(&x, &x), NNF_OK) << nnf_last_error();
    for (int64_t m : markers) EXPECT_EQ(data[m], static_cast<float>(m % 1000 + 1)) << "element " << m;
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; ++i) wrong += data[i] == 0.0f ? 0 : 1;
    EXPECT_EQ(wrong, 5);
    munmap(memory, bytes);
}

}  // namespace
}  // namespace nnf::test

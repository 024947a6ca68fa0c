// Real tensors over 2^31 elements (8.6 GB, in place), which Halide's int32 indexing cannot
// address in one call. Skipped, with the reason, where the machine lacks the memory. Each test
// takes 10-30 s on the 2-core CI machine, nearly all of it the kernel faulting in 8.6 GB of
// fresh pages (MAP_POPULATE does it in one call, about 20% faster than page by page).
#include <sys/mman.h>
#include <sys/sysinfo.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "test_tensor.h"

namespace nnf::test {
namespace {

// Zeroed anonymous memory of `bytes`, unmapped on destruction; data() is nullptr with why()
// telling the reason when the machine cannot spare it (2 GiB are kept free beside it).
class LargeBuffer {
public:
    explicit LargeBuffer(size_t bytes) : bytes_(bytes) {
        struct sysinfo info{};
        sysinfo(&info);
        const uint64_t available = static_cast<uint64_t>(info.freeram + info.bufferram) * info.mem_unit;
        if (available < bytes + (size_t{2} << 30)) {
            why_ = "needs " + std::to_string(bytes >> 20) + " MiB free (and 2 GiB to spare); " +
                   std::to_string(available >> 20) + " MiB are";
            return;
        }
        void *memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (memory == MAP_FAILED) {
            why_ = "mmap of " + std::to_string(bytes >> 20) + " MiB failed";
            return;
        }
        data_ = memory;
    }
    ~LargeBuffer() {
        if (data_) munmap(data_, bytes_);
    }
    LargeBuffer(const LargeBuffer &) = delete;
    LargeBuffer &operator=(const LargeBuffer &) = delete;
    void *data() const { return data_; }
    const std::string &why() const { return why_; }

private:
    void *data_ = nullptr;
    size_t bytes_;
    std::string why_;
};

DLTensor cpu_tensor(void *data, int ndim, int64_t *shape, DLDataType dtype = {kDLFloat, 32, 1}) {
    DLTensor t{};
    t.data = data;
    t.device = {kDLCPU, 0};
    t.ndim = ndim;
    t.dtype = dtype;
    t.shape = shape;
    return t;
}

TEST(LargeTensor, ReluInPlaceOverTwoToThe31Elements) {
    NNF_SKIP_UNLESS_ISA_AVAILABLE();
    const int64_t n = (int64_t{1} << 31) + 17;
    LargeBuffer memory(static_cast<size_t>(n) * sizeof(float));
    if (!memory.data()) GTEST_SKIP() << "a 2^31 + 17 element tensor " << memory.why();
    float *data = static_cast<float *>(memory.data());
    // -1 everywhere except a marker pattern near the int32 boundaries and the end.
    std::fill(data, data + n, -1.0f);
    const int64_t markers[] = {0, (int64_t{1} << 31) - 2, (int64_t{1} << 31) - 1, int64_t{1} << 31, n - 1};
    for (int64_t m : markers) data[m] = static_cast<float>(m % 1000 + 1);
    int64_t shape[] = {n};
    DLTensor x = cpu_tensor(data, 1, shape);
    ASSERT_EQ(nnf_relu_forward(&x, &x), NNF_OK) << nnf_last_error();
    for (int64_t m : markers) EXPECT_EQ(data[m], static_cast<float>(m % 1000 + 1)) << "element " << m;
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; ++i) wrong += data[i] == 0.0f ? 0 : 1;
    EXPECT_EQ(wrong, 5);
}

// A pseudo-random value in [-1, 1) from (c, k), the same in the test and its reference.
float hashed(int64_t c, int k) {
    uint64_t z = static_cast<uint64_t>(c) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(k) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 31)) * 0x94D049BB133111EBull;
    z ^= z >> 29;
    return static_cast<float>(z >> 40) * 0x1p-23f - 1.0f;
}

// cross_entropy over N * C = 8193 * 2^18 = 2^31 + 2^18 logits (8.6 GB), the loss (mean) and the
// gradient in one call, the gradient written over the logits: the logits' memory is all the call
// needs. Row r repeats one of five patterns (r % 5) that the kernel cannot tell apart from
// arbitrary logits (uniform spreads of 10 and 40, an offset of 1000, one dominant logit, a ramp),
// each row has its own target and every 1000th is ignored, so the reference needs the log-sum-exp
// of five rows only, in double. Checked: the mean over the non-ignored rows, and the gradient
// (softmax - one-hot) / count at spread-out classes, the target and the row ends, in rows on both
// sides of the 2^31st element (row 8192 starts there) and in an ignored row (all zeros); each
// checked row's gradient also sums to 0.
TEST(LargeTensor, CrossEntropyForwardBackwardInPlaceOverTwoToThe31Logits) {
    NNF_SKIP_UNLESS_ISA_AVAILABLE();
    const int64_t C = int64_t{1} << 18, N = 8193, n = N * C;
    const int kPatterns = 5;
    const int64_t kSpike = 77777;
    ASSERT_GT(n, int64_t{1} << 31);
    LargeBuffer memory(static_cast<size_t>(n) * sizeof(float));
    if (!memory.data()) GTEST_SKIP() << "a 2^31 + 2^18 element tensor " << memory.why();
    float *x = static_cast<float *>(memory.data());
    const auto start = std::chrono::steady_clock::now();

    std::vector<std::vector<float>> patterns(kPatterns, std::vector<float>(static_cast<size_t>(C)));
    for (int64_t c = 0; c < C; ++c) {
        patterns[0][size_t(c)] = 5.0f * hashed(c, 0);
        patterns[1][size_t(c)] = 20.0f * hashed(c, 1);
        patterns[2][size_t(c)] = 1000.0f + hashed(c, 2);
        patterns[3][size_t(c)] = c == kSpike ? 30.0f : 3.0f * hashed(c, 3);
        patterns[4][size_t(c)] = static_cast<float>(c) * 1e-4f - 13.0f;
    }
    std::vector<double> lse(kPatterns);  // log-sum-exp of each pattern, in double
    for (int k = 0; k < kPatterns; ++k) {
        double m = -std::numeric_limits<double>::infinity(), s = 0;
        for (float v : patterns[size_t(k)]) m = std::max(m, double(v));
        for (float v : patterns[size_t(k)]) s += std::exp(double(v) - m);
        lse[size_t(k)] = m + std::log(s);
    }
    const int64_t kIgnore = -100;
    std::vector<int64_t> target(static_cast<size_t>(N));
    double loss_sum = 0;
    int64_t count = 0;
    for (int64_t r = 0; r < N; ++r) {
        const bool ignored = r % 1000 == 999;
        // Rows of the one-dominant-logit pattern (r % 5 == 3) target it every other time.
        const int64_t t = r % 10 == 3 ? kSpike : (r * 7919 + 13) % C;
        target[size_t(r)] = ignored ? kIgnore : t;
        std::memcpy(x + r * C, patterns[size_t(r % kPatterns)].data(), static_cast<size_t>(C) * sizeof(float));
        if (ignored) continue;
        loss_sum += lse[size_t(r % kPatterns)] - patterns[size_t(r % kPatterns)][size_t(t)];
        ++count;
    }
    const double mean = loss_sum / double(count);

    int64_t shape[] = {N, C}, target_shape[] = {N};
    DLTensor logits = cpu_tensor(x, 2, shape);
    DLTensor targets = cpu_tensor(target.data(), 1, target_shape, {kDLInt, 64, 1});
    float loss = 0;
    DLTensor loss_tensor = cpu_tensor(&loss, 0, nullptr);
    nnf_cross_entropy_params params = nnf_cross_entropy_default_params();  // mean, ignore_index -100
    const auto call = std::chrono::steady_clock::now();
    ASSERT_EQ(nnf_cross_entropy_forward_backward(&logits, &targets, nullptr, nullptr, &loss_tensor, &logits, &params),
              NNF_OK)
        << nnf_last_error();
    const auto done = std::chrono::steady_clock::now();
    EXPECT_NEAR(loss, mean, 2e-6 * std::fabs(mean)) << "mean over " << count << " rows";

    const int64_t rows[] = {0, 1, 2, 3, 4, 13, 999, 4095, 8190, 8191, 8192};
    for (int64_t r : rows) {
        const int k = static_cast<int>(r % kPatterns);
        const int64_t t = target[size_t(r)];
        const float *g = x + r * C;
        auto expected = [&](int64_t c) {
            if (t == kIgnore) return 0.0;
            return (std::exp(double(patterns[size_t(k)][size_t(c)]) - lse[size_t(k)]) - (c == t ? 1.0 : 0.0)) /
                   double(count);
        };
        std::vector<int64_t> columns = {0, 1, C - 1, kSpike};
        if (t != kIgnore) columns.push_back(t);
        for (int64_t c = 17; c < C; c += 4099) columns.push_back(c);
        for (int64_t c : columns) {
            const double e = expected(c);
            // At the target, softmax - 1 cancels: float rounding of terms of size 1 / count.
            ASSERT_NEAR(g[c], e, 1e-4 * std::fabs(e) + 2.5e-7 / double(count))
                << "row " << r << " (element " << r * C + c << "), class " << c;
        }
        double row_sum = 0;
        for (int64_t c = 0; c < C; ++c) row_sum += g[c];
        // sum_c softmax_c = 1 to float rounding; one element left unwritten would be off by ~1.
        EXPECT_NEAR(row_sum, 0.0, 1e-5 / double(count)) << "row " << r;
    }
    const auto end = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::printf("filling %.0f ms, nnf_cross_entropy_forward_backward %.0f ms (%.2f G logits/s), checks %.0f ms\n",
                ms(start, call), ms(call, done), double(n) / ms(call, done) * 1e-6, ms(done, end));
}

}  // namespace
}  // namespace nnf::test

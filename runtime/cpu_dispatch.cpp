#include "cpu_dispatch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "HalideRuntime.h"
#include "error.h"

namespace nnf::rt {
namespace {

constexpr int kNoCap = -1;
std::atomic<int> isa_cap{kNoCap};
std::atomic<bool> kernels_started{false};
std::atomic<int> dispatched{-1};

#if defined(__x86_64__)
constexpr nnf_isa kBestIsaOfArch = NNF_ISA_AVX512;

nnf_isa cpu_best_isa() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        return NNF_ISA_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        return NNF_ISA_AVX2;
    }
    return NNF_ISA_BASELINE;
}

bool valid_for_arch(int isa) {
    return isa == NNF_ISA_BASELINE || isa == NNF_ISA_AVX2 || isa == NNF_ISA_AVX512;
}
#else
constexpr nnf_isa kBestIsaOfArch = NNF_ISA_NEON;
nnf_isa cpu_best_isa() {
    return NNF_ISA_NEON;
}
bool valid_for_arch(int isa) {
    return isa == NNF_ISA_NEON || isa == NNF_ISA_BASELINE;
}
#endif

int isa_rank(int isa) {
    return isa == NNF_ISA_NEON ? NNF_ISA_BASELINE : isa;
}

bool has_feature(int count, const uint64_t *features, int bit) {
    return bit / 64 < count && ((features[bit / 64] >> (bit % 64)) & 1);
}

// Halide's multitarget wrapper asks this once per kernel, best target first.
int can_use_target_features(int count, const uint64_t *features) {
    int needs = NNF_ISA_BASELINE;
    for (int bit : {halide_target_feature_avx2, halide_target_feature_fma, halide_target_feature_f16c}) {
        if (has_feature(count, features, bit)) needs = NNF_ISA_AVX2;
    }
    for (int bit : {halide_target_feature_avx512, halide_target_feature_avx512_skylake,
                    halide_target_feature_avx512_cannonlake, halide_target_feature_avx512_sapphirerapids}) {
        if (has_feature(count, features, bit)) needs = NNF_ISA_AVX512;
    }
    const int cap = isa_cap.load();
    if (cap != kNoCap && needs > isa_rank(cap)) return 0;
    const int ok = halide_default_can_use_target_features(count, features);
    if (ok) {
        int seen = dispatched.load();
        while (needs > seen && !dispatched.compare_exchange_weak(seen, needs)) {
        }
    }
    return ok;
}

int parse_isa(const char *name) {
    if (!name) return kNoCap;
    if (!std::strcmp(name, "baseline")) return NNF_ISA_BASELINE;
    if (!std::strcmp(name, "avx2")) return NNF_ISA_AVX2;
    if (!std::strcmp(name, "avx512")) return NNF_ISA_AVX512;
    if (!std::strcmp(name, "neon")) return NNF_ISA_NEON;
    return kNoCap;  // unknown names leave the library uncapped
}

void install_dispatch_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        const int from_env = parse_isa(std::getenv("NNF_MAX_ISA"));
        int expected = kNoCap;
        if (from_env != kNoCap && valid_for_arch(from_env)) isa_cap.compare_exchange_strong(expected, from_env);
        halide_set_custom_can_use_target_features(can_use_target_features);
    });
}

}  // namespace

void mark_kernels_started() {
    if (!kernels_started.load(std::memory_order_acquire)) {
        install_dispatch_once();
        kernels_started.store(true, std::memory_order_release);
    }
}

int dispatched_isa_for_testing() {
    return dispatched.load();
}

}  // namespace nnf::rt

extern "C" nnf_status nnf_set_max_isa(nnf_isa isa) {
    using namespace nnf::rt;
    if (!valid_for_arch(isa)) {
        return fail("nnf_set_max_isa", NNF_ERR_INVALID_ARGUMENT, "isa %d is not an instruction set of this architecture",
                    static_cast<int>(isa));
    }
    if (kernels_started.load()) {
        return fail("nnf_set_max_isa", NNF_ERR_INVALID_ARGUMENT,
                    "called after the first kernel call; kernels have already chosen their instruction set");
    }
    install_dispatch_once();
    isa_cap.store(isa);
    return NNF_OK;
}

extern "C" nnf_isa nnf_get_isa(void) {
    using namespace nnf::rt;
    install_dispatch_once();
    const int best = cpu_best_isa();
    const int cap = isa_cap.load();
    if (cap == kNoCap || isa_rank(cap) >= isa_rank(best)) return static_cast<nnf_isa>(best);
    return static_cast<nnf_isa>(cap);
}

extern "C" const char *nnf_isa_name(nnf_isa isa) {
    switch (isa) {
    case NNF_ISA_BASELINE: return "baseline";
    case NNF_ISA_AVX2: return "avx2";
    case NNF_ISA_AVX512: return "avx512";
    case NNF_ISA_NEON: return "neon";
    }
    return "unknown";
}

extern "C" nnf_status nnf_set_num_threads(int num_threads) {
    if (num_threads < 0) {
        return nnf::rt::fail("nnf_set_num_threads", NNF_ERR_INVALID_ARGUMENT, "num_threads = %d is negative",
                             num_threads);
    }
    const int before = halide_set_num_threads(num_threads);
    if (halide_get_num_threads() < before) {
        // Halide's pool keeps every worker it has created taking tasks whatever the new count
        // (after 2 threads, a count of 1 still ran tasks on 2), so a smaller count restarts the
        // pool: its workers are joined, and the next kernel call creates only as many as the
        // new count allows. Hence the rule in the header: no other nnfuse call may be running.
        halide_shutdown_thread_pool();
        halide_set_num_threads(num_threads);
    }
    return NNF_OK;
}

extern "C" int nnf_get_num_threads(void) {
    return halide_get_num_threads();
}

extern "C" int nnf_version(void) {
    return NNF_VERSION_MAJOR * 10000 + NNF_VERSION_MINOR * 100 + NNF_VERSION_PATCH;
}

extern "C" const char *nnf_version_string(void) {
    return NNF_VERSION_STRING;
}

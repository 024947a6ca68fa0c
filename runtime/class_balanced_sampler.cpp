// The class-balanced sampler of the C ABI (nnfuse.h): the lecture's recipe for imbalanced
// classes. Each class's sample indices live in their own buffer; a batch takes batch_size /
// num_classes from each; a smaller class whose buffer runs out is reshuffled and reused from
// its start; the epoch ends when the largest class has given every sample once.
//
// Shuffles are Fisher-Yates driven by splitmix64 seeded from (seed, epoch, class, cycle), so a
// seed reproduces every batch on every platform (no std:: distribution, whose output is not
// specified across standard libraries).
#include <algorithm>
#include <cinttypes>
#include <new>
#include <vector>

#include "error.h"
#include "nnfuse/nnfuse.h"

struct nnf_class_balanced_sampler {
    uint64_t seed = 0;
    int64_t per_class = 0;  // samples of each class per batch
    int64_t largest = 0;    // samples of the largest class
    int64_t batches_per_epoch = 0;
    int64_t batch = 0;      // batches given in this epoch
    uint64_t epoch = 0;
    std::vector<std::vector<int64_t>> buffers;  // per class, in its current shuffled order
    std::vector<int64_t> position;               // next unused entry of each buffer
    std::vector<uint64_t> cycle;                 // how many times each buffer was reshuffled this epoch
};

namespace {

uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// A uniform integer in [0, n), n > 0, without modulo bias (rejection).
uint64_t uniform_below(uint64_t *state, uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do {
        r = splitmix64(state);
    } while (r >= limit);
    return r % n;
}

void shuffle_class(nnf_class_balanced_sampler &s, size_t c) {
    uint64_t state = s.seed;
    // Mix the coordinates one at a time so (epoch, class, cycle) never collide.
    for (uint64_t v : {s.epoch, static_cast<uint64_t>(c), s.cycle[c]}) {
        state ^= splitmix64(&state) + v;
    }
    std::vector<int64_t> &b = s.buffers[c];
    for (size_t i = b.size(); i > 1; --i) std::swap(b[i - 1], b[uniform_below(&state, i)]);
    s.position[c] = 0;
}

void start_epoch(nnf_class_balanced_sampler &s) {
    s.batch = 0;
    for (size_t c = 0; c < s.buffers.size(); ++c) {
        s.cycle[c] = 0;
        shuffle_class(s, c);
    }
}

}  // namespace

extern "C" nnf_status nnf_sampler_create(const int64_t *labels, int64_t num_samples, int64_t num_classes,
                                         int64_t batch_size, uint64_t seed, nnf_class_balanced_sampler **sampler) {
    static const char kFunction[] = "nnf_sampler_create";
    using nnf::rt::fail;
    if (!sampler) return fail(kFunction, NNF_ERR_INVALID_ARGUMENT, "sampler is NULL");
    if (num_classes <= 0) {
        return fail(kFunction, NNF_ERR_INVALID_ARGUMENT, "num_classes is %" PRId64 "; it must be > 0", num_classes);
    }
    if (num_samples < 0) {
        return fail(kFunction, NNF_ERR_INVALID_ARGUMENT, "num_samples is %" PRId64 "; it must be >= 0", num_samples);
    }
    if (batch_size <= 0 || batch_size % num_classes != 0) {
        return fail(kFunction, NNF_ERR_INVALID_ARGUMENT,
                    "batch_size %" PRId64 " is not a positive multiple of num_classes %" PRId64
                    " (every batch takes the same number of samples from each class)",
                    batch_size, num_classes);
    }
    if (num_samples > 0 && !labels) return fail(kFunction, NNF_ERR_INVALID_ARGUMENT, "labels is NULL");
    std::vector<int64_t> counts(static_cast<size_t>(num_classes), 0);
    for (int64_t i = 0; i < num_samples; ++i) {
        if (labels[i] < 0 || labels[i] >= num_classes) {
            return fail(kFunction, NNF_ERR_INDEX_OUT_OF_RANGE,
                        "labels[%" PRId64 "] = %" PRId64 " is out of range for %" PRId64 " classes", i, labels[i],
                        num_classes);
        }
        ++counts[static_cast<size_t>(labels[i])];
    }
    for (int64_t c = 0; c < num_classes; ++c) {
        if (counts[static_cast<size_t>(c)] == 0) {
            return fail(kFunction, NNF_ERR_INVALID_ARGUMENT,
                        "class %" PRId64 " has no samples (every class must have one to balance batches)", c);
        }
    }
    auto *s = new (std::nothrow) nnf_class_balanced_sampler;
    if (!s) return fail(kFunction, NNF_ERR_RUNTIME_FAILURE, "out of memory");
    s->seed = seed;
    s->per_class = batch_size / num_classes;
    s->buffers.resize(static_cast<size_t>(num_classes));
    for (int64_t c = 0; c < num_classes; ++c) s->buffers[static_cast<size_t>(c)].reserve(static_cast<size_t>(counts[static_cast<size_t>(c)]));
    for (int64_t i = 0; i < num_samples; ++i) s->buffers[static_cast<size_t>(labels[i])].push_back(i);
    s->largest = *std::max_element(counts.begin(), counts.end());
    s->batches_per_epoch = (s->largest + s->per_class - 1) / s->per_class;
    s->position.assign(static_cast<size_t>(num_classes), 0);
    s->cycle.assign(static_cast<size_t>(num_classes), 0);
    start_epoch(*s);
    *sampler = s;
    return NNF_OK;
}

extern "C" nnf_status nnf_sampler_next(nnf_class_balanced_sampler *sampler, int64_t *indices, int64_t *count) {
    static const char kFunction[] = "nnf_sampler_next";
    using nnf::rt::fail;
    if (!sampler) return fail(kFunction, NNF_ERR_INVALID_ARGUMENT, "sampler is NULL");
    if (!indices) return fail(kFunction, NNF_ERR_INVALID_ARGUMENT, "indices is NULL");
    if (!count) return fail(kFunction, NNF_ERR_INVALID_ARGUMENT, "count is NULL");
    nnf_class_balanced_sampler &s = *sampler;
    if (s.batch >= s.batches_per_epoch) {
        *count = 0;
        return NNF_OK;
    }
    // The largest class decides the take: it never wraps, so each of its samples appears once.
    const int64_t take = std::min(s.per_class, s.largest - s.batch * s.per_class);
    int64_t n = 0;
    for (size_t c = 0; c < s.buffers.size(); ++c) {
        const std::vector<int64_t> &b = s.buffers[c];
        for (int64_t k = 0; k < take; ++k) {
            if (s.position[c] == static_cast<int64_t>(b.size())) {
                ++s.cycle[c];
                shuffle_class(s, c);
            }
            indices[n++] = b[static_cast<size_t>(s.position[c]++)];
        }
    }
    ++s.batch;
    *count = n;
    return NNF_OK;
}

extern "C" nnf_status nnf_sampler_reset(nnf_class_balanced_sampler *sampler) {
    if (!sampler) return nnf::rt::fail("nnf_sampler_reset", NNF_ERR_INVALID_ARGUMENT, "sampler is NULL");
    ++sampler->epoch;
    start_epoch(*sampler);
    return NNF_OK;
}

extern "C" int64_t nnf_sampler_batches_per_epoch(const nnf_class_balanced_sampler *sampler) {
    return sampler ? sampler->batches_per_epoch : 0;
}

extern "C" void nnf_sampler_destroy(nnf_class_balanced_sampler *sampler) {
    delete sampler;
}

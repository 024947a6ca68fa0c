// The class-balanced sampler (nnfuse.h): the lecture's recipe, property by property.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nnfuse/nnfuse.h"

namespace {

// 3 classes of 10, 4 and 1 samples, interleaved so that labels are not sorted.
std::vector<int64_t> imbalanced_labels() {
    std::vector<int64_t> labels;
    for (int i = 0; i < 15; ++i) labels.push_back(i < 10 ? 0 : (i < 14 ? 1 : 2));
    std::rotate(labels.begin(), labels.begin() + 6, labels.end());
    return labels;
}

struct Sampler {
    nnf_class_balanced_sampler *s = nullptr;
    Sampler(const std::vector<int64_t> &labels, int64_t classes, int64_t batch, uint64_t seed) {
        EXPECT_EQ(nnf_sampler_create(labels.data(), int64_t(labels.size()), classes, batch, seed, &s), NNF_OK)
            << nnf_last_error();
    }
    ~Sampler() { nnf_sampler_destroy(s); }
    // Every batch of one epoch.
    std::vector<std::vector<int64_t>> epoch(int64_t batch) {
        std::vector<std::vector<int64_t>> batches;
        std::vector<int64_t> buffer(static_cast<size_t>(batch));
        while (true) {
            int64_t count = -1;
            EXPECT_EQ(nnf_sampler_next(s, buffer.data(), &count), NNF_OK);
            if (count == 0) break;
            batches.emplace_back(buffer.begin(), buffer.begin() + count);
            if (batches.size() > 1000) break;
        }
        return batches;
    }
};

TEST(Sampler, LargestClassAppearsExactlyOncePerEpochAndEveryBatchIsBalanced) {
    const std::vector<int64_t> labels = imbalanced_labels();
    const int64_t batch = 6;  // 2 per class
    Sampler sampler(labels, 3, batch, 42);
    EXPECT_EQ(nnf_sampler_batches_per_epoch(sampler.s), 5);
    for (int e = 0; e < 3; ++e) {
        const auto batches = sampler.epoch(batch);
        ASSERT_EQ(batches.size(), 5u);
        std::multiset<int64_t> largest;
        for (const auto &b : batches) {
            std::map<int64_t, int> per_class;
            for (int64_t i : b) {
                ASSERT_GE(i, 0);
                ASSERT_LT(i, int64_t(labels.size()));
                ++per_class[labels[static_cast<size_t>(i)]];
                if (labels[static_cast<size_t>(i)] == 0) largest.insert(i);
            }
            ASSERT_EQ(per_class.size(), 3u) << "every class in every batch";
            for (const auto &kv : per_class) EXPECT_EQ(kv.second, 2) << "class " << kv.first;
        }
        std::set<int64_t> expected;
        for (size_t i = 0; i < labels.size(); ++i) {
            if (labels[i] == 0) expected.insert(int64_t(i));
        }
        EXPECT_EQ(largest.size(), expected.size());
        EXPECT_EQ(std::set<int64_t>(largest.begin(), largest.end()), expected) << "each exactly once";
        ASSERT_EQ(nnf_sampler_reset(sampler.s), NNF_OK);
    }
}

// A smaller class is consumed in cycles: each run of |class| consecutive draws is a
// permutation of the class (reshuffled, so not always in one order).
TEST(Sampler, SmallerClassesAreCycledEachCycleAPermutation) {
    std::vector<int64_t> labels;
    for (int i = 0; i < 40; ++i) labels.push_back(i < 37 ? 0 : 1);  // class 1 has 3 samples
    const int64_t batch = 4;
    Sampler sampler(labels, 2, batch, 7);
    std::vector<int64_t> stream;
    for (const auto &b : sampler.epoch(batch)) {
        for (int64_t i : b) {
            if (labels[static_cast<size_t>(i)] == 1) stream.push_back(i);
        }
    }
    // 37 samples of class 0, 2 per batch: 18 batches of 2 and a last one of 1 per class.
    ASSERT_EQ(stream.size(), 37u);
    std::set<std::vector<int64_t>> orders;
    for (size_t start = 0; start + 3 <= stream.size(); start += 3) {
        std::vector<int64_t> cycle(stream.begin() + long(start), stream.begin() + long(start) + 3);
        orders.insert(cycle);
        std::sort(cycle.begin(), cycle.end());
        EXPECT_EQ(cycle, (std::vector<int64_t>{37, 38, 39})) << "cycle at " << start;
    }
    EXPECT_GT(orders.size(), 1u) << "cycles are reshuffled";
}

TEST(Sampler, DeterministicForASeedAndDifferentAcrossSeeds) {
    const std::vector<int64_t> labels = imbalanced_labels();
    Sampler a(labels, 3, 3, 123), b(labels, 3, 3, 123), c(labels, 3, 3, 124);
    const auto ea = a.epoch(3), eb = b.epoch(3), ec = c.epoch(3);
    EXPECT_EQ(ea, eb);
    EXPECT_NE(ea, ec);
    ASSERT_EQ(nnf_sampler_reset(a.s), NNF_OK);
    EXPECT_NE(a.epoch(3), ea) << "a new epoch draws a new order";
}

TEST(Sampler, BadInputGetsAClearStatus) {
    nnf_class_balanced_sampler *s = nullptr;
    const std::vector<int64_t> labels = {0, 2, 2, 0};
    EXPECT_EQ(nnf_sampler_create(labels.data(), 4, 3, 3, 0, &s), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("class 1 has no samples"), std::string::npos) << nnf_last_error();
    const std::vector<int64_t> ok = {0, 1, 2, 1};
    EXPECT_EQ(nnf_sampler_create(ok.data(), 4, 3, 4, 0, &s), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(nnf_last_error()).find("batch_size 4 is not a positive multiple of num_classes 3"), std::string::npos);
    const std::vector<int64_t> out_of_range = {0, 1, 3, 2};
    EXPECT_EQ(nnf_sampler_create(out_of_range.data(), 4, 3, 3, 0, &s), NNF_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_NE(std::string(nnf_last_error()).find("labels[2] = 3 is out of range for 3 classes"), std::string::npos);
    EXPECT_EQ(nnf_sampler_create(ok.data(), 4, 0, 3, 0, &s), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(nnf_sampler_create(ok.data(), 4, 3, 3, 0, nullptr), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(s, nullptr) << "nothing created on failure";
    int64_t count = 0, index[3];
    EXPECT_EQ(nnf_sampler_next(nullptr, index, &count), NNF_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(nnf_sampler_reset(nullptr), NNF_ERR_INVALID_ARGUMENT);
}

}  // namespace

#include "bench_problem.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

#include "reference/pointwise_reference.h"

namespace nnf::bench {

const char *direction_name(Direction direction) {
    switch (direction) {
    case Direction::forward: return "forward";
    case Direction::backward: return "backward";
    case Direction::forward_backward: return "forward_backward";
    }
    return "?";
}

bool has_direction(const OpCase &op, Direction direction) {
    return direction != Direction::forward_backward || std::strcmp(op.info->name, "cross_entropy") == 0;
}

bool OpCase::has_param(const char *name) const {
    for (int i = 0; i < info->num_params; ++i) {
        if (std::strcmp(info->params[i].name, name) == 0) return true;
    }
    return false;
}

double OpCase::param(const char *name) const {
    for (int i = 0; i < info->num_params; ++i) {
        if (std::strcmp(info->params[i].name, name) == 0) return params[static_cast<size_t>(i)];
    }
    std::fprintf(stderr, "nnfuse bench: op %s has no parameter %s\n", info->name, name);
    std::abort();
}

const std::vector<OpCase> &op_cases() {
    static const std::vector<OpCase> cases = [] {
        std::vector<OpCase> result;
        int count = 0;
        const rt::OpInfo *ops = rt::op_table(&count);
        for (int i = 0; i < count; ++i) {
            const rt::OpInfo &op = ops[i];
            std::vector<double> defaults;
            int enum_index = -1;
            for (int p = 0; p < op.num_params; ++p) {
                defaults.push_back(op.params[p].default_value);
                if (op.params[p].enum_values) enum_index = p;
            }
            result.push_back({&op, defaults, op.name});
            if (enum_index < 0) continue;
            const rt::OpParamInfo &choice = op.params[enum_index];
            for (int v = 0; v < choice.enum_values; ++v) {
                if (v == static_cast<int>(choice.default_value)) continue;
                std::vector<double> params = defaults;
                params[static_cast<size_t>(enum_index)] = v;
                result.push_back({&op, params, std::string(op.name) + "_" + choice.name + std::to_string(v)});
            }
        }
        return result;
    }();
    return cases;
}

FloatBuffer::FloatBuffer(int64_t count) : count_(count) {
    const size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
    data_.reset(static_cast<float *>(std::aligned_alloc(64, bytes ? bytes : 64)));
    if (!data_) throw std::bad_alloc();
    // Touch every page now, so no benchmark times the kernel's first-touch page faults.
    std::memset(data_.get(), 0, bytes);
}

namespace {

// Uniform in [lo, hi) from a hash of (seed, index): the same values in every process and
// binary, and cheap enough (about 1 ns per element) to fill 64M-element tensors per benchmark.
void fill_uniform(FloatBuffer &buffer, double lo, double hi, uint64_t seed) {
    float *data = buffer.data();
    const float low = static_cast<float>(lo), width = static_cast<float>(hi - lo);
    for (int64_t i = 0; i < buffer.size(); ++i) {
        uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(i);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        const float u = static_cast<float>(z >> 40) * 0x1p-24f;
        data[i] = low + width * u;
    }
}

// How a family lays its problem out; families missing here are skipped with a message.
struct FamilyLayout {
    const char *family;
    std::vector<int64_t> (*shape)(int64_t n);
    int64_t weight_elements;  // prelu's channels; else 0
    double lo, hi;            // x's range where the op's reference gives none
    int tensors_forward, tensors_backward;
};

constexpr int64_t kSoftmaxRow = 1024;
constexpr int64_t kPreluChannels = 64, kPreluInner = 64;

const FamilyLayout kFamilyLayouts[] = {
    {"pointwise", [](int64_t n) { return std::vector<int64_t>{n}; }, 0, -8, 8, 2, 3},
    // Logits of a spread of 10, as the softmax tests use: every exp contributes.
    {"softmax", [](int64_t n) { return std::vector<int64_t>{n / kSoftmaxRow, kSoftmaxRow}; }, 0, -5, 5, 2, 3},
    {"prelu", [](int64_t n) { return std::vector<int64_t>{n / (kPreluChannels * kPreluInner), kPreluChannels, kPreluInner}; },
     kPreluChannels, -10, 10, 2, 3},
    {"rrelu", [](int64_t n) { return std::vector<int64_t>{n}; }, 0, -10, 10, 2, 3},
    // Losses with their default (mean) reduction: one output element, one grad_output element.
    // Elementwise losses: input and target of shape [n] in [-3, 3], so that |input - target|
    // falls on both sides of smooth_l1's and huber's default beta / delta of 1; forward reads 2
    // tensors, backward reads 2 and writes 1. Classification losses (they take class indices):
    // see classification_layout below.
    {"loss", [](int64_t n) { return std::vector<int64_t>{n}; }, 0, -3, 3, 2, 3},
};

// Classification losses: [n / 1024, 1024] rows of 1024 classes with one int64 class index per
// row (nll_loss: log-probabilities in [-10, 0]; cross_entropy: logits in [-5, 5]). Forward reads
// the input once; backward writes grad_input, and cross_entropy also reads the logits (nll_loss's
// gradient is -weight at the target, zero elsewhere).
const FamilyLayout kClassificationLayout = {
    "loss", [](int64_t n) { return std::vector<int64_t>{n / kSoftmaxRow, kSoftmaxRow}; }, 0, -5, 5, 1, 2};

// The op table does not say which losses take class indices; their ignore_index parameter does.
bool is_classification_loss(const OpCase &op) {
    return std::strcmp(op.info->family, "loss") == 0 && op.has_param("ignore_index");
}

const FamilyLayout *layout_of(const OpCase &op) {
    if (is_classification_loss(op)) return &kClassificationLayout;
    for (const FamilyLayout &layout : kFamilyLayouts) {
        if (std::strcmp(layout.family, op.info->family) == 0) return &layout;
    }
    return nullptr;
}

DLTensor dl_tensor(void *data, std::vector<int64_t> &shape, DLDataType dtype = {kDLFloat, 32, 1}) {
    DLTensor t{};
    t.data = data;
    t.device = {kDLCPU, 0};
    t.ndim = static_cast<int32_t>(shape.size());
    t.dtype = dtype;
    t.shape = shape.empty() ? nullptr : shape.data();
    return t;
}

DLTensor dl_tensor(const FloatBuffer &buffer, std::vector<int64_t> &shape) {
    return dl_tensor(buffer.data(), shape);
}

}  // namespace

int Problem::tensors_moved() const {
    const FamilyLayout *layout = layout_of(op);
    // nll_loss reads one element per row forward (a gather: no roofline to compare with) and
    // only writes grad_input backward.
    if (std::strcmp(op.info->name, "nll_loss") == 0) return direction == Direction::forward ? 0 : 1;
    return direction == Direction::forward ? layout->tensors_forward : layout->tensors_backward;
}

std::unique_ptr<Problem> Problem::make(const OpCase &op, Direction direction, int64_t n, std::string *why_not) {
    const FamilyLayout *layout = layout_of(op);
    if (!layout) {
        *why_not = std::string("no benchmark problem for family '") + op.info->family +
                   "' yet (add its layout to bench/cpu/bench_problem.cpp)";
        return nullptr;
    }
    std::unique_ptr<Problem> p(new Problem(op, direction, n));
    p->shape = layout->shape(n);
    double lo = layout->lo, hi = layout->hi;
    auto reference = test::pointwise_references().find(op.info->name);
    if (reference != test::pointwise_references().end()) lo = reference->second.lo, hi = reference->second.hi;
    if (std::strcmp(op.info->name, "nll_loss") == 0) lo = -10, hi = 0;

    p->x = FloatBuffer(n);
    fill_uniform(p->x, lo, hi, 1);
    p->y = FloatBuffer(n);
    if (layout->weight_elements) {
        p->weight_shape = {layout->weight_elements};
        p->weight = FloatBuffer(layout->weight_elements);
        fill_uniform(p->weight, 0.25, 0.25, 3);  // PyTorch's nn.PReLU initial weight
        p->grad_weight = FloatBuffer(layout->weight_elements);
    }
    if (std::strcmp(op.info->family, "loss") == 0) {
        p->loss = FloatBuffer(1);
        if (is_classification_loss(op)) {
            const int64_t rows = p->shape[0], classes = p->shape[1];
            p->class_target.resize(static_cast<size_t>(rows));
            for (int64_t r = 0; r < rows; ++r) p->class_target[static_cast<size_t>(r)] = (r * 7919) % classes;
            p->target_shape = {rows};
        } else {
            p->target = FloatBuffer(n);
            fill_uniform(p->target, lo, hi, 4);
        }
        if (direction != Direction::forward) {
            p->grad_loss = FloatBuffer(1);
            p->grad_loss.data()[0] = 1.0f;  // loss.backward()
            p->grad_input = FloatBuffer(n);
        }
        return p;
    }
    if (direction == Direction::backward) {
        p->grad_output = FloatBuffer(n);
        fill_uniform(p->grad_output, -1, 1, 2);
        p->grad_input = FloatBuffer(n);
        if (op.info->backward_takes_output) {
            // The saved output is the forward's true output, as in training.
            if (p->run_nnfuse(Direction::forward) != NNF_OK) {
                *why_not = std::string("nnfuse forward for the saved output failed: ") + nnf_last_error();
                return nullptr;
            }
        }
    }
    return p;
}

nnf_status Problem::run_loss(Direction pass) {
    std::vector<int64_t> scalar_shape;  // the reduced loss: 0-d
    DLTensor tx = dl_tensor(x, shape), tloss = dl_tensor(loss, scalar_shape);
    DLTensor ttarget = class_target.empty() ? dl_tensor(target, shape)
                                            : dl_tensor(class_target.data(), target_shape, DLDataType{kDLInt, 64, 1});
    // Argument order of the loss entry points (compiler/nnfc/loss_emitter.h): classification
    // losses take a class-weight tensor after the target (NULL: unweighted).
    if (pass == Direction::forward) {
        const DLTensor *inputs[] = {&tx, &ttarget, nullptr};
        DLTensor *outputs[] = {&tloss};
        return op.info->forward(inputs, outputs, op.params.data());
    }
    DLTensor tgrad_loss = dl_tensor(grad_loss, scalar_shape), tgi = dl_tensor(grad_input, shape);
    if (pass == Direction::forward_backward) {  // cross_entropy: has_direction
        nnf_cross_entropy_params params = nnf_cross_entropy_default_params();
        params.reduction = static_cast<nnf_reduction>(op.param("reduction"));
        params.ignore_index = static_cast<int64_t>(op.param("ignore_index"));
        params.label_smoothing = static_cast<float>(op.param("label_smoothing"));
        return nnf_cross_entropy_forward_backward(&tx, &ttarget, nullptr, &tgrad_loss, &tloss, &tgi, &params);
    }
    const DLTensor *inputs[] = {&tgrad_loss, &tx, &ttarget, nullptr};
    DLTensor *outputs[] = {&tgi};
    return op.info->backward(inputs, outputs, op.params.data());
}

nnf_status Problem::run_nnfuse(Direction pass) {
    if (std::strcmp(op.info->family, "loss") == 0) return run_loss(pass);
    const bool has_weight = !weight_shape.empty();
    DLTensor tx = dl_tensor(x, shape), ty = dl_tensor(y, shape);
    DLTensor tw = has_weight ? dl_tensor(weight, weight_shape) : DLTensor{};
    DLTensor tgw = has_weight ? dl_tensor(grad_weight, weight_shape) : DLTensor{};
    if (pass == Direction::forward) {
        // Argument order of the op table's entry points (compiler/nnfc/c_api_emitter.cpp, call_args).
        const DLTensor *inputs[] = {&tx, has_weight ? &tw : nullptr};
        DLTensor *outputs[] = {&ty, nullptr};  // rrelu's noise: NULL in evaluation
        return op.info->forward(inputs, outputs, op.params.data());
    }
    DLTensor tgo = dl_tensor(grad_output, shape), tgi = dl_tensor(grad_input, shape);
    DLTensor tsaved = op.info->backward_takes_output ? ty : tx;
    // The third input is prelu's weight, or rrelu's noise (NULL in evaluation).
    const DLTensor *inputs[] = {&tgo, &tsaved, has_weight ? &tw : nullptr};
    DLTensor *outputs[] = {&tgi, has_weight ? &tgw : nullptr};
    return op.info->backward(inputs, outputs, op.params.data());
}

const std::vector<int64_t> &problem_sizes() {
    static const std::vector<int64_t> sizes = {4096, 65536, 16 << 20, 64 << 20};
    return sizes;
}

const std::vector<int> &thread_counts() {
    static const std::vector<int> counts = [] {
        const int cores = static_cast<int>(std::thread::hardware_concurrency());
        return cores > 1 ? std::vector<int>{1, cores} : std::vector<int>{1};
    }();
    return counts;
}

namespace {

// One prepared benchmark at a time: Google Benchmark calls a benchmark function several times
// (to size its iteration count, then per repetition); rebuilding a 64M-element problem and a
// library's primitive on every call would dominate the run.
struct PreparedRun {
    std::string key;
    std::unique_ptr<Problem> problem;
    std::function<bool()> call;

    void clear() {
        call = nullptr;  // may reference the problem's buffers
        problem.reset();
        key.clear();
    }
};

PreparedRun &prepared_run() {
    static PreparedRun run;
    return run;
}

void run_op(benchmark::State &state, const Implementation *implementation, const OpCase *op, Direction direction) {
    const int64_t n = state.range(0);
    const int threads = static_cast<int>(state.range(1));
    const std::string key = implementation->name + "/" + op->label + "/" + direction_name(direction) + "/" +
                            std::to_string(n) + "/" + std::to_string(threads);
    PreparedRun &run = prepared_run();
    implementation->set_threads(threads);
    if (run.key != key) {
        run.clear();
        std::string why_not;
        try {
            run.problem = Problem::make(*op, direction, n, &why_not);
            if (run.problem) run.call = implementation->prepare(*run.problem, threads);
        } catch (const std::exception &e) {
            why_not = e.what();
        }
        if (!run.call) {
            run.clear();
            state.SkipWithError(why_not.c_str());
            return;
        }
        run.key = key;
    }
    // Warm-up call: lazy initialization, code and data into the caches; also the error check.
    std::string failure;
    try {
        if (!run.call()) failure = std::string("call failed: ") + nnf_last_error();
    } catch (const std::exception &e) {
        failure = e.what();
    }
    if (!failure.empty()) {
        run.clear();
        state.SkipWithError(failure.c_str());
        return;
    }
    for (auto _ : state) {
        run.call();
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.SetBytesProcessed(state.iterations() * run.problem->bytes_moved());
    state.SetLabel(implementation->label());
}

}  // namespace

void register_op_benchmarks(const Implementation &implementation) {
    // Registered benchmarks keep pointers: the implementation must outlive main's run.
    static std::vector<std::unique_ptr<Implementation>> keep;
    keep.push_back(std::make_unique<Implementation>(implementation));
    const Implementation *impl = keep.back().get();
    for (const OpCase &op : op_cases()) {
        for (Direction direction : {Direction::forward, Direction::backward, Direction::forward_backward}) {
            if (!has_direction(op, direction) || !impl->has_op(op, direction)) continue;
            const std::string name = impl->name + "/" + op.label + "/" + direction_name(direction);
            auto *b = benchmark::RegisterBenchmark(name.c_str(), run_op, impl, &op, direction);
            for (int64_t n : problem_sizes()) {
                for (int t : thread_counts()) b->Args({n, t});
            }
            b->ArgNames({"n", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
        }
    }
}

int run_benchmarks(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // namespace nnf::bench

// oneDNN (Debian's libdnnl, the 2.x C++ API) on the problems of bench_problem.h: eltwise
// forward and backward primitives, softmax and logsoftmax along the last dim, prelu. Primitives
// are created untimed; a timed call is execute + wait on the problem's buffers (user memory,
// plain layouts, as a framework hands them over). Threads: oneDNN's OpenMP runtime.
//
// Adding a comparison for a new op: one entry in kEltwiseAdapters (or a case in prepare_onednn).
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "bench_problem.h"

namespace nnf::bench {
namespace {

using dnnl::algorithm;
using dnnl::memory;

struct EltwiseAdapter {
    // Forward algorithm, and the one backward uses (its forward hint is created with it too):
    // the *_use_dst_for_bwd variants take y, as ATen's sigmoid and tanh backward do (the
    // registry's backward_takes_output).
    algorithm forward, backward;
    float (*alpha)(const OpCase &);
    float (*beta)(const OpCase &);
    bool (*supports)(const OpCase &);  // nullptr: every parameter value
};

float zero(const OpCase &) {
    return 0;
}
float param_of(const OpCase &op, const char *name) {
    return static_cast<float>(op.param(name));
}

const std::map<std::string, EltwiseAdapter> kEltwiseAdapters = {
    {"relu", {algorithm::eltwise_relu, algorithm::eltwise_relu, zero, zero, nullptr}},
    {"leaky_relu",
     {algorithm::eltwise_relu, algorithm::eltwise_relu, [](const OpCase &op) { return param_of(op, "negative_slope"); },
      zero, nullptr}},
    // threshold with its defaults (0, 0) is relu, the only form oneDNN has.
    {"threshold",
     {algorithm::eltwise_relu, algorithm::eltwise_relu, zero, zero,
      [](const OpCase &op) { return op.param("threshold") == 0 && op.param("value") == 0; }}},
    {"relu6",
     {algorithm::eltwise_clip_v2, algorithm::eltwise_clip_v2, zero, [](const OpCase &) { return 6.0f; }, nullptr}},
    {"hardtanh",
     {algorithm::eltwise_clip_v2, algorithm::eltwise_clip_v2, [](const OpCase &op) { return param_of(op, "min_val"); },
      [](const OpCase &op) { return param_of(op, "max_val"); }, nullptr}},
    {"sigmoid", {algorithm::eltwise_logistic, algorithm::eltwise_logistic_use_dst_for_bwd, zero, zero, nullptr}},
    {"tanh", {algorithm::eltwise_tanh, algorithm::eltwise_tanh_use_dst_for_bwd, zero, zero, nullptr}},
    {"elu",
     {algorithm::eltwise_elu, algorithm::eltwise_elu, [](const OpCase &op) { return param_of(op, "alpha"); }, zero,
      nullptr}},
    // oneDNN 2.x soft_relu is log(1 + exp(x)): softplus with beta = 1 (it has no threshold;
    // above x = 20 the two differ by less than a float ulp).
    {"softplus",
     {algorithm::eltwise_soft_relu, algorithm::eltwise_soft_relu, zero, zero,
      [](const OpCase &op) { return op.param("beta") == 1; }}},
    {"log_sigmoid", {algorithm::eltwise_logsigmoid, algorithm::eltwise_logsigmoid, zero, zero, nullptr}},
    {"gelu",
     {algorithm::eltwise_gelu_erf, algorithm::eltwise_gelu_erf, zero, zero,
      [](const OpCase &op) { return op.param("approximate") == 0; }}},
    // Ops oneDNN has that the registry may gain: they compare as soon as the op lands.
    {"silu", {algorithm::eltwise_swish, algorithm::eltwise_swish, [](const OpCase &) { return 1.0f; }, zero, nullptr}},
    {"mish", {algorithm::eltwise_mish, algorithm::eltwise_mish, zero, zero, nullptr}},
    {"hardswish", {algorithm::eltwise_hardswish, algorithm::eltwise_hardswish, zero, zero, nullptr}},
};

// gelu's approximate="tanh" is a different algorithm, not a parameter, in oneDNN.
const EltwiseAdapter *eltwise_adapter(const OpCase &op) {
    static const EltwiseAdapter gelu_tanh = {algorithm::eltwise_gelu_tanh, algorithm::eltwise_gelu_tanh, zero, zero,
                                             nullptr};
    if (std::string(op.info->name) == "gelu" && op.param("approximate") == 1) return &gelu_tanh;
    auto it = kEltwiseAdapters.find(op.info->name);
    if (it == kEltwiseAdapters.end()) return nullptr;
    if (it->second.supports && !it->second.supports(op)) return nullptr;
    return &it->second;
}

bool is_softmax_along_last_dim(const OpCase &op) {
    const std::string name = op.info->name;
    if (name != "softmax" && name != "log_softmax") return false;  // softmin: oneDNN has no negated form
    return op.param("beta") == 1 && op.param("dim") == -1;
}

bool has_onednn_op(const OpCase &op, Direction) {
    return eltwise_adapter(op) || is_softmax_along_last_dim(op) || std::string(op.info->name) == "prelu";
}

dnnl::engine &cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

memory::desc plain_desc(const std::vector<int64_t> &shape) {
    memory::dims dims(shape.begin(), shape.end());
    static const memory::format_tag tags[] = {memory::format_tag::a, memory::format_tag::ab,
                                              memory::format_tag::abc};
    return memory::desc(dims, memory::data_type::f32, tags[shape.size() - 1]);
}

// A primitive with its arguments; the timed call.
struct OnednnRun {
    dnnl::stream stream{cpu_engine()};
    dnnl::primitive primitive;
    std::unordered_map<int, memory> args;
    bool operator()() {
        primitive.execute(stream, args);
        stream.wait();
        return true;
    }
};

memory user_memory(const memory::desc &desc, const FloatBuffer &buffer) {
    return memory(desc, cpu_engine(), buffer.data());
}

std::shared_ptr<OnednnRun> prepare_eltwise(Problem &problem, const EltwiseAdapter &adapter) {
    auto run = std::make_shared<OnednnRun>();
    const memory::desc desc = plain_desc(problem.shape);
    const float alpha = adapter.alpha(problem.op), beta = adapter.beta(problem.op);
    const bool forward = problem.direction == Direction::forward;
    dnnl::eltwise_forward::desc forward_desc(
        forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training,
        forward ? adapter.forward : adapter.backward, desc, alpha, beta);
    dnnl::eltwise_forward::primitive_desc forward_pd(forward_desc, cpu_engine());
    if (forward) {
        run->primitive = dnnl::eltwise_forward(forward_pd);
        run->args = {{DNNL_ARG_SRC, user_memory(desc, problem.x)}, {DNNL_ARG_DST, user_memory(desc, problem.y)}};
        return run;
    }
    dnnl::eltwise_backward::desc backward_desc(adapter.backward, desc, desc, alpha, beta);
    dnnl::eltwise_backward::primitive_desc backward_pd(backward_desc, cpu_engine(), forward_pd);
    run->primitive = dnnl::eltwise_backward(backward_pd);
    const bool takes_output = problem.op.info->backward_takes_output;
    run->args = {{takes_output ? DNNL_ARG_DST : DNNL_ARG_SRC, user_memory(desc, problem.saved())},
                 {DNNL_ARG_DIFF_DST, user_memory(desc, problem.grad_output)},
                 {DNNL_ARG_DIFF_SRC, user_memory(desc, problem.grad_input)}};
    return run;
}

template<typename Forward, typename Backward>
std::shared_ptr<OnednnRun> prepare_softmax(Problem &problem) {
    auto run = std::make_shared<OnednnRun>();
    const memory::desc desc = plain_desc(problem.shape);
    const int axis = static_cast<int>(problem.shape.size()) - 1;
    const bool forward = problem.direction == Direction::forward;
    typename Forward::desc forward_desc(
        forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training, desc, axis);
    typename Forward::primitive_desc forward_pd(forward_desc, cpu_engine());
    if (forward) {
        run->primitive = Forward(forward_pd);
        run->args = {{DNNL_ARG_SRC, user_memory(desc, problem.x)}, {DNNL_ARG_DST, user_memory(desc, problem.y)}};
        return run;
    }
    typename Backward::desc backward_desc(desc, desc, axis);
    typename Backward::primitive_desc backward_pd(backward_desc, cpu_engine(), forward_pd);
    run->primitive = Backward(backward_pd);
    run->args = {{DNNL_ARG_DST, user_memory(desc, problem.y)},
                 {DNNL_ARG_DIFF_DST, user_memory(desc, problem.grad_output)},
                 {DNNL_ARG_DIFF_SRC, user_memory(desc, problem.grad_input)}};
    return run;
}

// Weights of shape [1, C, 1]: oneDNN broadcasts them over N and the inner dim (PyTorch's layout).
std::shared_ptr<OnednnRun> prepare_prelu(Problem &problem) {
    auto run = std::make_shared<OnednnRun>();
    const memory::desc desc = plain_desc(problem.shape);
    const memory::desc weight_desc = plain_desc({1, problem.shape[1], 1});
    const bool forward = problem.direction == Direction::forward;
    dnnl::prelu_forward::desc forward_desc(
        forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training, desc, weight_desc);
    dnnl::prelu_forward::primitive_desc forward_pd(forward_desc, cpu_engine());
    if (forward) {
        run->primitive = dnnl::prelu_forward(forward_pd);
        run->args = {{DNNL_ARG_SRC, user_memory(desc, problem.x)},
                     {DNNL_ARG_WEIGHTS, user_memory(weight_desc, problem.weight)},
                     {DNNL_ARG_DST, user_memory(desc, problem.y)}};
        return run;
    }
    dnnl::prelu_backward::desc backward_desc(desc, weight_desc, desc, weight_desc);
    dnnl::prelu_backward::primitive_desc backward_pd(backward_desc, cpu_engine(), forward_pd);
    run->primitive = dnnl::prelu_backward(backward_pd);
    run->args = {{DNNL_ARG_SRC, user_memory(desc, problem.x)},
                 {DNNL_ARG_WEIGHTS, user_memory(weight_desc, problem.weight)},
                 {DNNL_ARG_DIFF_DST, user_memory(desc, problem.grad_output)},
                 {DNNL_ARG_DIFF_SRC, user_memory(desc, problem.grad_input)},
                 {DNNL_ARG_DIFF_WEIGHTS, user_memory(weight_desc, problem.grad_weight)}};
    return run;
}

std::string isa_name(dnnl::cpu_isa isa) {
    switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return std::to_string(static_cast<int>(isa));
    }
}

std::function<bool()> prepare_onednn(Problem &problem, int) {
    std::shared_ptr<OnednnRun> run;
    const std::string name = problem.op.info->name;
    if (const EltwiseAdapter *adapter = eltwise_adapter(problem.op)) {
        run = prepare_eltwise(problem, *adapter);
    } else if (name == "softmax") {
        run = prepare_softmax<dnnl::softmax_forward, dnnl::softmax_backward>(problem);
    } else if (name == "log_softmax") {
        run = prepare_softmax<dnnl::logsoftmax_forward, dnnl::logsoftmax_backward>(problem);
    } else if (name == "prelu") {
        run = prepare_prelu(problem);
    } else {
        throw std::runtime_error("oneDNN has no " + name);
    }
    return [run] { return (*run)(); };
}

}  // namespace
}  // namespace nnf::bench

int main(int argc, char **argv) {
    using namespace nnf::bench;
    Implementation onednn;
    onednn.name = "onednn";
    onednn.has_op = has_onednn_op;
    onednn.prepare = prepare_onednn;
    onednn.set_threads = [](int threads) { omp_set_num_threads(threads); };
    onednn.label = [] {
        const dnnl_version_t *v = dnnl_version();
        return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
               " isa=" + isa_name(dnnl::get_effective_cpu_isa());
    };
    register_op_benchmarks(onednn);
    return run_benchmarks(argc, argv);
}

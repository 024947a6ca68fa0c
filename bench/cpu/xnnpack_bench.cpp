// XNNPACK (Debian's libxnnpack, 2022) on the problems of bench_problem.h, forward only (an
// inference library: it has no backward operators). Operators are created and set up untimed;
// a timed call is xnn_run_operator. Threads: no threadpool for 1 thread (XNNPACK's own
// single-threaded path), a pthreadpool of the requested size otherwise.
//
// Adding a comparison for a new op: one entry in kXnnpackAdapters.
#include <pthreadpool.h>
#include <xnnpack.h>

#include <cstdio>
#include <limits>
#include <memory>
#include <map>
#include <stdexcept>
#include <string>

#include "bench_problem.h"

namespace nnf::bench {
namespace {

// Elementwise operators are created for 1 channel with unit strides and run on a batch of n:
// XNNPACK's setup sees a contiguous array and processes it in large tiles.
using CreateOperator = xnn_status (*)(const OpCase &, xnn_operator_t *);
using SetupOperator = xnn_status (*)(xnn_operator_t, size_t batch, const float *, float *, pthreadpool_t);

struct XnnpackAdapter {
    CreateOperator create;
    SetupOperator setup;
    bool (*supports)(const OpCase &);  // nullptr: every parameter value
};

constexpr float kInfinity = std::numeric_limits<float>::infinity();

float param_of(const OpCase &op, const char *name) {
    return static_cast<float>(op.param(name));
}

const std::map<std::string, XnnpackAdapter> kXnnpackAdapters = {
    {"relu",
     {[](const OpCase &, xnn_operator_t *op) { return xnn_create_clamp_nc_f32(1, 1, 1, 0, kInfinity, 0, op); },
      xnn_setup_clamp_nc_f32, nullptr}},
    // threshold with its defaults (0, 0) is relu.
    {"threshold",
     {[](const OpCase &, xnn_operator_t *op) { return xnn_create_clamp_nc_f32(1, 1, 1, 0, kInfinity, 0, op); },
      xnn_setup_clamp_nc_f32, [](const OpCase &op) { return op.param("threshold") == 0 && op.param("value") == 0; }}},
    {"relu6",
     {[](const OpCase &, xnn_operator_t *op) { return xnn_create_clamp_nc_f32(1, 1, 1, 0, 6, 0, op); },
      xnn_setup_clamp_nc_f32, nullptr}},
    {"hardtanh",
     {[](const OpCase &c, xnn_operator_t *op) {
          return xnn_create_clamp_nc_f32(1, 1, 1, param_of(c, "min_val"), param_of(c, "max_val"), 0, op);
      },
      xnn_setup_clamp_nc_f32, nullptr}},
    {"leaky_relu",
     {[](const OpCase &c, xnn_operator_t *op) {
          return xnn_create_leaky_relu_nc_f32(1, 1, 1, param_of(c, "negative_slope"), 0, op);
      },
      xnn_setup_leaky_relu_nc_f32, nullptr}},
    {"elu",
     {[](const OpCase &c, xnn_operator_t *op) { return xnn_create_elu_nc_f32(1, 1, 1, param_of(c, "alpha"), 0, op); },
      xnn_setup_elu_nc_f32, nullptr}},
    {"sigmoid",
     {[](const OpCase &, xnn_operator_t *op) { return xnn_create_sigmoid_nc_f32(1, 1, 1, 0, op); },
      xnn_setup_sigmoid_nc_f32, nullptr}},
    // Ops XNNPACK has that the registry may gain: they compare as soon as the op lands.
    {"hardswish",
     {[](const OpCase &, xnn_operator_t *op) { return xnn_create_hardswish_nc_f32(1, 1, 1, 0, op); },
      xnn_setup_hardswish_nc_f32, nullptr}},
};

const XnnpackAdapter *xnnpack_adapter(const OpCase &op) {
    auto it = kXnnpackAdapters.find(op.info->name);
    if (it == kXnnpackAdapters.end()) return nullptr;
    if (it->second.supports && !it->second.supports(op)) return nullptr;
    return &it->second;
}

bool is_softmax_along_last_dim(const OpCase &op) {
    return std::string(op.info->name) == "softmax" && op.param("beta") == 1 && op.param("dim") == -1;
}

bool has_xnnpack_op(const OpCase &op, Direction direction) {
    if (direction != Direction::forward) return false;
    return xnnpack_adapter(op) || is_softmax_along_last_dim(op) || std::string(op.info->name) == "prelu";
}

pthreadpool_t threadpool_for(int threads) {
    if (threads <= 1) return nullptr;
    static std::map<int, pthreadpool_t> pools;  // kept for the process: creating one spawns threads
    pthreadpool_t &pool = pools[threads];
    if (!pool) pool = pthreadpool_create(static_cast<size_t>(threads));
    return pool;
}

void check(xnn_status status, const char *what) {
    if (status != xnn_status_success) throw std::runtime_error(std::string(what) + " failed with status " +
                                                               std::to_string(static_cast<int>(status)));
}

std::function<bool()> prepare_xnnpack(Problem &problem, int threads) {
    xnn_operator_t op = nullptr;
    pthreadpool_t pool = threadpool_for(threads);
    const float *x = problem.x.data();
    float *y = problem.y.data();
    if (const XnnpackAdapter *adapter = xnnpack_adapter(problem.op)) {
        check(adapter->create(problem.op, &op), "xnn_create");
        check(adapter->setup(op, static_cast<size_t>(problem.n), x, y, pool), "xnn_setup");
    } else if (is_softmax_along_last_dim(problem.op)) {
        const size_t row = static_cast<size_t>(problem.shape.back());
        check(xnn_create_softmax_nc_f32(row, row, row, 0, &op), "xnn_create_softmax_nc_f32");
        check(xnn_setup_softmax_nc_f32(op, static_cast<size_t>(problem.n) / row, x, y, pool),
              "xnn_setup_softmax_nc_f32");
    } else {
        // XNNPACK's prelu is channels-last (NC): the same elements and weights, with the channel
        // varying fastest instead of in dim 1.
        const size_t channels = static_cast<size_t>(problem.weight_shape[0]);
        check(xnn_create_prelu_nc_f32(channels, channels, channels, problem.weight.data(), 0, &op),
              "xnn_create_prelu_nc_f32");
        check(xnn_setup_prelu_nc_f32(op, static_cast<size_t>(problem.n) / channels, x, y, pool),
              "xnn_setup_prelu_nc_f32");
    }
    std::shared_ptr<xnn_operator> owned(op, xnn_delete_operator);
    return [owned, pool] { return xnn_run_operator(owned.get(), pool) == xnn_status_success; };
}

}  // namespace
}  // namespace nnf::bench

int main(int argc, char **argv) {
    using namespace nnf::bench;
    if (xnn_initialize(nullptr) != xnn_status_success) {
        std::fprintf(stderr, "xnn_initialize failed: this CPU is not supported by XNNPACK\n");
        return 1;
    }
    Implementation xnnpack;
    xnnpack.name = "xnnpack";
    xnnpack.has_op = has_xnnpack_op;
    xnnpack.prepare = prepare_xnnpack;
    xnnpack.set_threads = [](int) {};  // the threadpool is chosen per problem in prepare
    xnnpack.label = [] { return std::string("XNNPACK (Debian libxnnpack0)"); };
    register_op_benchmarks(xnnpack);
    return run_benchmarks(argc, argv);
}

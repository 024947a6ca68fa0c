// The problems every CPU comparison binary shares: one per registry op (and value of its enum
// parameter), direction and size, with tensors filled identically in every process, so that
// nnfuse, PyTorch, oneDNN, XNNPACK and the memory copy time the same work on the same bytes.
//
// Ops come from the op table (runtime/op_table.h): an op added to the registry is benchmarked
// on nnfuse without any change here, and on another library once it has an adapter in that
// library's binary. A family without a problem below is registered anyway and skipped with the
// reason, so the report shows what is not measured yet.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "op_table.h"

namespace nnf::bench {

// forward_backward: the loss and its gradient together, for cross_entropy only (nnfuse's
// nnf_cross_entropy_forward_backward; PyTorch's forward, then its backward, as autograd runs
// them); the problem is the backward's.
enum class Direction { forward, backward, forward_backward };

const char *direction_name(Direction direction);

// An op of the registry with one set of parameters.
struct OpCase {
    const rt::OpInfo *info;
    std::vector<double> params;  // registry order; enums by value index
    // The op name, plus "_<enum param><value index>" for non-default enum values
    // ("gelu_approximate1" is approximate="tanh"), as the tests name them.
    std::string label;

    // A parameter by its registry name; aborts on a name the op does not have (an adapter bug).
    double param(const char *name) const;
    bool has_param(const char *name) const;
};

// Every op in the op table, once per value of its enum parameter, defaults otherwise.
const std::vector<OpCase> &op_cases();

// Whether `direction` is benchmarked for the op at all (forward_backward: cross_entropy only).
bool has_direction(const OpCase &op, Direction direction);

// 64-byte aligned float storage (whole cache lines, aligned vector loads for every library).
class FloatBuffer {
public:
    FloatBuffer() = default;
    explicit FloatBuffer(int64_t count);
    float *data() const { return data_.get(); }
    int64_t size() const { return count_; }

private:
    struct Free {
        void operator()(float *p) const { std::free(p); }
    };
    std::unique_ptr<float, Free> data_;
    int64_t count_ = 0;
};

// One op, one direction, n elements: the tensors, filled, and nnfuse's call through the op table.
// Layouts per family:
//   pointwise, rrelu  x of shape [n]
//   softmax           [n / 1024, 1024], normalized along the last dim (rows of 1024, as the
//                     earlier PyTorch measurements in HALIDE_NOTES.md)
//   prelu             [n / 4096, 64, 64] (N, C, HW) with 64 channel weights of 0.25
//   loss              elementwise losses: input and target [n]; classification losses (with an
//                     ignore_index): [n / 1024, 1024] and one int64 class per row; mean reduction
// rrelu runs with its defaults (evaluation: a fixed slope, no noise tensor).
class Problem {
public:
    // nullptr with *why_not set when the op's family has no problem layout yet.
    static std::unique_ptr<Problem> make(const OpCase &op, Direction direction, int64_t n, std::string *why_not);

    const OpCase &op;
    const Direction direction;
    const int64_t n;
    std::vector<int64_t> shape;          // of x, y, grad_output and grad_input
    std::vector<int64_t> weight_shape;   // prelu: [channels]; else empty
    FloatBuffer x, y, grad_output, grad_input, weight, grad_weight;
    // Losses: a float target of x's shape, or class indices of shape target_shape; the reduced
    // loss and its gradient (one element each).
    FloatBuffer target, loss, grad_loss;
    std::vector<int64_t> class_target, target_shape;

    // The tensor backward takes after grad_output: y for ops whose backward takes the output.
    const FloatBuffer &saved() const { return op.info->backward_takes_output ? y : x; }
    // Bytes the op must read and write at least (the roofline's bytes): n floats per tensor.
    int64_t bytes_moved() const { return n * 4 * tensors_moved(); }
    int tensors_moved() const;

    // nnfuse's entry point for this problem through the op table; the forward of a backward
    // problem writes y.
    nnf_status run_nnfuse() { return run_nnfuse(direction); }
    nnf_status run_nnfuse(Direction pass);

private:
    nnf_status run_loss(Direction pass);
    Problem(const OpCase &op, Direction direction, int64_t n) : op(op), direction(direction), n(n) {}
};

// The sizes (elements) and thread counts every binary registers; the runner filters them.
// 4K floats sit in L1, 64K in L2, 16M and 64M elements are beyond L2 (the LLC of the machine
// decides whether 16M is, see docs/benchmarks.md).
const std::vector<int64_t> &problem_sizes();
const std::vector<int> &thread_counts();  // 1 and every core

// One library's way to run problems. `prepare` returns the call to time (it returns false on
// failure) or throws std::runtime_error with the reason; it runs once per benchmark, untimed.
struct Implementation {
    std::string name;  // the first part of every benchmark name: "<name>/<op label>/<direction>"
    std::function<bool(const OpCase &, Direction)> has_op;
    std::function<std::function<bool()>(Problem &, int threads)> prepare;
    std::function<void(int threads)> set_threads;
    std::function<std::string()> label;  // version, ISA: what the JSON output should record
};

// Registers <name>/<op label>/<forward|backward>/n:<n>/threads:<t> for every op case the
// implementation has, every size and thread count.
void register_op_benchmarks(const Implementation &implementation);

// copy/tensors<T>/n:<n>/threads:<t>: memcpy of n * T / 2 floats, the bytes an op moving T
// tensors of n floats reads and writes; items are the op's n elements, so elements/s compare.
void register_copy_benchmarks();

// Google Benchmark's main, with a line on stderr naming what each binary measures.
int run_benchmarks(int argc, char **argv);

}  // namespace nnf::bench

// Lowering of a checked kernel spec to one Halide pipeline: the expressions as Halide Exprs over
// one Var per dimension name (so broadcasting by name is free), registry ops through their
// algorithms (compiler/ops), reductions as Funcs, and `grad` by reverse-mode differentiation of
// the spec's expression tree with the registry's backward definitions.
#pragma once

#include <string>
#include <vector>

#include "Halide.h"
#include "spec/ast.h"

namespace nnf::spec {

// A class-index input that the wrapper checks before the kernel runs: every element is in
// [0, size of class_dim) or equals ignore_index.
struct IndexCheck {
    std::string input;
    std::string class_dim;
    int64_t ignore_index = -100;
    std::string op;  // for messages
};

struct LoweredKernel {
    Halide::Pipeline pipeline;
    std::vector<Halide::Argument> arguments;  // the kernel's inputs, in the C signature's order
    std::vector<IndexCheck> index_checks;
    // No reductions: each output element reads only the input elements at its own position, so
    // an output may be the same view as an input (in place).
    bool elementwise = true;
};

// Schedules for `target` (CPU: schedules/cpu for 2-D outputs, vector + parallel otherwise).
LoweredKernel lower(const Kernel &kernel, const Halide::Target &target);

}  // namespace nnf::spec

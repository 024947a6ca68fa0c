// The abstract syntax tree of a kernel spec (.nnf), with the types and shapes the checker
// fills in. No Halide here: `nnfc check` and the parser tests build without it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nnf::spec {

struct Location {
    int line = 0;    // 1-based
    int column = 0;  // 1-based
};

// Element types of kernel arguments. `literal` is a number in the source: it takes the float
// type of whatever it meets. `boolean` is the type of comparisons (only inside a kernel).
enum class DType { f32, i32, i64, boolean, literal };
const char *dtype_name(DType dtype);

// A shape is a list of dimension names, outermost first (as in PyTorch); [] is a scalar.
using Shape = std::vector<std::string>;
std::string shape_string(const Shape &shape);  // "[N, C]"

struct TensorDecl {
    std::string name;
    DType dtype = DType::f32;
    Shape dims;
    Location location;
    bool implicit = false;  // added by the checker (grad_<output> inputs, grad_<input> outputs)
    // A scalar parameter (`alpha: f32`, no shape): an input passed by value in C, a float in the
    // caller's hands however the tensors are placed (no device memory for one number).
    bool by_value = false;
};

struct Expr;
using ExprPtr = std::shared_ptr<Expr>;

struct KeywordArg {
    std::string name;
    ExprPtr value;
    Location location;
};

// What a call resolved to (set by the checker).
enum class Callee {
    none, where, min, max, abs, exp, log, sqrt, sum, mean, pointwise_op, softmax_op, cross_entropy, nll_loss,
    elementwise_loss,  // mse_loss, l1_loss, smooth_l1_loss, huber_loss
    prelu,
    rrelu,  // training: slopes hashed from (seed, row-major element index), as the library's
};

// A registry or loss parameter after checking: numbers as double, strings (enum values,
// reduction) as text.
struct ParamValue {
    double number = 0;
    std::string text;
    bool is_text = false;
};

struct Expr {
    enum Kind { number, string, name, negate, binary, call } kind = number;
    Location location;
    double value = 0;                  // number
    std::string text;                  // string literal, name, binary operator, callee name
    std::vector<ExprPtr> args;         // operands (negate, binary) or positional call arguments
    std::vector<KeywordArg> keywords;  // call

    // Filled in by the checker.
    DType dtype = DType::literal;
    Shape shape;
    Callee callee = Callee::none;
    std::map<std::string, ParamValue> params;  // registry op calls and losses: every parameter, defaults filled
    std::string reduced_dim;                   // softmax family: the normalized dim; classification losses: the class
                                               // dim; sum / mean with dim=: the summed dim (empty: all)
};

struct Statement {
    enum Kind { assign, grad } kind = assign;
    std::string target;  // assign: the value's name; grad: the input
    ExprPtr value;       // assign
    Location location;
};

struct Kernel {
    std::string name;
    Location location;
    std::vector<TensorDecl> inputs;   // after checking: declared inputs, then grad_<output> inputs
    std::vector<TensorDecl> outputs;  // after checking: declared outputs, then grad_<input> outputs
    std::vector<Statement> statements;

    // Filled in by the checker.
    std::vector<std::string> grads;                       // inputs named by `grad` lines, in order
    std::map<std::string, ExprPtr> values;                 // every assigned name (outputs and locals)
    std::vector<std::string> declared_output_names;        // outputs written by the source itself
    const TensorDecl *find_input(const std::string &name) const;
    const TensorDecl *find_output(const std::string &name) const;
};

struct Spec {
    std::string file;    // as given on the command line, for messages
    std::string source;  // the whole text, for the source line under a message
    std::vector<Kernel> kernels;
};

}  // namespace nnf::spec

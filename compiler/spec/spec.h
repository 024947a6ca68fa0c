// The front end of the fusion compiler: parse and type-check a kernel spec (.nnf).
//
//   kernel bias_gelu(x: f32[N, C], bias: f32[C]) -> (y: f32[N, C]) {
//       y = gelu(x + bias, approximate="tanh")
//   }
//
// Errors are thrown as CompileError, whose what() is a compiler message:
//   kernels.nnf:2:9: error: unknown op 'gleu'; expected ...
//       y = gleu(x + bias)
//           ^
#pragma once

#include <stdexcept>
#include <string>

#include "spec/ast.h"

namespace nnf::spec {

class CompileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "<file>:<line>:<column>: error: <message>", the source line and a caret under the column.
std::string format_error(const std::string &file, const std::string &source, Location location,
                         const std::string &message);

// Syntax only.
Spec parse(const std::string &file, const std::string &source);
// Names, types and shapes; adds the implicit grad inputs and outputs and resolves calls.
void check(Spec &spec);
// Reads `path`, parses and checks it. A file that cannot be read is a CompileError too.
Spec load(const std::string &path);

}  // namespace nnf::spec

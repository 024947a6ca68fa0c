// `nnfc compile`: a checked kernel spec to a static library and a C header.
//   <out>/<prefix>.h            the C API: nnf_status <prefix>_<kernel>(inputs..., outputs...)
//   <out>/<prefix>_wrappers.cpp its validating wrappers (generated C++)
//   <out>/lib<prefix>.a         the Halide kernels for every target (multitarget dispatch on x86)
//                               and the compiled wrappers; link it before libnnfuse.a, whose
//                               runtime (errors, ISA cap, the one Halide runtime) it uses
//   <out>/<prefix>_impl_<kernel>_cuda.ptx
//                               with a CUDA target: each kernel's PTX (also inside the library)
#pragma once

#include <string>
#include <vector>

#include "spec/ast.h"

namespace nnf::nnfc {

struct CompileOptions {
    std::string spec_path;
    std::string prefix;
    std::string out_dir;
    // Halide targets, best first ("host" for this machine); a list makes a multitarget library.
    // At most one has the cuda feature: it adds a CUDA variant of every kernel.
    std::vector<std::string> targets = {"host"};
    // The C++ compiler for the wrappers and its include directories (nnfuse's headers, DLPack).
    std::string cxx;
    std::vector<std::string> include_dirs;
};

// Throws spec::CompileError for errors in the spec, std::runtime_error for the rest.
void compile(const CompileOptions &options);

// The generated sources, for tests.
std::string emit_header(const spec::Spec &spec, const std::string &prefix);

}  // namespace nnf::nnfc

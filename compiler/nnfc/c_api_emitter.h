// Emits the C ABI of the registry's ops: the public header and the wrappers that validate
// DLTensors and call the Halide kernels.
#pragma once

#include <ostream>
#include <string>

#include "registry/registry.h"

namespace nnf::emit {

// Name of the Halide function compiled for one op, pass, enum value ("" for none) and target
// family ("" for the CPU, "cuda"). cmake/NnfuseRegistry.cmake builds the same names.
std::string kernel_name(const registry::Op &op, const std::string &pass, const std::string &variant,
                        const std::string &target = "");

struct EmitOptions {
    bool cuda = false;  // the library has CUDA variants of every kernel
};

void write_public_header(std::ostream &out);
void write_wrappers(std::ostream &out, const EmitOptions &options);

}  // namespace nnf::emit

// Emits the C ABI of the registry's ops: the public header and the wrappers that validate
// DLTensors and call the Halide kernels.
#pragma once

#include <ostream>
#include <string>

#include "registry/registry.h"

namespace nnf::emit {

// Name of the Halide function compiled for one op, pass and enum value ("" for none). The
// CMake side (cmake/NnfuseRegistry.cmake) builds the same names.
std::string kernel_name(const registry::Op &op, const std::string &pass, const std::string &variant);

void write_public_header(std::ostream &out);
void write_wrappers(std::ostream &out);

}  // namespace nnf::emit

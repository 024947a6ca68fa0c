// Emits the C ABI of the loss family (registry family "loss"): its public declarations, its
// wrappers (which call runtime/loss_driver.h) and its op-table entries. c_api_emitter.cpp calls
// these for every loss op instead of its own per-family code.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "registry/registry.h"

namespace nnf::emit {

bool is_loss(const registry::Op &op);

// The kernels of one loss op, as `pass` names of compiler/generators/loss_generator.cpp; the
// same lists as the kernel loop in runtime/CMakeLists.txt.
std::vector<std::string> loss_kernel_passes(const registry::Op &op);

// The function declarations (after the params struct), with their contract.
void write_loss_declarations(std::ostream &out, const registry::Op &op);
// The #includes of the op's kernel headers and of the driver.
void write_loss_kernel_includes(std::ostream &out, const registry::Op &op);
// The wrappers: params defaulting, the registry's checks, then the driver.
void write_loss_wrappers(std::ostream &out, const registry::Op &op);
// <op>_forward_generic and <op>_backward_generic for the op table: inputs {input, target,
// weight (classification)} / {grad_output, input, target, weight}, outputs {output} /
// {grad_input}; parameters as doubles in registry order.
void write_loss_table_entry_functions(std::ostream &out, const registry::Op &op);

}  // namespace nnf::emit

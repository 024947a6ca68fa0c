#include "nnfc/loss_emitter.h"

#include "nnfc/c_api_emitter.h"

namespace nnf::emit {
namespace {

using registry::Op;
using registry::Param;
using registry::ParamType;

bool is_classification(const Op &op) {
    return op.name == "nll_loss" || op.name == "cross_entropy";
}

std::string params_arg(const Op &op) {
    return "const nnf_" + op.name + "_params *params";
}

std::string forward_signature(const Op &op) {
    if (op.name == "nll_loss") {
        return "const DLTensor *input, const DLTensor *target, const DLTensor *weight, DLTensor *output, "
               "DLTensor *total_weight, " + params_arg(op);
    }
    if (is_classification(op)) {
        return "const DLTensor *input, const DLTensor *target, const DLTensor *weight, DLTensor *output, " +
               params_arg(op);
    }
    return "const DLTensor *input, const DLTensor *target, DLTensor *output, " + params_arg(op);
}

std::string backward_signature(const Op &op) {
    if (is_classification(op)) {
        return "const DLTensor *grad_output, const DLTensor *input, const DLTensor *target, const DLTensor *weight, "
               "DLTensor *grad_input, " + params_arg(op);
    }
    return "const DLTensor *grad_output, const DLTensor *input, const DLTensor *target, DLTensor *grad_input, " +
           params_arg(op);
}

std::string forward_backward_signature(const Op &op) {
    return "const DLTensor *input, const DLTensor *target, const DLTensor *weight, const DLTensor *grad_output, "
           "DLTensor *output, DLTensor *grad_input, " + params_arg(op);
}

void write_prologue(std::ostream &out, const Op &op, const std::string &fn, const std::string &signature) {
    out << "extern \"C\" nnf_status " << fn << "(" << signature << ") {\n";
    out << "    static const char kFunction[] = \"" << fn << "\";\n";
    out << "    const nnf_" << op.name << "_params p = params ? *params : nnf_" << op.name << "_default_params();\n";
    for (const registry::Check &c : op.checks) {
        out << "    if (!(" << c.condition << ")) {\n";
        out << "        return nnf::rt::fail(kFunction, NNF_ERR_INVALID_ARGUMENT, \"%s\", \"" << c.message << "\");\n";
        out << "    }\n";
    }
}

// The width parameter of an elementwise loss (beta, delta), or 0.
std::string width_expr(const Op &op) {
    for (const Param &p : op.params) {
        if (p.name == "beta" || p.name == "delta") return "p." + p.name;
    }
    return "0.0f";
}

std::string kernels_expr(const Op &op, const std::string &suffix) {
    if (op.name == "nll_loss") {
        // No forward_backward. On the CPU the runtime gathers the forward on the host
        // (runtime/loss_driver.cpp); the forward kernel is there to find its CUDA twin.
        return "nnf::rt::ClassificationKernels{" + kernel_name(op, "forward", "") + ", " + kernel_name(op, "backward", "") +
               ", nullptr}";
    }
    return "nnf::rt::ClassificationKernels{" + kernel_name(op, "forward" + suffix, "") + ", " +
           kernel_name(op, "backward" + suffix, "") + ", " + kernel_name(op, "forward_backward" + suffix, "") + "}";
}

void write_classification_call(std::ostream &out, const Op &op, const std::string &mode, const std::string &tensors) {
    const bool ce = op.name == "cross_entropy";
    out << "    nnf::rt::ClassificationCall call;\n";
    out << "    call.mode = nnf::rt::ClassificationMode::" << mode << ";\n";
    out << "    call.log_probabilities = " << (ce ? "false" : "true") << ";\n";
    out << tensors;
    out << "    call.reduction = p.reduction;\n";
    out << "    call.ignore_index = p.ignore_index;\n";
    out << "    call.label_smoothing = " << (ce ? "p.label_smoothing" : "0.0f") << ";\n";
    out << "    call.index_kernels = " << kernels_expr(op, "") << ";\n";
    if (ce) out << "    call.probability_kernels = " << kernels_expr(op, "_probabilities") << ";\n";
    out << "    return nnf::rt::run_classification_loss(kFunction, call);\n}\n\n";
}

}  // namespace

bool is_loss(const Op &op) {
    return op.family == registry::Family::loss;
}

std::vector<std::string> loss_kernel_passes(const Op &op) {
    if (op.name == "cross_entropy") {
        return {"forward", "backward", "forward_backward", "forward_probabilities", "backward_probabilities",
                "forward_backward_probabilities"};
    }
    if (op.name == "nll_loss") return {"forward", "backward"};
    return {"forward_none", "forward_sum", "backward"};
}

void write_loss_declarations(std::ostream &out, const Op &op) {
    const std::string n = op.name;
    if (is_classification(op)) {
        out << "/* input: (C), (N, C) or (N, C, d1..dK) float32" << (n == "cross_entropy" ? " logits" : " log-probabilities")
            << "; target: the class indices, int64 of shape (), (N) or (N, d1..dK)"
            << (n == "cross_entropy" ? ", or class probabilities, float32 of the input's shape" : "")
            << "; weight: NULL or C float32 class weights. output: the target's shape (reduction none) or one element.\n"
               " * A class index outside [0, C) that is not ignore_index is NNF_ERR_INDEX_OUT_OF_RANGE naming its\n"
               " * position, with nothing written. Mean over no (weighted) target is NaN, as PyTorch >= 1.11. */\n";
    } else {
        out << "/* input and target: float32 of one shape; output: that shape (reduction none) or one element\n"
               " * (mean: NaN for an empty input, as PyTorch). */\n";
    }
    out << "nnf_status nnf_" << n << "_forward(" << forward_signature(op) << ");\n";
    if (n == "nll_loss") {
        out << "/* total_weight (NULL or one element) receives the summed weight of the non-ignored targets, the\n"
               " * divisor of mean, as ATen's nll_loss_forward. */\n";
    }
    out << "/* grad_input (the input's shape; it may be the input itself, in place) = d loss / d input times\n"
           " * grad_output (the output's shape: one element unless reduction is none). */\n";
    out << "nnf_status nnf_" << n << "_backward(" << backward_signature(op) << ");\n";
    if (n == "cross_entropy") {
        out << "/* Loss and gradient in one pass over the logits (they are read once; only one float per row is\n"
               " * kept): output as nnf_cross_entropy_forward, grad_input as nnf_cross_entropy_backward with\n"
               " * grad_output (NULL means 1, as loss.backward()). grad_input may be the input itself: the\n"
               " * gradient then overwrites the logits. */\n";
        out << "nnf_status nnf_cross_entropy_forward_backward(" << forward_backward_signature(op) << ");\n";
    }
    out << "\n";
}

void write_loss_kernel_includes(std::ostream &out, const Op &op) {
    out << "#include \"loss_driver.h\"\n";
    for (const std::string &pass : loss_kernel_passes(op)) out << "#include \"" << kernel_name(op, pass, "") << ".h\"\n";
}

void write_loss_wrappers(std::ostream &out, const Op &op) {
    const std::string n = op.name;
    if (!is_classification(op)) {
        const std::string kernels = "nnf::rt::ElementwiseLossKernels{" + kernel_name(op, "forward_none", "") + ", " +
                                    kernel_name(op, "forward_sum", "") + ", " + kernel_name(op, "backward", "") + "}";
        write_prologue(out, op, "nnf_" + n + "_forward", forward_signature(op));
        out << "    return nnf::rt::run_elementwise_loss_forward(kFunction, input, target, output, p.reduction, "
            << width_expr(op) << ", " << kernels << ");\n}\n\n";
        write_prologue(out, op, "nnf_" + n + "_backward", backward_signature(op));
        out << "    return nnf::rt::run_elementwise_loss_backward(kFunction, grad_output, input, target, grad_input, "
               "p.reduction, "
            << width_expr(op) << ", " << kernels << ");\n}\n\n";
        return;
    }
    write_prologue(out, op, "nnf_" + n + "_forward", forward_signature(op));
    write_classification_call(out, op, "forward",
                              "    call.input = input;\n    call.target = target;\n    call.weight = weight;\n"
                              "    call.output = output;\n" +
                                  std::string(n == "nll_loss" ? "    call.total_weight = total_weight;\n" : ""));
    write_prologue(out, op, "nnf_" + n + "_backward", backward_signature(op));
    write_classification_call(out, op, "backward",
                              "    call.grad_output = grad_output;\n    call.input = input;\n    call.target = target;\n"
                              "    call.weight = weight;\n    call.grad_input = grad_input;\n");
    if (n == "cross_entropy") {
        write_prologue(out, op, "nnf_cross_entropy_forward_backward", forward_backward_signature(op));
        write_classification_call(out, op, "forward_backward",
                                  "    call.input = input;\n    call.target = target;\n    call.weight = weight;\n"
                                  "    call.grad_output = grad_output;\n    call.output = output;\n"
                                  "    call.grad_input = grad_input;\n");
    }
}

void write_loss_table_entry_functions(std::ostream &out, const Op &op) {
    const bool classification = is_classification(op);
    for (const std::string pass : {"forward", "backward"}) {
        out << "nnf_status " << op.name << "_" << pass
            << "_generic(const DLTensor *const *in, DLTensor *const *out, const double *values) {\n";
        out << "    nnf_" << op.name << "_params p = nnf_" << op.name << "_default_params();\n";
        out << "    if (values) {\n";
        for (size_t i = 0; i < op.params.size(); ++i) {
            const Param &param = op.params[i];
            const std::string v = "values[" + std::to_string(i) + "]";
            out << "        p." << param.name << " = static_cast<" << registry::c_type(op, param) << ">("
                << (param.type == ParamType::reduction ? "static_cast<int>(" + v + ")" : v) << ");\n";
        }
        out << "    }\n";
        std::string args;
        if (pass == "forward") {
            args = classification ? "in[0], in[1], in[2], out[0]" : "in[0], in[1], out[0]";
            if (op.name == "nll_loss") args += ", nullptr";
        } else {
            args = classification ? "in[0], in[1], in[2], in[3], out[0]" : "in[0], in[1], in[2], out[0]";
        }
        out << "    return nnf_" << op.name << "_" << pass << "(" << args << ", &p);\n}\n\n";
    }
}

}  // namespace nnf::emit

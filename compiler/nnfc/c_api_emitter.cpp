#include "nnfc/c_api_emitter.h"

#include "nnfc/loss_emitter.h"

#include <iterator>
#include <sstream>
#include <vector>

namespace nnf::emit {
namespace {

using registry::Op;
using registry::Param;
using registry::ParamType;

const char *const kPasses[] = {"forward", "backward"};

std::string saved_name(const Op &op) {
    return op.saved == registry::Saved::input ? "x" : "y";
}

bool is_prelu_family(const Op &op) {
    return op.family == registry::Family::prelu;
}

bool is_rrelu_family(const Op &op) {
    return op.family == registry::Family::rrelu;
}

bool is_softmax_family(const Op &op) {
    return op.family == registry::Family::softmax;
}

// The kernels of the softmax family, one per layout of the reduced dim (runtime/softmax_driver.h).
const char *const kSoftmaxLayouts[] = {"rows", "columns"};

// The C parameter list of a public function, e.g. "const DLTensor *x, DLTensor *y, const
// nnf_gelu_params *params".
std::string signature(const Op &op, const std::string &pass) {
    std::string s;
    if (is_rrelu_family(op)) {
        s = pass == "forward" ? "const DLTensor *x, DLTensor *y, DLTensor *noise"
                              : "const DLTensor *grad_output, const DLTensor *x, const DLTensor *noise, "
                                "DLTensor *grad_input";
    } else if (is_prelu_family(op)) {
        s = pass == "forward" ? "const DLTensor *x, const DLTensor *weight, DLTensor *y"
                              : "const DLTensor *grad_output, const DLTensor *x, const DLTensor *weight, "
                                "DLTensor *grad_input, DLTensor *grad_weight";
    } else {
        s = pass == "forward" ? "const DLTensor *x, DLTensor *y"
                              : "const DLTensor *grad_output, const DLTensor *" + saved_name(op) +
                                    ", DLTensor *grad_input";
    }
    if (!op.params.empty()) s += ", const nnf_" + op.name + "_params *params";
    return s;
}

std::string call_args(const Op &op, const std::string &pass) {
    std::string s = pass == "forward" ? "in[0], out[0]" : "in[0], in[1], out[0]";
    if (is_prelu_family(op)) s = pass == "forward" ? "in[0], in[1], out[0]" : "in[0], in[1], in[2], out[0], out[1]";
    if (is_rrelu_family(op)) s = pass == "forward" ? "in[0], out[0], out[1]" : "in[0], in[1], in[2], out[0]";
    if (!op.params.empty()) s += ", &p";
    return s;
}

void write_params_decls(std::ostream &out, const Op &op) {
    for (const Param &p : op.params) {
        if (p.type != ParamType::enumeration) continue;
        const std::string type = registry::c_type(op, p);
        out << "typedef enum " << type << " {\n";
        for (size_t i = 0; i < p.enum_values.size(); ++i) {
            out << "    " << registry::enumerator(op, p, p.enum_values[i]) << " = " << i << ",\n";
        }
        out << "} " << type << ";\n\n";
    }
    out << "typedef struct nnf_" << op.name << "_params {\n";
    for (const Param &p : op.params) {
        out << "    " << registry::c_type(op, p) << " " << p.name << "; /* " << p.doc << "; default "
            << p.default_value << " */\n";
    }
    out << "} nnf_" << op.name << "_params;\n\n";
    out << "/* PyTorch's defaults. */\n";
    out << "nnf_" << op.name << "_params nnf_" << op.name << "_default_params(void);\n\n";
}

std::string default_value_expr(const Op &op, const Param &p) {
    if (p.type == ParamType::enumeration) return registry::enumerator(op, p, p.default_value);
    return p.default_value;
}

// The prelu family has its own driver (runtime/prelu_driver.h): a weight per channel, and a
// backward with two outputs. CPU kernels only.
void write_prelu_wrapper(std::ostream &out, const Op &op, const std::string &pass) {
    const std::string fn = "nnf_" + op.name + "_" + pass;
    out << "extern \"C\" nnf_status " << fn << "(" << signature(op, pass) << ") {\n";
    out << "    static const char kFunction[] = \"" << fn << "\";\n";
    if (pass == "forward") {
        out << "    return nnf::rt::run_prelu_forward(kFunction, x, weight, y, " << kernel_name(op, pass, "")
            << ");\n}\n\n";
    } else {
        out << "    return nnf::rt::run_prelu_backward(kFunction, grad_output, x, weight, grad_input, grad_weight, "
            << kernel_name(op, pass, "") << ");\n}\n\n";
    }
}

void write_checks(std::ostream &out, const Op &op) {
    for (const registry::Check &c : op.checks) {
        out << "    if (!(" << c.condition << ")) {\n";
        out << "        return nnf::rt::fail(kFunction, NNF_ERR_INVALID_ARGUMENT, \"%s\", \"" << c.message << "\");\n";
        out << "    }\n";
    }
}

// The rrelu family has its own driver (runtime/rrelu_driver.h). Evaluation (and a slope range
// under ATen's 1e-6) runs leaky_relu's kernels with slope (lower + upper) / 2, as ATen does.
void write_rrelu_wrapper(std::ostream &out, const Op &op, const std::string &pass) {
    const std::string fn = "nnf_" + op.name + "_" + pass;
    const registry::Op &leaky = registry::find_op("leaky_relu");
    out << "extern \"C\" nnf_status " << fn << "(" << signature(op, pass) << ") {\n";
    out << "    static const char kFunction[] = \"" << fn << "\";\n";
    out << "    const nnf_" << op.name << "_params p = params ? *params : nnf_" << op.name << "_default_params();\n";
    write_checks(out, op);
    if (pass == "forward") {
        out << "    return nnf::rt::run_rrelu_forward(kFunction, x, y, noise, p.lower, p.upper, p.training, p.seed, "
            << kernel_name(op, pass, "") << ", " << kernel_name(leaky, pass, "") << ");\n}\n\n";
    } else {
        out << "    return nnf::rt::run_rrelu_backward(kFunction, grad_output, x, noise, grad_input, p.lower, p.upper, "
               "p.training, "
            << kernel_name(op, pass, "") << ", " << kernel_name(leaky, pass, "") << ");\n}\n\n";
    }
}

void write_softmax_wrapper(std::ostream &out, const Op &op, const std::string &pass) {
    const std::string fn = "nnf_" + op.name + "_" + pass;
    out << "extern \"C\" nnf_status " << fn << "(" << signature(op, pass) << ") {\n";
    out << "    static const char kFunction[] = \"" << fn << "\";\n";
    out << "    const nnf_" << op.name << "_params p = params ? *params : nnf_" << op.name << "_default_params();\n";
    write_checks(out, op);
    out << "    return nnf::rt::run_softmax_" << pass << "(kFunction, "
        << (pass == "forward" ? "x, y" : "grad_output, y, grad_input") << ", p.dim, p.beta, "
        << kernel_name(op, pass, "rows") << ", " << kernel_name(op, pass, "columns") << ");\n}\n\n";
}

void write_wrapper(std::ostream &out, const Op &op, const std::string &pass, const EmitOptions &options) {
    if (is_prelu_family(op)) return write_prelu_wrapper(out, op, pass);
    if (is_softmax_family(op)) return write_softmax_wrapper(out, op, pass);
    if (is_rrelu_family(op)) return write_rrelu_wrapper(out, op, pass);
    const std::string fn = "nnf_" + op.name + "_" + pass;
    const std::string output = pass == "forward" ? "y" : "grad_input";
    std::string inputs = pass == "forward" ? "{\"x\", x}" : "{\"grad_output\", grad_output}, {\"" + saved_name(op) +
                                                                 "\", " + saved_name(op) + "}";
    std::string kernel_inputs = pass == "forward" ? "&in[0]" : "&in[0], &in[1]";
    for (const Param *p : op.runtime_params()) kernel_inputs += ", p." + p->name;

    out << "extern \"C\" nnf_status " << fn << "(" << signature(op, pass) << ") {\n";
    out << "    static const char kFunction[] = \"" << fn << "\";\n";
    if (!op.params.empty()) {
        out << "    const nnf_" << op.name << "_params p = params ? *params : nnf_" << op.name << "_default_params();\n";
    }
    for (const registry::Check &c : op.checks) {
        out << "    if (!(" << c.condition << ")) {\n";
        out << "        return nnf::rt::fail(kFunction, NNF_ERR_INVALID_ARGUMENT, \"%s\", \"" << c.message << "\");\n";
        out << "    }\n";
    }
    auto run = [&](const std::string &indent, const std::string &variant) {
        out << indent << "return nnf::rt::run_pointwise(kFunction, {" << inputs << "}, {\"" << output << "\", "
            << output << "},\n";
        out << indent << "    [&](halide_buffer_t *in, halide_buffer_t *out) { return "
            << kernel_name(op, pass, variant) << "(" << kernel_inputs << ", out); },\n";
        if (options.cuda) {
            out << indent << "    [&](halide_buffer_t *in, halide_buffer_t *out) { return "
                << kernel_name(op, pass, variant, "cuda") << "(" << kernel_inputs << ", out); });\n";
        } else {
            out << indent << "    nullptr);\n";
        }
    };
    if (const Param *v = op.variant_param()) {
        out << "    switch (p." << v->name << ") {\n";
        for (const std::string &value : v->enum_values) {
            out << "    case " << registry::enumerator(op, *v, value) << ":\n";
            run("        ", value);
        }
        out << "    }\n";
        out << "    return nnf::rt::fail(kFunction, NNF_ERR_INVALID_ARGUMENT, \"params->" << v->name
            << " = %d is not a " << registry::c_type(op, *v) << " value\", static_cast<int>(p." << v->name << "));\n";
    } else {
        run("    ", "");
    }
    out << "}\n\n";
}

// The op table: a uniform entry point per function, for tests and benchmarks that iterate
// over the registry. Parameters come as doubles in registry order (enums by index).
void write_table_entry_functions(std::ostream &out, const Op &op) {
    if (is_loss(op)) return write_loss_table_entry_functions(out, op);
    for (const char *pass : kPasses) {
        out << "nnf_status " << op.name << "_" << pass
            << "_generic(const DLTensor *const *in, DLTensor *const *out, const double *values) {\n";
        if (op.params.empty()) {
            out << "    (void)values;\n";
        } else {
            out << "    nnf_" << op.name << "_params p = nnf_" << op.name << "_default_params();\n";
            out << "    if (values) {\n";
            for (size_t i = 0; i < op.params.size(); ++i) {
                const Param &param = op.params[i];
                out << "        p." << param.name << " = static_cast<" << registry::c_type(op, param) << ">("
                    << (param.type == ParamType::enumeration ? "static_cast<int>(values[" + std::to_string(i) + "])"
                                                             : "values[" + std::to_string(i) + "]")
                    << ");\n";
            }
            out << "    }\n";
        }
        out << "    return nnf_" << op.name << "_" << pass << "(" << call_args(op, pass) << ");\n}\n\n";
    }
}

}  // namespace

std::string kernel_name(const Op &op, const std::string &pass, const std::string &variant, const std::string &target) {
    return "nnf_impl_" + op.name + "_" + pass + (variant.empty() ? "" : "_" + variant) + "_f32" +
           (target.empty() ? "" : "_" + target);
}

void write_public_header(std::ostream &out) {
    out << "/* Generated by nnfc from compiler/registry/ops.def. Do not edit. */\n"
           "#ifndef NNFUSE_NNFUSE_OPS_H\n#define NNFUSE_NNFUSE_OPS_H\n\n"
           "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
    for (const Op &op : registry::ops()) {
        out << "/* ---- " << op.name << ": " << op.summary << " */\n\n";
        if (!op.params.empty()) write_params_decls(out, op);
        if (is_loss(op)) { write_loss_declarations(out, op); continue; }
        out << "nnf_status nnf_" << op.name << "_forward(" << signature(op, "forward") << ");\n";
        if (is_rrelu_family(op)) {
            out << "/* Training: y = x * noise with noise (1 where x > 0) drawn and written; noise may be NULL in "
                   "evaluation. Backward: grad_input = grad_output * noise in training (x is not read), else "
                   "leaky_relu's gradient at slope (lower + upper) / 2 (noise may be NULL). */\n";
        } else if (is_prelu_family(op)) {
            out << "/* grad_input = grad_output * d" << op.name << "/dx and grad_weight = the sum of grad_output * d"
                << op.name << "/dweight over every dim but the channel dim, from the saved input x. */\n";
        } else {
            out << "/* grad_input = grad_output * d" << op.name << "/dx, from the saved " << op.name << " "
                << (op.saved == registry::Saved::input ? "input x" : "output y") << ". */\n";
        }
        out << "nnf_status nnf_" << op.name << "_backward(" << signature(op, "backward") << ");\n\n";
    }
    out << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n#endif /* NNFUSE_NNFUSE_OPS_H */\n";
}

void write_wrappers(std::ostream &out, const EmitOptions &options) {
    out << "// Generated by nnfc from compiler/registry/ops.def. Do not edit.\n"
           "#include \"nnfuse/nnfuse.h\"\n#include \"op_table.h\"\n#include \"pointwise_driver.h\"\n"
           "#include \"prelu_driver.h\"\n#include \"rrelu_driver.h\"\n#include \"softmax_driver.h\"\n\n";
    for (const Op &op : registry::ops()) {
        if (is_loss(op)) { write_loss_kernel_includes(out, op); continue; }
        for (const char *pass : kPasses) {
            std::vector<std::string> variants = {""};
            if (const Param *v = op.variant_param()) variants = v->enum_values;
            if (is_softmax_family(op)) variants.assign(std::begin(kSoftmaxLayouts), std::end(kSoftmaxLayouts));
            for (const std::string &variant : variants) {
                out << "#include \"" << kernel_name(op, pass, variant) << ".h\"\n";
                if (options.cuda && op.family == registry::Family::pointwise) {
                    out << "#include \"" << kernel_name(op, pass, variant, "cuda") << ".h\"\n";
                }
            }
        }
    }
    out << "\n";
    for (const Op &op : registry::ops()) {
        if (!op.params.empty()) {
            out << "extern \"C\" nnf_" << op.name << "_params nnf_" << op.name << "_default_params(void) {\n";
            out << "    nnf_" << op.name << "_params p;\n";
            for (const Param &param : op.params) {
                out << "    p." << param.name << " = " << default_value_expr(op, param) << ";\n";
            }
            out << "    return p;\n}\n\n";
        }
        if (is_loss(op)) { write_loss_wrappers(out, op); continue; }
        for (const char *pass : kPasses) write_wrapper(out, op, pass, options);
    }

    out << "namespace {\n\n";
    for (const Op &op : registry::ops()) write_table_entry_functions(out, op);
    for (const Op &op : registry::ops()) {
        if (op.params.empty()) continue;
        out << "const nnf::rt::OpParamInfo " << op.name << "_param_info[] = {\n";
        for (const Param &p : op.params) {
            out << "    {\"" << p.name << "\", \"" << registry::param_type_name(p.type) << "\", ";
            if (p.type == ParamType::enumeration) {
                size_t index = 0;
                while (p.enum_values[index] != p.default_value) ++index;
                out << index << ".0, " << p.enum_values.size();
            } else {
                out << "static_cast<double>(" << p.default_value << "), 0";
            }
            out << "},\n";
        }
        out << "};\n\n";
    }
    out << "const nnf::rt::OpInfo kOps[] = {\n";
    for (const Op &op : registry::ops()) {
        out << "    {\"" << op.name << "\", \"" << registry::family_name(op.family) << "\", "
            << (op.saved == registry::Saved::input ? "false" : "true") << ", "
            << (op.params.empty() ? "nullptr" : op.name + "_param_info") << ", " << op.params.size() << ", "
            << op.name << "_forward_generic, " << op.name << "_backward_generic},\n";
    }
    out << "};\n\n}  // namespace\n\n";
    out << "const nnf::rt::OpInfo *nnf::rt::op_table(int *count) {\n"
           "    *count = static_cast<int>(sizeof kOps / sizeof kOps[0]);\n    return kOps;\n}\n";
}

}  // namespace nnf::emit

#include "registry/registry.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

namespace nnf::registry {
namespace {

struct OpRow {
    const char *name, *family, *saved, *summary;
};
struct ParamRow {
    const char *op, *name, *type, *default_value, *enum_values, *doc;
};
struct CheckRow {
    const char *op, *condition, *message;
};

#define NNF_OP(name, family, saved, summary) {#name, #family, #saved, summary},
#define NNF_PARAM(op, name, type, default_value, doc)
#define NNF_ENUM_PARAM(op, name, values, default_value, doc)
#define NNF_CHECK(op, condition, message)
const OpRow kOpRows[] = {
#include "registry/ops.def"
};
#undef NNF_OP
#undef NNF_PARAM
#undef NNF_ENUM_PARAM

#define NNF_OP(name, family, saved, summary)
#define NNF_PARAM(op, name, type, default_value, doc) {#op, #name, #type, #default_value, "", doc},
#define NNF_ENUM_PARAM(op, name, values, default_value, doc) {#op, #name, "enum", default_value, values, doc},
// A sentinel keeps the array non-empty while no op has parameters.
const ParamRow kParamRows[] = {
#include "registry/ops.def"
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}};
#undef NNF_PARAM
#undef NNF_ENUM_PARAM
#undef NNF_CHECK

#define NNF_PARAM(op, name, type, default_value, doc)
#define NNF_ENUM_PARAM(op, name, values, default_value, doc)
#define NNF_CHECK(op, condition, message) {#op, #condition, message},
const CheckRow kCheckRows[] = {
#include "registry/ops.def"
    {nullptr, nullptr, nullptr}};
#undef NNF_OP
#undef NNF_PARAM
#undef NNF_ENUM_PARAM
#undef NNF_CHECK

[[noreturn]] void fail(const std::string &what) {
    throw std::invalid_argument("ops.def: " + what);
}

std::vector<std::string> split(const std::string &s, char sep) {
    std::vector<std::string> parts;
    std::stringstream in(s);
    for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
    return parts;
}

Family parse_family(const std::string &s) {
    if (s == "pointwise") return Family::pointwise;
    if (s == "prelu") return Family::prelu;
    if (s == "rrelu") return Family::rrelu;
    if (s == "softmax") return Family::softmax;
    if (s == "loss") return Family::loss;
    fail("unknown family '" + s + "'");
}

Saved parse_saved(const std::string &s) {
    if (s == "input") return Saved::input;
    if (s == "output") return Saved::output;
    fail("saved must be input or output, not '" + s + "'");
}

ParamType parse_type(const std::string &s) {
    if (s == "float") return ParamType::f32;
    if (s == "int") return ParamType::i32;
    if (s == "uint64") return ParamType::u64;
    if (s == "int64") return ParamType::i64;
    if (s == "reduction") return ParamType::reduction;
    if (s == "bool") return ParamType::boolean;
    if (s == "enum") return ParamType::enumeration;
    fail("unknown parameter type '" + s + "'");
}

std::vector<Op> build() {
    std::vector<Op> result;
    for (const OpRow &row : kOpRows) {
        Op op{row.name, parse_family(row.family), parse_saved(row.saved), row.summary, {}, {}};
        for (const ParamRow &p : kParamRows) {
            if (!p.op || op.name != p.op) continue;
            Param param{p.name, parse_type(p.type), p.default_value, {}, p.doc};
            if (param.type == ParamType::enumeration) {
                param.enum_values = split(p.enum_values, '|');
                if (std::find(param.enum_values.begin(), param.enum_values.end(), param.default_value) ==
                    param.enum_values.end()) {
                    fail(op.name + "." + param.name + ": default '" + param.default_value + "' is not a value");
                }
            }
            op.params.push_back(param);
        }
        for (const CheckRow &c : kCheckRows) {
            if (c.op && op.name == c.op) op.checks.push_back({c.condition, c.message});
        }
        if (std::count_if(op.params.begin(), op.params.end(),
                          [](const Param &p) { return p.type == ParamType::enumeration; }) > 1) {
            fail(op.name + ": at most one enum parameter per op");
        }
        result.push_back(std::move(op));
    }
    for (const ParamRow &p : kParamRows) {
        if (p.op && std::none_of(result.begin(), result.end(), [&](const Op &op) { return op.name == p.op; })) {
            fail(std::string("parameter of unknown op '") + p.op + "'");
        }
    }
    return result;
}

std::string upper(std::string s) {
    for (char &c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

const Param *Op::variant_param() const {
    for (const Param &p : params) {
        if (p.type == ParamType::enumeration) return &p;
    }
    return nullptr;
}

std::vector<const Param *> Op::runtime_params() const {
    std::vector<const Param *> result;
    for (const Param &p : params) {
        if (p.type != ParamType::enumeration) result.push_back(&p);
    }
    return result;
}

const std::vector<Op> &ops() {
    static const std::vector<Op> table = build();
    return table;
}

const Op &find_op(const std::string &name) {
    for (const Op &op : ops()) {
        if (op.name == name) return op;
    }
    throw std::invalid_argument("no op named '" + name + "' in the registry");
}

const Op &find_op(const std::string &name, Family family) {
    const Op &op = find_op(name);
    if (op.family != family) {
        throw std::invalid_argument("op '" + name + "' is not in the " + family_name(family) + " family");
    }
    return op;
}

bool is_forward_pass(const std::string &pass) {
    if (pass != "forward" && pass != "backward") {
        throw std::invalid_argument("pass must be forward or backward, not '" + pass + "'");
    }
    return pass == "forward";
}

const char *family_name(Family family) {
    switch (family) {
    case Family::pointwise: return "pointwise";
    case Family::prelu: return "prelu";
    case Family::rrelu: return "rrelu";
    case Family::softmax: return "softmax";
    case Family::loss: return "loss";
    }
    return "?";
}

const char *param_type_name(ParamType type) {
    switch (type) {
    case ParamType::f32: return "float";
    case ParamType::i32: return "int";
    case ParamType::u64: return "uint64";
    case ParamType::i64: return "int64";
    case ParamType::boolean: return "bool";
    case ParamType::enumeration: return "enum";
    case ParamType::reduction: return "reduction";
    }
    return "?";
}

std::string c_type(const Op &op, const Param &param) {
    switch (param.type) {
    case ParamType::f32: return "float";
    case ParamType::i32: return "int32_t";
    case ParamType::u64: return "uint64_t";
    case ParamType::i64: return "int64_t";
    case ParamType::reduction: return "nnf_reduction";
    case ParamType::boolean: return "bool";
    case ParamType::enumeration: return "nnf_" + op.name + "_" + param.name;
    }
    return "?";
}

std::string enumerator(const Op &op, const Param &param, const std::string &value) {
    return "NNF_" + upper(op.name) + "_" + upper(param.name) + "_" + upper(value);
}

}  // namespace nnf::registry

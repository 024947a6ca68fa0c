// Names, types and shapes of a parsed spec; resolves calls against the op registry.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>
#include <sstream>

#include "registry/registry.h"
#include "spec/spec.h"

namespace nnf::spec {

const char *dtype_name(DType dtype) {
    switch (dtype) {
    case DType::f32: return "f32";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::boolean: return "bool";
    case DType::literal: return "number";
    }
    return "?";
}

std::string shape_string(const Shape &shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + shape[i];
    return s + "]";
}

const TensorDecl *Kernel::find_input(const std::string &name) const {
    for (const TensorDecl &d : inputs) {
        if (d.name == name) return &d;
    }
    return nullptr;
}

const TensorDecl *Kernel::find_output(const std::string &name) const {
    for (const TensorDecl &d : outputs) {
        if (d.name == name) return &d;
    }
    return nullptr;
}

namespace {

bool numeric(DType t) {
    return t == DType::f32 || t == DType::literal;
}

// Edit distance with adjacent transpositions (so 'gleu' is one edit from 'gelu').
size_t edit_distance(const std::string &a, const std::string &b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

// A parameter a call accepts: its name, and either a number (integer_only for ints) or one of
// `choices`.
struct ParamSpec {
    std::string name;
    bool text = false;
    bool integer_only = false;
    ParamValue default_value;
    std::vector<std::string> choices;
};

// Defaults in ops.def are C literals: "0.01f", "-1", "1.0f / 3.0f".
double c_literal_value(const std::string &literal) {
    const size_t slash = literal.find('/');
    if (slash != std::string::npos) {
        return c_literal_value(literal.substr(0, slash)) / c_literal_value(literal.substr(slash + 1));
    }
    if (literal == "true") return 1;
    if (literal == "false") return 0;
    return std::strtod(literal.c_str(), nullptr);
}

std::string trim(const std::string &s) {
    const size_t first = s.find_first_not_of(' ');
    return first == std::string::npos ? "" : s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// Whether an NNF_CHECK condition of ops.def holds for constant parameters. The conditions are C
// expressions over the params struct `p`; the ones ops.def uses are comparisons of parameters
// and literals joined by &&, which is all this reads (anything else is a registry bug, reported
// as such; tests/spec checks every registry condition at its defaults).
bool registry_check_holds(const std::string &condition, const std::map<std::string, ParamValue> &params) {
    auto operand = [&](const std::string &text) {
        const std::string t = trim(text);
        if (t.rfind("p.", 0) == 0) {
            auto it = params.find(t.substr(2));
            if (it == params.end()) throw std::logic_error("registry check '" + condition + "' names no parameter " + t);
            return it->second.number;
        }
        return c_literal_value(t);
    };
    std::string rest = condition;
    while (true) {
        const size_t and_at = rest.find("&&");
        const std::string clause = rest.substr(0, and_at);
        static const char *const operators[] = {"<=", ">=", "==", "!=", "<", ">"};
        bool holds = false, parsed = false;
        for (const char *op : operators) {
            const size_t at = clause.find(op);
            if (at == std::string::npos) continue;
            const double a = operand(clause.substr(0, at)), b = operand(clause.substr(at + std::strlen(op)));
            const std::string o = op;
            holds = o == "<=" ? a <= b : o == ">=" ? a >= b : o == "==" ? a == b : o == "!=" ? a != b : o == "<" ? a < b : a > b;
            parsed = true;
            break;
        }
        if (!parsed) throw std::logic_error("registry check '" + condition + "' is not a comparison");
        if (!holds) return false;
        if (and_at == std::string::npos) return true;
        rest = rest.substr(and_at + 2);
    }
}

const std::vector<std::string> &builtin_functions() {
    static const std::vector<std::string> names = {"where", "min", "max", "abs", "exp", "log", "sqrt", "sum", "mean",
                                                   "cross_entropy", "nll_loss"};
    return names;
}

class Checker {
public:
    Checker(Spec &spec) : spec_(spec) {}

    void run() {
        std::map<std::string, Location> kernel_names;
        for (Kernel &k : spec_.kernels) {
            if (kernel_names.count(k.name)) {
                error(k.location, "kernel '" + k.name + "' is already defined at line " +
                                      std::to_string(kernel_names[k.name].line));
            }
            kernel_names[k.name] = k.location;
            check_kernel(k);
        }
    }

private:
    [[noreturn]] void error(Location at, const std::string &message) const {
        throw CompileError(format_error(spec_.file, spec_.source, at, message));
    }

    struct Binding {
        DType dtype;
        Shape shape;
        Location location;
        bool input = false;
    };

    void declare(const TensorDecl &d) {
        if (scope_.count(d.name)) {
            error(d.location, "'" + d.name + "' is already declared at line " + std::to_string(scope_[d.name].location.line));
        }
        std::set<std::string> seen;
        for (const std::string &dim : d.dims) {
            if (!seen.insert(dim).second) error(d.location, "dimension '" + dim + "' appears twice in the shape of '" + d.name + "'");
        }
    }

    void check_kernel(Kernel &k) {
        scope_.clear();
        used_.clear();
        kernel_ = &k;
        for (const TensorDecl &d : k.inputs) {
            declare(d);
            if (d.by_value && d.dtype != DType::f32) {
                error(d.location, "type mismatch: scalar parameters are f32; '" + d.name + "' is declared " +
                                      dtype_name(d.dtype) + " (give it a shape, e.g. " + dtype_name(d.dtype) +
                                      "[], for a tensor)");
            }
            scope_[d.name] = {d.dtype, d.dims, d.location, true};
        }
        std::map<std::string, Location> outputs;
        for (const TensorDecl &d : k.outputs) {
            declare(d);
            if (d.by_value) {
                error(d.location, "output '" + d.name + "' has no shape: outputs are tensors (f32[] holds one value)");
            }
            if (outputs.count(d.name)) error(d.location, "'" + d.name + "' is already declared");
            if (d.dtype != DType::f32) {
                error(d.location, "type mismatch: outputs are f32; '" + d.name + "' is declared " + dtype_name(d.dtype));
            }
            outputs[d.name] = d.location;
            k.declared_output_names.push_back(d.name);
        }
        std::map<std::string, Location> assigned;
        for (Statement &s : k.statements) {
            if (s.kind == Statement::grad) {
                const auto input = scope_.find(s.target);
                if (input == scope_.end() || !input->second.input) {
                    error(s.location, "'grad " + s.target + "': expected the name of an input of kernel '" + k.name + "'");
                }
                if (input->second.dtype != DType::f32) {
                    error(s.location, "type mismatch: 'grad " + s.target + "' needs an f32 input; '" + s.target + "' is " +
                                          dtype_name(input->second.dtype));
                }
                if (std::find(k.grads.begin(), k.grads.end(), s.target) != k.grads.end()) {
                    error(s.location, "'grad " + s.target + "' is given twice");
                }
                if (k.find_input(s.target)->by_value) {
                    error(s.location, "'grad " + s.target + "': '" + s.target +
                                          "' is a scalar parameter, passed by value; declare it f32[] for a gradient");
                }
                k.grads.push_back(s.target);
                continue;
            }
            if (assigned.count(s.target)) {
                error(s.location, "'" + s.target + "' is already assigned at line " + std::to_string(assigned[s.target].line));
            }
            const auto bound = scope_.find(s.target);
            if (bound != scope_.end() && bound->second.input) error(s.location, "cannot assign to input '" + s.target + "'");
            check_expr(*s.value);
            if (s.value->dtype == DType::boolean || !numeric(s.value->dtype)) {
                error(s.value->location, "type mismatch: '" + s.target + "' must be f32, but its value is " +
                                             dtype_name(s.value->dtype));
            }
            if (const TensorDecl *out = k.find_output(s.target)) {
                const Shape result = broadcast(s.value->shape, out->dims, s.value->location, "'" + s.target + "'");
                if (result != out->dims) {
                    error(s.value->location, "dimension mismatch: '" + s.target + "' is declared " + shape_string(out->dims) +
                                                 " but its value has shape " + shape_string(s.value->shape));
                }
            }
            if (s.value->dtype == DType::literal) s.value->dtype = DType::f32;
            scope_[s.target] = {DType::f32, s.value->shape, s.location, false};
            assigned[s.target] = s.location;
            k.values[s.target] = s.value;
        }
        for (const TensorDecl &d : k.outputs) {
            if (!assigned.count(d.name)) error(d.location, "output '" + d.name + "' is never assigned");
        }
        for (const TensorDecl &d : k.inputs) {
            if (!used_.count(d.name)) error(d.location, "input '" + d.name + "' is never used");
        }
        add_gradient_arguments(k);
    }

    // grad <x> adds the output grad_<x> (x's shape); each non-scalar output y then takes the
    // incoming gradient grad_<y> as an extra input (a scalar output's is 1).
    void add_gradient_arguments(Kernel &k) {
        if (k.grads.empty()) return;
        auto add = [&](std::vector<TensorDecl> &list, const std::string &name, const Shape &dims, const std::string &why) {
            if (k.find_input(name) || k.find_output(name) || k.values.count(name)) {
                error(k.location, "'" + name + "' " + why + " but kernel '" + k.name + "' already has that name");
            }
            TensorDecl d;
            d.name = name;
            d.dtype = DType::f32;
            d.dims = dims;
            d.location = k.location;
            d.implicit = true;
            list.push_back(d);
        };
        const std::vector<TensorDecl> outputs = k.outputs;
        for (const TensorDecl &out : outputs) {
            if (!out.dims.empty()) add(k.inputs, "grad_" + out.name, out.dims, "is the incoming gradient of non-scalar output '" + out.name + "'");
        }
        for (const std::string &x : k.grads) {
            add(k.outputs, "grad_" + x, k.find_input(x)->dims, "is the output of 'grad " + x + "'");
        }
    }

    // numpy broadcasting on names: trailing dims must be equal; the shorter shape is extended.
    Shape broadcast(const Shape &a, const Shape &b, Location at, const std::string &what) {
        const size_t n = std::min(a.size(), b.size());
        for (size_t i = 1; i <= n; ++i) {
            const std::string &da = a[a.size() - i], &db = b[b.size() - i];
            if (da != db) {
                error(at, "dimension mismatch: " + what + " cannot broadcast " + shape_string(a) + " with " +
                              shape_string(b) + ": dimension " + da + " faces " + db);
            }
        }
        return a.size() >= b.size() ? a : b;
    }

    void require_numeric(const Expr &operand, const std::string &what) {
        if (!numeric(operand.dtype)) {
            error(operand.location, "type mismatch: " + what + " takes f32, but this operand is " + dtype_name(operand.dtype));
        }
    }

    void check_expr(Expr &e) {
        switch (e.kind) {
        case Expr::number:
            e.dtype = DType::literal;
            e.shape = {};
            return;
        case Expr::string: error(e.location, "a string is only allowed as the value of a keyword argument");
        case Expr::name: {
            const auto it = scope_.find(e.text);
            if (it == scope_.end() || (!it->second.input && !kernel_->values.count(e.text))) {
                error(e.location, "unknown name '" + e.text + "'; expected an input or a name assigned above");
            }
            if (it->second.input) used_.insert(e.text);
            e.dtype = it->second.dtype;
            e.shape = it->second.shape;
            return;
        }
        case Expr::negate:
            check_expr(*e.args[0]);
            require_numeric(*e.args[0], "unary '-'");
            e.dtype = e.args[0]->dtype;
            e.shape = e.args[0]->shape;
            return;
        case Expr::binary: {
            check_expr(*e.args[0]);
            check_expr(*e.args[1]);
            const std::string what = "'" + e.text + "'";
            require_numeric(*e.args[0], what);
            require_numeric(*e.args[1], what);
            e.shape = broadcast(e.args[0]->shape, e.args[1]->shape, e.location, what);
            const bool compare = e.text != "+" && e.text != "-" && e.text != "*" && e.text != "/";
            if (compare) {
                e.dtype = DType::boolean;
            } else {
                e.dtype = e.args[0]->dtype == DType::literal && e.args[1]->dtype == DType::literal ? DType::literal : DType::f32;
            }
            return;
        }
        case Expr::call: check_call(e); return;
        }
    }

    void expect_arguments(const Expr &e, size_t count) {
        if (e.args.size() != count) {
            error(e.location, "'" + e.text + "' takes " + std::to_string(count) + " positional argument" +
                                  (count == 1 ? "" : "s") + ", found " + std::to_string(e.args.size()));
        }
    }

    void check_call(Expr &e) {
        const std::string &f = e.text;
        if (f == "where" || f == "min" || f == "max" || f == "abs" || f == "exp" || f == "log" || f == "sqrt") {
            if (!e.keywords.empty()) error(e.keywords[0].location, "'" + f + "' takes no keyword arguments");
            const size_t count = f == "where" ? 3 : (f == "min" || f == "max") ? 2 : 1;
            expect_arguments(e, count);
            for (ExprPtr &a : e.args) check_expr(*a);
            e.shape = {};
            for (size_t i = 0; i < count; ++i) {
                if (f == "where" && i == 0) {
                    if (e.args[0]->dtype != DType::boolean) {
                        error(e.args[0]->location, std::string("type mismatch: the condition of 'where' must be a comparison (bool), not ") +
                                                       dtype_name(e.args[0]->dtype));
                    }
                } else {
                    require_numeric(*e.args[i], "'" + f + "'");
                }
                e.shape = broadcast(e.shape, e.args[i]->shape, e.args[i]->location, "'" + f + "'");
            }
            e.dtype = DType::f32;
            e.callee = f == "where" ? Callee::where : f == "min" ? Callee::min : f == "max" ? Callee::max
                     : f == "abs" ? Callee::abs : f == "exp" ? Callee::exp : f == "log" ? Callee::log : Callee::sqrt;
            return;
        }
        if (f == "sum" || f == "mean") {
            // sum(x) / mean(x) reduce over every dimension; sum(x, dim=d) over one (negative d
            // counts from the end; the dimension is dropped, as PyTorch's keepdim=False).
            if (e.args.size() == 2) {
                e.keywords.insert(e.keywords.begin(), {"dim", e.args[1], e.args[1]->location});
                e.args.resize(1);
            }
            expect_arguments(e, 1);
            check_expr(*e.args[0]);
            require_numeric(*e.args[0], "'" + f + "'");
            ParamSpec dim{"dim", false, true, {}, {}};
            dim.default_value.is_text = true;  // absent: every dimension
            e.params = resolve_params(e, {dim});
            e.dtype = DType::f32;
            e.shape = {};
            if (!e.params["dim"].is_text) {
                const Shape &shape = e.args[0]->shape;
                const int rank = static_cast<int>(shape.size());
                const double d = e.params["dim"].number;
                if (rank == 0) error(e.args[0]->location, "'" + f + "' along a dimension needs a tensor, but its input is a scalar");
                if (d < -rank || d >= rank) {
                    error(e.location, "parameter 'dim' of " + f + " is " + std::to_string(static_cast<int>(d)) +
                                          ", out of range for the " + std::to_string(rank) + "-d input " + shape_string(shape));
                }
                const size_t index = static_cast<size_t>(d < 0 ? d + rank : d);
                e.reduced_dim = shape[index];
                e.shape = shape;
                e.shape.erase(e.shape.begin() + static_cast<long>(index));
            }
            e.callee = f == "sum" ? Callee::sum : Callee::mean;
            return;
        }
        if (f == "cross_entropy" || f == "nll_loss") {
            check_loss(e);
            return;
        }
        const registry::Op *op = nullptr;
        for (const registry::Op &candidate : registry::ops()) {
            if (candidate.name == f) op = &candidate;
        }
        if (!op) {
            std::string best;
            size_t best_distance = 3;
            std::vector<std::string> names = builtin_functions();
            for (const registry::Op &candidate : registry::ops()) names.push_back(candidate.name);
            for (const std::string &name : names) {
                const size_t d = edit_distance(f, name);
                if (d < best_distance) {
                    best_distance = d;
                    best = name;
                }
            }
            error(e.location, "unknown op '" + f + "'" + (best.empty() ? "" : "; did you mean '" + best + "'?") +
                                  " (expected where, min, max, abs, exp, log, sqrt, sum, mean, cross_entropy, nll_loss or a "
                                  "registry op: nnfc list-ops)");
        }
        if (op->family == registry::Family::loss) {
            check_elementwise_loss(e, *op);  // cross_entropy and nll_loss were handled above
            return;
        }
        if (op->family == registry::Family::prelu) {
            check_prelu(e);
            return;
        }
        const bool rrelu = op->family == registry::Family::rrelu;
        if (op->family != registry::Family::pointwise && op->family != registry::Family::softmax && !rrelu) {
            error(e.location, "op '" + f + "' (family " + registry::family_name(op->family) +
                                  ") cannot be used in a fused kernel");
        }
        if (e.args.empty()) error(e.location, "'" + f + "' takes a tensor as its first argument");
        const std::vector<ParamSpec> specs = registry_param_specs(*op);
        // Parameters may also follow the tensor positionally, in the registry's (PyTorch's) order.
        std::vector<KeywordArg> keywords;
        for (size_t i = 1; i < e.args.size(); ++i) {
            if (i - 1 >= specs.size()) {
                error(e.args[i]->location, "'" + f + "' takes 1 tensor and " + std::to_string(specs.size()) +
                                               " parameter" + (specs.size() == 1 ? "" : "s") + ", found " +
                                               std::to_string(e.args.size()) + " positional arguments");
            }
            keywords.push_back({specs[i - 1].name, e.args[i], e.args[i]->location});
        }
        e.args.resize(1);
        keywords.insert(keywords.end(), e.keywords.begin(), e.keywords.end());
        e.keywords = keywords;
        check_expr(*e.args[0]);
        require_numeric(*e.args[0], "'" + f + "'");
        e.params = resolve_params(e, specs);
        check_registry_conditions(e, *op);
        e.dtype = DType::f32;
        e.shape = e.args[0]->shape;
        if (op->family == registry::Family::pointwise) {
            e.callee = Callee::pointwise_op;
            return;
        }
        if (rrelu) {
            // The seed travels as a double through the checker: exact up to 2^53.
            const double seed = e.params["seed"].number;
            if (seed < 0 || seed > 9007199254740992.0) {
                error(e.location, "parameter 'seed' of rrelu must be in [0, 2^53] in a spec");
            }
            e.callee = Callee::rrelu;
            return;
        }
        e.callee = Callee::softmax_op;
        const int rank = static_cast<int>(e.shape.size());
        const double dim = e.params["dim"].number;
        if (rank == 0) error(e.args[0]->location, "'" + f + "' normalizes along a dimension, but its input is a scalar");
        if (dim < -rank || dim >= rank) {
            error(e.location, "parameter 'dim' of " + f + " is " + std::to_string(static_cast<int>(dim)) +
                                  ", out of range for the " + std::to_string(rank) + "-d input " + shape_string(e.shape));
        }
        e.reduced_dim = e.shape[static_cast<size_t>(dim < 0 ? dim + rank : dim)];
    }

    // The parameters of a registry op as the spec accepts them: enums and reductions by name
    // ("tanh", "sum"), numbers otherwise.
    static std::vector<ParamSpec> registry_param_specs(const registry::Op &op) {
        std::vector<ParamSpec> specs;
        for (const registry::Param &p : op.params) {
            ParamSpec s;
            s.name = p.name;
            if (p.type == registry::ParamType::enumeration) {
                s.text = true;
                s.choices = p.enum_values;
                s.default_value.is_text = true;
                s.default_value.text = p.default_value;
            } else if (p.type == registry::ParamType::reduction) {
                s.text = true;
                s.choices = {"mean", "sum", "none"};
                s.default_value.is_text = true;
                s.default_value.text = p.default_value == "NNF_REDUCTION_SUM" ? "sum"
                                       : p.default_value == "NNF_REDUCTION_NONE" ? "none" : "mean";
            } else {
                s.integer_only = p.type != registry::ParamType::f32;
                s.default_value.number = c_literal_value(p.default_value);
            }
            specs.push_back(s);
        }
        return specs;
    }

    // The registry's NNF_CHECK conditions, evaluated on the constant parameters: what the C
    // library rejects at run time is a compile error in a spec. The caret goes under the first
    // parameter the condition names that the call sets.
    void check_registry_conditions(const Expr &e, const registry::Op &op) {
        for (const registry::Check &c : op.checks) {
            if (registry_check_holds(c.condition, e.params)) continue;
            Location at = e.location;
            for (const KeywordArg &k : e.keywords) {
                if (c.condition.find("p." + k.name) != std::string::npos) {
                    at = k.value->location;
                    break;
                }
            }
            std::string message = c.message;
            for (size_t i; (i = message.find("params->")) != std::string::npos;) message.erase(i, 8);
            error(at, "invalid parameters of " + e.text + ": " + message);
        }
    }

    // prelu(x, weight): weight is one slope (a scalar) or one per channel, [C] with C the input's
    // dim 1, as PyTorch (a 1-d input has no channel dim: its weight is a scalar).
    void check_prelu(Expr &e) {
        expect_arguments(e, 2);
        if (!e.keywords.empty()) error(e.keywords[0].location, "'prelu' takes no keyword arguments");
        for (ExprPtr &a : e.args) check_expr(*a);
        require_numeric(*e.args[0], "'prelu'");
        require_numeric(*e.args[1], "'prelu'");
        const Expr &x = *e.args[0], &weight = *e.args[1];
        const bool per_channel = x.shape.size() >= 2 && weight.shape == Shape{x.shape[1]};
        if (!weight.shape.empty() && !per_channel) {
            error(weight.location, "dimension mismatch: the weight of 'prelu' must be a scalar" +
                                       (x.shape.size() >= 2 ? " or [" + x.shape[1] + "] (the input's dim 1)" : std::string()) +
                                       ", not " + shape_string(weight.shape));
        }
        e.shape = x.shape;
        e.dtype = DType::f32;
        e.callee = Callee::prelu;
    }

    // mse_loss, l1_loss, smooth_l1_loss, huber_loss (input, target, reduction=..., beta / delta):
    // elementwise in d = input - target, then reduced. Input and target have the same shape
    // (PyTorch broadcasts different shapes with a warning that it is likely a mistake).
    void check_elementwise_loss(Expr &e, const registry::Op &op) {
        const std::string &f = e.text;
        expect_arguments(e, 2);
        for (ExprPtr &a : e.args) check_expr(*a);
        require_numeric(*e.args[0], "'" + f + "'");
        require_numeric(*e.args[1], "'" + f + "'");
        const Expr &input = *e.args[0], &target = *e.args[1];
        if (target.shape != input.shape) {
            error(target.location, "dimension mismatch: the target of '" + f + "' must have the input's shape " +
                                       shape_string(input.shape) + ", not " + shape_string(target.shape));
        }
        e.params = resolve_params(e, registry_param_specs(op));
        check_registry_conditions(e, op);
        e.shape = e.params["reduction"].text == "none" ? input.shape : Shape{};
        e.dtype = DType::f32;
        e.callee = Callee::elementwise_loss;
    }

    // cross_entropy(input, target, ignore_index=-100, reduction="mean", label_smoothing=0.0) and
    // nll_loss(input, target, ignore_index=-100, reduction="mean"): class indices in target;
    // the class dim is input's dim 1 (dim 0 for a 1-d input), as in PyTorch.
    void check_loss(Expr &e) {
        const std::string &f = e.text;
        expect_arguments(e, 2);
        for (ExprPtr &a : e.args) check_expr(*a);
        require_numeric(*e.args[0], "'" + f + "'");
        const Expr &input = *e.args[0], &target = *e.args[1];
        if (input.shape.empty()) error(input.location, "'" + f + "' needs an input with a class dimension, not a scalar");
        if (target.dtype != DType::i64 && target.dtype != DType::i32) {
            error(target.location, "type mismatch: the target of '" + f + "' holds class indices (i64 or i32), not " +
                                       dtype_name(target.dtype));
        }
        const size_t class_dim = input.shape.size() >= 2 ? 1 : 0;
        Shape expected = input.shape;
        expected.erase(expected.begin() + static_cast<long>(class_dim));
        if (target.shape != expected) {
            error(target.location, "dimension mismatch: the target of '" + f + "' must have shape " + shape_string(expected) +
                                       " (the input " + shape_string(input.shape) + " without its class dimension " +
                                       input.shape[class_dim] + "), not " + shape_string(target.shape));
        }
        std::vector<ParamSpec> specs;
        ParamSpec ignore{"ignore_index", false, true, {}, {}};
        ignore.default_value.number = -100;
        ParamSpec reduction{"reduction", true, false, {}, {"mean", "sum", "none"}};
        reduction.default_value = {0, "mean", true};
        specs = {ignore, reduction};
        if (f == "cross_entropy") specs.push_back({"label_smoothing", false, false, {}, {}});
        e.params = resolve_params(e, specs);
        if (f == "cross_entropy") {
            const double ls = e.params["label_smoothing"].number;
            if (!(ls >= 0 && ls <= 1)) {
                error(e.location, "parameter 'label_smoothing' of cross_entropy must be in [0, 1]");
            }
        }
        e.reduced_dim = input.shape[class_dim];
        e.shape = e.params["reduction"].text == "none" ? expected : Shape{};
        e.dtype = DType::f32;
        e.callee = f == "cross_entropy" ? Callee::cross_entropy : Callee::nll_loss;
    }

    // A constant number: a literal, True / False (1 / 0, for boolean parameters such as rrelu's
    // training), or negation and arithmetic of literals.
    bool constant(const Expr &e, double *value) {
        switch (e.kind) {
        case Expr::number: *value = e.value; return true;
        case Expr::name:
            if (e.text != "True" && e.text != "False" && e.text != "true" && e.text != "false") return false;
            *value = e.text == "True" || e.text == "true";
            return true;
        case Expr::negate:
            if (!constant(*e.args[0], value)) return false;
            *value = -*value;
            return true;
        case Expr::binary: {
            double a, b;
            if (!constant(*e.args[0], &a) || !constant(*e.args[1], &b)) return false;
            if (e.text == "+") *value = a + b;
            else if (e.text == "-") *value = a - b;
            else if (e.text == "*") *value = a * b;
            else if (e.text == "/") *value = a / b;
            else return false;
            return true;
        }
        default: return false;
        }
    }

    std::map<std::string, ParamValue> resolve_params(const Expr &call, const std::vector<ParamSpec> &specs) {
        std::map<std::string, ParamValue> values;
        for (const KeywordArg &k : call.keywords) {
            const auto spec = std::find_if(specs.begin(), specs.end(), [&](const ParamSpec &s) { return s.name == k.name; });
            if (spec == specs.end()) {
                std::string expected;
                for (size_t i = 0; i < specs.size(); ++i) expected += (i ? ", " : "") + specs[i].name;
                error(k.location, "unknown parameter '" + k.name + "' of " + call.text +
                                      (specs.empty() ? "; it takes no parameters" : "; expected " + expected));
            }
            if (values.count(k.name)) error(k.location, "parameter '" + k.name + "' of " + call.text + " is given twice");
            ParamValue v;
            if (spec->text) {
                std::string choices;
                for (size_t i = 0; i < spec->choices.size(); ++i) choices += (i ? ", \"" : "\"") + spec->choices[i] + "\"";
                if (k.value->kind != Expr::string) {
                    error(k.value->location, "parameter '" + k.name + "' of " + call.text + " must be one of " + choices);
                }
                if (std::find(spec->choices.begin(), spec->choices.end(), k.value->text) == spec->choices.end()) {
                    error(k.value->location, "parameter '" + k.name + "' of " + call.text + " must be one of " + choices +
                                                 "; found \"" + k.value->text + "\"");
                }
                v.is_text = true;
                v.text = k.value->text;
            } else {
                if (!constant(*k.value, &v.number)) {
                    error(k.value->location, "parameter '" + k.name + "' of " + call.text + " must be a constant number");
                }
                if (spec->integer_only && v.number != std::floor(v.number)) {
                    error(k.value->location, "parameter '" + k.name + "' of " + call.text + " must be an integer");
                }
            }
            values[k.name] = v;
        }
        for (const ParamSpec &s : specs) {
            if (!values.count(s.name)) values[s.name] = s.default_value;
        }
        return values;
    }

    Spec &spec_;
    Kernel *kernel_ = nullptr;
    std::map<std::string, Binding> scope_;
    std::set<std::string> used_;
};

}  // namespace

void check(Spec &spec) {
    Checker(spec).run();
}

}  // namespace nnf::spec

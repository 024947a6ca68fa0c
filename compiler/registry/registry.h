// The C++ view of compiler/registry/ops.def, for build-time tools (generators, nnfc).
#pragma once

#include <string>
#include <vector>

namespace nnf::registry {

// pointwise: y = f(x) elementwise. prelu: y = f(x, weight[channel]), backward also gives
// grad_weight (a reduction over all dims but the channel dim). rrelu: y = x * noise, noise drawn
// per element from (seed, element index) in training. softmax: normalizes along one dim; backward
// from the saved output. loss: input and target to a reduced loss (compiler/nnfc/loss_emitter.h).
enum class Family { pointwise, prelu, rrelu, softmax, loss };
enum class Saved { input, output };
// reduction: the shared nnf_reduction enum of the public header (none, mean, sum).
enum class ParamType { f32, i32, u64, i64, boolean, enumeration, reduction };

struct Param {
    std::string name;
    ParamType type;
    std::string default_value;             // a C literal; for enums, one of enum_values
    std::vector<std::string> enum_values;  // enumeration only
    std::string doc;
};

struct Check {
    std::string condition;  // C expression over the params struct `p`
    std::string message;
};

struct Op {
    std::string name;
    Family family;
    Saved saved;
    std::string summary;
    std::vector<Param> params;
    std::vector<Check> checks;

    // The compile-time enum parameter, or nullptr.
    const Param *variant_param() const;
    // Runtime (non-enum) parameters, in declaration order.
    std::vector<const Param *> runtime_params() const;
};

const std::vector<Op> &ops();
// Throws std::invalid_argument naming the op if it is not registered.
const Op &find_op(const std::string &name);
// The same, for a generator of `family`: also throws if the op belongs to another family.
const Op &find_op(const std::string &name, Family family);
// A generator's `pass` parameter: true for "forward", false for "backward", else it throws.
bool is_forward_pass(const std::string &pass);

const char *family_name(Family family);
const char *param_type_name(ParamType type);
// The C type of a parameter's field in nnf_<op>_params.
std::string c_type(const Op &op, const Param &param);
// Upper-case enumerator, e.g. NNF_GELU_APPROXIMATE_TANH.
std::string enumerator(const Op &op, const Param &param, const std::string &value);

}  // namespace nnf::registry

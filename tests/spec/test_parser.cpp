// The spec language's front end: good specs parse and check with the expected types, shapes and
// implicit gradient arguments; bad specs fail with the exact compiler message.
#include <gtest/gtest.h>

#include "registry/registry.h"
#include "spec/spec.h"

namespace nnf::spec {
namespace {

Spec checked(const std::string &source) {
    Spec spec = parse("test.nnf", source);
    check(spec);
    return spec;
}

// The message of the CompileError a spec raises ("" if it raises none).
std::string error_of(const std::string &source) {
    try {
        checked(source);
    } catch (const CompileError &e) {
        return e.what();
    }
    return "";
}

TEST(SpecParser, IssueExampleParsesAndAddsTheGradientOutput) {
    const Spec spec = checked(R"(# comments start with '#'
kernel bias_gelu(x: f32[N, C], bias: f32[C]) -> (y: f32[N, C]) {
    y = gelu(x + bias, approximate="tanh")
}

kernel scaled_ce(logits: f32[N, C], target: i64[N]) -> (loss: f32[]) {
    loss = cross_entropy(logits * 0.5, target, label_smoothing=0.1)
    grad logits
}
)");
    ASSERT_EQ(spec.kernels.size(), 2u);
    const Kernel &gelu = spec.kernels[0];
    EXPECT_EQ(gelu.name, "bias_gelu");
    ASSERT_EQ(gelu.inputs.size(), 2u);
    EXPECT_EQ(gelu.inputs[1].dims, (Shape{"C"}));
    const Expr &call = *gelu.values.at("y");
    EXPECT_EQ(call.callee, Callee::pointwise_op);
    EXPECT_EQ(call.params.at("approximate").text, "tanh");
    EXPECT_EQ(call.shape, (Shape{"N", "C"}));

    const Kernel &ce = spec.kernels[1];
    ASSERT_EQ(ce.outputs.size(), 2u);
    EXPECT_EQ(ce.outputs[1].name, "grad_logits");
    EXPECT_EQ(ce.outputs[1].dims, (Shape{"N", "C"}));
    EXPECT_TRUE(ce.outputs[1].implicit);
    EXPECT_EQ(ce.inputs.size(), 2u);  // a scalar output takes no incoming gradient
    const Expr &loss = *ce.values.at("loss");
    EXPECT_EQ(loss.callee, Callee::cross_entropy);
    EXPECT_EQ(loss.reduced_dim, "C");
    EXPECT_DOUBLE_EQ(loss.params.at("label_smoothing").number, 0.1);
    EXPECT_EQ(loss.params.at("reduction").text, "mean");
    EXPECT_DOUBLE_EQ(loss.params.at("ignore_index").number, -100);
    EXPECT_TRUE(loss.shape.empty());
}

TEST(SpecParser, NonScalarOutputTakesItsIncomingGradient) {
    const Spec spec = checked("kernel k(x: f32[N, C], b: f32[C]) -> (y: f32[N, C]) { y = gelu(x + b)\n grad b }");
    const Kernel &k = spec.kernels[0];
    ASSERT_EQ(k.inputs.size(), 3u);
    EXPECT_EQ(k.inputs[2].name, "grad_y");
    EXPECT_EQ(k.inputs[2].dims, (Shape{"N", "C"}));
    ASSERT_EQ(k.outputs.size(), 2u);
    EXPECT_EQ(k.outputs[1].name, "grad_b");
    EXPECT_EQ(k.outputs[1].dims, (Shape{"C"}));
}

TEST(SpecParser, BroadcastsByTrailingNamesAndResolvesParameters) {
    const Spec spec = checked(R"(kernel k(x: f32[B, N, C], s: f32[C], t: f32[]) -> (y: f32[B, N, C]) {
    h = -x * s / t + 1.5e-1
    y = softmax(where(h >= 0, leaky_relu(h, 0.2), h), dim=1, beta=-(1 / 4))
})");
    const Kernel &k = spec.kernels[0];
    const Expr &h = *k.values.at("h");
    EXPECT_EQ(h.shape, (Shape{"B", "N", "C"}));
    const Expr &y = *k.values.at("y");
    EXPECT_EQ(y.callee, Callee::softmax_op);
    EXPECT_EQ(y.reduced_dim, "N");
    EXPECT_DOUBLE_EQ(y.params.at("beta").number, -0.25);
    const Expr &leaky = *y.args[0]->args[1];
    EXPECT_FLOAT_EQ(static_cast<float>(leaky.params.at("negative_slope").number), 0.2f);
    // Defaults come from the registry.
    const Spec defaults = checked("kernel k(x: f32[N]) -> (y: f32[N]) { y = softplus(x) }");
    EXPECT_DOUBLE_EQ(defaults.kernels[0].values.at("y")->params.at("threshold").number, 20.0);
}

TEST(SpecErrors, UnknownOpSuggestsTheNearestName) {
    EXPECT_EQ(error_of("kernel k(x: f32[N, C]) -> (y: f32[N, C]) {\n    y = gelu_(x)\n}"),
              "test.nnf:2:9: error: unknown op 'gelu_'; did you mean 'gelu'? (expected where, min, max, abs, exp, log, "
              "sqrt, sum, mean, cross_entropy, nll_loss or a registry op: nnfc list-ops)\n"
              "    y = gelu_(x)\n"
              "        ^");
}

TEST(SpecErrors, UnknownParameter) {
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n  y = gelu(x, approx=\"tanh\")\n}"),
              "test.nnf:2:15: error: unknown parameter 'approx' of gelu; expected approximate\n"
              "  y = gelu(x, approx=\"tanh\")\n"
              "              ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) { y = relu(x, inplace=1) }"),
              "test.nnf:1:50: error: unknown parameter 'inplace' of relu; it takes no parameters\n"
              "kernel k(x: f32[N]) -> (y: f32[N]) { y = relu(x, inplace=1) }\n"
              "                                                 ^");
}

TEST(SpecErrors, WrongParameterValue) {
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) { y = gelu(x, approximate=\"fast\") }"),
              "test.nnf:1:62: error: parameter 'approximate' of gelu must be one of \"none\", \"tanh\"; found \"fast\"\n"
              "kernel k(x: f32[N]) -> (y: f32[N]) { y = gelu(x, approximate=\"fast\") }\n"
              "                                                             ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) { y = elu(x, alpha=x) }"),
              "test.nnf:1:55: error: parameter 'alpha' of elu must be a constant number\n"
              "kernel k(x: f32[N]) -> (y: f32[N]) { y = elu(x, alpha=x) }\n"
              "                                                      ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C]) -> (y: f32[N, C]) { y = softmax(x, dim=2) }"),
              "test.nnf:1:48: error: parameter 'dim' of softmax is 2, out of range for the 2-d input [N, C]\n"
              "kernel k(x: f32[N, C]) -> (y: f32[N, C]) { y = softmax(x, dim=2) }\n"
              "                                               ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C], t: i64[N]) -> (l: f32[]) { l = cross_entropy(x, t, reduction=\"avg\") }"),
              "test.nnf:1:85: error: parameter 'reduction' of cross_entropy must be one of \"mean\", \"sum\", \"none\"; "
              "found \"avg\"\n"
              "kernel k(x: f32[N, C], t: i64[N]) -> (l: f32[]) { l = cross_entropy(x, t, reduction=\"avg\") }\n"
              "                                                                                    ^");
}

TEST(SpecErrors, DimensionMismatch) {
    EXPECT_EQ(error_of("kernel k(x: f32[N, C], b: f32[N]) -> (y: f32[N, C]) {\n    y = x + b\n}"),
              "test.nnf:2:11: error: dimension mismatch: '+' cannot broadcast [N, C] with [N]: dimension C faces N\n"
              "    y = x + b\n"
              "          ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C]) -> (y: f32[C, N]) {\n    y = relu(x)\n}"),
              "test.nnf:2:9: error: dimension mismatch: 'y' cannot broadcast [N, C] with [C, N]: dimension C faces N\n"
              "    y = relu(x)\n"
              "        ^");
    EXPECT_EQ(error_of("kernel k(x: f32[C]) -> (y: f32[N, C]) { y = x }"),
              "");  // broadcasting into the output is allowed
    EXPECT_EQ(error_of("kernel k(x: f32[N, C]) -> (y: f32[C]) {\n    y = x\n}"),
              "test.nnf:2:9: error: dimension mismatch: 'y' is declared [C] but its value has shape [N, C]\n"
              "    y = x\n"
              "        ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C], t: i64[M]) -> (l: f32[]) {\n  l = cross_entropy(x, t)\n}"),
              "test.nnf:2:24: error: dimension mismatch: the target of 'cross_entropy' must have shape [N] (the input "
              "[N, C] without its class dimension C), not [M]\n"
              "  l = cross_entropy(x, t)\n"
              "                       ^");
}

TEST(SpecErrors, TypeMismatch) {
    EXPECT_EQ(error_of("kernel k(x: f32[N], t: i64[N]) -> (y: f32[N]) {\n    y = x * t\n}"),
              "test.nnf:2:13: error: type mismatch: '*' takes f32, but this operand is i64\n"
              "    y = x * t\n"
              "            ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n    y = where(x, x, 0)\n}"),
              "test.nnf:2:15: error: type mismatch: the condition of 'where' must be a comparison (bool), not f32\n"
              "    y = where(x, x, 0)\n"
              "              ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n    y = x > 0\n}"),
              "test.nnf:2:11: error: type mismatch: 'y' must be f32, but its value is bool\n"
              "    y = x > 0\n"
              "          ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C], t: f32[N]) -> (l: f32[]) { l = nll_loss(x, t) }"),
              "test.nnf:1:67: error: type mismatch: the target of 'nll_loss' holds class indices (i64 or i32), not f32\n"
              "kernel k(x: f32[N, C], t: f32[N]) -> (l: f32[]) { l = nll_loss(x, t) }\n"
              "                                                                  ^");
    EXPECT_EQ(error_of("kernel k(t: i64[N]) -> (y: i64[N]) { y = t }"),
              "test.nnf:1:25: error: type mismatch: outputs are f32; 'y' is declared i64\n"
              "kernel k(t: i64[N]) -> (y: i64[N]) { y = t }\n"
              "                        ^");
}

TEST(SpecParser, ScalarParametersHaveNoShapeAndComeByValue) {
    const Spec spec = checked("kernel k(x: f32[N], a: f32, b: f32) -> (y: f32[N]) {\n    y = x * a + b\n    grad x\n}");
    const Kernel &k = spec.kernels[0];
    ASSERT_EQ(k.inputs.size(), 4u);  // x, a, b, grad_y
    EXPECT_FALSE(k.inputs[0].by_value);
    EXPECT_TRUE(k.inputs[1].by_value);
    EXPECT_TRUE(k.inputs[1].dims.empty());
    EXPECT_TRUE(k.inputs[2].by_value);
    EXPECT_EQ(k.inputs[3].name, "grad_y");
    EXPECT_FALSE(k.inputs[3].by_value);
}

TEST(SpecErrors, ScalarParameters) {
    EXPECT_EQ(error_of("kernel k(x: f32[N], n: i64) -> (y: f32[N]) { y = x }"),
              "test.nnf:1:21: error: type mismatch: scalar parameters are f32; 'n' is declared i64 (give it a shape, "
              "e.g. i64[], for a tensor)\n"
              "kernel k(x: f32[N], n: i64) -> (y: f32[N]) { y = x }\n"
              "                    ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32) { y = sum(x) }"),
              "test.nnf:1:25: error: output 'y' has no shape: outputs are tensors (f32[] holds one value)\n"
              "kernel k(x: f32[N]) -> (y: f32) { y = sum(x) }\n"
              "                        ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N], a: f32) -> (y: f32[]) {\n  y = sum(x * a)\n  grad a\n}"),
              "test.nnf:3:3: error: 'grad a': 'a' is a scalar parameter, passed by value; declare it f32[] for a "
              "gradient\n"
              "  grad a\n"
              "  ^");
}

TEST(SpecErrors, UnusedInputAndUnassignedOutput) {
    EXPECT_EQ(error_of("kernel k(x: f32[N, C], bias: f32[C]) -> (y: f32[N, C]) {\n    y = relu(x)\n}"),
              "test.nnf:1:24: error: input 'bias' is never used\n"
              "kernel k(x: f32[N, C], bias: f32[C]) -> (y: f32[N, C]) {\n"
              "                       ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N], z: f32[N]) {\n    y = relu(x)\n}"),
              "test.nnf:1:36: error: output 'z' is never assigned\n"
              "kernel k(x: f32[N]) -> (y: f32[N], z: f32[N]) {\n"
              "                                   ^");
}

TEST(SpecErrors, NamesAndGradients) {
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n    y = relu(z)\n}"),
              "test.nnf:2:14: error: unknown name 'z'; expected an input or a name assigned above\n"
              "    y = relu(z)\n"
              "             ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C], t: i64[N]) -> (y: f32[N]) {\n  y = nll_loss(x, t, reduction=\"none\")\n  grad t\n}"),
              "test.nnf:3:3: error: type mismatch: 'grad t' needs an f32 input; 't' is i64\n"
              "  grad t\n"
              "  ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n  y = x\n  grad y\n}"),
              "test.nnf:3:3: error: 'grad y': expected the name of an input of kernel 'k'\n"
              "  grad y\n"
              "  ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n  y = x\n  y = x\n}"),
              "test.nnf:3:3: error: 'y' is already assigned at line 2\n"
              "  y = x\n"
              "  ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, N]) -> (y: f32[N]) { y = x }"),
              "test.nnf:1:10: error: dimension 'N' appears twice in the shape of 'x'\n"
              "kernel k(x: f32[N, N]) -> (y: f32[N]) { y = x }\n"
              "         ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C], w: f32[N]) -> (y: f32[N, C]) { y = prelu(x, w) }"),
              "test.nnf:1:68: error: dimension mismatch: the weight of 'prelu' must be a scalar or [C] (the input's dim "
              "1), not [N]\n"
              "kernel k(x: f32[N, C], w: f32[N]) -> (y: f32[N, C]) { y = prelu(x, w) }\n"
              "                                                                   ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C], t: f32[C]) -> (y: f32[]) { y = mse_loss(x, t) }"),
              "test.nnf:1:67: error: dimension mismatch: the target of 'mse_loss' must have the input's shape [N, C], "
              "not [C]\n"
              "kernel k(x: f32[N, C], t: f32[C]) -> (y: f32[]) { y = mse_loss(x, t) }\n"
              "                                                                  ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N, C]) -> (y: f32[N]) { y = sum(x, dim=2) }"),
              "test.nnf:1:45: error: parameter 'dim' of sum is 2, out of range for the 2-d input [N, C]\n"
              "kernel k(x: f32[N, C]) -> (y: f32[N]) { y = sum(x, dim=2) }\n"
              "                                            ^");
}

// What the C library rejects at run time (ops.def's NNF_CHECK) is a compile error in a spec,
// with the caret under the offending parameter.
TEST(SpecErrors, RegistryParameterChecksAtCompileTime) {
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) { y = softshrink(x, lambd=-1) }"),
              "test.nnf:1:62: error: invalid parameters of softshrink: lambd must be >= 0\n"
              "kernel k(x: f32[N]) -> (y: f32[N]) { y = softshrink(x, lambd=-1) }\n"
              "                                                             ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) { y = rrelu(x, lower=0.5, upper=0.25) }"),
              "test.nnf:1:57: error: invalid parameters of rrelu: lower must be <= upper\n"
              "kernel k(x: f32[N]) -> (y: f32[N]) { y = rrelu(x, lower=0.5, upper=0.25) }\n"
              "                                                        ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N], t: f32[N]) -> (y: f32[]) { y = huber_loss(x, t, delta=0) }"),
              "test.nnf:1:75: error: invalid parameters of huber_loss: delta must be > 0 (PyTorch: huber_loss does not "
              "support non-positive values for delta)\n"
              "kernel k(x: f32[N], t: f32[N]) -> (y: f32[]) { y = huber_loss(x, t, delta=0) }\n"
              "                                                                          ^");
}

// Every op of the registry that takes one tensor (or an input and a target) is callable from a
// spec with its defaults, which pass the op's own checks: this also proves that the spec
// compiler reads every NNF_CHECK condition of ops.def.
TEST(SpecParser, EveryRegistryOpChecksWithItsDefaults) {
    for (const registry::Op &op : registry::ops()) {
        std::string call;
        if (op.family == registry::Family::loss) {
            if (op.name == "cross_entropy" || op.name == "nll_loss") continue;  // class-index targets: tested above
            call = "y = sum(" + op.name + "(x, t, reduction=\"none\"))";
        } else if (op.family == registry::Family::prelu) {
            call = "y = sum(" + op.name + "(x, w))";
        } else {
            call = "y = sum(" + op.name + "(x))";
        }
        const std::string source = "kernel k(x: f32[N, C], t: f32[N, C], w: f32[C]) -> (y: f32[]) { " + call + " }";
        // Inputs an op does not read are an error ("unused input"), so each kernel declares only its own.
        std::string trimmed = source;
        if (op.family != registry::Family::loss) trimmed.replace(trimmed.find(", t: f32[N, C]"), 14, "");
        if (op.family != registry::Family::prelu) trimmed.replace(trimmed.find(", w: f32[C]"), 11, "");
        EXPECT_EQ(error_of(trimmed), "") << op.name;
    }
}

TEST(SpecErrors, Syntax) {
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n    y = (x + 1\n}"),
              "test.nnf:3:1: error: expected ')' to close '(', found '}'\n"
              "}\n"
              "^");
    EXPECT_EQ(error_of("kernel k(x: f64[N]) -> (y: f32[N]) { y = x }"),
              "test.nnf:1:13: error: expected a dtype (f32, i32 or i64), found 'f64'\n"
              "kernel k(x: f64[N]) -> (y: f32[N]) { y = x }\n"
              "            ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) (y: f32[N]) { y = x }"),
              "test.nnf:1:21: error: expected '->' after the inputs, found '('\n"
              "kernel k(x: f32[N]) (y: f32[N]) { y = x }\n"
              "                    ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n    y = x @ 2\n}"),
              "test.nnf:2:11: error: unexpected character '@'\n"
              "    y = x @ 2\n"
              "          ^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) {\n    y = relu(x\n"),
              "test.nnf:3:1: error: expected ')' to close the arguments of 'relu', found end of file\n"
              "\n"
              "^");
    EXPECT_EQ(error_of("kernel k(x: f32[N]) -> (y: f32[N]) { y = \"tanh\" }"),
              "test.nnf:1:42: error: a string is only allowed as the value of a keyword argument\n"
              "kernel k(x: f32[N]) -> (y: f32[N]) { y = \"tanh\" }\n"
              "                                         ^");
}

TEST(SpecErrors, UnreadableFile) {
    try {
        load("/nonexistent/kernels.nnf");
        FAIL() << "no error";
    } catch (const CompileError &e) {
        EXPECT_STREQ(e.what(), "/nonexistent/kernels.nnf: error: cannot read the spec file");
    }
}

}  // namespace
}  // namespace nnf::spec

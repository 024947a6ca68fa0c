/* Runs relu, sigmoid and gelu (both approximations), forward and backward, on a buffer
 * through nnfuse's C ABI and checks each against a scalar loop of its own. Exit status 0
 * when everything agrees. */
#include <math.h>
#include <stdio.h>

#include <nnfuse/nnfuse.h>

#define N 1000
#define PI 3.14159265358979323846 /* M_PI is not C99 */

static DLTensor vector_of(float *data, int64_t *shape) {
    DLTensor t = {0};
    t.data = data;
    t.device.device_type = kDLCPU;
    t.ndim = 1;
    t.dtype.code = kDLFloat;
    t.dtype.bits = 32;
    t.dtype.lanes = 1;
    t.shape = shape;
    return t; /* strides NULL: contiguous */
}

static int check(const char *what, nnf_status status, const float *got, const double *expected, double tolerance) {
    int i;
    if (status != NNF_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, nnf_status_string(status), nnf_last_error());
        return 1;
    }
    for (i = 0; i < N; ++i) {
        if (fabs(got[i] - expected[i]) > tolerance * (1.0 + fabs(expected[i]))) {
            fprintf(stderr, "%s: element %d is %.9g, expected %.9g\n", what, i, got[i], expected[i]);
            return 1;
        }
    }
    printf("%-24s ok\n", what);
    return 0;
}

int main(void) {
    static float x[N], y[N], grad[N], grad_input[N];
    static double expected[N];
    int64_t shape[1] = {N};
    DLTensor tx = vector_of(x, shape), ty = vector_of(y, shape);
    DLTensor tgrad = vector_of(grad, shape), tgrad_input = vector_of(grad_input, shape);
    nnf_gelu_params tanh_gelu = nnf_gelu_default_params();
    int i, failures = 0;

    tanh_gelu.approximate = NNF_GELU_APPROXIMATE_TANH;
    for (i = 0; i < N; ++i) {
        x[i] = -8.0f + 16.0f * (float)i / N;
        grad[i] = 1.0f;
    }
    printf("nnfuse %s, CPU path %s\n", nnf_version_string(), nnf_isa_name(nnf_get_isa()));

    for (i = 0; i < N; ++i) expected[i] = x[i] > 0 ? x[i] : 0.0;
    failures += check("relu forward", nnf_relu_forward(&tx, &ty), y, expected, 0.0);
    for (i = 0; i < N; ++i) expected[i] = x[i] > 0 ? 1.0 : 0.0;
    failures += check("relu backward", nnf_relu_backward(&tgrad, &tx, &tgrad_input), grad_input, expected, 0.0);

    for (i = 0; i < N; ++i) expected[i] = 1.0 / (1.0 + exp(-x[i]));
    failures += check("sigmoid forward", nnf_sigmoid_forward(&tx, &ty), y, expected, 1e-6);
    for (i = 0; i < N; ++i) expected[i] = (double)y[i] * (1.0 - y[i]);
    failures += check("sigmoid backward", nnf_sigmoid_backward(&tgrad, &ty, &tgrad_input), grad_input, expected, 1e-6);

    for (i = 0; i < N; ++i) expected[i] = 0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0)));
    failures += check("gelu forward", nnf_gelu_forward(&tx, &ty, NULL), y, expected, 1e-6);
    for (i = 0; i < N; ++i) {
        double u = sqrt(2.0 / PI) * (x[i] + 0.044715 * x[i] * x[i] * x[i]);
        expected[i] = 0.5 * x[i] * (1.0 + tanh(u));
    }
    failures += check("gelu(tanh) forward", nnf_gelu_forward(&tx, &ty, &tanh_gelu), y, expected, 1e-6);
    for (i = 0; i < N; ++i) {
        double cdf = 0.5 * (1.0 + erf(x[i] / sqrt(2.0)));
        expected[i] = cdf + x[i] * exp(-0.5 * x[i] * x[i]) / sqrt(2.0 * PI);
    }
    failures += check("gelu backward", nnf_gelu_backward(&tgrad, &tx, &tgrad_input, NULL), grad_input, expected, 1e-5);

    printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
    return failures ? 1 : 0;
}

/* Calls the fused kernels of kernels.nnf and checks each against plain loops in double. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fused.h"

enum { N = 64, C = 10 };

static int failures = 0;

static void check(const char *what, double got, double expected, double tolerance) {
    if (!(fabs(got - expected) <= tolerance * (1 + fabs(expected)))) {
        fprintf(stderr, "%s: got %.9g, expected %.9g\n", what, got, expected);
        ++failures;
    }
}

static DLTensor tensor(void *data, int ndim, int64_t *shape, DLDataType dtype) {
    DLTensor t = {0};
    t.data = data;
    t.device.device_type = kDLCPU;
    t.ndim = ndim;
    t.dtype = dtype;
    t.shape = shape;
    return t;
}

int main(void) {
    static float x[N * C], bias[C], y[N * C], probs[N * C], grad[N * C];
    static int64_t target[N];
    const DLDataType f32 = {kDLFloat, 32, 1}, i64 = {kDLInt, 64, 1};
    int64_t shape[2] = {N, C}, bias_shape[1] = {C}, target_shape[1] = {N};
    float temperature = 2.0f, loss = 0.0f;
    int i, j;

    srand(1);
    for (i = 0; i < N * C; ++i) x[i] = 8.0f * (float)rand() / (float)RAND_MAX - 4.0f;
    for (j = 0; j < C; ++j) bias[j] = 0.1f * (float)j - 0.5f;
    for (i = 0; i < N; ++i) target[i] = rand() % C;

    DLTensor tx = tensor(x, 2, shape, f32), tbias = tensor(bias, 1, bias_shape, f32);
    DLTensor ty = tensor(y, 2, shape, f32), tprobs = tensor(probs, 2, shape, f32), tgrad = tensor(grad, 2, shape, f32);
    DLTensor ttemperature = tensor(&temperature, 0, NULL, f32), tloss = tensor(&loss, 0, NULL, f32);
    DLTensor ttarget = tensor(target, 1, target_shape, i64);

    if (fused_bias_gelu(&tx, &tbias, &ty) != NNF_OK || fused_tempered_softmax(&tx, &ttemperature, &tprobs) != NNF_OK ||
        fused_scaled_ce(&tx, &ttarget, &tloss, &tgrad) != NNF_OK) {
        fprintf(stderr, "kernel failed: %s\n", nnf_last_error());
        return 1;
    }

    double total = 0;
    for (i = 0; i < N; ++i) {
        double max = -INFINITY, sum = 0, half_max = -INFINITY, half_sum = 0, log_probs_sum = 0;
        for (j = 0; j < C; ++j) {
            const double v = x[i * C + j] + bias[j];
            check("bias_gelu", y[i * C + j], 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))), 1e-5);
            if (x[i * C + j] / temperature > max) max = x[i * C + j] / temperature;
            if (0.5 * x[i * C + j] > half_max) half_max = 0.5 * x[i * C + j];
        }
        for (j = 0; j < C; ++j) {
            sum += exp(x[i * C + j] / temperature - max);
            half_sum += exp(0.5 * x[i * C + j] - half_max);
        }
        for (j = 0; j < C; ++j) {
            check("tempered_softmax", probs[i * C + j], exp(x[i * C + j] / temperature - max) / sum, 1e-5);
            log_probs_sum += 0.5 * x[i * C + j] - half_max - log(half_sum);
        }
        const double picked = 0.5 * x[i * C + target[i]] - half_max - log(half_sum);
        total += -(0.9 * picked + 0.1 / C * log_probs_sum);
        for (j = 0; j < C; ++j) {
            /* d loss / d logits = 0.5 (softmax(0.5 logits) - smoothed one-hot) / N */
            const double p = exp(0.5 * x[i * C + j] - half_max) / half_sum;
            const double q = (j == target[i] ? 0.9 : 0.0) + 0.1 / C;
            check("scaled_ce gradient", grad[i * C + j], 0.5 * (p - q) / N, 1e-5);
        }
    }
    check("scaled_ce loss", loss, total / N, 1e-5);

    /* Errors name the function, the argument and the dimension. */
    bias_shape[0] = C + 1;
    if (fused_bias_gelu(&tx, &tbias, &ty) != NNF_ERR_SHAPE_MISMATCH) ++failures;
    printf("expected error: %s\n", nnf_last_error());

    printf("loss %.6f; %s\n", loss, failures ? "MISMATCHES" : "all fused kernels match the loops");
    return failures ? 1 : 0;
}

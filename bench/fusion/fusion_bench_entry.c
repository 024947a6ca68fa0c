/* Entry points for run_fusion_bench.py (ctypes): each runs one implementation of a benchmark
 * problem on caller-owned contiguous row-major buffers, so the Python side only passes
 * pointers and sizes. Returns an nnf_status; on error nnf_last_error() says why. */
#include <stddef.h>
#include <stdint.h>

#include "nnfuse/nnfuse.h"
#include "fb.h"

static DLTensor tensor(void *data, int ndim, int64_t *shape, DLDataType dtype) {
    DLTensor t = {0};
    t.data = data;
    t.device.device_type = kDLCPU;
    t.ndim = ndim;
    t.dtype = dtype;
    t.shape = shape;
    return t;
}

static const DLDataType f32 = {kDLFloat, 32, 1}, i64 = {kDLInt, 64, 1};

/* y = gelu(x + bias, approximate="tanh"), x and y [n, c], bias [c]: one fused kernel. */
int fb_bias_gelu_fused(float *x, float *bias, float *y, int64_t n, int64_t c) {
    int64_t shape[2] = {n, c}, bias_shape[1] = {c};
    DLTensor tx = tensor(x, 2, shape, f32), tb = tensor(bias, 1, bias_shape, f32), ty = tensor(y, 2, shape, f32);
    return fb_bias_gelu(&tx, &tb, &ty);
}

/* The same with two library calls: y = x + bias, then gelu in place over y. */
int fb_bias_gelu_unfused(float *x, float *bias, float *y, int64_t n, int64_t c) {
    int64_t shape[2] = {n, c}, bias_shape[1] = {c};
    DLTensor tx = tensor(x, 2, shape, f32), tb = tensor(bias, 1, bias_shape, f32), ty = tensor(y, 2, shape, f32);
    nnf_gelu_params params = nnf_gelu_default_params();
    params.approximate = NNF_GELU_APPROXIMATE_TANH;
    nnf_status status = fb_bias_add(&tx, &tb, &ty);
    return status != NNF_OK ? status : nnf_gelu_forward(&ty, &ty, &params);
}

/* loss = cross_entropy(0.5 logits, target, label_smoothing=0.1) (mean) and grad = dloss/dlogits,
 * logits and grad [n, c], target [n]: one fused kernel. */
int fb_scaled_ce_fused(float *logits, int64_t *target, float *loss, float *grad, int64_t n, int64_t c) {
    int64_t shape[2] = {n, c}, target_shape[1] = {n};
    DLTensor tl = tensor(logits, 2, shape, f32), tt = tensor(target, 1, target_shape, i64);
    DLTensor tloss = tensor(loss, 0, NULL, f32), tg = tensor(grad, 2, shape, f32);
    return fb_scaled_ce(&tl, &tt, &tloss, &tg);
}

/* The same with three library calls: grad = 0.5 logits; the fused cross-entropy forward and
 * backward with its gradient in place over grad; grad *= 0.5 (the chain rule). */
int fb_scaled_ce_unfused(float *logits, int64_t *target, float *loss, float *grad, int64_t n, int64_t c) {
    int64_t shape[2] = {n, c}, target_shape[1] = {n};
    DLTensor tl = tensor(logits, 2, shape, f32), tt = tensor(target, 1, target_shape, i64);
    DLTensor tloss = tensor(loss, 0, NULL, f32), tg = tensor(grad, 2, shape, f32);
    nnf_cross_entropy_params params = nnf_cross_entropy_default_params();
    params.label_smoothing = 0.1f;
    nnf_status status = fb_scale_half(&tl, &tg);
    if (status == NNF_OK) status = nnf_cross_entropy_forward_backward(&tg, &tt, NULL, NULL, &tloss, &tg, &params);
    if (status == NNF_OK) status = fb_scale_half(&tg, &tg);
    return status;
}

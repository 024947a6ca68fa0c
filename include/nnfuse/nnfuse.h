/* nnfuse: fused deep-learning activation and loss kernels, generated with Halide.
 *
 * The one header to include. Plain C99; tensors are DLPack DLTensors (dlpack/dlpack.h).
 *
 * Conventions shared by every kernel (nnf_<op>_forward, nnf_<op>_backward):
 *  - Every call returns an nnf_status. On any error nothing is written to any output, and
 *    nnf_last_error() names the function, the argument and the problem.
 *  - Tensors are float32 on the CPU (kDLCPU), of any rank up to NNF_MAX_DIMS, any strides
 *    (NULL strides mean contiguous row-major), any byte_offset. Shapes of inputs and outputs
 *    must match exactly.
 *  - Empty tensors succeed and do nothing.
 *  - An output may be the very same view as an input (in-place); an output that overlaps an
 *    input any other way is rejected with NNF_ERR_INVALID_ARGUMENT.
 *  - A params pointer of NULL means PyTorch's defaults (nnf_<op>_default_params()).
 *  - Calls are thread-safe. The configuration calls below change process-wide state and say so.
 */
#ifndef NNFUSE_NNFUSE_H
#define NNFUSE_NNFUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dlpack/dlpack.h>

#include "nnfuse/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nnf_status {
    NNF_OK = 0,
    NNF_ERR_INVALID_ARGUMENT = 1,     /* NULL pointer, bad parameter value, bad layout, overlap */
    NNF_ERR_SHAPE_MISMATCH = 2,       /* tensors whose shapes must agree do not */
    NNF_ERR_UNSUPPORTED_DTYPE = 3,    /* a dtype this kernel is not built for */
    NNF_ERR_UNSUPPORTED_DEVICE = 4,   /* a device this kernel is not built for, or mixed devices */
    NNF_ERR_INDEX_OUT_OF_RANGE = 5,   /* a class index (a target) outside its range */
    NNF_ERR_NOT_BUILT_FOR_TARGET = 6, /* the library was built without this target */
    NNF_ERR_RUNTIME_FAILURE = 7       /* the kernel failed while running (out of memory, ...) */
} nnf_status;

/* The most dimensions a tensor argument may have. */
#define NNF_MAX_DIMS 16

/* A static, human-readable name of a status ("NNF_ERR_SHAPE_MISMATCH"). */
const char *nnf_status_string(nnf_status status);

/* The message of the last failed call on this thread, or "" if none failed yet. The pointer
 * stays valid until the next nnfuse call on the same thread. */
const char *nnf_last_error(void);

/* Version of the library (not of the header): NNF_VERSION_MAJOR * 10000 + MINOR * 100 + PATCH. */
int nnf_version(void);
const char *nnf_version_string(void);

/* Worker threads of the kernels (process-wide). 0 restores the default: the number of CPUs,
 * or HL_NUM_THREADS from the environment. Call it while no other thread is inside an nnfuse
 * call: lowering the count restarts the worker threads. */
nnf_status nnf_set_num_threads(int num_threads);
int nnf_get_num_threads(void);

/* Instruction-set paths of the CPU kernels. Each kernel is compiled for every path of its
 * architecture and picks the best one the CPU supports, below an optional cap. */
typedef enum nnf_isa {
    NNF_ISA_BASELINE = 0, /* x86-64: SSE2; arm-64: NEON */
    NNF_ISA_AVX2 = 1,     /* x86-64: AVX2 + FMA + F16C */
    NNF_ISA_AVX512 = 2,   /* x86-64: AVX-512 F/CD/BW/DQ/VL (Skylake-SP and later) */
    NNF_ISA_NEON = 3      /* arm-64 */
} nnf_isa;

/* How a loss reduces its per-element (or per-target) values, as PyTorch's `reduction`:
 * NONE keeps them (the output has the target's shape), MEAN (PyTorch's default) averages them
 * into a 0-d output, SUM adds them. Shared by every loss's params. */
typedef enum nnf_reduction {
    NNF_REDUCTION_NONE = 0,
    NNF_REDUCTION_MEAN = 1,
    NNF_REDUCTION_SUM = 2
} nnf_reduction;

/* Caps the instruction set the CPU kernels may use (process-wide), like oneDNN's
 * dnnl_set_max_cpu_isa. It must be called before the first kernel call: kernels choose their
 * path once, on first use. The environment variable NNF_MAX_ISA (baseline, avx2, avx512) sets
 * the same cap. Returns NNF_ERR_INVALID_ARGUMENT after the first kernel call or for a value
 * that is not an x86 path on x86 (NEON on arm-64). */
nnf_status nnf_set_max_isa(nnf_isa isa);

/* The path the CPU kernels use: the best one both the CPU and the cap allow. */
nnf_isa nnf_get_isa(void);

/* "baseline", "avx2", "avx512", "neon". */
const char *nnf_isa_name(nnf_isa isa);

/* CUDA. When the library is built with CUDA kernels (nnf_has_cuda()), tensors on kDLCUDA (or
 * kDLCUDAManaged) run on that GPU: their data pointers are device pointers, used in place, in
 * the device's primary context (the one the CUDA runtime API and PyTorch use). All tensors of a
 * call must be on the same device. Work is queued on the calling thread's stream and the call
 * returns without synchronizing, like a kernel launch. The CUDA driver is loaded at run time:
 * the library links and runs without one. */
bool nnf_has_cuda(void);

/* Sets the stream (a CUstream or cudaStream_t of the device's primary context) for this
 * thread's later calls; NULL, the default, is the legacy default stream. NNF_ERR_NOT_BUILT_FOR_TARGET
 * in a build without CUDA kernels. */
nnf_status nnf_cuda_set_stream(void *stream);
void *nnf_cuda_get_stream(void);

/* The device scratch memory of a call (the losses' per-row values and partial sums, prelu's
 * partial sums: a few bytes per row or per block) is kept for the next call when it is freed,
 * up to 32 allocations in the process (Halide's device allocation cache), because freeing device
 * memory waits for the device and allocating it costs tens of microseconds. This returns the
 * kept allocations to the driver, as torch.cuda.empty_cache() does; call it while no other
 * nnfuse call runs. NNF_OK, doing nothing, in a build without CUDA kernels or without a driver. */
nnf_status nnf_cuda_empty_cache(void);

/* The class-balanced sampler (an opaque handle): minibatches that take the same number of
 * samples from every class. Each class keeps its sample indices in its own buffer; a batch of
 * B samples takes B / K from each of the K classes in turn; a class whose buffer runs out is
 * reshuffled and reused from its start; an epoch ends when every sample of the largest class
 * has been used once (its last batch may be short only if nothing of it is left: see
 * nnf_sampler_next). Everything is a function of the labels and the seed. Not thread-safe per
 * handle; different handles are independent. */
typedef struct nnf_class_balanced_sampler nnf_class_balanced_sampler;

/* labels: num_samples class labels in [0, num_classes); every class must have a sample
 * (NNF_ERR_INVALID_ARGUMENT naming the first empty class), a label outside the range is
 * NNF_ERR_INDEX_OUT_OF_RANGE naming its position; batch_size must be a positive multiple of
 * num_classes. *sampler is set only on success. */
nnf_status nnf_sampler_create(const int64_t *labels, int64_t num_samples, int64_t num_classes, int64_t batch_size,
                              uint64_t seed, nnf_class_balanced_sampler **sampler);
/* Writes the next batch's sample indices into indices[0 .. *count) (room for batch_size) and
 * sets *count: batch_size, or 0 when the epoch is over (then call nnf_sampler_reset). The
 * largest class's samples are spread over the epoch's batches, so the epoch has
 * ceil(largest class size / (batch_size / num_classes)) batches; in the last one each class
 * contributes as many samples as the largest class has left (a shorter, still balanced batch). */
nnf_status nnf_sampler_next(nnf_class_balanced_sampler *sampler, int64_t *indices, int64_t *count);
/* Starts the next epoch: every class buffer is reshuffled (with a new permutation drawn from the
 * seed and the epoch number). */
nnf_status nnf_sampler_reset(nnf_class_balanced_sampler *sampler);
/* The number of batches in one epoch. */
int64_t nnf_sampler_batches_per_epoch(const nnf_class_balanced_sampler *sampler);
void nnf_sampler_destroy(nnf_class_balanced_sampler *sampler);

#ifdef __cplusplus
} /* extern "C" */
#endif

/* The per-op declarations, generated from the op registry. */
#include "nnfuse/nnfuse_ops.h"

#endif /* NNFUSE_NNFUSE_H */

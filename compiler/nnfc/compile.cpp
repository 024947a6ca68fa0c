#include "nnfc/compile.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "Halide.h"
#include "spec/lower.h"
#include "spec/spec.h"

namespace nnf::nnfc {
namespace {

namespace fs = std::filesystem;
using spec::DType;
using spec::Kernel;
using spec::TensorDecl;

std::string c_function(const std::string &prefix, const Kernel &k) {
    return prefix + "_" + k.name;
}
std::string impl_function(const std::string &prefix, const Kernel &k) {
    return prefix + "_impl_" + k.name;
}

std::string signature(const std::string &prefix, const Kernel &k) {
    std::string s = "nnf_status " + c_function(prefix, k) + "(";
    bool first = true;
    for (const TensorDecl &d : k.inputs) {
        s += (first ? "" : ", ") + std::string(d.by_value ? "float " : "const DLTensor *") + d.name;
        first = false;
    }
    for (const TensorDecl &d : k.outputs) {
        s += (first ? "" : ", ") + std::string("DLTensor *") + d.name;
        first = false;
    }
    return s + ")";
}

const char *dtype_c_text(DType t) {
    switch (t) {
    case DType::f32: return "float32";
    case DType::i64: return "int64";
    case DType::i32: return "int32";
    default: return "?";
    }
}

// The kernel's signature in spec syntax, implicit gradient arguments included, for the header.
std::string describe(const Kernel &k) {
    auto list = [&](const std::vector<TensorDecl> &decls) {
        std::string out;
        for (size_t i = 0; i < decls.size(); ++i) {
            out += (i ? ", " : "") + decls[i].name + ": " + spec::dtype_name(decls[i].dtype) +
                   (decls[i].by_value ? "" : spec::shape_string(decls[i].dims));
        }
        return out;
    };
    return "kernel " + k.name + "(" + list(k.inputs) + ") -> (" + list(k.outputs) + ")";
}

// The validation and buffer set-up every wrapper shares. It calls the runtime of libnnfuse.a
// (errors, the ISA cap) through nnfuse/detail/kernel_support.h, installed with the library.
const char *kPrelude = R"PRELUDE(
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <nnfuse/detail/kernel_support.h>

#ifndef HALIDE_HALIDERUNTIME_H
// halide_buffer_t and its parts, as HalideRuntime.h defines them (a stable ABI).
extern "C" {
struct halide_device_interface_t;
struct halide_type_t {
    uint8_t code;
    uint8_t bits;
    uint16_t lanes;
};
struct halide_dimension_t {
    int32_t min, extent, stride;
    uint32_t flags;
};
struct halide_buffer_t {
    uint64_t device;
    const struct halide_device_interface_t *device_interface;
    uint8_t *host;
    uint64_t flags;
    struct halide_type_t type;
    int32_t dimensions;
    struct halide_dimension_t *dim;
    void *padding;
};
}
#endif

namespace {

using nnf::rt::Backend;
using nnf::rt::element0;
using nnf::rt::element_count;
using nnf::rt::fail;
using nnf::rt::stride_of;

struct Arg {
    const char *name;
    const DLTensor *t;
    uint8_t code;  // kDLFloat, kDLInt
    uint8_t bits;
    int rank;
    const char *const *dims;
    const char *shape;  // "[N, C]", for messages
};

int64_t abs64(int64_t v) {
    return v < 0 ? -v : v;
}

const char *dtype_text(uint8_t code, uint8_t bits) {
    if (code == kDLFloat && bits == 32) return "float32";
    if (code == kDLInt && bits == 64) return "int64";
    if (code == kDLInt && bits == 32) return "int32";
    return "?";
}

nnf_status check_arg(const char *fn, const Arg &a) {
    const DLTensor *t = a.t;
    if (!t) return fail(fn, NNF_ERR_INVALID_ARGUMENT, "%s is NULL", a.name);
    if (t->dtype.code != a.code || t->dtype.bits != a.bits || t->dtype.lanes != 1) {
        return fail(fn, NNF_ERR_UNSUPPORTED_DTYPE, "%s has dtype (code %d, bits %d, lanes %d); expected %s", a.name,
                    t->dtype.code, t->dtype.bits, t->dtype.lanes, dtype_text(a.code, a.bits));
    }
    if (t->ndim != a.rank) {
        return fail(fn, NNF_ERR_SHAPE_MISMATCH, "%s has %d dimensions; expected %d (%s)", a.name, t->ndim, a.rank,
                    a.shape);
    }
    if (t->ndim > 0 && !t->shape) return fail(fn, NNF_ERR_INVALID_ARGUMENT, "%s has NULL shape", a.name);
    for (int d = 0; d < t->ndim; ++d) {
        if (t->shape[d] < 0) {
            return fail(fn, NNF_ERR_INVALID_ARGUMENT, "%s has negative extent %" PRId64 " in dim %d", a.name,
                        t->shape[d], d);
        }
    }
    if (element_count(*t) == 0) return NNF_OK;
    if (!t->data) return fail(fn, NNF_ERR_INVALID_ARGUMENT, "%s has NULL data", a.name);
    if (reinterpret_cast<uintptr_t>(element0(*t)) % (a.bits / 8) != 0) {
        return fail(fn, NNF_ERR_INVALID_ARGUMENT, "%s data + byte_offset is not %d-byte aligned", a.name, a.bits / 8);
    }
    // The kernels index with 64-bit arithmetic (Halide's large_buffers), so a tensor may span
    // any number of elements; but a halide_dimension_t holds each extent and stride in an int32.
    for (int d = 0; d < t->ndim; ++d) {
        if (t->shape[d] > INT32_MAX || abs64(stride_of(*t, d)) > INT32_MAX) {
            return fail(fn, NNF_ERR_INVALID_ARGUMENT,
                        "%s has extent %" PRId64 " and stride %" PRId64 " in dim %d (%s); fused kernels take extents "
                        "and strides below 2^31 (view the tensor with more dims)",
                        a.name, t->shape[d], stride_of(*t, d), d, a.dims[d]);
        }
    }
    return NNF_OK;
}

struct DimSize {
    const char *dim;
    int64_t size;
    int arg;
    int index;
};

// Every dimension name has one size across all arguments.
nnf_status bind_dims(const char *fn, const Arg *args, int count, DimSize *table, int *bound) {
    *bound = 0;
    for (int i = 0; i < count; ++i) {
        for (int d = 0; d < args[i].rank; ++d) {
            const int64_t size = args[i].t->shape[d];
            int k = 0;
            while (k < *bound && std::strcmp(table[k].dim, args[i].dims[d]) != 0) ++k;
            if (k == *bound) {
                table[(*bound)++] = {args[i].dims[d], size, i, d};
            } else if (table[k].size != size) {
                return fail(fn, NNF_ERR_SHAPE_MISMATCH,
                            "%s has size %" PRId64 " in dim %d (%s) but %s has size %" PRId64 " in dim %d (%s)",
                            args[i].name, size, d, args[i].dims[d], args[table[k].arg].name, table[k].size,
                            table[k].index, table[k].dim);
            }
        }
    }
    return NNF_OK;
}

int64_t dim_size(const DimSize *table, int bound, const char *dim) {
    for (int k = 0; k < bound; ++k) {
        if (!std::strcmp(table[k].dim, dim)) return table[k].size;
    }
    return 0;
}

void byte_range(const Arg &a, uintptr_t *lo, uintptr_t *hi) {
    intptr_t low = 0, high = 0;
    for (int d = 0; d < a.t->ndim; ++d) {
        const intptr_t reach = static_cast<intptr_t>((a.t->shape[d] - 1) * stride_of(*a.t, d) * (a.bits / 8));
        (reach < 0 ? low : high) += reach;
    }
    const uintptr_t base = reinterpret_cast<uintptr_t>(element0(*a.t));
    *lo = base + low;
    *hi = base + high + a.bits / 8 - 1;
}

bool same_view(const DLTensor &a, const DLTensor &b) {
    if (element0(a) != element0(b) || a.ndim != b.ndim) return false;
    for (int d = 0; d < a.ndim; ++d) {
        if (a.shape[d] != 1 && stride_of(a, d) != stride_of(b, d)) return false;
    }
    return true;
}

// Outputs: no two elements at one address; no overlap with another output; with an input only
// as the same view, and only for kernels that are elementwise (in place).
nnf_status check_overlaps(const char *fn, const Arg *args, int num_inputs, int count, bool in_place_ok) {
    for (int o = num_inputs; o < count; ++o) {
        const DLTensor &t = *args[o].t;
        if (element_count(t) == 0) continue;
        int order[16];
        int n = 0;
        for (int d = 0; d < t.ndim; ++d) {
            if (t.shape[d] > 1) order[n++] = d;
        }
        for (int i = 1; i < n; ++i) {
            for (int j = i; j > 0 && abs64(stride_of(t, order[j])) < abs64(stride_of(t, order[j - 1])); --j) {
                const int s = order[j];
                order[j] = order[j - 1];
                order[j - 1] = s;
            }
        }
        int64_t span = 0;
        for (int i = 0; i < n; ++i) {
            const int64_t s = abs64(stride_of(t, order[i]));
            if (s <= span) {
                return fail(fn, NNF_ERR_INVALID_ARGUMENT,
                            "%s has stride %" PRId64 " in dim %d, so two of its elements share an address", args[o].name,
                            stride_of(t, order[i]), order[i]);
            }
            span += s * (t.shape[order[i]] - 1);
        }
        uintptr_t olo, ohi;
        byte_range(args[o], &olo, &ohi);
        for (int i = 0; i < count; ++i) {
            if (i == o || element_count(*args[i].t) == 0) continue;
            uintptr_t lo, hi;
            byte_range(args[i], &lo, &hi);
            if (ohi < lo || hi < olo) continue;
            if (i < num_inputs && in_place_ok && args[i].bits == args[o].bits && same_view(t, *args[i].t)) continue;
            if (i >= num_inputs && i < o) {
                return fail(fn, NNF_ERR_INVALID_ARGUMENT, "%s overlaps %s; outputs must not overlap", args[o].name,
                            args[i].name);
            }
            if (i < num_inputs) {
                return fail(fn, NNF_ERR_INVALID_ARGUMENT,
                            in_place_ok ? "%s overlaps %s without being the same view; only exact in-place (same data, "
                                          "offset and strides) is allowed"
                                        : "%s overlaps %s; this kernel reduces across elements, so its outputs must not "
                                          "overlap its inputs",
                            args[o].name, args[i].name);
            }
        }
    }
    return NNF_OK;
}

// Class indices: each in [0, classes) or equal to ignore_index.
nnf_status check_indices(const char *fn, const Arg &a, int64_t classes, const char *class_dim, int64_t ignore_index,
                         const char *op) {
    const DLTensor &t = *a.t;
    const int64_t n = element_count(t);
    int64_t index[16] = {};
    for (int64_t e = 0; e < n; ++e) {
        int64_t offset = 0;
        for (int d = 0; d < t.ndim; ++d) offset += index[d] * stride_of(t, d);
        const int64_t v = a.bits == 64 ? reinterpret_cast<const int64_t *>(element0(t))[offset]
                                       : reinterpret_cast<const int32_t *>(element0(t))[offset];
        if (v != ignore_index && (v < 0 || v >= classes)) {
            char where[160] = "";
            int used = 0;
            for (int d = 0; d < t.ndim; ++d) {
                used += std::snprintf(where + used, sizeof where - used, d ? ", %" PRId64 : "%" PRId64, index[d]);
            }
            return fail(fn, NNF_ERR_INDEX_OUT_OF_RANGE,
                        "%s[%s] = %" PRId64 " is not a class index of %s: expected 0 <= index < %" PRId64
                        " (%s) or ignore_index = %" PRId64,
                        a.name, where, v, op, classes, class_dim, ignore_index);
        }
        for (int d = t.ndim - 1; d >= 0; --d) {
            if (++index[d] < t.shape[d]) break;
            index[d] = 0;
        }
    }
    return NNF_OK;
}

// The same check for class indices in CUDA device memory, on a host copy of the bytes the
// tensor spans (a synchronous copy on this thread's stream).
nnf_status check_indices_on_cuda(const char *fn, const Arg &a, int device_id, int64_t classes, const char *class_dim,
                                 int64_t ignore_index, const char *op) {
    std::vector<unsigned char> copy;
    DLTensor host;
    nnf::rt::clear_kernel_error();
    if (int r = nnf::rt::copy_view_from_cuda(device_id, *a.t, &copy, &host)) {
        return fail(fn, NNF_ERR_RUNTIME_FAILURE,
                    "copying %s from CUDA device %d to check its class indices failed with Halide error %d: %s", a.name,
                    device_id, r, nnf::rt::kernel_error());
    }
    Arg on_host = a;
    on_host.t = &host;
    return check_indices(fn, on_host, classes, class_dim, ignore_index, op);
}

// Halide's dim 0 is the innermost: the DLTensor's last.
void make_buffer(const Arg &a, halide_buffer_t *b, halide_dimension_t *dims) {
    static float empty_storage[1];
    const DLTensor &t = *a.t;
    for (int d = 0; d < t.ndim; ++d) {
        const int h = t.ndim - 1 - d;
        const int64_t stride = t.shape[d] > 1 ? stride_of(t, d) : 0;
        dims[h] = halide_dimension_t{0, static_cast<int32_t>(t.shape[d]), static_cast<int32_t>(stride), 0};
    }
    *b = halide_buffer_t();
    b->host = element_count(t) ? reinterpret_cast<uint8_t *>(element0(t)) : reinterpret_cast<uint8_t *>(empty_storage);
    b->type = halide_type_t{static_cast<uint8_t>(a.code == kDLFloat ? 2 : 0), a.bits, 1};
    b->dimensions = t.ndim;
    b->dim = dims;
}

// On the GPU an output's (or a reduction's kept) dims are fused into one int32 thread index.
nnf_status check_cuda_size(const char *fn, const Arg &a) {
    if (element_count(*a.t) < (int64_t{1} << 31)) return NNF_OK;
    return fail(fn, NNF_ERR_INVALID_ARGUMENT,
                "%s has %" PRId64 " elements; on CUDA fused kernels take tensors of fewer than 2^31 elements", a.name,
                element_count(*a.t));
}

nnf_status run_kernel(const char *fn, int result) {
    if (result == 0) return NNF_OK;
    return fail(fn, NNF_ERR_RUNTIME_FAILURE, "kernel failed with Halide error %d: %s", result, nnf::rt::kernel_error());
}

}  // namespace
)PRELUDE";

std::string emit_wrappers(const spec::Spec &spec, const std::string &prefix,
                          const std::vector<spec::LoweredKernel> &lowered, bool cuda) {
    std::ostringstream out;
    out << "// Generated by nnfc from " << spec.file << ". Do not edit.\n";
    out << "#include \"" << prefix << ".h\"\n";
    out << kPrelude;
    for (size_t i = 0; i < spec.kernels.size(); ++i) {
        const Kernel &k = spec.kernels[i];
        const spec::LoweredKernel &l = lowered[i];
        const std::string fn = c_function(prefix, k);
        // The tensors (validated, placed, turned into buffers) and, in the C signature's order,
        // the Halide function's parameters: a buffer per tensor, a float per scalar parameter.
        std::vector<const TensorDecl *> all;
        int num_tensor_inputs = 0;
        std::string impl_params, impl_args, scalar_values;
        int scalars = 0;
        for (const std::vector<TensorDecl> *list : {&k.inputs, &k.outputs}) {
            for (const TensorDecl &d : *list) {
                if (!impl_params.empty()) {
                    impl_params += ", ";
                    impl_args += ", ";
                }
                if (d.by_value) {
                    impl_params += "float";
                    impl_args += "scalars[" + std::to_string(scalars++) + "]";
                    scalar_values += (scalar_values.empty() ? "" : ", ") + d.name;
                    continue;
                }
                impl_params += "struct halide_buffer_t *";
                impl_args += "&buffers[" + std::to_string(all.size()) + "]";
                if (list == &k.inputs) ++num_tensor_inputs;
                all.push_back(&d);
            }
        }
        out << "\nextern \"C\" int " << impl_function(prefix, k) << "(" << impl_params << ");\n";
        if (cuda) out << "extern \"C\" int " << impl_function(prefix, k) << "_cuda(" << impl_params << ");\n";
        for (const TensorDecl *d : all) {
            out << "static const char *const " << fn << "_" << d->name << "_dims[] = {";
            for (const std::string &dim : d->dims) out << "\"" << dim << "\", ";
            out << "nullptr};\n";
        }
        out << "\nextern \"C\" " << signature(prefix, k) << " {\n";
        out << "    static const char fn[] = \"" << fn << "\";\n";
        out << "    const Arg args[] = {\n";
        for (const TensorDecl *d : all) {
            out << "        {\"" << d->name << "\", " << d->name << ", "
                << (d->dtype == DType::f32 ? "kDLFloat, 32" : d->dtype == DType::i64 ? "kDLInt, 64" : "kDLInt, 32") << ", "
                << d->dims.size() << ", " << fn << "_" << d->name << "_dims, \"" << spec::shape_string(d->dims) << "\"},\n";
        }
        out << "    };\n";
        out << "    constexpr int num_inputs = " << num_tensor_inputs << ", count = " << all.size() << ";\n";
        // The scalar parameters, for the kernel call (and as the CUDA launch's context).
        out << "    const float scalars[] = {" << (scalars ? scalar_values : "0.0f") << "};\n"
            << "    (void)scalars;\n";
        out << "    for (const Arg &a : args) {\n"
               "        if (nnf_status s = check_arg(fn, a)) return s;\n"
               "    }\n"
               "    nnf::rt::TensorArg placed[count];\n"
               "    for (int i = 0; i < count; ++i) placed[i] = {args[i].name, args[i].t};\n"
               "    Backend backend;\n"
               "    int device_id = 0;\n"
               "    if (nnf_status s = nnf::rt::check_devices(fn, placed, count, "
            << (cuda ? "true" : "false")
            << ", &backend, &device_id,\n"
               "            \"this fused kernel was compiled without a CUDA target (add one, e.g. host-cuda, to "
               "nnfc compile --targets)\")) return s;\n"
               "    DimSize dims[count * 16];\n"
               "    int bound = 0;\n"
               "    if (nnf_status s = bind_dims(fn, args, count, dims, &bound)) return s;\n"
               "    (void)dim_size;\n"
               "    bool any_output = false;\n"
               "    for (int o = num_inputs; o < count; ++o) any_output = any_output || element_count(*args[o].t) > 0;\n"
               "    if (!any_output) return NNF_OK;\n";
        if (cuda) {
            out << "    if (backend == Backend::cuda) {\n"
                   "        for (const Arg &a : args) {\n"
                   "            if (nnf_status s = check_cuda_size(fn, a)) return s;\n"
                   "        }\n"
                   "        const char *why = nullptr;\n"
                   "        if (!nnf::rt::cuda_driver_available(&why)) return fail(fn, NNF_ERR_RUNTIME_FAILURE, \"%s\", why);\n"
                   "    }\n";
        }
        out << "    if (nnf_status s = check_overlaps(fn, args, num_inputs, count, " << (l.elementwise ? "true" : "false")
            << ")) return s;\n";
        std::set<std::string> checked;
        for (const spec::IndexCheck &c : l.index_checks) {
            if (!checked.insert(c.input + "/" + c.class_dim + "/" + std::to_string(c.ignore_index)).second) continue;
            size_t a = 0;
            while (all[a]->name != c.input) ++a;
            const std::string check_args = "args[" + std::to_string(a) + "]";
            const std::string rest = "dim_size(dims, bound, \"" + c.class_dim + "\"), \"" + c.class_dim + "\", INT64_C(" +
                                     std::to_string(c.ignore_index) + "), \"" + c.op + "\"";
            out << "    if (nnf_status s = backend == Backend::cuda ? check_indices_on_cuda(fn, " << check_args
                << ", device_id, " << rest << ") : check_indices(fn, " << check_args << ", " << rest << ")) return s;\n";
        }
        out << "    halide_buffer_t buffers[count];\n"
               "    halide_dimension_t shapes[count][16];\n"
               "    for (int i = 0; i < count; ++i) make_buffer(args[i], &buffers[i], shapes[i]);\n"
               "    nnf::rt::mark_kernels_started();\n"
               "    nnf::rt::clear_kernel_error();\n";
        if (cuda) {
            // The buffers' host fields hold the device addresses; run_with_cuda_buffers wraps them.
            out << "    if (backend == Backend::cuda) {\n"
                   "        auto launch = [](void *context, halide_buffer_t *buffers) {\n"
                   "            const float *scalars = static_cast<const float *>(context);\n"
                   "            (void)scalars;\n"
                   "            return "
                << impl_function(prefix, k) << "_cuda(" << impl_args
                << ");\n"
                   "        };\n"
                   "        return run_kernel(fn, nnf::rt::run_with_cuda_buffers(device_id, buffers, count, launch,\n"
                   "                                                              const_cast<float *>(scalars)));\n"
                   "    }\n";
        }
        out << "    return run_kernel(fn, " << impl_function(prefix, k) << "(" << impl_args << "));\n}\n";
    }
    return out.str();
}

// The targets of a library: CPU targets, best first, compiled into one multitarget function
// per kernel; and at most one CUDA target, compiled into a second function (<impl>_cuda) that
// the wrapper calls for kDLCUDA tensors. A CUDA target alone (e.g. host-cuda) also gives the
// CPU variant, for its host part.
struct TargetPlan {
    std::vector<Halide::Target> cpu;
    std::optional<Halide::Target> cuda;
};

TargetPlan parse_targets(const std::vector<std::string> &names) {
    TargetPlan plan;
    for (const std::string &name : names) {
        Halide::Target t = name == "host" ? Halide::get_host_target() : Halide::Target(name);
        // 64-bit index arithmetic: tensors may span 2^31 elements or more (measured: no cost on
        // the dense paths, whose addresses are 64-bit anyway).
        t = t.with_feature(Halide::Target::LargeBuffers);
        if (!t.has_gpu_feature()) {
            plan.cpu.push_back(t.with_feature(Halide::Target::NoRuntime));
            continue;
        }
        if (!t.has_feature(Halide::Target::CUDA) || t.has_feature(Halide::Target::OpenCL) ||
            t.has_feature(Halide::Target::Metal) || t.has_feature(Halide::Target::Vulkan) ||
            t.has_feature(Halide::Target::D3D12Compute) || t.has_feature(Halide::Target::WebGPU)) {
            throw std::runtime_error("target " + name + ": of the GPU APIs, fused kernels support CUDA only");
        }
        if (plan.cuda) throw std::runtime_error("target " + name + ": only one CUDA target per library");
        // Without a named capability, PTX for Volta (sm_70), as the standard library's: the
        // driver compiles it for any later GPU. (Halide's own default is sm_20.)
        if (t.get_cuda_capability_lower_bound() == 20) t = t.with_feature(Halide::Target::CUDACapability70);
        plan.cuda = t.with_feature(Halide::Target::NoRuntime);
    }
    if (plan.cpu.empty() && plan.cuda) {
        Halide::Target host = *plan.cuda;
        for (Halide::Target::Feature f : {Halide::Target::CUDA, Halide::Target::CUDACapability30,
                                          Halide::Target::CUDACapability32, Halide::Target::CUDACapability35,
                                          Halide::Target::CUDACapability50, Halide::Target::CUDACapability61,
                                          Halide::Target::CUDACapability70, Halide::Target::CUDACapability75,
                                          Halide::Target::CUDACapability80, Halide::Target::CUDACapability86}) {
            host = host.without_feature(f);
        }
        plan.cpu.push_back(host);
    }
    if (plan.cpu.empty()) throw std::runtime_error("no targets");
    return plan;
}

void write_file(const fs::path &path, const std::string &text) {
    std::ifstream in(path, std::ios::binary);
    std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in && old == text) return;
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string quote(const std::string &s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

}  // namespace

std::string emit_header(const spec::Spec &spec, const std::string &prefix) {
    std::string guard;
    for (char c : prefix) guard += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::ostringstream out;
    out << "/* Generated by nnfc from " << spec.file << ". Do not edit.\n"
        << " *\n"
        << " * Fused kernels on DLPack tensors with the contract of nnfuse's standard library: each\n"
        << " * returns NNF_OK or an nnf_status with nnf_last_error() naming the argument and the\n"
        << " * problem; on any error no output byte is written. Dimension names must have one size\n"
        << " * across all arguments; a grad_<output> input is the incoming gradient of that output. */\n"
        << "#ifndef " << guard << "_NNF_KERNELS_H\n#define " << guard << "_NNF_KERNELS_H\n\n"
        << "#include <nnfuse/nnfuse.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n";
    for (const Kernel &k : spec.kernels) {
        out << "\n/* " << describe(k) << " */\n" << signature(prefix, k) << ";\n";
    }
    out << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
    return out.str();
}

void compile(const CompileOptions &options) {
    spec::Spec spec = spec::load(options.spec_path);
    const TargetPlan plan = parse_targets(options.targets);
    const std::vector<Halide::Target> &targets = plan.cpu;
    const fs::path out_dir(options.out_dir);
    const fs::path objects_dir = out_dir / (options.prefix + ".objects");
    fs::create_directories(out_dir);
    fs::remove_all(objects_dir);
    fs::create_directories(objects_dir);

    std::vector<std::string> suffixes;
    for (const Halide::Target &t : targets) suffixes.push_back(t.without_feature(Halide::Target::NoRuntime).to_string());

    std::vector<spec::LoweredKernel> lowered;
    for (const Kernel &k : spec.kernels) {
        const std::string fn = impl_function(options.prefix, k);
        // Each target gets its own schedule (vector widths follow the target).
        std::map<Halide::OutputFileType, std::string> outputs = {
            {Halide::OutputFileType::object, (objects_dir / (fn + ".o")).string()}};
        // NNFC_ASSEMBLY=1 also writes each kernel's assembly, for reading the generated code.
        const char *assembly = std::getenv("NNFC_ASSEMBLY");
        if (assembly && *assembly == '1') {
            outputs[Halide::OutputFileType::assembly] = (out_dir / (fn + ".s")).string();
            outputs[Halide::OutputFileType::stmt] = (out_dir / (fn + ".stmt")).string();
        }
        Halide::compile_multitarget(
            fn, outputs, targets, suffixes,
            [&](const std::string &name, const Halide::Target &target) {
                spec::LoweredKernel l = spec::lower(k, target);
                return l.pipeline.compile_to_module(l.arguments, name, target);
            });
        if (plan.cuda) {
            // The PTX is written beside the library, for ptxas checks (and for reading).
            spec::LoweredKernel l = spec::lower(k, *plan.cuda);
            const Halide::Module cuda_module = l.pipeline.compile_to_module(l.arguments, fn + "_cuda", *plan.cuda);
            std::map<Halide::OutputFileType, std::string> cuda_outputs = {
                {Halide::OutputFileType::object, (objects_dir / (fn + "_cuda.o")).string()},
                {Halide::OutputFileType::device_code, (out_dir / (fn + "_cuda.ptx")).string()}};
            if (assembly && *assembly == '1') {
                cuda_outputs[Halide::OutputFileType::stmt] = (out_dir / (fn + "_cuda.stmt")).string();
            }
            cuda_module.compile(cuda_outputs);
        }
        lowered.push_back(spec::lower(k, targets.front()));
    }

    const std::string header = emit_header(spec, options.prefix);
    const std::string wrappers = emit_wrappers(spec, options.prefix, lowered, plan.cuda.has_value());
    write_file(out_dir / (options.prefix + ".h"), header);
    const fs::path wrapper_source = out_dir / (options.prefix + "_wrappers.cpp");
    write_file(wrapper_source, wrappers);

    const fs::path wrapper_object = objects_dir / (options.prefix + "_wrappers.o");
    std::string command = quote(options.cxx.empty() ? "c++" : options.cxx) + " -std=c++17 -O2 -fPIC -c " +
                          quote(wrapper_source.string()) + " -o " + quote(wrapper_object.string()) + " -I" +
                          quote(out_dir.string());
    for (const std::string &dir : options.include_dirs) command += " -I" + quote(dir);
    if (std::system(command.c_str()) != 0) throw std::runtime_error("compiling the wrappers failed: " + command);

    std::vector<std::string> objects;
    for (const fs::directory_entry &e : fs::directory_iterator(objects_dir)) {
        if (e.path().extension() == ".o") objects.push_back(e.path().string());
    }
    std::sort(objects.begin(), objects.end());
    const fs::path archive = out_dir / ("lib" + options.prefix + ".a");
    fs::remove(archive);
    Halide::create_static_library(objects, targets.back(), archive.string());
}

}  // namespace nnf::nnfc

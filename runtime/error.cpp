#include "error.h"

#include <cstdarg>
#include <cstdio>
#include <string>

#include "HalideRuntime.h"

namespace nnf::rt {
namespace {

thread_local std::string last_error;
thread_local std::string last_kernel_error;

}  // namespace

nnf_status fail(const char *function, nnf_status status, const char *format, ...) {
    char message[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(message, sizeof message, format, args);
    va_end(args);
    last_error = std::string(function) + ": " + message;
    return status;
}

void clear_kernel_error() {
    last_kernel_error.clear();
}

const char *kernel_error() {
    return last_kernel_error.c_str();
}

}  // namespace nnf::rt

// Halide's default error handler prints to stderr; a library must not, so the message is kept
// for nnf_last_error instead. Defining the weak halide_error symbol is Halide's documented way
// to override it for AOT code.
extern "C" void halide_error(void * /*user_context*/, const char *message) {
    nnf::rt::last_kernel_error = message;
}

extern "C" const char *nnf_last_error(void) {
    return nnf::rt::last_error.c_str();
}

extern "C" const char *nnf_status_string(nnf_status status) {
    switch (status) {
    case NNF_OK: return "NNF_OK";
    case NNF_ERR_INVALID_ARGUMENT: return "NNF_ERR_INVALID_ARGUMENT";
    case NNF_ERR_SHAPE_MISMATCH: return "NNF_ERR_SHAPE_MISMATCH";
    case NNF_ERR_UNSUPPORTED_DTYPE: return "NNF_ERR_UNSUPPORTED_DTYPE";
    case NNF_ERR_UNSUPPORTED_DEVICE: return "NNF_ERR_UNSUPPORTED_DEVICE";
    case NNF_ERR_INDEX_OUT_OF_RANGE: return "NNF_ERR_INDEX_OUT_OF_RANGE";
    case NNF_ERR_NOT_BUILT_FOR_TARGET: return "NNF_ERR_NOT_BUILT_FOR_TARGET";
    case NNF_ERR_RUNTIME_FAILURE: return "NNF_ERR_RUNTIME_FAILURE";
    }
    return "NNF_ERR_UNKNOWN_STATUS";
}

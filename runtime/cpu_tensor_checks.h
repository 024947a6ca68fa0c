// The argument checks every driver with CPU kernels only starts with (the loss and rrelu
// drivers), in one place. Inline: two short calls into tensor.cpp.
#pragma once

#include "tensor.h"

namespace nnf::rt {

// check_tensor on each of the `count` float32 tensors, then check_devices: all on the CPU.
inline nnf_status check_cpu_tensors(const char *function, const TensorArg *args, int count) {
    for (int i = 0; i < count; ++i) {
        if (nnf_status s = check_tensor(function, args[i])) return s;
    }
    Backend backend;
    int device_id;
    return check_devices(function, args, count, /*cuda_kernels=*/false, &backend, &device_id);
}

}  // namespace nnf::rt

# rrelu's training slopes on CUDA must equal the CPU's bit for bit (compiler/ops/rrelu_ops.cpp):
# the forward kernel's PTX must compute the slope in double (an f64 multiply-add, rounded to
# float once with cvt.rn.f32.f64) and contain no f32 FMA, which Halide 21's PTX backend emits
# for float multiply-adds even under strict_float. Run with -DPTX=<file>.
file(READ "${PTX}" ptx)
foreach (required "fma.rn.f64|mul.f64" "cvt.rn.f32.f64")
    if (NOT ptx MATCHES "${required}")
        message(FATAL_ERROR "${PTX}: no ${required}: the slope is not computed in double")
    endif ()
endforeach ()
if (ptx MATCHES "fma\\.[a-z]+\\.f32")
    message(FATAL_ERROR "${PTX}: an f32 FMA (${CMAKE_MATCH_0}): a contracted float multiply-add could change the slopes")
endif ()
message(STATUS "${PTX}: slope in f64, no f32 FMA")

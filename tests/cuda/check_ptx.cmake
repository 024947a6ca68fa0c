# Assembles one PTX file with ptxas for each architecture in ARCHS; fails on any error. Also
# fails when a kernel (.entry) has no store to global memory: every kernel Halide launches
# computes a stage into a buffer, and a schedule Halide lowers wrongly can drop the stores (a
# gpu_threads loop of constant extent 1 did, in Halide 21) while still assembling.
foreach (arch IN LISTS ARCHS)
    execute_process(COMMAND "${PTXAS}" -arch=${arch} "${PTX}" -o /dev/null
                    RESULT_VARIABLE result ERROR_VARIABLE err)
    if (NOT result EQUAL 0)
        message(FATAL_ERROR "ptxas -arch=${arch} ${PTX} failed:\n${err}")
    endif ()
    message(STATUS "ptxas -arch=${arch}: ok")
endforeach ()

file(READ "${PTX}" ptx)
# Semicolons end PTX statements but separate CMake list items: drop them, then split at kernels.
string(REPLACE ";" "" ptx "${ptx}")
string(REPLACE ".entry " ";" kernels "${ptx}")
list(POP_FRONT kernels)  # the module header
foreach (kernel IN LISTS kernels)
    string(REGEX MATCH "^[A-Za-z0-9_$]+" name "${kernel}")
    string(REGEX MATCH "(st|red|atom)\\.global" store "${kernel}")
    if (store STREQUAL "")
        message(FATAL_ERROR "${PTX}: kernel ${name} stores nothing to global memory")
    endif ()
endforeach ()
list(LENGTH kernels count)
message(STATUS "${count} kernels, each with a global store")

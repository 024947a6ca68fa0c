# Installs the build tree into a scratch prefix, then configures, builds and runs
# examples/fused against it: find_package(nnfuse), nnfuse_add_kernels() with the installed
# nnfc-compile, and a rebuild after the spec changes.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/install")

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if (NOT result EQUAL 0)
        message(FATAL_ERROR "failed (${result}): ${ARGN}\n${out}\n${err}")
    endif ()
    message(STATUS "${out}")
endfunction()

run("${CMAKE_COMMAND}" --install "${NNFUSE_BUILD_DIR}" --prefix "${prefix}")
foreach (path IN ITEMS bin/nnfc bin/nnfc-compile lib/cmake/nnfuse/NnfuseAddKernels.cmake)
    if (NOT EXISTS "${prefix}/${path}")
        message(FATAL_ERROR "the install lacks ${path}")
    endif ()
endforeach ()
# A copy of the project, so that editing its spec leaves the source tree alone.
file(COPY "${NNFUSE_SOURCE_DIR}/examples/fused/" DESTINATION "${WORK_DIR}/project")
run("${CMAKE_COMMAND}" -S "${WORK_DIR}/project" -B "${WORK_DIR}/build" -G "${CMAKE_GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/nnfuse_fused_example")
# Editing the spec rebuilds the kernels: a fourth kernel appears in the header.
file(APPEND "${WORK_DIR}/project/kernels.nnf" "\nkernel added(x: f32[N]) -> (y: f32[N]) {\n    y = relu(x)\n}\n")
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
file(READ "${WORK_DIR}/build/fused_kernels.nnfuse/fused.h" header)
if (NOT header MATCHES "fused_added\\(const DLTensor \\*x, DLTensor \\*y\\)")
    message(FATAL_ERROR "editing the spec did not regenerate fused.h:\n${header}")
endif ()

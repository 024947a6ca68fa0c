# Installs the build tree into a scratch prefix, then configures, builds and runs the C
# example against it twice: through find_package(nnfuse) and through pkg-config.
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
foreach (path IN ITEMS lib/libnnfuse.a include/nnfuse/nnfuse.h include/nnfuse/nnfuse_ops.h
                       lib/cmake/nnfuse/nnfuseConfig.cmake lib/pkgconfig/nnfuse.pc)
    if (NOT EXISTS "${prefix}/${path}")
        message(FATAL_ERROR "the install lacks ${path}")
    endif ()
endforeach ()

# find_package(nnfuse) from a C-only project.
run("${CMAKE_COMMAND}" -S "${NNFUSE_SOURCE_DIR}/examples/c_api" -B "${WORK_DIR}/cmake-build"
    -G "${CMAKE_GENERATOR}" "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/cmake-build")
run("${WORK_DIR}/cmake-build/nnfuse_example")

# pkg-config with a plain compiler command line.
find_program(PKG_CONFIG pkg-config)
find_program(CC NAMES cc gcc)
if (PKG_CONFIG AND CC)
    set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
    execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs nnfuse OUTPUT_VARIABLE flags
                    OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
    separate_arguments(flags UNIX_COMMAND "${flags}")
    run("${CC}" -std=c99 -O2 "${NNFUSE_SOURCE_DIR}/examples/c_api/main.c" ${flags} -o "${WORK_DIR}/pkgconfig_example")
    run("${WORK_DIR}/pkgconfig_example")
else ()
    message(STATUS "pkg-config or cc not found: skipped the pkg-config build")
endif ()

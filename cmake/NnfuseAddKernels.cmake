# nnfuse_add_kernels(<target> SPEC <kernels.nnf> PREFIX <name> [TARGETS <halide target>...])
#
# Compiles the fused kernels of a spec with nnfc at build time and creates <target>, a linkable
# static library (it links nnfuse::nnfuse) whose include directory has <name>.h. TARGETS are
# Halide target strings, best first (default: host); several make one multitarget library with
# runtime dispatch. One target with the cuda feature (e.g. host-cuda, or
# x86-64-linux-cuda-cuda_capability_80; sm_70 PTX when no capability is named) adds a CUDA variant
# of every kernel, run for kDLCUDA tensors; it needs an nnfuse built with CUDA (NNFUSE_HAS_CUDA).
# The spec is a dependency: editing it rebuilds the library.
#
# Works in nnfuse's own build tree (nnfc-compile is a target there) and after find_package(nnfuse)
# from an install (nnfc-compile is in <prefix>/bin, or wherever NNFUSE_NNFC_COMPILE points).

set(_NNFUSE_ADD_KERNELS_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(nnfuse_add_kernels target)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SPEC;PREFIX" "TARGETS")
    if (ARG_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "nnfuse_add_kernels(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
    endif ()
    if (NOT ARG_SPEC OR NOT ARG_PREFIX)
        message(FATAL_ERROR "nnfuse_add_kernels(${target}): SPEC and PREFIX are required")
    endif ()
    if (NOT ARG_PREFIX MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
        message(FATAL_ERROR "nnfuse_add_kernels(${target}): PREFIX must be a C identifier, not '${ARG_PREFIX}'")
    endif ()
    if (NOT ARG_TARGETS)
        set(ARG_TARGETS host)
    endif ()
    if (ARG_TARGETS MATCHES "(^|[-;])cuda($|[-;])" AND DEFINED NNFUSE_HAS_CUDA AND NOT NNFUSE_HAS_CUDA)
        message(FATAL_ERROR "nnfuse_add_kernels(${target}): TARGETS has a CUDA target, but this nnfuse was built "
                            "without CUDA (NNFUSE_CUDA=OFF), so its runtime cannot run CUDA kernels")
    endif ()
    if (NOT TARGET nnfuse::nnfuse)
        message(FATAL_ERROR "nnfuse_add_kernels(${target}): nnfuse::nnfuse is not defined (find_package(nnfuse) first)")
    endif ()

    if (TARGET nnfc-compile)
        set(compiler "$<TARGET_FILE:nnfc-compile>")
        set(compiler_dependency nnfc-compile)
    elseif (TARGET nnfuse::halide_generators::nnfc-compile)
        set(compiler "$<TARGET_FILE:nnfuse::halide_generators::nnfc-compile>")
        set(compiler_dependency "")
    else ()
        find_program(NNFUSE_NNFC_COMPILE nnfc-compile
                     HINTS "${_NNFUSE_ADD_KERNELS_DIR}/../../../bin" NO_DEFAULT_PATH)
        find_program(NNFUSE_NNFC_COMPILE nnfc-compile)
        if (NOT NNFUSE_NNFC_COMPILE)
            message(FATAL_ERROR "nnfuse_add_kernels(${target}): nnfc-compile not found; set NNFUSE_NNFC_COMPILE")
        endif ()
        set(compiler "${NNFUSE_NNFC_COMPILE}")
        set(compiler_dependency "${NNFUSE_NNFC_COMPILE}")
    endif ()

    get_filename_component(spec "${ARG_SPEC}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}.nnfuse")
    set(archive "${out}/lib${ARG_PREFIX}.a")
    set(header "${out}/${ARG_PREFIX}.h")
    # The include directory must exist when the imported target is generated.
    file(MAKE_DIRECTORY "${out}")
    string(JOIN "," targets ${ARG_TARGETS})
    set(cxx "")
    if (CMAKE_CXX_COMPILER)
        set(cxx --cxx "${CMAKE_CXX_COMPILER}")
    endif ()
    set(includes "$<TARGET_PROPERTY:nnfuse::nnfuse,INTERFACE_INCLUDE_DIRECTORIES>")
    add_custom_command(
        OUTPUT "${archive}" "${header}" "${out}/${ARG_PREFIX}_wrappers.cpp"
        COMMAND "${compiler}" "${spec}" --targets "${targets}" --prefix "${ARG_PREFIX}" -o "${out}" ${cxx}
                "$<$<BOOL:${includes}>:-I$<JOIN:${includes},;-I>>"
        DEPENDS "${spec}" ${compiler_dependency}
        COMMENT "nnfc: compiling the fused kernels of ${ARG_SPEC}"
        VERBATIM COMMAND_EXPAND_LISTS)
    add_custom_target(${target}_nnfc DEPENDS "${archive}" "${header}")

    add_library(${target} STATIC IMPORTED GLOBAL)
    add_dependencies(${target} ${target}_nnfc)
    set_target_properties(${target} PROPERTIES
                          IMPORTED_LOCATION "${archive}"
                          INTERFACE_INCLUDE_DIRECTORIES "${out}"
                          INTERFACE_LINK_LIBRARIES nnfuse::nnfuse
                          IMPORTED_LINK_INTERFACE_LANGUAGES CXX)
endfunction()

# Reads compiler/registry/ops.def (the op registry) for the build: which kernels to generate.
# The C++ side reads the same file with X-macros (compiler/registry/registry.cpp).

# Sets, in the caller's scope:
#   NNF_OPS                   the op names, in registry order
#   NNF_OP_FAMILY_<op>        its family
#   NNF_OP_VARIANTS_<op>      the values of its compile-time enum parameter ("" if none)
function(nnfuse_read_registry def_file)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${def_file}")
    file(STRINGS "${def_file}" lines REGEX "^NNF_(OP|ENUM_PARAM)\\(")
    set(ops "")
    foreach (line IN LISTS lines)
        if (line MATCHES "^NNF_OP\\(([a-z0-9_]+), *([a-z_]+),")
            list(APPEND ops "${CMAKE_MATCH_1}")
            set(NNF_OP_FAMILY_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}" PARENT_SCOPE)
            set(NNF_OP_VARIANTS_${CMAKE_MATCH_1} "" PARENT_SCOPE)
        elseif (line MATCHES "^NNF_ENUM_PARAM\\(([a-z0-9_]+), *[a-z0-9_]+, *\"([a-z0-9_|]+)\"")
            string(REPLACE "|" ";" values "${CMAKE_MATCH_2}")
            set(NNF_OP_VARIANTS_${CMAKE_MATCH_1} "${values}" PARENT_SCOPE)
        endif ()
    endforeach ()
    set(NNF_OPS "${ops}" PARENT_SCOPE)
endfunction()

# The Halide function name of one kernel; compiler/nnfc/c_api_emitter.cpp (kernel_name) builds
# the same names.
function(nnfuse_kernel_name out op pass variant)
    if (variant STREQUAL "")
        set(${out} "nnf_impl_${op}_${pass}_f32" PARENT_SCOPE)
    else ()
        set(${out} "nnf_impl_${op}_${pass}_${variant}_f32" PARENT_SCOPE)
    endif ()
endfunction()

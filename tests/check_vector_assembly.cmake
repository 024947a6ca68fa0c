# Checks one kernel's generated assembly (ASSEMBLY, for architecture ARCH): it uses the vector
# registers of its target, and it calls nothing but Halide's runtime (allocation, the thread
# pool, error reports), memset/memcpy and its own parallel-task bodies: no scalar math routine
# (expf, floorf, ...) or any other library call can hide in a loop.
file(READ "${ASSEMBLY}" text)
if (ARCH MATCHES "^(aarch64|arm64)$")
    set(vector_pattern "v[0-9]+\\.4s")  # NEON: four float lanes
    set(call_pattern "\n[ \t]*bl[ \t]+([^ \t\n]+)")
else ()
    if (ASSEMBLY MATCHES "avx512")
        set(vector_pattern "%zmm[0-9]+")  # 16 float lanes
    elseif (ASSEMBLY MATCHES "avx2")
        set(vector_pattern "%ymm[0-9]+")  # 8 float lanes
    else ()
        set(vector_pattern "(mul|add|sub|max|min|and|cmp[a-z]*)ps[ \t]+[^\n]*%xmm")  # packed SSE floats
    endif ()
    set(call_pattern "\n[ \t]*call[a-z]*[ \t]+([^ \t\n]+)")
endif ()
if (NOT text MATCHES "${vector_pattern}")
    message(FATAL_ERROR "${ASSEMBLY}: no vector instructions (${vector_pattern})")
endif ()
string(REGEX MATCHALL "${call_pattern}" calls "${text}")
foreach (call IN LISTS calls)
    string(REGEX REPLACE "${call_pattern}" "\\1" callee "${call}")
    if (NOT callee MATCHES "^\"?(halide_|memset|memcpy|nnf_impl_)")
        message(FATAL_ERROR "${ASSEMBLY}: calls ${callee}")
    endif ()
endforeach ()
string(REGEX MATCHALL "${vector_pattern}" uses "${text}")
list(LENGTH uses count)
list(LENGTH calls call_count)
message(STATUS "${count} vector instructions or registers; ${call_count} calls, all to the Halide runtime")

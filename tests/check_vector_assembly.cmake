# Checks one kernel's generated assembly (ASSEMBLY, for architecture ARCH): it uses the vector
# registers of its target, and nothing in it calls a scalar math routine (expf, logf, ...).
file(READ "${ASSEMBLY}" text)
set(math_routine "([a-z0-9_@]*(exp|log|tanh|erf|pow|sin|cos)[a-z0-9_@]*)")
if (ARCH MATCHES "^(aarch64|arm64)$")
    set(vector_pattern "v[0-9]+\\.4s")  # NEON: four float lanes
    set(call_pattern "\n[ \t]*bl[ \t]+${math_routine}")
else ()
    if (ASSEMBLY MATCHES "avx512")
        set(vector_pattern "%zmm[0-9]+")  # 16 float lanes
    elseif (ASSEMBLY MATCHES "avx2")
        set(vector_pattern "%ymm[0-9]+")  # 8 float lanes
    else ()
        set(vector_pattern "(mul|add|sub|max|min|and|cmp[a-z]*)ps[ \t]+[^\n]*%xmm")  # packed SSE floats
    endif ()
    set(call_pattern "\n[ \t]*call[a-z]*[ \t]+${math_routine}")
endif ()
if (NOT text MATCHES "${vector_pattern}")
    message(FATAL_ERROR "${ASSEMBLY}: no vector instructions (${vector_pattern})")
endif ()
if (text MATCHES "${call_pattern}")
    message(FATAL_ERROR "${ASSEMBLY}: calls the scalar routine ${CMAKE_MATCH_1}")
endif ()
string(REGEX MATCHALL "${vector_pattern}" uses "${text}")
list(LENGTH uses count)
message(STATUS "${count} vector instructions or registers, no scalar math calls")

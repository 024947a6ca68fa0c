cmake_minimum_required(VERSION 3.28)
# `nnfc check` on a spec with an error: exit status 1 and the compiler message on stderr,
# exactly. Run with -DNNFC=<nnfc> -DSPEC=<spec> -DEXPECTED=<file with the expected stderr>.
execute_process(COMMAND "${NNFC}" check "${SPEC}" RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(READ "${EXPECTED}" expected)
string(REPLACE "<SPEC>" "${SPEC}" expected "${expected}")
if (NOT result EQUAL 1)
    message(FATAL_ERROR "nnfc check exited with ${result}, expected 1\n${err}")
endif ()
if (NOT err STREQUAL expected)
    message(FATAL_ERROR "nnfc check printed\n${err}\nexpected\n${expected}")
endif ()

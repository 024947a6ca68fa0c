cmake_minimum_required(VERSION 3.28)
# `nnfc-compile` with targets it cannot build for: exit status 1 and exactly the expected
# message on stderr, before any code is generated. Run with -DNNFC_COMPILE=<nnfc-compile>
# -DSPEC=<spec> -DTARGETS=<t1,t2> -DWORK_DIR=<dir> -DEXPECTED=<message>.
execute_process(COMMAND "${NNFC_COMPILE}" "${SPEC}" --targets "${TARGETS}" --prefix rejected -o "${WORK_DIR}"
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if (NOT result EQUAL 1)
    message(FATAL_ERROR "nnfc-compile --targets ${TARGETS} exited with ${result}, expected 1\n${err}")
endif ()
if (NOT err STREQUAL "${EXPECTED}\n")
    message(FATAL_ERROR "nnfc-compile --targets ${TARGETS} printed\n${err}\nexpected\n${EXPECTED}")
endif ()
if (EXISTS "${WORK_DIR}/librejected.a")
    message(FATAL_ERROR "nnfc-compile wrote ${WORK_DIR}/librejected.a")
endif ()

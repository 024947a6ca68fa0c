# Assembles one PTX file with ptxas for each architecture in ARCHS; fails on any error.
foreach (arch IN LISTS ARCHS)
    execute_process(COMMAND "${PTXAS}" -arch=${arch} "${PTX}" -o /dev/null
                    RESULT_VARIABLE result ERROR_VARIABLE err)
    if (NOT result EQUAL 0)
        message(FATAL_ERROR "ptxas -arch=${arch} ${PTX} failed:\n${err}")
    endif ()
    message(STATUS "ptxas -arch=${arch}: ok")
endforeach ()

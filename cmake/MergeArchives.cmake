# Merges the static archives PARTS into OUTPUT with `ar -M` (a GNU ar MRI script).
#   cmake -DAR=<ar> -DOUTPUT=<lib.a> -DPARTS=<a.a;b.a;...> -P MergeArchives.cmake
set(script "CREATE ${OUTPUT}.tmp\n")
foreach (part IN LISTS PARTS)
    string(APPEND script "ADDLIB ${part}\n")
endforeach ()
string(APPEND script "SAVE\nEND\n")
file(WRITE "${OUTPUT}.mri" "${script}")
file(REMOVE "${OUTPUT}.tmp")
execute_process(COMMAND "${AR}" -M INPUT_FILE "${OUTPUT}.mri" RESULT_VARIABLE result ERROR_VARIABLE err)
if (NOT result EQUAL 0)
    message(FATAL_ERROR "${AR} -M failed: ${err}")
endif ()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")

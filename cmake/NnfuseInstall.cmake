# `cmake --install`: lib/libnnfuse.a, include/nnfuse/, lib/cmake/nnfuse/, lib/pkgconfig/nnfuse.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(FILES "${NNFUSE_ARCHIVE}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/include/nnfuse/nnfuse.h"
              "${PROJECT_BINARY_DIR}/include/nnfuse/nnfuse_ops.h"
              "${PROJECT_BINARY_DIR}/include/nnfuse/version.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/nnfuse")
# What the wrappers of fused spec kernels (nnfc) call in the library's runtime.
install(FILES "${PROJECT_SOURCE_DIR}/include/nnfuse/detail/kernel_support.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/nnfuse/detail")

# The package config is written by hand rather than exported: it names the archive and its
# link dependencies explicitly, so that plain C projects (no C++ enabled) can link it.
configure_package_config_file(
    "${PROJECT_SOURCE_DIR}/cmake/nnfuseConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/nnfuseConfig.cmake"
    INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/nnfuse"
    PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/nnfuseConfigVersion.cmake"
    COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/nnfuseConfig.cmake" "${PROJECT_BINARY_DIR}/nnfuseConfigVersion.cmake"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/nnfuse")

configure_file("${PROJECT_SOURCE_DIR}/cmake/nnfuse.pc.in" "${PROJECT_BINARY_DIR}/nnfuse.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/nnfuse.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# The fusion compiler and nnfuse_add_kernels(), for downstream projects' own fused kernels.
if (NOT CMAKE_CROSSCOMPILING)
    install(TARGETS nnfc nnfc-compile RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif ()
install(FILES "${PROJECT_SOURCE_DIR}/cmake/NnfuseAddKernels.cmake" DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/nnfuse")

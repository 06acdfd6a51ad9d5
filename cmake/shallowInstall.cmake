# cmake --install: the headers, the CMake package (find_package(shallow)),
# a pkg-config file (shallow.pc, for Make and Meson), libshallow_kernels and
# the tools; cpack -G DEB packs the same into a Debian package.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/shallow DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(SHALLOW_INSTALLED_TARGETS shallow shallow_core shallow_data shallow_train shallow_native)
if(TARGET shallow_kernels)
  list(APPEND SHALLOW_INSTALLED_TARGETS shallow_kernels)
endif()
install(TARGETS ${SHALLOW_INSTALLED_TARGETS} EXPORT shallowTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT shallowTargets NAMESPACE shallow:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shallow)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/shallowConfig.cmake.in
  ${PROJECT_BINARY_DIR}/shallowConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shallow)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shallowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/shallowConfig.cmake
  ${PROJECT_BINARY_DIR}/shallowConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/shallowDependencies.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shallow)

# pkg-config: the whole library, header-only; shallow-kernels adds the
# compiled instantiations.
set(SHALLOW_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
set(SHALLOW_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/shallow.pc.in ${PROJECT_BINARY_DIR}/shallow.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/shallow-kernels.pc.in ${PROJECT_BINARY_DIR}/shallow-kernels.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/shallow.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(TARGET shallow_kernels)
  install(FILES ${PROJECT_BINARY_DIR}/shallow-kernels.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()

# A Debian package of the above, its dependencies named by Debian's package
# names (the tools' shared libraries found by dpkg-shlibdeps).
set(CPACK_PACKAGE_NAME shallow)
set(CPACK_PACKAGE_VENDOR "shallow")
set(CPACK_PACKAGE_CONTACT "shallow developers <shallow@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Residual convolutional networks, deep and shallow, trained on the CPU")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libeigen3-dev (>= 3.4), libstb-dev, zlib1g-dev, libgomp1")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)

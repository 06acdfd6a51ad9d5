include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/shallow DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS shallow shallow_core shallow_data shallow_train EXPORT shallowTargets)
install(EXPORT shallowTargets NAMESPACE shallow:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shallow)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/shallowConfig.cmake.in
  ${PROJECT_BINARY_DIR}/shallowConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shallow)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shallowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  ${PROJECT_BINARY_DIR}/shallowConfig.cmake
  ${PROJECT_BINARY_DIR}/shallowConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/shallowDependencies.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shallow)

# Finds what shallow needs; shared by the build tree and by the installed
# shallowConfig.cmake, so a consumer resolves the same targets.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(OpenMP REQUIRED)
find_package(ZLIB REQUIRED)

# Debian's libstb-dev ships stb_image compiled into libstb, with headers under
# include/stb; one compiled copy avoids STB_IMAGE_IMPLEMENTATION clashes.
if(NOT TARGET shallow_stb)
  find_path(SHALLOW_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb REQUIRED)
  find_library(SHALLOW_STB_LIBRARY stb REQUIRED)
  add_library(shallow_stb UNKNOWN IMPORTED)
  set_target_properties(shallow_stb PROPERTIES
    IMPORTED_LOCATION "${SHALLOW_STB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SHALLOW_STB_INCLUDE_DIR}")
endif()

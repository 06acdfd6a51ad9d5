# ONNX export (include/shallow/onnx/export_onnx.hpp), optional: needs the ONNX
# project's protobuf schema and protobuf itself (Debian: libonnx-dev,
# libprotobuf-dev). When both are found, defines the INTERFACE target
# shallow_onnx (alias shallow::onnx) and sets SHALLOW_HAVE_ONNX ON; otherwise
# SHALLOW_HAVE_ONNX is OFF and the export is left out.
set(SHALLOW_HAVE_ONNX OFF)
# Protobuf first: ONNX's exported targets name protobuf::libprotobuf without
# finding it themselves.
find_package(Protobuf QUIET)
if(Protobuf_FOUND)
  find_package(ONNX QUIET CONFIG)
endif()

if(Protobuf_FOUND AND ONNX_FOUND AND TARGET onnx_proto)
  if(NOT TARGET shallow_onnx)
    add_library(shallow_onnx INTERFACE)
    add_library(shallow::onnx ALIAS shallow_onnx)
    # The schema's headers need the definitions libonnx was built with.
    # onnx_proto carries them (Debian's: ONNX_ML=1, ONNX_NAMESPACE=onnx);
    # an ONNX export that does not gets Debian's.
    get_target_property(_shallow_onnx_defs onnx_proto INTERFACE_COMPILE_DEFINITIONS)
    if(NOT _shallow_onnx_defs MATCHES "ONNX_NAMESPACE=")
      target_compile_definitions(shallow_onnx INTERFACE ONNX_ML=1 ONNX_NAMESPACE=onnx)
    endif()
    unset(_shallow_onnx_defs)
    target_link_libraries(shallow_onnx INTERFACE shallow::shallow onnx_proto protobuf::libprotobuf)
  endif()
  set(SHALLOW_HAVE_ONNX ON)
  message(STATUS "shallow: ONNX export on (ONNX ${ONNX_VERSION}, protobuf ${Protobuf_VERSION})")
else()
  message(STATUS "shallow: ONNX export off: ONNX or protobuf not found "
                 "(Debian: apt-get install libonnx-dev libprotobuf-dev)")
endif()

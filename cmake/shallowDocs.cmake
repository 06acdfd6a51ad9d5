# The API reference (Doxygen over include/shallow/, docs/Doxyfile.in),
# optional: needs doxygen (Debian: apt-get install doxygen, or
# scripts/setup.sh --extras). When found, the target `docs` writes it to
# build/docs/api/html. With the tests on, the CTest test api_reference runs
# doxygen and fails when it warns (printing the warnings); without doxygen
# the test is skipped (77).
#
# Run with cmake -P, this file is that test's check:
#   cmake -DDOXYGEN=... -DDOXYFILE=... -DWARNING_LOG=... -P shallowDocs.cmake
if(CMAKE_SCRIPT_MODE_FILE)
  file(REMOVE "${WARNING_LOG}")
  execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "api_reference: doxygen failed (${status})")
  endif()
  set(warnings "")
  if(EXISTS "${WARNING_LOG}")
    file(READ "${WARNING_LOG}" warnings)
  endif()
  string(STRIP "${warnings}" warnings)
  if(NOT warnings STREQUAL "")
    string(REGEX MATCHALL "\n[^ \n]" lines "\n${warnings}")
    list(LENGTH lines count)
    message("${warnings}")
    message(FATAL_ERROR "api_reference: doxygen reported ${count} warning(s), listed above (${WARNING_LOG})")
  endif()
  message(STATUS "api_reference: no warnings")
  return()
endif()

find_package(Doxygen QUIET)
set(SHALLOW_DOCS_OUTPUT_DIR ${PROJECT_BINARY_DIR}/docs/api)
set(SHALLOW_DOCS_WARNING_LOG ${SHALLOW_DOCS_OUTPUT_DIR}/doxygen-warnings.log)
set(SHALLOW_DOXYFILE ${PROJECT_BINARY_DIR}/docs/Doxyfile)

if(DOXYGEN_FOUND)
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${SHALLOW_DOXYFILE} @ONLY)
  file(MAKE_DIRECTORY ${SHALLOW_DOCS_OUTPUT_DIR})
  add_custom_target(docs
    COMMAND Doxygen::doxygen ${SHALLOW_DOXYFILE}
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/docs
    COMMENT "API reference: ${SHALLOW_DOCS_OUTPUT_DIR}/html/index.html"
    VERBATIM)
  message(STATUS "shallow: API reference on (doxygen ${DOXYGEN_VERSION}): cmake --build . --target docs")
else()
  message(STATUS "shallow: API reference off: doxygen not found "
                 "(Debian: apt-get install doxygen, or scripts/setup.sh --extras)")
endif()

if(SHALLOW_BUILD_TESTS)
  if(DOXYGEN_FOUND)
    add_test(NAME api_reference
      COMMAND ${CMAKE_COMMAND} -DDOXYGEN=$<TARGET_FILE:Doxygen::doxygen> -DDOXYFILE=${SHALLOW_DOXYFILE}
              -DWARNING_LOG=${SHALLOW_DOCS_WARNING_LOG} -P ${CMAKE_CURRENT_LIST_FILE}
      WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/docs)
    set_tests_properties(api_reference PROPERTIES TIMEOUT 600)
  else()
    add_test(NAME api_reference
      COMMAND bash -c "echo 'doxygen not installed (scripts/setup.sh --extras)'; exit 77")
    set_tests_properties(api_reference PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endif()

# SPDX-License-Identifier: Apache-2.0
# iommusim_add_gtest(NAME SOURCES ... LIBS ... LABELS ...)
# One GoogleTest binary, its cases registered with CTest one by one so that each
# runs in its own process (sc_start cannot be restarted), carrying LABELS.
# Test names are "<binary>.<Suite>.<Case>" so that `ctest -R vtd_` selects a model.
function(iommusim_add_gtest name)
  if(NOT IOMMUSIM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT TARGET iommusim_gtest_main)
    # libsystemc defines main() and calls sc_main(); tests enter through sc_main.
    # An object library, so the linker cannot drop sc_main before libsystemc asks for it.
    add_library(iommusim_gtest_main OBJECT ${PROJECT_SOURCE_DIR}/cmake/test_main/sc_gtest_main.cc)
    target_link_libraries(iommusim_gtest_main PUBLIC GTest::gtest PkgConfig::SystemC)
  endif()
  add_executable(${name} ${ARG_SOURCES} $<TARGET_OBJECTS:iommusim_gtest_main>)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest PkgConfig::SystemC)
  # Registered from the sources at configure time, one CTest test per case: each
  # case runs in its own process, and the labels are set as a proper list (the
  # discovery variant of this in CMake 3.25 splits a label list into words).
  gtest_add_tests(TARGET ${name} SOURCES ${ARG_SOURCES} TEST_PREFIX "${name}." TEST_LIST cases)
  set(env SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 ${IOMMUSIM_TEST_ENVIRONMENT})
  set_tests_properties(${cases} PROPERTIES
    LABELS "${ARG_LABELS}"
    ENVIRONMENT "${env}")
endfunction()

# iommusim_model_library(TARGET LIBS ... LABEL label)
# A model directory: every *.cc beside the CMakeLists forms one library (static,
# or shared with IOMMUSIM_SHARED_LIBS); every tests/test_*.cc becomes one
# GoogleTest binary labelled "unit;<label>". The library is exported as
# iommusim::<TARGET without "iommusim_"> (iommusim_vtd -> iommusim::vtd): a new
# unit's directory that calls this is installed and exported with no other edit.
function(iommusim_model_library target)
  cmake_parse_arguments(ARG "" "LABEL" "LIBS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(srcs)
    iommusim_library(${target} SOURCES ${srcs} LIBS ${ARG_LIBS})
  else()
    iommusim_library(${target} LIBS ${ARG_LIBS})
  endif()
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/test_*.cc)
  foreach(t ${tests})
    get_filename_component(tname ${t} NAME_WE)
    iommusim_add_gtest(${ARG_LABEL}_${tname} SOURCES ${t} LIBS ${target} LABELS "unit;${ARG_LABEL}")
  endforeach()
endfunction()

# iommusim_library(TARGET [SOURCES ...] [LIBS ...] [PRIVATE_LIBS ...])
# One library of the package: its include directories for the build tree and
# for an installation, its dependencies, the alias iommusim::<name> (so that a
# parent project using add_subdirectory writes the same names as one using
# find_package), and its headers (the *.h beside its sources) installed under
# include/iommusim/<directory>. Without SOURCES: a header-only INTERFACE library.
function(iommusim_library target)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;PRIVATE_LIBS" ${ARGN})
  string(REGEX REPLACE "^iommusim_" "" export_name ${target})
  set(includes $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/models> $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
               $<INSTALL_INTERFACE:include/iommusim>)
  if(ARG_SOURCES)
    if(IOMMUSIM_SHARED_LIBS)
      add_library(${target} SHARED ${ARG_SOURCES})
    else()
      add_library(${target} STATIC ${ARG_SOURCES})
    endif()
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    target_include_directories(${target} PUBLIC ${includes})
    target_link_libraries(${target} PUBLIC ${ARG_LIBS} PRIVATE ${ARG_PRIVATE_LIBS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${includes})
    target_link_libraries(${target} INTERFACE ${ARG_LIBS})
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name} OUTPUT_NAME ${target})
  add_library(iommusim::${export_name} ALIAS ${target})
  set_property(GLOBAL APPEND PROPERTY IOMMUSIM_EXPORTED_TARGETS ${target})
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  string(REGEX REPLACE "^models/" "" rel ${rel})
  set_property(GLOBAL APPEND PROPERTY IOMMUSIM_HEADER_DIRS "${CMAKE_CURRENT_SOURCE_DIR}|${rel}")
endfunction()

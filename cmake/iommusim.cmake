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

# iommusim_model_library(TARGET DIR LIBS ... LABEL label)
# A model directory: every *.cc beside the CMakeLists forms one static library;
# every tests/test_*.cc becomes one GoogleTest binary labelled "unit;<label>".
function(iommusim_model_library target)
  cmake_parse_arguments(ARG "" "LABEL" "LIBS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(srcs)
    add_library(${target} STATIC ${srcs})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/models ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} PUBLIC ${ARG_LIBS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR}/models ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${ARG_LIBS})
  endif()
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/test_*.cc)
  foreach(t ${tests})
    get_filename_component(tname ${t} NAME_WE)
    iommusim_add_gtest(${ARG_LABEL}_${tname} SOURCES ${t} LIBS ${target} LABELS "unit;${ARG_LABEL}")
  endforeach()
endfunction()

# SPDX-License-Identifier: Apache-2.0
# -DIOMMUSIM_FUZZ=ON (clang only) builds the libFuzzer targets of fuzz/ and
# instruments every library they link for coverage (-fsanitize=fuzzer-no-link).
# Sanitizers default to address,undefined (IOMMUSIM_SANITIZE, cmake/sanitize.cmake).
option(IOMMUSIM_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang and libclang-rt)" OFF)
set(IOMMUSIM_FUZZ_SECONDS 60 CACHE STRING "Seconds each fuzz.<target>.run test fuzzes")
if(IOMMUSIM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "IOMMUSIM_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT IOMMUSIM_SANITIZE)
    set(IOMMUSIM_SANITIZE "address,undefined" CACHE STRING "" FORCE)
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  enable_testing()  # the fuzz label, with or without IOMMUSIM_BUILD_TESTS
endif()

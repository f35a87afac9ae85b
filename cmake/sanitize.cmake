# SPDX-License-Identifier: Apache-2.0
# -DIOMMUSIM_SANITIZE=address,undefined builds everything with those sanitizers
# (any list -fsanitize= takes). UBSan findings abort the process, so a test
# that triggers one fails; docs/robustness.md shows how to run the suite.
#
# LeakSanitizer is off in the tests (IOMMUSIM_TEST_ENVIRONMENT): it cannot
# follow SystemC's coroutine stacks. Their guard pages make its tracer fault
# at exit, and what a suspended SC_THREAD still holds looks leaked.
set(IOMMUSIM_SANITIZE "" CACHE STRING "Sanitizers to build with, as -fsanitize= takes them (e.g. address,undefined)")
# CI's sanitizer stage builds the tree cold on 2 cores: -O1 compiles faster than
# the build type's -O2 and still keeps ASan's run time reasonable (the level
# ASan's documentation suggests). Empty keeps the build type's level.
set(IOMMUSIM_SANITIZE_OPT "" CACHE STRING "Optimization flag for sanitizer builds (e.g. -O1), after the build type's")
if(IOMMUSIM_SANITIZE)
  set(_san -fsanitize=${IOMMUSIM_SANITIZE} -fno-omit-frame-pointer)
  if(IOMMUSIM_SANITIZE MATCHES "undefined")
    list(APPEND _san -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san} ${IOMMUSIM_SANITIZE_OPT})
  add_link_options(${_san})
  # What a program linking the sanitized libraries needs (the install test's consumers).
  string(JOIN " " IOMMUSIM_SANITIZE_FLAGS ${_san})
  set(IOMMUSIM_TEST_ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  message(STATUS "Sanitizers: ${IOMMUSIM_SANITIZE}")
endif()

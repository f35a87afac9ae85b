# SPDX-License-Identifier: Apache-2.0
# Runs one scenario with <unit>.iotlb.impl = rtl and again with model and
# requires the same statistics (every line of stats.txt but the wall-clock
# ones and the config hash): the RTL IOTLB stands in without changing what the simulation does.
#   cmake -DIOMMUSIM=<bin> -DCONFIG=<ini> -DUNIT=vtd0 -DOUT=<dir> -P compare_standin.cmake
foreach(impl rtl model)
  execute_process(COMMAND ${IOMMUSIM} --config ${CONFIG} --set ${UNIT}.iotlb.impl=${impl} --out ${OUT}/${impl}
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "iommusim with ${UNIT}.iotlb.impl = ${impl} failed (${rc})")
  endif()
  file(STRINGS ${OUT}/${impl}/stats.txt lines_${impl})
  list(FILTER lines_${impl} EXCLUDE REGEX "wall")
  # The provenance header's config hash: the two configs differ in iotlb.impl.
  list(FILTER lines_${impl} EXCLUDE REGEX "^# config_hash: ")
endforeach()
list(LENGTH lines_rtl n)
if(n LESS 100)
  message(FATAL_ERROR "only ${n} stats lines in ${OUT}/rtl/stats.txt")
endif()
if(NOT lines_rtl STREQUAL lines_model)
  foreach(line IN LISTS lines_rtl)
    list(FIND lines_model "${line}" at)
    if(at EQUAL -1)
      message(STATUS "rtl only: ${line}")
    endif()
  endforeach()
  message(FATAL_ERROR "the statistics differ between iotlb.impl = rtl and model")
endif()
message(STATUS "${n} statistics lines identical with iotlb.impl = rtl and model")

# SPDX-License-Identifier: Apache-2.0
# Provenance of a build: version, git revision, build type. The revision is
# read at every build (not only at configure), and the generated source is
# rewritten only when it changes, so an unchanged tree rebuilds nothing.
#   ${IOMMUSIM_PROVENANCE_SOURCE}  provenance_data.cc, compiled into iommusim_common
#   ${IOMMUSIM_PROVENANCE_JSON}    the same as JSON, installed beside the runner
set(IOMMUSIM_PROVENANCE_SOURCE ${CMAKE_CURRENT_BINARY_DIR}/generated/provenance_data.cc)
set(IOMMUSIM_PROVENANCE_JSON ${CMAKE_CURRENT_BINARY_DIR}/generated/build_info.json)
if(CMAKE_CONFIGURATION_TYPES)
  set(_iommusim_build_type $<CONFIG>)
else()
  set(_iommusim_build_type "${CMAKE_BUILD_TYPE}")
endif()
add_custom_target(iommusim_provenance
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DVERSION=${PROJECT_VERSION}
          -DBUILD_TYPE=${_iommusim_build_type} -DOUT_CC=${IOMMUSIM_PROVENANCE_SOURCE}
          -DOUT_JSON=${IOMMUSIM_PROVENANCE_JSON}
          -P ${CMAKE_CURRENT_LIST_DIR}/write_provenance.cmake
  BYPRODUCTS ${IOMMUSIM_PROVENANCE_SOURCE} ${IOMMUSIM_PROVENANCE_JSON}
  COMMENT "iommusim: provenance (version, git revision, build type)"
  VERBATIM)
# The first configure writes it too, so that the source exists before any build.
execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DVERSION=${PROJECT_VERSION}
                        -DBUILD_TYPE=${CMAKE_BUILD_TYPE} -DOUT_CC=${IOMMUSIM_PROVENANCE_SOURCE}
                        -DOUT_JSON=${IOMMUSIM_PROVENANCE_JSON}
                        -P ${CMAKE_CURRENT_LIST_DIR}/write_provenance.cmake)

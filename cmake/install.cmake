# SPDX-License-Identifier: Apache-2.0
# cmake --install: headers, libraries, the command, the regression runner and
# the CMake package (find_package(iommusim) with iommusim::<component> targets).
# Every library made by iommusim_library() is in the export list, so a new
# unit's directory is installed and exported without an edit here.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(iommusim_targets GLOBAL PROPERTY IOMMUSIM_EXPORTED_TARGETS)
install(TARGETS ${iommusim_targets} EXPORT iommusimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/iommusim)

get_property(iommusim_header_dirs GLOBAL PROPERTY IOMMUSIM_HEADER_DIRS)
foreach(pair ${iommusim_header_dirs})
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 src)
  list(GET pair 1 dest)
  install(DIRECTORY ${src}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/iommusim/${dest}
          FILES_MATCHING PATTERN "*.h" PATTERN "tests" EXCLUDE)
endforeach()

# The export names, for the package's component check.
set(IOMMUSIM_COMPONENTS "")
foreach(t ${iommusim_targets})
  get_target_property(name ${t} EXPORT_NAME)
  list(APPEND IOMMUSIM_COMPONENTS ${name})
endforeach()

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/iommusim)
install(EXPORT iommusimTargets NAMESPACE iommusim:: DESTINATION ${config_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/iommusimConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/iommusimConfig.cmake INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/iommusimConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/iommusimConfig.cmake ${PROJECT_BINARY_DIR}/iommusimConfigVersion.cmake
        DESTINATION ${config_dir})

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/iommusim)

if(TARGET iommusim)
  install(TARGETS iommusim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# The runner (Python 3, standard library only) with the build's provenance,
# and bin/iommusim_regress pointing at it.
set(runner_dir ${CMAKE_INSTALL_DATADIR}/iommusim/regress)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/regress/iommusim_regress.py DESTINATION ${runner_dir})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/regress/regress_runner DESTINATION ${runner_dir}
        PATTERN "__pycache__" EXCLUDE PATTERN "*.pyc" EXCLUDE)
install(FILES ${IOMMUSIM_PROVENANCE_JSON} DESTINATION ${runner_dir}/regress_runner)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/regress/suites ${PROJECT_SOURCE_DIR}/regress/sweeps
        DESTINATION ${runner_dir})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs DESTINATION ${CMAKE_INSTALL_DATADIR}/iommusim)
file(RELATIVE_PATH runner_from_bin /${CMAKE_INSTALL_BINDIR} /${runner_dir}/iommusim_regress.py)
install(CODE "
  set(bin \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  file(MAKE_DIRECTORY \"\${bin}\")
  file(CREATE_LINK \"${runner_from_bin}\" \"\${bin}/iommusim_regress\" SYMBOLIC)
  message(STATUS \"Installing: \${bin}/iommusim_regress -> ${runner_from_bin}\")")

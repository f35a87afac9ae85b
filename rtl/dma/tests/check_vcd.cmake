# SPDX-License-Identifier: Apache-2.0
# --vcd-out: one VCD with the RTL DMA engine's ports and the bridge's side of
# its bus, with value changes over the run.
#   cmake -DIOMMUSIM=<bin> -DCONFIG=<ini> -DOUT=<dir> -P check_vcd.cmake
file(REMOVE ${OUT}/dma.vcd)
execute_process(COMMAND ${IOMMUSIM} --config ${CONFIG} --set dma0.descriptors=2 --out ${OUT} --vcd-out ${OUT}/dma.vcd
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "iommusim --vcd-out failed (${rc})")
endif()
file(READ ${OUT}/dma.vcd vcd)
foreach(want "$scope module dma0 $end" " clk " " req_valid " " req_ready " " req_addr " " rsp_valid " " rsp_ready "
             " rsp_error " " err_addr " "$enddefinitions")
  string(FIND "${vcd}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${OUT}/dma.vcd has no '${want}'")
  endif()
endforeach()
string(REGEX MATCHALL "\n#[0-9]+" stamps "${vcd}")
list(LENGTH stamps n)
if(n LESS 1000)
  message(FATAL_ERROR "${OUT}/dma.vcd has only ${n} time stamps")
endif()
message(STATUS "${OUT}/dma.vcd: ${n} time stamps")

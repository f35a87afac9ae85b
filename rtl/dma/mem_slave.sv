// SPDX-License-Identifier: Apache-2.0
// A small memory as an RTL slave on the valid/ready request/response bus of
// dma_engine.sv (the slave side): WORDS 8-byte words at addresses
// [0, 8 * WORDS), one request taken at a time, its answer LATENCY cycles
// later, held until taken. A request outside the memory or not 8-byte aligned
// is answered with rsp_error. With STALL_REQUESTS = 1, req_ready is low every
// other cycle (backpressure on the master).
module mem_slave #(
    parameter int unsigned WORDS = 512,
    parameter int unsigned LATENCY = 3,
    parameter int unsigned STALL_REQUESTS = 0
) (
    input  logic        clk,
    input  logic        rst_n,
    input  logic        req_valid,
    output logic        req_ready,
    input  logic        req_write,
    input  logic [63:0] req_addr,
    input  logic [63:0] req_wdata,
    input  logic [3:0]  req_tag,
    output logic        rsp_valid,
    input  logic        rsp_ready,
    output logic [3:0]  rsp_tag,
    output logic [63:0] rsp_rdata,
    output logic        rsp_error
);
  localparam int unsigned AW = WORDS > 1 ? $clog2(WORDS) : 1;
  logic [63:0] mem_q[WORDS];
  logic        busy_q, stall_q;
  logic [7:0]  wait_q;

  assign req_ready = !busy_q && (STALL_REQUESTS == 0 || !stall_q);
  wire in_range = req_addr[2:0] == 3'd0 && req_addr < 64'(8 * WORDS);
  wire [AW-1:0] word = req_addr[AW+2:3];

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      busy_q <= 1'b0;
      rsp_valid <= 1'b0;
      stall_q <= 1'b0;
    end else begin
      stall_q <= !stall_q;
      if (req_valid && req_ready) begin
        busy_q <= 1'b1;
        wait_q <= 8'(LATENCY);
        rsp_tag <= req_tag;
        rsp_error <= !in_range;
        rsp_rdata <= in_range && !req_write ? mem_q[word] : 64'd0;
        if (in_range && req_write) mem_q[word] <= req_wdata;
      end else if (busy_q && !rsp_valid) begin
        if (wait_q == 0) rsp_valid <= 1'b1;
        else wait_q <= wait_q - 1'b1;
      end else if (rsp_valid && rsp_ready) begin
        rsp_valid <= 1'b0;
        busy_q <= 1'b0;
      end
    end
  end
endmodule

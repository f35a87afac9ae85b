// SPDX-License-Identifier: Apache-2.0
// Descriptor-driven DMA engine: copies memory to memory as a list of
// descriptors in host memory says, over one valid/ready request channel and
// one valid/ready response channel (the bus of rtl/dma/pin_tlm_bridge.h).
//
// Descriptor (32 bytes, little endian, at desc_base + 32 * i):
//   +0  source address (8 bytes)     +8  destination address (8 bytes)
//   +16 length in bytes (4 bytes, a multiple of 8)   +20..31 ignored
// A start pulse runs desc_count descriptors. The descriptor is read one
// quadword at a time; the copy reads 8-byte beats and writes each one back
// when its data returns, with at most MAX_OUTSTANDING beats in flight (a beat
// keeps its tag from its read until its write is answered; answers may come
// in any order). An error answer stops the run: no further reads, the beats in
// flight drain, and done rises with error set and err_addr naming the address
// of the failed access.
//
// Requests are registered: a request's fields do not change until it is
// taken, and a new one is chosen the cycle after. With STALL_RESPONSES = 1 the
// engine takes answers only every other cycle (backpressure on the bridge).
module dma_engine #(
    parameter int unsigned MAX_OUTSTANDING = 4,
    parameter int unsigned STALL_RESPONSES = 0
) (
    input  logic        clk,
    input  logic        rst_n,

    input  logic        start,
    input  logic [63:0] desc_base,
    input  logic [15:0] desc_count,
    output logic        busy,
    output logic        done,
    output logic        error,
    output logic [63:0] err_addr,
    output logic [15:0] descs_done,

    output logic        req_valid,
    input  logic        req_ready,
    output logic        req_write,
    output logic [63:0] req_addr,
    output logic [63:0] req_wdata,
    output logic [3:0]  req_tag,
    input  logic        rsp_valid,
    output logic        rsp_ready,
    input  logic [3:0]  rsp_tag,
    input  logic [63:0] rsp_rdata,
    input  logic        rsp_error
);
  localparam int unsigned TAG_W = MAX_OUTSTANDING > 1 ? $clog2(MAX_OUTSTANDING) : 1;
  typedef enum logic [2:0] {IDLE, DESC, COPY, NEXT, FINISH} state_e;
  typedef enum logic [1:0] {FREE, READING, HAS_DATA, WRITING} beat_e;

  state_e      state_q;
  logic [15:0] index_q;
  logic [63:0] desc_q;
  logic [1:0]  qword_q;
  logic        desc_wait_q;
  logic [63:0] src_q, dst_q;
  logic [31:0] beats_q, issued_q, written_q;
  beat_e       beat_q[MAX_OUTSTANDING];
  logic [31:0] offset_q[MAX_OUTSTANDING];
  logic [63:0] data_q[MAX_OUTSTANDING];
  logic        stall_q;

  assign busy = state_q != IDLE;
  assign rsp_ready = STALL_RESPONSES == 0 || !stall_q;

  // The tag to write back (a beat with data) and the tag for the next read.
  int write_tag, free_tag;
  logic all_free;
  always_comb begin
    write_tag = -1;
    free_tag = -1;
    all_free = 1'b1;
    for (int t = MAX_OUTSTANDING - 1; t >= 0; t--) begin
      if (beat_q[t] == HAS_DATA) write_tag = t;
      if (beat_q[t] == FREE) free_tag = t;
      if (beat_q[t] != FREE) all_free = 1'b0;
    end
  end

  task automatic issue(input logic write, input logic [63:0] addr, input logic [63:0] wdata, input int tag);
    req_valid <= 1'b1;
    req_write <= write;
    req_addr <= addr;
    req_wdata <= wdata;
    req_tag <= 4'(tag);
  endtask

  task automatic take_descriptor_word();
    case (qword_q)
      2'd0: src_q <= rsp_rdata;
      2'd1: dst_q <= rsp_rdata;
      default: beats_q <= {3'd0, rsp_rdata[31:3]};
    endcase
    desc_wait_q <= 1'b0;
    if (rsp_error) begin
      error <= 1'b1;
      err_addr <= desc_q + {59'd0, qword_q, 3'd0};
      state_q <= FINISH;
    end else if (qword_q == 2'd2) begin
      issued_q <= '0;
      written_q <= '0;
      state_q <= COPY;
    end else begin
      qword_q <= qword_q + 1'b1;
    end
  endtask

  task automatic take_beat_answer();
    logic [TAG_W-1:0] t;
    t = rsp_tag[TAG_W-1:0];
    if (rsp_error) begin
      if (!error) err_addr <= (beat_q[t] == READING ? src_q : dst_q) + {32'd0, offset_q[t]};
      error <= 1'b1;
      beat_q[t] <= FREE;
    end else if (beat_q[t] == READING) begin
      data_q[t] <= rsp_rdata;
      beat_q[t] <= HAS_DATA;
    end else begin
      beat_q[t] <= FREE;
      written_q <= written_q + 1;
    end
  endtask

  task automatic issue_beat();
    if (write_tag >= 0) begin
      issue(1'b1, dst_q + {32'd0, offset_q[write_tag]}, data_q[write_tag], write_tag);
      beat_q[write_tag] <= WRITING;
    end else if (!error && issued_q < beats_q && free_tag >= 0) begin
      issue(1'b0, src_q + {32'd0, issued_q[28:0], 3'd0}, 64'd0, free_tag);
      offset_q[free_tag] <= {issued_q[28:0], 3'd0};
      beat_q[free_tag] <= READING;
      issued_q <= issued_q + 1;
    end
  endtask

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      state_q <= IDLE;
      req_valid <= 1'b0;
      done <= 1'b0;
      error <= 1'b0;
      err_addr <= '0;
      descs_done <= '0;
      stall_q <= 1'b0;
      for (int t = 0; t < MAX_OUTSTANDING; t++) beat_q[t] <= FREE;
    end else begin
      stall_q <= !stall_q;
      if (req_valid && req_ready) req_valid <= 1'b0;
      if (rsp_valid && rsp_ready) begin
        if (state_q == DESC) take_descriptor_word();
        else if (state_q == COPY) take_beat_answer();
      end
      case (state_q)
        IDLE:
          if (start) begin
            desc_q <= desc_base;
            index_q <= '0;
            qword_q <= '0;
            desc_wait_q <= 1'b0;
            done <= 1'b0;
            error <= 1'b0;
            descs_done <= '0;
            state_q <= desc_count == 0 ? FINISH : DESC;
          end
        DESC:
          if (!req_valid && !desc_wait_q) begin
            issue(1'b0, desc_q + {59'd0, qword_q, 3'd0}, 64'd0, 0);
            desc_wait_q <= 1'b1;
          end
        COPY:
          if (!req_valid) begin
            if (all_free && (error || written_q == beats_q)) state_q <= error ? FINISH : NEXT;
            else issue_beat();
          end
        NEXT: begin
          descs_done <= descs_done + 1'b1;
          if (index_q + 1'b1 == desc_count) begin
            state_q <= FINISH;
          end else begin
            index_q <= index_q + 1'b1;
            desc_q <= desc_q + 64'd32;
            qword_q <= '0;
            state_q <= DESC;
          end
        end
        default: begin  // FINISH
          done <= 1'b1;
          state_q <= IDLE;
        end
      endcase
    end
  end
endmodule

// dma_testdev: a test-only DMA device, in the spirit of QEMU's hw/misc/iommu-testdev.
//
// The host programs the registers below over the register bus, rings the doorbell, and the
// device moves LENGTH bytes between itself and bus address IOVA through the shared DMA port
// (models/common/rtl/dma_port.sv), then reports a result code and optionally raises irq. The
// data is a counting pattern, so the device needs no buffer: writes generate it, reads check
// it byte by byte.
//
// Registers: models/dma_testdev/registers.toml is the one description; dexthil-regs generates
// the dma_testdev_regs package this module imports (the A_* offsets, ID_VALUE) and the C++
// header the model, the tests and the test dext use. Writes take effect only in the bytes their
// byte enables select; reads have no side effects except DONE_EVENTS; unmapped offsets read 0
// and ignore writes.
//
// Result codes (STATUS[7:4]):
//   0 OK
//   1 COMPLETION_ERROR     a completion with nonzero status; the transfer stops there
//   2 DATA_MISMATCH        read data differed from the pattern; the transfer runs to the end
//   3 DOORBELL_WHILE_BUSY  the doorbell was rung while busy; the transfer carries on
//   4 BAD_LENGTH           LENGTH was 0 or > 1 MiB at the doorbell; nothing is issued
// Several events in one transfer: the most severe wins, which is the lowest nonzero code of
// 1..3 (a completion error ends the transfer and explains any short BYTES_DONE; a mismatch
// says the data is wrong; a doorbell while busy only says the driver misbehaved).
//
// A doorbell that starts a transfer clears done, result, the error status and the per-transfer
// counters (MISMATCH_COUNT, FIRST_MISMATCH, BYTES_DONE, REQUESTS). BAD_LENGTH counts as a
// transfer that finishes at once: it sets done (so a driver waiting for irq is not left
// hanging) and increments DONE_COUNT.
//
// The doorbell snapshots CONTROL, IOVA, LENGTH, PATTERN and MAX_REQUEST into the engine, so
// register writes during a transfer affect only the next one.
//
// Engine: one request outstanding at a time (simple and obviously ordered; speed is not the
// point of a test device). Each request covers min(remaining, MAX_REQUEST, bytes to the next
// 4 KiB boundary unless allow_cross_4k) bytes at IOVA + offset, with a tag that increments per
// request (free-running across transfers, so a stray completion is easy to spot in a trace).
// A write pushes its ceil(len/8) pattern beats after the request; then the engine
// waits for the response's last beat, checks it, and moves on. Beat byte i of a request is
// request byte i (beat i/8, lane i%8, little-endian) whatever the address alignment, so lane j
// of beat k carries transfer offset request_offset + 8k + j.
//
// irq is a level: STATUS.done && CONTROL.irq_enable. busy is "engine not idle or dma_port still
// holding something", so the C++ wrapper knows when the model may sleep.
//
// Register bus timing: one access per rising edge with reg_valid high, so the bus must drop
// reg_valid after one edge (a doorbell held for two edges would be a doorbell while busy). A
// write (reg_write) updates the bytes reg_be selects. A read (!reg_write) returns reg_rdata,
// which decodes reg_addr against the state left by the last edge; the host samples it at the
// read's edge, and that edge is when a read's side effect (DONE_EVENTS) happens, once.
//
// Reset (rst_n) is synchronous, active low, and also resets the embedded dma_port.
module dma_testdev
  import dma_testdev_regs::*;
  import dma_pkg::*;
(
    input  logic        clk,
    input  logic        rst_n,
    // register bus: reads are combinational, writes take effect at the rising edge
    input  logic        reg_valid,
    input  logic        reg_write,
    input  logic [ 7:0] reg_addr,
    input  logic [31:0] reg_wdata,
    input  logic [ 3:0] reg_be,
    output logic [31:0] reg_rdata,
    output logic        irq,
    output logic        busy,
    // host side of the embedded dma_port, as dma_port names it
    output logic        host_req_valid,
    input  logic        host_req_ready,
    output dma_req_t    host_req,
    output logic        host_wdata_valid,
    input  logic        host_wdata_ready,
    output dma_data_t   host_wdata,
    input  logic        host_rsp_valid,
    output logic        host_rsp_ready,
    input  dma_rsp_t    host_rsp
);

  // ------------------------------------------------------------ constants


  localparam logic [3:0] R_OK = 4'd0;
  localparam logic [3:0] R_COMPLETION_ERROR = 4'd1;
  localparam logic [3:0] R_DATA_MISMATCH = 4'd2;
  localparam logic [3:0] R_DOORBELL_WHILE_BUSY = 4'd3;
  localparam logic [3:0] R_BAD_LENGTH = 4'd4;

  // 1 MiB, the largest transfer; 21 bits hold it.
  localparam logic [31:0] MAX_LENGTH = 32'h0010_0000;
  localparam logic [12:0] PAGE_BYTES = 13'h1000;
  localparam logic [12:0] MAX_REQUEST_AT_RESET = MAX_REQUEST_RESET[12:0];
  localparam logic [31:0] NO_MISMATCH = FIRST_MISMATCH_RESET;

  typedef enum logic [1:0] {
    S_IDLE,   // waiting for the doorbell
    S_REQ,    // presenting the next request to the port
    S_WDATA,  // pushing the current write request's beats
    S_RSP     // waiting for the current request's last response beat
  } state_e;

  // ------------------------------------------------------------ registers
  // Programmed values (what software reads back).
  logic        ctl_dir, ctl_irq_en, ctl_cross_4k;
  logic [63:0] iova;
  logic [31:0] length_q;
  logic [31:0] pattern_q;
  logic [12:0] max_req;

  // Snapshot taken at the doorbell: the engine runs from these only.
  logic        x_dir, x_cross_4k;
  logic [ 7:0] x_seed;
  logic [12:0] x_max_req;

  // Engine progress.
  state_e      state;
  logic [63:0] cur_addr;   // bus address of the next/current request
  logic [20:0] offset;     // transfer offset of the next/current request's first byte
  logic [20:0] remaining;  // bytes from offset to the end of the transfer
  logic [12:0] req_len;    // current request's length
  logic [ 9:0] beat_idx;   // beats pushed (S_WDATA) or received (S_RSP) for it
  logic [ 7:0] tag;
  logic        req_err_seen;  // a nonzero-status beat already arrived for this request
  logic [ 2:0] req_err_status;

  // Results.
  logic        done;
  logic [ 3:0] result;
  logic [ 2:0] err_status;
  logic [31:0] mismatch_count, first_mismatch, bytes_done, requests, done_count;
  logic [31:0] done_mark;  // DONE_COUNT when DONE_EVENTS was last read

  // ------------------------------------------------------------ dma_port
  logic dev_req_valid, dev_req_ready;
  dma_req_t dev_req;
  logic dev_wdata_valid, dev_wdata_ready;
  dma_data_t dev_wdata;
  logic dev_rsp_valid, dev_rsp_ready;
  dma_rsp_t dev_rsp;
  logic [ 7:0] port_outstanding;
  logic port_busy, port_holding, port_error;

  dma_port u_port (
      .clk             (clk),
      .rst_n           (rst_n),
      .dev_req_valid   (dev_req_valid),
      .dev_req_ready   (dev_req_ready),
      .dev_req         (dev_req),
      .dev_wdata_valid (dev_wdata_valid),
      .dev_wdata_ready (dev_wdata_ready),
      .dev_wdata       (dev_wdata),
      .dev_rsp_valid   (dev_rsp_valid),
      .dev_rsp_ready   (dev_rsp_ready),
      .dev_rsp         (dev_rsp),
      .host_req_valid  (host_req_valid),
      .host_req_ready  (host_req_ready),
      .host_req        (host_req),
      .host_wdata_valid(host_wdata_valid),
      .host_wdata_ready(host_wdata_ready),
      .host_wdata      (host_wdata),
      .host_rsp_valid  (host_rsp_valid),
      .host_rsp_ready  (host_rsp_ready),
      .host_rsp        (host_rsp),
      .outstanding     (port_outstanding),
      .busy            (port_busy),
      .holding         (port_holding),
      .error           (port_error)
  );

  // With one request outstanding the engine's own state says all the outstanding count would;
  // the response tag is not checked for the same reason (the port can only deliver the
  // current request's beats). The unused_* name is waived by Verilator's --unused-regexp.
  logic unused_port;
  assign unused_port = ^{port_outstanding, port_holding, dev_rsp.tag};

  // ------------------------------------------------------------ register bus decode
  logic wr, rd;
  assign wr = reg_valid && reg_write;
  assign rd = reg_valid && !reg_write;

  // What a write leaves in the register: the enabled bytes from reg_wdata, the others as they
  // were (reg_rdata is the addressed register's current value).
  logic [31:0] wmask, wval;
  assign wmask = {{8{reg_be[3]}}, {8{reg_be[2]}}, {8{reg_be[1]}}, {8{reg_be[0]}}};
  assign wval = (reg_rdata & ~wmask) | (reg_wdata & wmask);

  logic doorbell, doorbell_start, doorbell_busy, bad_length, done_w1c;
  assign doorbell = wr && reg_addr == A_DOORBELL && reg_be[0] && reg_wdata[0];
  assign doorbell_start = doorbell && state == S_IDLE;
  assign doorbell_busy = doorbell && state != S_IDLE;
  assign bad_length = length_q == 32'd0 || length_q > MAX_LENGTH;
  assign done_w1c = wr && reg_addr == A_STATUS && reg_be[0] && reg_wdata[1];

  // A power of two in 64..4096: exactly one bit set, and it is one of bits 6..12.
  logic max_req_ok;
  assign max_req_ok = $onehot(wval) && wval[31:13] == '0 && wval[5:0] == '0;

  // ------------------------------------------------------------ request sizing
  // min(remaining, MAX_REQUEST, bytes to the next 4 KiB boundary). All three fit 13 bits once
  // remaining is clipped to a page, since MAX_REQUEST <= 4096.
  logic [12:0] rem_clip, to_page, by_max, chunk;
  assign rem_clip = (remaining > 21'(PAGE_BYTES)) ? PAGE_BYTES : remaining[12:0];
  assign to_page = PAGE_BYTES - {1'b0, cur_addr[11:0]};
  assign by_max = (rem_clip < x_max_req) ? rem_clip : x_max_req;
  assign chunk = (!x_cross_4k && to_page < by_max) ? to_page : by_max;

  assign dev_req_valid = state == S_REQ;
  assign dev_req = '{lmem: 1'b0, laddr: '0, write: x_dir, addr: cur_addr, len: chunk, tag: tag};

  // ------------------------------------------------------------ beat pattern and lanes
  // Lane j of beat k is transfer offset offset + 8k + j; only the low 8 bits of it matter.
  logic [7:0] beat_base;
  assign beat_base = x_seed + offset[7:0] + {beat_idx[4:0], 3'b000};

  logic [63:0] expected;
  logic [ 7:0] lane_valid;  // lane holds a byte of the request (the last beat may be partial)
  always_comb begin
    for (int j = 0; j < 8; j++) begin
      expected[8*j+:8] = beat_base + 8'(j);
      lane_valid[j] = ({beat_idx, 3'b000} + 13'(j)) < req_len;
    end
  end

  logic [9:0] last_beat;  // ceil(req_len/8) - 1
  assign last_beat = 10'((req_len - 13'd1) >> 3);

  // Bytes past the end of the request are sent as 0: the host ignores them, and zeros make
  // a waveform easier to read than pattern bytes that belong nowhere.
  always_comb begin
    for (int j = 0; j < 8; j++) dev_wdata[8*j+:8] = lane_valid[j] ? expected[8*j+:8] : 8'h00;
  end
  assign dev_wdata_valid = state == S_WDATA;

  // Always ready: with one request outstanding the response FIFO never backs up, and a stray
  // beat outside S_RSP is dropped rather than mistaken for the next request's response.
  assign dev_rsp_ready = 1'b1;

  // ------------------------------------------------------------ response checking
  logic rsp_fire, beat_err, beat_last, req_err, last_ok;
  logic [2:0] req_status;
  assign rsp_fire = dev_rsp_valid && dev_rsp_ready && state == S_RSP;
  assign beat_err = dev_rsp.status != 3'd0;
  assign beat_last = rsp_fire && dev_rsp.last;
  assign req_err = req_err_seen || beat_err;
  assign req_status = req_err_seen ? req_err_status : dev_rsp.status;
  assign last_ok = beat_last && !req_err;

  // Only a read's successful beats carry data to check; an error beat carries none.
  logic [7:0] lane_bad;
  always_comb begin
    for (int j = 0; j < 8; j++) begin
      lane_bad[j] = rsp_fire && !x_dir && !beat_err && lane_valid[j] &&
          dev_rsp.data[8*j+:8] != expected[8*j+:8];
    end
  end

  logic [3:0] bad_count;
  logic [2:0] bad_lane;  // lowest mismatching lane (meaningful when lane_bad != 0)
  always_comb begin
    bad_count = '0;
    bad_lane  = '0;
    for (int j = 7; j >= 0; j--) begin
      bad_count = bad_count + {3'b000, lane_bad[j]};
      if (lane_bad[j]) bad_lane = 3'(j);
    end
  end

  logic [31:0] bad_offset;
  assign bad_offset = {11'd0, offset} + {19'd0, beat_idx, bad_lane};

  logic finishing;  // this edge ends the transfer (last request done, or an error completion)
  assign finishing = beat_last && (req_err || remaining == {8'd0, req_len});

  // Fold this cycle's events into the result, most severe (lowest nonzero code) first.
  logic [3:0] event_code, result_next;
  always_comb begin
    event_code = R_OK;
    if (doorbell_busy) event_code = R_DOORBELL_WHILE_BUSY;
    if (lane_bad != '0) event_code = R_DATA_MISMATCH;
    if (beat_last && req_err) event_code = R_COMPLETION_ERROR;
    result_next = result;
    if (event_code != R_OK && (result == R_OK || event_code < result)) result_next = event_code;
  end

  // ------------------------------------------------------------ sequential
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      ctl_dir        <= 1'b0;
      ctl_irq_en     <= 1'b0;
      ctl_cross_4k   <= 1'b0;
      iova           <= '0;
      length_q       <= '0;
      pattern_q      <= '0;
      max_req        <= MAX_REQUEST_AT_RESET;
      x_dir          <= 1'b0;
      x_cross_4k     <= 1'b0;
      x_seed         <= '0;
      x_max_req      <= MAX_REQUEST_AT_RESET;
      state          <= S_IDLE;
      cur_addr       <= '0;
      offset         <= '0;
      remaining      <= '0;
      req_len        <= '0;
      beat_idx       <= '0;
      tag            <= '0;
      req_err_seen   <= 1'b0;
      req_err_status <= '0;
      done           <= 1'b0;
      result         <= R_OK;
      err_status     <= '0;
      mismatch_count <= '0;
      first_mismatch <= NO_MISMATCH;
      bytes_done     <= '0;
      requests       <= '0;
      done_count     <= '0;
      done_mark      <= '0;
    end else begin
      // ---- programmed registers
      if (wr) begin
        unique case (reg_addr)
          A_CONTROL: {ctl_cross_4k, ctl_irq_en, ctl_dir} <= wval[2:0];
          A_IOVA_LO: iova[31:0] <= wval;
          A_IOVA_HI: iova[63:32] <= wval;
          A_LENGTH: length_q <= wval;
          A_PATTERN: pattern_q <= wval;
          A_MAX_REQUEST: if (max_req_ok) max_req <= wval[12:0];
          default: ;  // RO, DOORBELL and STATUS are handled below; unmapped ignored
        endcase
      end

      // ---- DONE_EVENTS reads clear it: what counts from here on is after this read
      if (rd && reg_addr == A_DONE_EVENTS) done_mark <= done_count;

      // ---- result (events may coincide with a doorbell while busy; see result_next)
      result <= result_next;

      // done: W1C, but a completion on the same edge wins so it is never lost.
      if (done_w1c) done <= 1'b0;

      unique case (state)
        S_IDLE: ;
        S_REQ:
        if (dev_req_valid && dev_req_ready) begin
          req_len      <= chunk;
          beat_idx     <= '0;
          req_err_seen <= 1'b0;
          tag          <= tag + 8'd1;
          requests     <= requests + 32'd1;
          state        <= x_dir ? S_WDATA : S_RSP;
        end
        S_WDATA:
        if (dev_wdata_valid && dev_wdata_ready) begin
          if (beat_idx == last_beat) begin
            beat_idx <= '0;
            state    <= S_RSP;
          end else begin
            beat_idx <= beat_idx + 10'd1;
          end
        end
        S_RSP:
        if (rsp_fire) begin
          beat_idx <= beat_idx + 10'd1;
          if (beat_err && !req_err_seen) begin
            req_err_seen   <= 1'b1;
            req_err_status <= dev_rsp.status;
          end
          if (lane_bad != '0) begin
            mismatch_count <= mismatch_count + {28'd0, bad_count};
            if (first_mismatch == NO_MISMATCH) first_mismatch <= bad_offset;
          end
          if (last_ok) begin
            bytes_done <= bytes_done + {19'd0, req_len};
            cur_addr   <= cur_addr + {51'd0, req_len};
            offset     <= offset + {8'd0, req_len};
            remaining  <= remaining - {8'd0, req_len};
          end
          if (beat_last && req_err) err_status <= req_status;
          if (finishing) state <= S_IDLE;
          else if (beat_last) state <= S_REQ;
        end
        default: state <= S_IDLE;
      endcase

      if (finishing) begin
        done       <= 1'b1;
        done_count <= done_count + 32'd1;
      end

      // ---- doorbell on an idle engine: start (or refuse) a transfer
      if (doorbell_start) begin
        mismatch_count <= '0;
        first_mismatch <= NO_MISMATCH;
        bytes_done     <= '0;
        requests       <= '0;
        err_status     <= '0;
        if (bad_length) begin
          result     <= R_BAD_LENGTH;
          done       <= 1'b1;
          done_count <= done_count + 32'd1;
        end else begin
          result     <= R_OK;
          done       <= 1'b0;
          x_dir      <= ctl_dir;
          x_cross_4k <= ctl_cross_4k;
          x_seed     <= pattern_q[7:0];
          x_max_req  <= max_req;
          cur_addr   <= iova;
          offset     <= '0;
          remaining  <= length_q[20:0];
          state      <= S_REQ;
        end
      end
    end
  end

  // ------------------------------------------------------------ outputs
  logic engine_busy;
  assign engine_busy = state != S_IDLE;
  assign irq = done && ctl_irq_en;
  assign busy = engine_busy || port_busy;

  // The addressed register's value; a read samples it at its edge (see "Register bus timing").
  always_comb begin
    unique case (reg_addr)
      A_ID: reg_rdata = ID_VALUE;
      A_CONTROL: reg_rdata = {29'd0, ctl_cross_4k, ctl_irq_en, ctl_dir};
      A_IOVA_LO: reg_rdata = iova[31:0];
      A_IOVA_HI: reg_rdata = iova[63:32];
      A_LENGTH: reg_rdata = length_q;
      A_PATTERN: reg_rdata = pattern_q;
      A_MAX_REQUEST: reg_rdata = {19'd0, max_req};
      A_STATUS:
      reg_rdata = {20'd0, port_error, err_status, result, 2'b00, done, engine_busy};
      A_MISMATCH_COUNT: reg_rdata = mismatch_count;
      A_FIRST_MISMATCH: reg_rdata = first_mismatch;
      A_BYTES_DONE: reg_rdata = bytes_done;
      A_REQUESTS: reg_rdata = requests;
      A_DONE_COUNT: reg_rdata = done_count;
      A_DONE_EVENTS: reg_rdata = done_count - done_mark;
      default: reg_rdata = 32'd0;  // DOORBELL is write-only; unmapped offsets read 0
    endcase
  end

endmodule

// lsi_sysif: the LSI53C1030's system interface, one per PCI function (one per SCSI channel).
//
// What the host sees of the chip: the registers (models/lsi53c1030/registers.toml, imported as
// lsi53c1030_regs), the Doorbell handshake, the request FIFO, the reply-post and free-reply
// FIFOs, and the interrupt logic. Behind it runs the firmware (C++ beside this RTL: the message
// layer in models/lsi53c1030/firmware); the fw_* ports are its side: it supplies the IOC state,
// takes handshake request dwords and gives back reply words, pops requests and free frames, and
// pushes replies.
//
// Doorbell handshake (../shared/reference/lsi-mpt.md):
//   idle, the host writes HANDSHAKE (0x42) << 24 | dwords << 16: the IOC takes it, sets active
//     and the doorbell interrupt;
//   each of the `dwords` request dwords the host writes next is taken and handed to the
//     firmware (hs_req_*; the last one marked);
//   the firmware offers the reply's 16-bit words one at a time; each sits in Doorbell[15:0] with
//     the doorbell interrupt set until the host writes HOST_INTERRUPT_STATUS;
//   after the last word, one more doorbell interrupt (an edge after the host cleared the last
//     word's, so it is an interrupt of its own); the host's write ends the handshake. A request
//     whose reply goes through the reply FIFO (task management) has no words: the firmware says
//     so (hs_reply_none) and the closing interrupt follows the request.
// IOC_MESSAGE_UNIT_RESET (0x40) and IO_UNIT_RESET (0x41) pulse fw_msg_unit_reset and empty the
// FIFOs. Other functions are ignored.
// HOST_INTERRUPT_STATUS.ioc_doorbell is set by every Doorbell write and cleared at the next edge,
// when the IOC has taken it.
//
// Interrupt: irq = (doorbell && !mask.doorbell) || (reply && !mask.reply). The reply interrupt
// is set whenever a reply is pushed and cleared only by a REPLY_FIFO read that finds the FIFO
// empty (which reads 0xFFFFFFFF); reading pops whatever the mask says.
//
// HOST_DIAGNOSTIC is writable once WRITE_SEQUENCE saw 0x4, 0xB, 0x2, 0x7, 0xD in turn (any
// other value starts the key again). RESET_ADAPTER pulses fw_hard_reset, empties the FIFOs, ends
// any handshake, clears the interrupts and the key, masks both interrupts and sets
// reset_history, which the host clears by writing 0 to it.
//
// Register bus timing as dma_testdev's: one access per rising edge with reg_valid high; reads
// are combinational on the state the last edge left, and a read's side effect (a REPLY_FIFO pop)
// happens at its edge.
module lsi_sysif
  import lsi53c1030_regs::*;
#(
    parameter int unsigned FIFO_DEPTH = 128,
    parameter int unsigned MAX_REQUEST_DWORDS = 32  // IOCFacts RequestFrameSize
) (
    input  logic        clk,
    input  logic        rst_n,
    // register bus
    input  logic        reg_valid,
    input  logic        reg_write,
    input  logic [ 7:0] reg_addr,
    input  logic [31:0] reg_wdata,
    input  logic [ 3:0] reg_be,
    output logic [31:0] reg_rdata,
    output logic        irq,
    // the firmware's side
    input  logic [ 3:0] fw_state,
    input  logic [ 2:0] fw_who_init,
    input  logic [15:0] fw_fault_code,
    output logic        fw_msg_unit_reset,  // one edge: the host wrote 0x40 or 0x41
    output logic        fw_hard_reset,      // one edge: RESET_ADAPTER
    output logic        hs_req_valid,       // one edge per request dword taken
    output logic [31:0] hs_req_data,
    output logic        hs_req_last,
    input  logic        hs_reply_valid,     // the firmware offers a reply word
    input  logic [15:0] hs_reply_word,
    input  logic        hs_reply_last,
    output logic        hs_reply_ready,     // the offered word is taken at this edge
    input  logic        hs_reply_none,      // the reply goes through the reply FIFO: just close
    output logic        hs_closed,          // hs_reply_none is taken at this edge
    output logic        reqf_valid,         // the request FIFO's oldest frame address
    output logic [31:0] reqf_data,
    input  logic        reqf_pop,
    input  logic        rpost_push,         // a reply for the host
    input  logic [31:0] rpost_data,
    output logic        rpost_full,
    output logic        rfree_valid,        // the oldest free reply frame the host returned
    output logic [31:0] rfree_data,
    input  logic        rfree_pop,
    output logic        fifo_overflow,      // sticky: a host write found a FIFO full
    // a Doorbell write the handshake protocol does not allow at this point (this edge); the IOC
    // ignores it: 1 not a Doorbell function, 2 a handshake longer than a request frame, 3 before
    // the host acknowledged the handshake's start, 4 while the IOC is sending its reply
    output logic        hs_violation,
    output logic [ 2:0] hs_violation_code
);

  localparam logic [7:0] F_MESSAGE_UNIT_RESET = 8'h40;
  localparam logic [7:0] F_IO_UNIT_RESET = 8'h41;
  localparam logic [7:0] F_HANDSHAKE = 8'h42;
  localparam logic [3:0] STATE_FAULT = 4'h4;
  // The WRITE_SEQUENCE key, one value per step.
  function automatic logic [3:0] key_at(input logic [2:0] step);
    unique case (step)
      3'd0: return 4'h4;
      3'd1: return 4'hB;
      3'd2: return 4'h2;
      3'd3: return 4'h7;
      default: return 4'hD;
    endcase
  endfunction

  typedef enum logic [2:0] {
    HS_IDLE,   // no handshake
    HS_ACK,    // the function was taken: waiting for the host to clear the doorbell interrupt
    HS_REQ,    // taking request dwords
    HS_WAIT,   // waiting for the firmware's next reply word
    HS_WORD,   // a reply word in Doorbell[15:0]; waiting for the host's IntStatus write
    HS_CLOSE,  // the last word was taken: the closing interrupt comes at the next edge, as an event of its own
    HS_FINAL   // the closing doorbell interrupt; waiting for the host's IntStatus write
  } hs_e;

  // ------------------------------------------------------------ register decode
  logic wr, rd;
  assign wr = reg_valid && reg_write;
  assign rd = reg_valid && !reg_write;
  logic wr_doorbell, wr_sequence, wr_diag, wr_status, wr_mask, wr_request, wr_reply;
  assign wr_doorbell = wr && reg_addr == A_DOORBELL;
  assign wr_sequence = wr && reg_addr == A_WRITE_SEQUENCE;
  assign wr_diag     = wr && reg_addr == A_HOST_DIAGNOSTIC;
  assign wr_status   = wr && reg_addr == A_HOST_INTERRUPT_STATUS;
  assign wr_mask     = wr && reg_addr == A_HOST_INTERRUPT_MASK;
  assign wr_request  = wr && reg_addr == A_REQUEST_FIFO;
  assign wr_reply    = wr && reg_addr == A_REPLY_FIFO;
  logic rd_reply;
  assign rd_reply = rd && reg_addr == A_REPLY_FIFO;

  // ------------------------------------------------------------ state
  hs_e         hs;
  logic [ 7:0] hs_left;      // request dwords still to come
  logic [15:0] hs_word;      // the reply word the host reads
  logic        hs_was_last;  // hs_word is the reply's last
  logic        db_int, reply_int, ioc_doorbell;
  logic        mask_db, mask_reply;
  logic [ 2:0] key_idx;
  logic        diag_we, disable_arm, reset_history;
  logic        fifo_clear;   // empties the FIFOs at the next edge

  logic hs_start;  // a handshake the IOC takes
  assign hs_start = hs == HS_IDLE && wr_doorbell && reg_wdata[31:24] == F_HANDSHAKE &&
                    32'(reg_wdata[23:16]) <= MAX_REQUEST_DWORDS;
  always_comb begin
    hs_violation_code = 3'd0;
    if (wr_doorbell) begin
      unique case (hs)
        HS_IDLE:
          if (reg_wdata[31:24] == F_HANDSHAKE && !hs_start) hs_violation_code = 3'd2;
          else if (reg_wdata[31:24] != F_HANDSHAKE && reg_wdata[31:24] != F_MESSAGE_UNIT_RESET &&
                   reg_wdata[31:24] != F_IO_UNIT_RESET) hs_violation_code = 3'd1;
        HS_ACK: hs_violation_code = 3'd3;
        HS_REQ: ;
        default: hs_violation_code = 3'd4;
      endcase
    end
  end
  assign hs_violation = hs_violation_code != 3'd0;

  logic reset_adapter;
  assign reset_adapter = wr_diag && diag_we && reg_be[0] && reg_wdata[2];
  logic unit_reset;
  assign unit_reset = wr_doorbell && hs == HS_IDLE && reg_be[3] &&
                      (reg_wdata[31:24] == F_MESSAGE_UNIT_RESET || reg_wdata[31:24] == F_IO_UNIT_RESET);

  // ------------------------------------------------------------ FIFOs
  logic fifo_rst_n;
  assign fifo_rst_n = rst_n && !fifo_clear;
  localparam int unsigned CW = $clog2(FIFO_DEPTH + 1);
  logic req_full, req_empty, rpost_empty, rfree_full, rfree_empty;
  logic [31:0] rpost_head;
  logic [CW-1:0] req_count, rpost_count, rfree_count;
  logic req_ovf, req_udf, rpost_ovf, rpost_udf, rfree_ovf, rfree_udf;

  sync_fifo #(.WIDTH(32), .DEPTH(FIFO_DEPTH)) u_request (
      .clk, .rst_n(fifo_rst_n), .push(wr_request), .push_data({reg_wdata[31:3], 3'b000}), .full(req_full),
      .pop(reqf_pop), .pop_data(reqf_data), .empty(req_empty), .count(req_count), .overflow(req_ovf),
      .underflow(req_udf));
  sync_fifo #(.WIDTH(32), .DEPTH(FIFO_DEPTH)) u_reply_post (
      .clk, .rst_n(fifo_rst_n), .push(rpost_push), .push_data(rpost_data), .full(rpost_full),
      .pop(rd_reply), .pop_data(rpost_head), .empty(rpost_empty), .count(rpost_count), .overflow(rpost_ovf),
      .underflow(rpost_udf));
  sync_fifo #(.WIDTH(32), .DEPTH(FIFO_DEPTH)) u_reply_free (
      .clk, .rst_n(fifo_rst_n), .push(wr_reply), .push_data(reg_wdata), .full(rfree_full), .pop(rfree_pop),
      .pop_data(rfree_data), .empty(rfree_empty), .count(rfree_count), .overflow(rfree_ovf),
      .underflow(rfree_udf));
  assign reqf_valid = !req_empty;
  assign rfree_valid = !rfree_empty;
  assign fifo_overflow = req_ovf || rfree_ovf;

  // ------------------------------------------------------------ handshake
  assign hs_req_valid = wr_doorbell && hs == HS_REQ;
  assign hs_req_data = reg_wdata;
  assign hs_req_last = hs_req_valid && hs_left == 8'd1;
  assign hs_reply_ready = hs == HS_WAIT && hs_reply_valid;
  assign hs_closed = hs == HS_WAIT && !hs_reply_valid && hs_reply_none;
  assign fw_msg_unit_reset = unit_reset;
  assign fw_hard_reset = reset_adapter;

  always_ff @(posedge clk) begin
    if (!rst_n || reset_adapter || unit_reset) begin
      hs <= HS_IDLE;
      hs_left <= '0;
      hs_word <= '0;
      hs_was_last <= 1'b0;
    end else begin
      unique case (hs)
        HS_IDLE:
          if (hs_start) begin
            hs_left <= reg_wdata[23:16];
            hs <= HS_ACK;
          end
        HS_ACK:
          // A handshake of no dwords has nothing for the firmware: it just closes.
          if (wr_status) hs <= hs_left == '0 ? HS_CLOSE : HS_REQ;
        HS_REQ:
          if (wr_doorbell) begin
            hs_left <= hs_left - 8'd1;
            if (hs_left == 8'd1) hs <= HS_WAIT;
          end
        HS_WAIT:
          if (hs_reply_valid) begin
            hs_word <= hs_reply_word;
            hs_was_last <= hs_reply_last;
            hs <= HS_WORD;
          end else if (hs_reply_none) begin
            hs <= HS_CLOSE;
          end
        HS_WORD:
          if (wr_status) hs <= hs_was_last ? HS_CLOSE : HS_WAIT;
        HS_CLOSE: hs <= HS_FINAL;
        HS_FINAL:
          if (wr_status) hs <= HS_IDLE;
        default: hs <= HS_IDLE;
      endcase
    end
  end

  // The doorbell interrupt: set when the function is taken, when a reply word is in place and
  // for the closing event; any IntStatus write clears it.
  logic db_event;
  assign db_event = hs_start ||
                    (hs == HS_WAIT && hs_reply_valid) || hs == HS_CLOSE;

  always_ff @(posedge clk) begin
    if (!rst_n || reset_adapter) begin
      db_int <= 1'b0;
      reply_int <= 1'b0;
      ioc_doorbell <= 1'b0;
      mask_db <= HOST_INTERRUPT_MASK_RESET[0];
      mask_reply <= HOST_INTERRUPT_MASK_RESET[3];
      fifo_clear <= reset_adapter;
    end else begin
      ioc_doorbell <= wr_doorbell;  // taken at the next edge
      if (db_event) db_int <= 1'b1;
      else if (wr_status || unit_reset) db_int <= 1'b0;
      if (rpost_push) reply_int <= 1'b1;
      else if ((rd_reply && rpost_empty) || unit_reset) reply_int <= 1'b0;
      if (wr_mask && reg_be[0]) begin
        mask_db <= reg_wdata[0];
        mask_reply <= reg_wdata[3];
      end
      fifo_clear <= unit_reset;
    end
  end

  // ------------------------------------------------------------ diagnostic key and reset
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      key_idx <= '0;
      diag_we <= 1'b0;
      disable_arm <= 1'b0;
      reset_history <= 1'b0;
    end else if (reset_adapter) begin
      key_idx <= '0;
      diag_we <= 1'b0;
      disable_arm <= 1'b0;
      reset_history <= 1'b1;
    end else begin
      if (wr_sequence && reg_be[0]) begin
        if (reg_wdata[3:0] == key_at(key_idx)) begin
          key_idx <= key_idx == 3'd4 ? 3'd0 : key_idx + 3'd1;
          if (key_idx == 3'd4) diag_we <= 1'b1;
        end else begin
          key_idx <= reg_wdata[3:0] == key_at(3'd0) ? 3'd1 : 3'd0;
        end
      end
      if (wr_diag && diag_we && reg_be[0]) begin
        disable_arm <= reg_wdata[1];
        if (!reg_wdata[5]) reset_history <= 1'b0;
      end
    end
  end

  // ------------------------------------------------------------ reads
  always_comb begin
    reg_rdata = '0;
    unique case (reg_addr)
      A_DOORBELL:
        reg_rdata = {fw_state, hs != HS_IDLE, fw_who_init, 8'h00, fw_state == STATE_FAULT ? fw_fault_code : hs_word};
      A_HOST_DIAGNOSTIC:
        reg_rdata = {24'h0, diag_we, 1'b0, reset_history, 2'b00, 1'b0, disable_arm, 1'b0};
      A_HOST_INTERRUPT_STATUS:
        reg_rdata = {ioc_doorbell, 27'h0, reply_int, 2'b00, db_int};
      A_HOST_INTERRUPT_MASK:
        reg_rdata = {28'h0, mask_reply, 2'b00, mask_db};
      A_REPLY_FIFO:
        reg_rdata = rpost_empty ? 32'hFFFF_FFFF : rpost_head;
      default: reg_rdata = '0;
    endcase
  end

  assign irq = (db_int && !mask_db) || (reply_int && !mask_reply);

  // Counts and underflows are for waveforms and assertions only.
  logic unused;
  assign unused = ^{req_count, rpost_count, rfree_count, req_udf, rpost_udf, rfree_udf, rpost_ovf, rfree_full, req_full,
                    reg_be[2:1]};

endmodule

// lsi_dma: the LSI53C1030's DMA engines, one set per function, over the shared DMA port.
//
// The IOC's local memory (its SRAM: request frames, the chain buffer, data and reply staging)
// is held by the model's C++ side; every transfer here is an lmem request (dma_pkg.sv), so the
// bytes move between host memory and local memory while this RTL decides what moves where, in
// what pieces, in what order, and what a failure means. Local memory layout (byte addresses):
//   slot * FRAME_BYTES   request frame slots: SLOTS fetched from the request FIFO, and past
//                        them the slot the firmware puts a handshake request in
//   CHAIN_LADDR          the chain buffer: the SGL's current chain segment
//   anything else        the firmware's (data windows, reply and sense staging)
//
// Engines, one active at a time (commands before fetches, so replies free frames first):
//   frame fetch  when fetch_enable (the IOC is OPERATIONAL), the request FIFO holds an MFA and
//                a slot is free: pop it, read FRAME_BYTES from {host_mfa_high, MFA} into the
//                slot, then tell the firmware (frame_valid, one edge). The firmware releases the
//                slot (slot_release) when it is done with the request.
//   direct       a firmware command: one contiguous host range to or from local memory (reply
//                frames, sense data).
//   SGL walk     a firmware command: move cmd_length bytes between local memory at cmd_laddr
//                and the buffers an MPI scatter-gather list describes. The list starts at
//                cmd_sgl_laddr in local memory and its segment ends at cmd_sgl_end (the end of
//                the frame). Elements (FlagsLength: flags 31:24, length 23:0; then a 32-bit or,
//                with flag 0x02, a 64-bit address):
//                  simple (type 0x10)  min(length, bytes left) moved at its address; its
//                                      direction flag 0x04 (host to IOC) must match the move's
//                  chain (type 0x30)   length 15:0 bytes of further elements at its address,
//                                      fetched into the chain buffer, where the walk goes on
//                The walk ends when the bytes are moved (extra elements are not read), or with
//                a result that says what was wrong and where.
// Every move is split at 4 KiB host boundaries (no PCIe request crosses one) into requests of at
// most 4096 bytes, up to MAX_OUTSTANDING at once; the first failing completion stops the move.
// The function's PCIe core (the port's host side in the model) cuts each into TLPs within the
// link's Max Payload Size and Max Read Request Size.
module lsi_dma
  import dma_pkg::*;
#(
    parameter int unsigned SLOTS = 128,           // frames held at once: the IOC's GlobalCredits
    parameter int unsigned FRAME_BYTES = 128,     // IOCFacts RequestFrameSize * 4
    parameter int unsigned MAX_CHAIN_DEPTH = 3,   // IOCFacts MaxChainDepth
    parameter int unsigned MAX_OUTSTANDING = 8,
    parameter logic [31:0] CHAIN_LADDR = 32'h0001_0000
) (
    input  logic        clk,
    input  logic        rst_n,
    // the request FIFO (lsi_sysif)
    input  logic        reqf_valid,
    input  logic [31:0] reqf_data,
    output logic        reqf_pop,
    input  logic [31:0] host_mfa_high,     // IOCInit's HostMfaHighAddr
    input  logic        fetch_enable,      // the IOC is OPERATIONAL
    // fetched frames, to the firmware: one edge each
    output logic        frame_valid,
    output logic [ 7:0] frame_slot,
    output logic [31:0] frame_mfa,
    output logic [ 2:0] frame_status,      // the fetch's completion status; 0: the frame is in its slot
    input  logic        slot_release,      // the firmware is done with a fetched frame
    input  logic [ 7:0] slot_release_index,
    // the firmware's transfers
    input  logic        cmd_valid,
    output logic        cmd_ready,
    input  logic        cmd_walk,          // 1: walk an SGL; 0: one contiguous host range (direct)
    input  logic        cmd_to_host,       // local memory to host memory
    input  logic [63:0] cmd_host_addr,     // direct only
    input  logic [31:0] cmd_laddr,
    input  logic [31:0] cmd_length,
    input  logic [31:0] cmd_sgl_laddr,     // walk only: the first element
    input  logic [31:0] cmd_sgl_end,       // walk only: the end of the frame the list starts in
    output logic        done_valid,        // one edge: the command finished
    output logic [ 3:0] done_result,       // R_* below
    output logic [ 2:0] done_status,       // R_BUS_ERROR: the completion's status
    output logic [31:0] done_moved,        // bytes moved
    output logic [63:0] done_host_addr,    // R_BUS_ERROR: the failing request's address; SGL
                                           // errors: the chain segment's (0 in the frame)
    output logic [31:0] done_element,      // SGL errors: the element's local address
    output logic [ 7:0] done_depth,        // SGL errors: chain segments followed so far
    // local memory's read port, for elements: lm_rdata is the 12 bytes at lm_raddr,
    // little-endian, read asynchronously (lm_raddr is a register)
    output logic [31:0] lm_raddr,
    input  logic [95:0] lm_rdata,
    // the engines have something to do at the next edge (not only completions to wait for), so
    // the model keeps its clock running
    output logic        active,
    // the DMA port's device side
    output logic        dev_req_valid,
    input  logic        dev_req_ready,
    output dma_req_t    dev_req,
    output logic        dev_wdata_valid,
    input  logic        dev_wdata_ready,
    output dma_data_t   dev_wdata,
    input  logic        dev_rsp_valid,
    output logic        dev_rsp_ready,
    input  dma_rsp_t    dev_rsp
);

  // done_result
  localparam logic [3:0] R_OK = 4'd0;
  localparam logic [3:0] R_BUS_ERROR = 4'd1;    // a completion came back with an error status
  localparam logic [3:0] R_PAST_END = 4'd2;     // an element runs past its frame or chain segment
  localparam logic [3:0] R_ZERO_LENGTH = 4'd3;  // a simple element of no bytes while bytes remain, or an empty chain
  localparam logic [3:0] R_CHAIN_DEPTH = 4'd4;  // more chain elements than MAX_CHAIN_DEPTH
  localparam logic [3:0] R_CHAIN_LOOP = 4'd5;   // a chain element leads to a segment already walked
  localparam logic [3:0] R_BAD_TYPE = 4'd6;     // an element that is neither simple nor chain
  localparam logic [3:0] R_DIRECTION = 4'd7;    // a simple element's direction flag contradicts the move
  localparam logic [3:0] R_SHORT = 4'd8;        // the list ended before the bytes were moved

  localparam int unsigned SLOT_W = $clog2(SLOTS);
  localparam int unsigned TAG_W = $clog2(MAX_OUTSTANDING);

  typedef enum logic [1:0] {
    S_IDLE,
    S_FETCH,   // a frame on its way into its slot
    S_DECODE,  // the element at seg_pos is on lm_rdata
    S_MOVE     // a simple element's bytes, or a chain segment, on their way
  } state_e;

  state_e state;
  logic   last_move;  // the move in progress ends the command (else the walk decodes the next element)

  // ------------------------------------------------------------ the mover
  // One contiguous range between host and local memory, split into port requests.
  logic        mv_busy, mv_write, mv_err;
  logic [63:0] mv_host, mv_first_host;
  logic [31:0] mv_laddr, mv_left, mv_total;
  logic [ 2:0] mv_err_status;
  logic [63:0] mv_err_addr;
  logic [MAX_OUTSTANDING-1:0] tag_busy;
  logic [63:0] tag_addr[MAX_OUTSTANDING];
  logic [TAG_W-1:0] next_tag;
  logic        offer_held;  // the port did not take the request offered at the last edge
  logic        mv_start;    // the FSM starts a move at this edge
  logic [63:0] start_host;
  logic [31:0] start_laddr, start_len;
  logic        start_write;

  // A move offers its first request in the cycle it starts (the port takes it at that edge), and
  // it finishes at the edge its last completion arrives: "src_" and "_after" values are this edge's.
  logic        src_busy;
  logic [63:0] src_host;
  logic [31:0] src_laddr, src_left;
  logic        src_write;
  assign src_busy = mv_start || mv_busy;
  assign src_host = mv_start ? start_host : mv_host;
  assign src_laddr = mv_start ? start_laddr : mv_laddr;
  assign src_left = mv_start ? start_len : mv_left;
  assign src_write = mv_start ? start_write : mv_write;
  logic [TAG_W-1:0] rsp_tag;
  assign rsp_tag = dev_rsp.tag[TAG_W-1:0];
  logic rsp_failed;  // this edge's completion is the move's first failure
  assign rsp_failed = dev_rsp_valid && dev_rsp.status != 3'd0 && !mv_err && !mv_start;
  logic err_after;
  assign err_after = !mv_start && (mv_err || rsp_failed);
  logic [2:0] err_status;
  logic [63:0] err_addr;
  assign err_status = mv_err ? mv_err_status : dev_rsp.status;
  assign err_addr = mv_err ? mv_err_addr : tag_addr[rsp_tag];
  logic [MAX_OUTSTANDING-1:0] busy_after;  // tags still in flight after this edge's completion
  always_comb begin
    busy_after = tag_busy;
    if (dev_rsp_valid) busy_after[rsp_tag] = 1'b0;
  end

  logic [12:0] to_boundary, chunk;
  assign to_boundary = 13'h1000 - {1'b0, src_host[11:0]};
  assign chunk = src_left < {19'h0, to_boundary} ? src_left[12:0] : to_boundary;
  // The next request goes straight to the port: it is offered in the cycle it is known and
  // enters the port's FIFO at the edge it is taken. An offer is held until then, even past a
  // failure (a valid/ready offer is never withdrawn).
  logic issue;
  assign dev_req_valid = offer_held || (src_busy && src_left != 0 && !err_after && !tag_busy[next_tag]);
  assign dev_req = '{lmem: 1'b1, laddr: src_laddr, write: src_write, addr: src_host, len: chunk, tag: 8'(next_tag)};
  assign issue = dev_req_valid && dev_req_ready;
  logic mv_done;  // all of it moved, or stopped by an error, and nothing in flight after this edge
  assign mv_done = mv_busy && !mv_start && (mv_left == 0 || err_after) && busy_after == '0 && !dev_req_valid;

  assign dev_wdata_valid = 1'b0;  // lmem requests carry no beats
  assign dev_wdata = '0;
  assign dev_rsp_ready = mv_busy;  // responses come only for a move's requests

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      mv_busy <= 1'b0;
      mv_err <= 1'b0;
      mv_left <= '0;
      offer_held <= 1'b0;
      tag_busy <= '0;
      next_tag <= '0;
    end else begin
      logic [MAX_OUTSTANDING-1:0] busy_next;
      busy_next = busy_after;
      if (rsp_failed) begin
        mv_err <= 1'b1;
        mv_err_status <= dev_rsp.status;
        mv_err_addr <= tag_addr[rsp_tag];
      end
      offer_held <= dev_req_valid && !dev_req_ready;
      if (mv_start) begin
        mv_busy <= 1'b1;
        mv_err <= 1'b0;
        mv_first_host <= start_host;
        mv_total <= start_len;
        mv_write <= start_write;
        mv_host <= start_host;
        mv_laddr <= start_laddr;
        mv_left <= start_len;
      end else if (mv_done) begin
        mv_busy <= 1'b0;
      end
      if (issue) begin
        tag_addr[next_tag] <= src_host;
        busy_next[next_tag] = 1'b1;
        next_tag <= next_tag + 1'b1;
        mv_host <= src_host + 64'(chunk);
        mv_laddr <= src_laddr + 32'(chunk);
        mv_left <= src_left - 32'(chunk);
      end
      tag_busy <= busy_next;
    end
  end

  // ------------------------------------------------------------ frame slots
  // Free slots: those never used since reset (fresh and up), then the ones the firmware
  // released, oldest first. (A priority encoder over a 128-bit map cost more evaluation time than
  // the rest of the engines together.)
  logic [SLOT_W:0]   fresh;
  logic              released_empty, take_released;
  logic [7:0]        released_head;
  logic              slot_free;
  logic [SLOT_W-1:0] free_slot;
  logic              release_valid;
  assign release_valid = slot_release && 32'(slot_release_index) < SLOTS;
  logic released_full, released_overflow, released_underflow;
  logic [$clog2(SLOTS+1)-1:0] released_count;
  sync_fifo #(.WIDTH(8), .DEPTH(SLOTS)) u_released (
      .clk, .rst_n, .push(release_valid), .push_data(slot_release_index), .full(released_full),
      .pop(take_released), .pop_data(released_head), .empty(released_empty), .count(released_count),
      .overflow(released_overflow), .underflow(released_underflow));
  assign slot_free = !released_empty || 32'(fresh) < SLOTS;
  assign free_slot = !released_empty ? released_head[SLOT_W-1:0] : fresh[SLOT_W-1:0];
  assign take_released = reqf_pop && !released_empty;

  // ------------------------------------------------------------ the walk's element
  logic [31:0] el_flags_length;
  logic [ 7:0] el_flags;
  logic        el_64;
  logic [63:0] el_addr;
  logic [31:0] el_size;
  assign el_flags_length = lm_rdata[31:0];
  assign el_flags = el_flags_length[31:24];
  assign el_64 = el_flags[1];
  assign el_addr = el_64 ? lm_rdata[95:32] : {32'h0, lm_rdata[63:32]};
  assign el_size = el_64 ? 32'd12 : 32'd8;
  logic el_simple, el_chain;
  assign el_simple = el_flags[5:4] == 2'b01;
  assign el_chain = el_flags[5:4] == 2'b11;
  logic [31:0] el_length;  // a chain element's length is 16 bits
  assign el_length = el_chain ? {16'h0, el_flags_length[15:0]} : {8'h0, el_flags_length[23:0]};

  // ------------------------------------------------------------ the engine
  logic        w_to_host;
  logic [31:0] w_left, w_laddr, w_moved, seg_pos, seg_end;
  logic [63:0] seg_host;  // the current chain segment's host address (0: the frame)
  logic [ 7:0] depth;
  logic [63:0] chain_seen[MAX_CHAIN_DEPTH];
  logic [31:0] el_take;
  assign el_take = el_length < w_left ? el_length : w_left;
  logic chain_loop;
  always_comb begin
    chain_loop = 1'b0;
    for (int i = 0; i < int'(MAX_CHAIN_DEPTH); i++) begin
      if (32'(i) < 32'(depth) && chain_seen[i] == el_addr) chain_loop = 1'b1;
    end
  end

  // What is wrong with the element in hand (R_OK: nothing).
  logic [3:0] el_error;
  always_comb begin
    el_error = R_OK;
    if (state == S_DECODE) begin
      if (seg_pos + el_size > seg_end) el_error = R_PAST_END;
      else if (el_simple) begin
        if (el_flags[2] == w_to_host) el_error = R_DIRECTION;
        else if (el_length == 0) el_error = R_ZERO_LENGTH;
      end else if (el_chain) begin
        if (el_length == 0) el_error = R_ZERO_LENGTH;
        else if (chain_loop) el_error = R_CHAIN_LOOP;
        else if (32'(depth) >= MAX_CHAIN_DEPTH) el_error = R_CHAIN_DEPTH;
      end else el_error = R_BAD_TYPE;
    end
  end

  // Local memory's read port is asynchronous: the element at seg_pos is on lm_rdata in the
  // cycle seg_pos holds it, so an element is decoded in the cycle after its address is known.
  assign lm_raddr = seg_pos;

  logic [SLOT_W-1:0] fetch_slot;
  logic [31:0]       fetch_mfa;
  logic              move_is_data;  // the move in progress counts in done_moved (not a chain fetch)

  assign cmd_ready = state == S_IDLE;
  assign reqf_pop = state == S_IDLE && !cmd_valid && fetch_enable && reqf_valid && slot_free;

  always_comb begin
    mv_start = 1'b0;
    start_host = cmd_host_addr;
    start_laddr = cmd_laddr;
    start_len = cmd_length;
    start_write = cmd_to_host;
    if (state == S_IDLE) begin
      if (cmd_valid) mv_start = !cmd_walk && cmd_length != 0;
      else if (reqf_pop) begin
        mv_start = 1'b1;
        start_host = {host_mfa_high, reqf_data};
        start_laddr = 32'(free_slot) * FRAME_BYTES;
        start_len = FRAME_BYTES;
        start_write = 1'b0;
      end
    end else if (state == S_DECODE && el_error == R_OK) begin
      mv_start = 1'b1;
      start_host = el_addr;
      start_laddr = el_chain ? CHAIN_LADDR : w_laddr;
      start_len = el_chain ? el_length : el_take;
      start_write = el_chain ? 1'b0 : w_to_host;
    end
  end

  // A command ends at the edge that decides its result: done_valid is high for the cycle after
  // it, and the engine is idle again in that cycle.
  always_ff @(posedge clk) begin
    frame_valid <= 1'b0;
    done_valid <= 1'b0;
    if (!rst_n) begin
      state <= S_IDLE;
      fresh <= '0;
      depth <= '0;
    end else begin
      if (reqf_pop && released_empty) fresh <= fresh + 1'b1;
      if (el_error != R_OK) begin
        done_valid <= 1'b1;
        done_result <= el_error;
        done_element <= seg_pos;
        done_host_addr <= seg_host;
        done_moved <= w_moved;
        done_depth <= depth;
        state <= S_IDLE;
      end else unique case (state)
        S_IDLE:
          if (cmd_valid) begin
            w_to_host <= cmd_to_host;
            w_left <= cmd_length;
            w_laddr <= cmd_laddr;
            w_moved <= cmd_walk ? 32'd0 : cmd_length;
            seg_pos <= cmd_sgl_laddr;
            seg_end <= cmd_sgl_end;
            seg_host <= '0;
            depth <= '0;
            done_result <= R_OK;
            done_status <= '0;
            done_element <= '0;
            done_host_addr <= '0;
            move_is_data <= 1'b1;
            last_move <= 1'b1;
            // A walk for no bytes reads no element (a no-data command's list is one empty element).
            if (cmd_walk && cmd_length != 0) state <= S_DECODE;
            else if (cmd_walk || cmd_length == 0) begin
              done_valid <= 1'b1;
              done_moved <= '0;
              done_depth <= '0;
            end else state <= S_MOVE;
          end else if (reqf_pop) begin
            fetch_slot <= free_slot;
            fetch_mfa <= reqf_data;
            state <= S_FETCH;
          end
        S_FETCH:
          if (mv_done) begin
            frame_valid <= 1'b1;
            frame_slot <= 8'(fetch_slot);
            frame_mfa <= fetch_mfa;
            frame_status <= err_after ? err_status : 3'd0;
            state <= S_IDLE;
          end
        S_DECODE: begin
          if (el_chain) begin
            chain_seen[depth[$clog2(MAX_CHAIN_DEPTH)-1:0]] <= el_addr;
            depth <= depth + 8'd1;
            seg_host <= el_addr;
            seg_pos <= CHAIN_LADDR;
            seg_end <= CHAIN_LADDR + el_length;
            move_is_data <= 1'b0;
            last_move <= 1'b0;
          end else begin  // simple
            w_left <= w_left - el_take;
            w_laddr <= w_laddr + el_take;
            w_moved <= w_moved + el_take;
            seg_pos <= seg_pos + el_size;
            move_is_data <= 1'b1;
            // Done once the bytes are moved; a list that ends first is short.
            last_move <= w_left == el_take || el_flags[0];
            if (w_left != el_take && el_flags[0]) begin
              done_result <= R_SHORT;
              done_element <= seg_pos;
              done_host_addr <= seg_host;
            end
          end
          state <= S_MOVE;
        end
        S_MOVE:
          if (mv_done) begin
            if (err_after) begin
              done_valid <= 1'b1;
              done_result <= R_BUS_ERROR;
              done_status <= err_status;
              done_host_addr <= err_addr;
              // The count stops at the failing request (later ones may have landed too).
              done_moved <= move_is_data ? w_moved - mv_total + 32'(err_addr - mv_first_host) : w_moved;
              done_depth <= depth;
              state <= S_IDLE;
            end else if (last_move) begin
              done_valid <= 1'b1;
              done_moved <= w_moved;
              done_depth <= depth;
              state <= S_IDLE;
            end else begin
              state <= S_DECODE;
            end
          end
        default: state <= S_IDLE;
      endcase
    end
  end

  logic waiting;  // only a completion can move the engine on
  assign waiting = (state == S_FETCH || state == S_MOVE) && !mv_done && !dev_req_valid;
  // A command or a frame to fetch counts only when the engine is free to start it: while a move
  // waits for its completions, they wait too, and the clock may stop.
  assign active = state == S_IDLE ? cmd_valid || (fetch_enable && reqf_valid && slot_free) : !waiting;

  logic unused;
  assign unused = ^{dev_wdata_ready, dev_rsp.data, dev_rsp.last, el_flags[7:6], el_flags[3], released_full,
                    released_overflow, released_underflow, released_count, released_head[7:SLOT_W]};

endmodule

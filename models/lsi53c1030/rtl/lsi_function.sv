// lsi_function: one PCI function of the LSI53C1030 (one SCSI channel) as the RTL sees it: the
// system interface (lsi_sysif: registers, Doorbell handshake, FIFOs, interrupt) and the DMA
// engines (lsi_dma: frame fetch, SGL walks, direct moves) on the shared DMA port (dma_port).
// The firmware's side (fw_*, hs_*, rpost_*, rfree_*, the DMA commands and frames) and local
// memory's read port are driven by the model's C++ side (models/lsi53c1030/lsi53c1030.cpp), as
// is the port's host side.
//
// A diagnostic reset (RESET_ADAPTER) or a message-unit reset also resets the DMA engines and the
// port: what was in flight is forgotten, as the IOC's own reset forgets it.
module lsi_function
  import dma_pkg::*;
(
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
    // the firmware's side of the system interface (lsi_sysif)
    input  logic [ 3:0] fw_state,
    input  logic [ 2:0] fw_who_init,
    input  logic [15:0] fw_fault_code,
    output logic        fw_msg_unit_reset,
    output logic        fw_hard_reset,
    output logic        hs_req_valid,
    output logic [31:0] hs_req_data,
    output logic        hs_req_last,
    input  logic        hs_reply_valid,
    input  logic [15:0] hs_reply_word,
    input  logic        hs_reply_last,
    output logic        hs_reply_ready,
    input  logic        hs_reply_none,
    output logic        hs_closed,
    input  logic        rpost_push,
    input  logic [31:0] rpost_data,
    output logic        rpost_full,
    output logic        rfree_valid,
    output logic [31:0] rfree_data,
    input  logic        rfree_pop,
    output logic        fifo_overflow,
    output logic        hs_violation,
    output logic [ 2:0] hs_violation_code,
    // the firmware's side of the DMA engines (lsi_dma)
    input  logic [31:0] host_mfa_high,
    input  logic        fetch_enable,
    output logic        frame_valid,
    output logic [ 7:0] frame_slot,
    output logic [31:0] frame_mfa,
    output logic [ 2:0] frame_status,
    input  logic        slot_release,
    input  logic [ 7:0] slot_release_index,
    input  logic        cmd_valid,
    output logic        cmd_ready,
    input  logic        cmd_walk,
    input  logic        cmd_to_host,
    input  logic [63:0] cmd_host_addr,
    input  logic [31:0] cmd_laddr,
    input  logic [31:0] cmd_length,
    input  logic [31:0] cmd_sgl_laddr,
    input  logic [31:0] cmd_sgl_end,
    output logic        done_valid,
    output logic [ 3:0] done_result,
    output logic [ 2:0] done_status,
    output logic [31:0] done_moved,
    output logic [63:0] done_host_addr,
    output logic [31:0] done_element,
    output logic [ 7:0] done_depth,
    output logic [31:0] lm_raddr,
    input  logic [95:0] lm_rdata,
    // the DMA port's host side
    output logic        host_req_valid,
    input  logic        host_req_ready,
    output dma_req_t    host_req,
    output logic        host_wdata_valid,
    input  logic        host_wdata_ready,
    output dma_data_t   host_wdata,
    input  logic        host_rsp_valid,
    output logic        host_rsp_ready,
    input  dma_rsp_t    host_rsp,
    output logic        dma_error,
    // something moves at the next edge without a register access or a completion
    output logic        active
);

  logic reqf_valid, reqf_pop;
  logic [31:0] reqf_data;

  lsi_sysif u_sysif (
      .clk, .rst_n, .reg_valid, .reg_write, .reg_addr, .reg_wdata, .reg_be, .reg_rdata, .irq,
      .fw_state, .fw_who_init, .fw_fault_code, .fw_msg_unit_reset, .fw_hard_reset,
      .hs_req_valid, .hs_req_data, .hs_req_last, .hs_reply_valid, .hs_reply_word, .hs_reply_last, .hs_reply_ready, .hs_reply_none, .hs_closed,
      .reqf_valid, .reqf_data, .reqf_pop, .rpost_push, .rpost_data, .rpost_full,
      .rfree_valid, .rfree_data, .rfree_pop, .fifo_overflow,
      .hs_violation, .hs_violation_code);

  // The reset pulses come from register writes at an edge; the engines start over at the next.
  logic engine_reset_q;
  always_ff @(posedge clk) engine_reset_q <= rst_n && (fw_hard_reset || fw_msg_unit_reset);
  logic dma_rst_n;
  assign dma_rst_n = rst_n && !engine_reset_q;

  logic dev_req_valid, dev_req_ready, dev_wdata_valid, dev_wdata_ready, dev_rsp_valid, dev_rsp_ready;
  dma_req_t dev_req;
  dma_data_t dev_wdata;
  dma_rsp_t dev_rsp;
  logic [7:0] outstanding;
  logic dma_active, dma_busy, port_holding;
  // Work for the next edge without new input: the engines', or words waiting in the port. A
  // completion the host side offers right now is the host side's to count, not the function's.
  assign active = dma_active || port_holding;

  lsi_dma u_dma (
      .clk, .rst_n(dma_rst_n), .reqf_valid, .reqf_data, .reqf_pop, .host_mfa_high, .fetch_enable,
      .frame_valid, .frame_slot, .frame_mfa, .frame_status, .slot_release, .slot_release_index,
      .cmd_valid, .cmd_ready, .cmd_walk, .cmd_to_host, .cmd_host_addr, .cmd_laddr, .cmd_length, .cmd_sgl_laddr,
      .cmd_sgl_end, .done_valid, .done_result, .done_status, .done_moved, .done_host_addr, .done_element,
      .done_depth, .lm_raddr, .lm_rdata, .active(dma_active),
      .dev_req_valid, .dev_req_ready, .dev_req, .dev_wdata_valid, .dev_wdata_ready, .dev_wdata,
      .dev_rsp_valid, .dev_rsp_ready, .dev_rsp);

  dma_port #(.WRITE_BEATS(1'b0)) u_port (
      .clk, .rst_n(dma_rst_n),
      .dev_req_valid, .dev_req_ready, .dev_req, .dev_wdata_valid, .dev_wdata_ready, .dev_wdata,
      .dev_rsp_valid, .dev_rsp_ready, .dev_rsp,
      .host_req_valid, .host_req_ready, .host_req, .host_wdata_valid, .host_wdata_ready, .host_wdata,
      .host_rsp_valid, .host_rsp_ready, .host_rsp,
      .outstanding, .busy(dma_busy), .holding(port_holding), .error(dma_error));

  logic unused;
  assign unused = ^{outstanding, dma_busy};

endmodule

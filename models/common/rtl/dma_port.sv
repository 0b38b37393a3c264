// dma_port: buffered DMA interface between a device model's DMA engine
// ("device side", dev_*) and the simulated host bus ("host side", host_*,
// driven from C++).
//
// Channels (each a valid/ready stream buffered by one sync_fifo; a transfer
// happens on a rising edge when valid && ready), payloads from dma_pkg:
//   req   dev -> host  dma_req_t {write, addr, len (1..4096 bytes), tag}
//   wdata dev -> host  dma_data_t beats, ceil(len/8) per write request, in
//                      request order
//   rsp   host -> dev  dma_rsp_t {tag, status, data, last}; reads return
//                      ceil(len/8) beats with last on the final one, writes
//                      return a single beat with last=1 and data 0
//
// Requests and responses fall through an empty FIFO: a word offered in cycle
// N crosses to the far side in cycle N when that side is ready, and waits in
// the FIFO (oldest first) when it is not, or when older words wait. So a
// device's request leaves at the edge it is offered, and a completion reaches
// the device at the edge it arrives, as on a PCIe core's bypass queues. Write
// data is registered: a beat accepted in cycle N is visible from cycle N+1.
// The far side's ready never reaches the near side's ready (each is only
// "this FIFO is not full"), so no loop runs through the port.
//
// Status:
//   outstanding  requests accepted on dev side whose last response beat has
//                not yet been delivered on dev side
//   busy         anything buffered or outstanding (lets the model sleep)
//   holding      a word waits in a FIFO: the port has work for the next edge
//                whatever its inputs do (a word falling through is the
//                offering side's work, not the port's)
//   error        sticky until reset: FIFO overflow/underflow, or a last
//                response beat arriving from the host while outstanding == 0
module dma_port
  import dma_pkg::*;
#(
    parameter int unsigned REQ_DEPTH  = 4,
    parameter int unsigned DATA_DEPTH = 16,
    parameter int unsigned RSP_DEPTH  = 16,
    parameter bit          WRITE_BEATS = 1'b1  // 0: every write is an lmem request (dma_pkg.sv)
) (
    input  logic      clk,
    input  logic      rst_n,
    // device side: requests in, write data beats in, responses out
    input  logic      dev_req_valid,
    output logic      dev_req_ready,
    input  dma_req_t  dev_req,
    input  logic      dev_wdata_valid,
    output logic      dev_wdata_ready,
    input  dma_data_t dev_wdata,
    output logic      dev_rsp_valid,
    input  logic      dev_rsp_ready,
    output dma_rsp_t  dev_rsp,
    // host side: requests out, write data out, responses in
    output logic      host_req_valid,
    input  logic      host_req_ready,
    output dma_req_t  host_req,
    output logic      host_wdata_valid,
    input  logic      host_wdata_ready,
    output dma_data_t host_wdata,
    input  logic      host_rsp_valid,
    output logic      host_rsp_ready,
    input  dma_rsp_t  host_rsp,
    // status
    output logic [7:0] outstanding,
    output logic       busy,
    output logic       holding,
    output logic       error
);

  localparam int unsigned REQ_W = $bits(dma_req_t);
  localparam int unsigned RSP_W = $bits(dma_rsp_t);

  // ---------------------------------------------------------------- req
  logic req_full, req_empty, req_ovf, req_unf;
  logic [$clog2(REQ_DEPTH+1)-1:0] req_count;
  logic dev_req_fire, host_req_fire;

  dma_req_t req_head;

  assign dev_req_ready = !req_full;
  assign host_req_valid = !req_empty || dev_req_valid;
  assign host_req = req_empty ? dev_req : req_head;
  assign dev_req_fire = dev_req_valid && dev_req_ready;
  assign host_req_fire = host_req_valid && host_req_ready;

  sync_fifo #(
      .WIDTH(REQ_W),
      .DEPTH(REQ_DEPTH)
  ) u_req_fifo (
      .clk      (clk),
      .rst_n    (rst_n),
      .push     (dev_req_fire && !(req_empty && host_req_ready)),
      .push_data(dev_req),
      .full     (req_full),
      .pop      (host_req_fire && !req_empty),
      .pop_data (req_head),
      .empty    (req_empty),
      .count    (req_count),
      .overflow (req_ovf),
      .underflow(req_unf)
  );

  // -------------------------------------------------------------- wdata
  logic wd_full, wd_empty, wd_ovf, wd_unf;
  logic [$clog2(DATA_DEPTH+1)-1:0] wd_count;

  assign dev_wdata_ready = !wd_full;
  assign host_wdata_valid = !wd_empty;

  if (WRITE_BEATS) begin : g_wdata
    sync_fifo #(
        .WIDTH($bits(dma_data_t)),
        .DEPTH(DATA_DEPTH)
    ) u_wdata_fifo (
        .clk      (clk),
        .rst_n    (rst_n),
        .push     (dev_wdata_valid && dev_wdata_ready),
        .push_data(dev_wdata),
        .full     (wd_full),
        .pop      (host_wdata_valid && host_wdata_ready),
        .pop_data (host_wdata),
        .empty    (wd_empty),
        .count    (wd_count),
        .overflow (wd_ovf),
        .underflow(wd_unf)
    );
  end else begin : g_no_wdata
    // A device whose writes are all lmem requests has no write data channel.
    assign wd_full = 1'b1;
    assign wd_empty = 1'b1;
    assign wd_count = '0;
    assign wd_ovf = dev_wdata_valid;  // a beat offered here is a device error
    assign wd_unf = 1'b0;
    assign host_wdata = '0;
    logic unused_wdata;
    assign unused_wdata = ^{dev_wdata, host_wdata_ready};
  end

  // ---------------------------------------------------------------- rsp
  logic rsp_full, rsp_empty, rsp_ovf, rsp_unf;
  logic [$clog2(RSP_DEPTH+1)-1:0] rsp_count;
  logic host_rsp_fire, dev_rsp_fire;

  dma_rsp_t rsp_head;

  assign host_rsp_ready = !rsp_full;
  assign dev_rsp_valid = !rsp_empty || host_rsp_valid;
  assign dev_rsp = rsp_empty ? host_rsp : rsp_head;
  assign host_rsp_fire = host_rsp_valid && host_rsp_ready;
  assign dev_rsp_fire = dev_rsp_valid && dev_rsp_ready;

  sync_fifo #(
      .WIDTH(RSP_W),
      .DEPTH(RSP_DEPTH)
  ) u_rsp_fifo (
      .clk      (clk),
      .rst_n    (rst_n),
      .push     (host_rsp_fire && !(rsp_empty && dev_rsp_ready)),
      .push_data(host_rsp),
      .full     (rsp_full),
      .pop      (dev_rsp_fire && !rsp_empty),
      .pop_data (rsp_head),
      .empty    (rsp_empty),
      .count    (rsp_count),
      .overflow (rsp_ovf),
      .underflow(rsp_unf)
  );

  // Only empty/full are needed here; counts stay wired for waveform
  // debugging. The unused_* name is waived by Verilator's --unused-regexp.
  logic unused_counts;
  assign unused_counts = ^{req_count, wd_count, rsp_count};

  // ------------------------------------------------------------- status
  logic spurious_rsp;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      outstanding  <= '0;
      spurious_rsp <= 1'b0;
    end else begin
      unique case ({dev_req_fire, dev_rsp_fire && dev_rsp.last})
        2'b10:   outstanding <= outstanding + 8'd1;
        2'b01:   outstanding <= outstanding - 8'd1;
        default: ;
      endcase
      // A final beat with nothing outstanding can't belong to any request.
      if (host_rsp_fire && host_rsp.last && outstanding == '0) spurious_rsp <= 1'b1;
    end
  end

  // FIFO flags can only trip if the handshake gating above is wrong; they
  // are folded in as a cheap self-check.
  assign error = spurious_rsp | req_ovf | req_unf | wd_ovf | wd_unf | rsp_ovf | rsp_unf;
  assign holding = !req_empty || !wd_empty || !rsp_empty;
  assign busy = holding || outstanding != '0;

  // ------------------------------------------------------------ protocol rules (--assert)
  // Each rule's comment is what a failure reports (models/common/rtl_assertion_report.cpp). An
  // offer the last edge left waiting must be offered again, unchanged. Written with registers
  // and immediate assertions rather than $stable, which would have Verilator copy every sampled
  // operand on each evaluation, not once an edge.
  logic dev_req_waited, dev_wdata_waited, host_req_waited, host_wdata_waited;
  dma_req_t dev_req_was, host_req_was;
  dma_data_t dev_wdata_was, host_wdata_was;
  always_ff @(posedge clk) begin
    dev_req_waited <= rst_n && dev_req_valid && !dev_req_ready;
    dev_wdata_waited <= rst_n && dev_wdata_valid && !dev_wdata_ready;
    host_req_waited <= rst_n && host_req_valid && !host_req_ready;
    host_wdata_waited <= rst_n && host_wdata_valid && !host_wdata_ready;
    dev_req_was <= dev_req;
    dev_wdata_was <= dev_wdata;
    host_req_was <= host_req;
    host_wdata_was <= host_wdata;
    if (rst_n) begin
      // A device holds the request it offers, unchanged, until the port takes it.
      a_dev_req_held : assert (!dev_req_waited || (dev_req_valid && dev_req == dev_req_was));
      // A device holds the write beat it offers, unchanged, until the port takes it.
      a_dev_wdata_held : assert (!dev_wdata_waited || (dev_wdata_valid && dev_wdata == dev_wdata_was));
      // The port holds the request it offers the host, unchanged, until the host takes it.
      a_host_req_held : assert (!host_req_waited || (host_req_valid && host_req == host_req_was));
      // The port holds the write beat it offers the host, unchanged, until the host takes it.
      a_host_wdata_held : assert (!host_wdata_waited || (host_wdata_valid && host_wdata == host_wdata_was));
    end
  end

endmodule

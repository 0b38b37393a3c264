// sync_fifo: single-clock, first-word-fall-through FIFO.
//
// - pop_data always shows the head entry while !empty; pop just advances.
// - push while full (and no pop) is dropped and sets sticky `overflow`.
// - pop while empty is ignored and sets sticky `underflow`.
// - push and pop together when full: both happen, count is unchanged.
// - push and pop together when empty: push is accepted, pop is an underflow.
// - Sticky flags clear only on reset (rst_n is synchronous, active low).
// - DEPTH need not be a power of two; pointers wrap explicitly.
module sync_fifo #(
    parameter int unsigned WIDTH = 32,
    parameter int unsigned DEPTH = 16
) (
    input  logic                       clk,
    input  logic                       rst_n,
    input  logic                       push,
    input  logic [WIDTH-1:0]           push_data,
    output logic                       full,
    input  logic                       pop,
    output logic [WIDTH-1:0]           pop_data,
    output logic                       empty,
    output logic [$clog2(DEPTH+1)-1:0] count,
    output logic                       overflow,
    output logic                       underflow
);

  // DEPTH >= 2 keeps the pointer width at least one bit.
  if (DEPTH < 2) begin : g_bad_depth
    $error("sync_fifo: DEPTH must be >= 2");
  end

  // Clamped so a bad DEPTH reports the $error above, not a cast failure.
  localparam int unsigned AW = (DEPTH < 2) ? 1 : $clog2(DEPTH);
  localparam int unsigned CW = $clog2(DEPTH + 1);
  localparam logic [AW-1:0] LAST_IDX = AW'(DEPTH - 1);
  localparam logic [CW-1:0] FULL_CNT = CW'(DEPTH);

  logic [WIDTH-1:0] mem[DEPTH];
  logic [AW-1:0] rd_ptr, wr_ptr;

  logic do_push, do_pop;

  // A pop on a full FIFO frees the slot the push writes into, so allow both.
  assign do_pop  = pop && !empty;
  assign do_push = push && (!full || do_pop);

  assign full     = (count == FULL_CNT);
  assign empty    = (count == '0);
  assign pop_data = mem[rd_ptr];

  function automatic logic [AW-1:0] next_ptr(input logic [AW-1:0] p);
    return (p == LAST_IDX) ? '0 : p + AW'(1);
  endfunction

  // Storage has no reset: entries are only observable once written.
  always_ff @(posedge clk) begin
    if (do_push) mem[wr_ptr] <= push_data;
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      rd_ptr    <= '0;
      wr_ptr    <= '0;
      count     <= '0;
      overflow  <= 1'b0;
      underflow <= 1'b0;
    end else begin
      if (do_push) wr_ptr <= next_ptr(wr_ptr);
      if (do_pop) rd_ptr <= next_ptr(rd_ptr);
      if (do_push && !do_pop) count <= count + CW'(1);
      else if (do_pop && !do_push) count <= count - CW'(1);
      if (push && !do_push) overflow <= 1'b1;
      if (pop && !do_pop) underflow <= 1'b1;
    end
  end

endmodule

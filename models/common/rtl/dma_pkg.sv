// dma_pkg: the payloads of the DMA port's channels (dma_port.sv) as packed structs, so a device
// connects one request and one response signal instead of their fields, and the port's buffers
// carry them whole. The first member is the most significant; the C++ side
// (models/common/dma_port_fields.hpp) reads and writes the same layout.
package dma_pkg;

  // A request, device to host: 86 bits.
  //   [85] write  [84:21] addr  [20:8] len (1..4096 bytes)  [7:0] tag
  typedef struct packed {
    logic        write;
    logic [63:0] addr;
    logic [12:0] len;
    logic [7:0]  tag;
  } dma_req_t;

  // A response beat, host to device: 76 bits.
  //   [75:68] tag  [67:65] status (0 successful)  [64:1] data  [0] last
  typedef struct packed {
    logic [7:0]  tag;
    logic [2:0]  status;
    logic [63:0] data;
    logic        last;
  } dma_rsp_t;

  // A write data beat: 8 bytes, byte i of a transfer in bits [8*(i%8) +: 8] of beat i/8.
  typedef logic [63:0] dma_data_t;

endpackage

// dma_pkg: the payloads of the DMA port's channels (dma_port.sv) as packed structs, so a device
// connects one request and one response signal instead of their fields, and the port's buffers
// carry them whole. The first member is the most significant; the C++ side
// (models/common/dma_port_fields.hpp) reads and writes the same layout.
package dma_pkg;

  // A request, device to host: 119 bits.
  //   [118] lmem  [117:86] laddr  [85] write  [84:21] addr  [20:8] len (1..4096 bytes)  [7:0] tag
  // An lmem request moves its bytes between host memory and the device's local memory at laddr
  // (an IOC's SRAM, held by the model's C++ side) instead of as beats: an lmem write sends no
  // write data beats, and an lmem read is answered by one beat (last, status, data 0) once the
  // bytes are in local memory. The request, its tag, its ordering and its status are the same.
  typedef struct packed {
    logic        lmem;
    logic [31:0] laddr;
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

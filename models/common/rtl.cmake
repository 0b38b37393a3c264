# Included from models/CMakeLists.txt: verilate() must run in the folder that defines dexthil_rtl.
set(_rtl ${CMAKE_CURRENT_LIST_DIR}/rtl)
# --x-initial unique: registers start from the context's seed (models/common/verilated_top.hpp), so a
# missing reset changes a run with the seed instead of hiding behind zeros (--x-initial fast).
# --assert: the RTL's SystemVerilog assertions run (failures: common/rtl_assertions.hpp).
# --timescale: time in the waveforms is picoseconds, as in the simulator.
set(_vflags -Wall --assert --x-assign fast --x-initial unique --timescale 1ps/1ps)

# The shared DMA port, as every device model embeds it.
verilate(dexthil_rtl PREFIX Vdma_port TOP_MODULE dma_port
  SOURCES ${_rtl}/dma_pkg.sv ${_rtl}/dma_port.sv ${_rtl}/sync_fifo.sv
  TRACE_FST VERILATOR_ARGS ${_vflags})

# The FIFO alone, at its defaults (32 x 16) and at an odd depth to prove the parameterisation.
verilate(dexthil_rtl PREFIX Vsync_fifo TOP_MODULE sync_fifo
  SOURCES ${_rtl}/sync_fifo.sv
  TRACE_FST VERILATOR_ARGS ${_vflags})
verilate(dexthil_rtl PREFIX Vsync_fifo_d5 TOP_MODULE sync_fifo
  SOURCES ${_rtl}/sync_fifo.sv
  TRACE_FST VERILATOR_ARGS ${_vflags} -GWIDTH=8 -GDEPTH=5)

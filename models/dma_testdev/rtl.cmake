# Included from models/CMakeLists.txt: verilate() must run in the folder that defines dexthil_rtl.
verilate(dexthil_rtl PREFIX Vdma_testdev TOP_MODULE dma_testdev
  SOURCES ${DEXTHIL_REGISTERS_DIR}/dma_testdev_regs.sv
          ${CMAKE_CURRENT_LIST_DIR}/../common/rtl/dma_pkg.sv
          ${CMAKE_CURRENT_LIST_DIR}/rtl/dma_testdev.sv
          ${CMAKE_CURRENT_LIST_DIR}/../common/rtl/dma_port.sv
          ${CMAKE_CURRENT_LIST_DIR}/../common/rtl/sync_fifo.sv
  TRACE_FST VERILATOR_ARGS ${_vflags})

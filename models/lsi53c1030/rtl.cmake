# Included from models/CMakeLists.txt: verilate() must run in the folder that defines dexthil_rtl.
verilate(dexthil_rtl PREFIX Vlsi_function TOP_MODULE lsi_function
  SOURCES ${DEXTHIL_REGISTERS_DIR}/lsi53c1030_regs.sv
          ${CMAKE_CURRENT_LIST_DIR}/../common/rtl/dma_pkg.sv
          ${CMAKE_CURRENT_LIST_DIR}/rtl/lsi_sysif.sv
          ${CMAKE_CURRENT_LIST_DIR}/rtl/lsi_dma.sv
          ${CMAKE_CURRENT_LIST_DIR}/rtl/lsi_function.sv
          ${CMAKE_CURRENT_LIST_DIR}/../common/rtl/dma_port.sv
          ${CMAKE_CURRENT_LIST_DIR}/../common/rtl/sync_fifo.sv
  TRACE_FST VERILATOR_ARGS ${_vflags})

# Included from models/CMakeLists.txt: verilate() must run in the folder that defines dexthil_rtl.
verilate(dexthil_rtl PREFIX Vlsi_sysif TOP_MODULE lsi_sysif
  SOURCES ${DEXTHIL_REGISTERS_DIR}/lsi53c1030_regs.sv
          ${CMAKE_CURRENT_LIST_DIR}/rtl/lsi_sysif.sv
          ${CMAKE_CURRENT_LIST_DIR}/../common/rtl/sync_fifo.sv
  TRACE_FST VERILATOR_ARGS ${_vflags})

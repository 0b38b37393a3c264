# dexthil_registers(DEVICE <name> DESCRIPTION <registers.toml>)
#
# Generates a device's register constants from its one description (docs/registers.md):
#   ${DEXTHIL_REGISTERS_DIR}/<name>_regs.sv    a SystemVerilog package for the RTL
#   ${DEXTHIL_REGISTERS_DIR}/<name>_registers.h a C++ header for the model, tests and dext
# Verilator's verilate() runs Verilator while CMake configures, so the package must exist by
# then: the generator (dexthil-regs) is compiled here at configure time from its sources, once,
# and the description is a configure dependency, so editing it regenerates both files.
set(DEXTHIL_REGISTERS_DIR ${PROJECT_BINARY_DIR}/generated/registers CACHE INTERNAL "generated register headers")

function(_dexthil_regs_bootstrap out)
  set(tool ${PROJECT_BINARY_DIR}/generated/dexthil-regs-bootstrap)
  set(sources ${PROJECT_SOURCE_DIR}/harness/regs/main.cpp ${PROJECT_SOURCE_DIR}/harness/regs/regs.cpp
              ${PROJECT_SOURCE_DIR}/harness/toml/reader.cpp ${PROJECT_SOURCE_DIR}/harness/sim/time.cpp)
  set(stale FALSE)
  if(NOT EXISTS ${tool})
    set(stale TRUE)
  endif()
  foreach(src ${sources} ${PROJECT_SOURCE_DIR}/harness/regs/regs.hpp ${PROJECT_SOURCE_DIR}/harness/toml/reader.hpp)
    set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
    if(${src} IS_NEWER_THAN ${tool})
      set(stale TRUE)
    endif()
  endforeach()
  if(stale)
    get_target_property(toml_includes tomlplusplus::tomlplusplus INTERFACE_INCLUDE_DIRECTORIES)
    set(includes -I${PROJECT_SOURCE_DIR})
    foreach(dir ${toml_includes})
      list(APPEND includes -I${dir})
    endforeach()
    file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/generated)
    message(STATUS "Building dexthil-regs for configure-time register generation")
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -std=c++20 -O1 ${includes} ${sources} -o ${tool}
                    RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(rc)
      message(FATAL_ERROR "cannot build dexthil-regs:\n${err}")
    endif()
  endif()
  set(${out} ${tool} PARENT_SCOPE)
endfunction()

function(dexthil_registers)
  cmake_parse_arguments(R "" "DEVICE;DESCRIPTION" "" ${ARGN})
  get_filename_component(description ${R_DESCRIPTION} ABSOLUTE)
  _dexthil_regs_bootstrap(tool)
  file(MAKE_DIRECTORY ${DEXTHIL_REGISTERS_DIR})
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${description})
  set(sv ${DEXTHIL_REGISTERS_DIR}/${R_DEVICE}_regs.sv)
  set(header ${DEXTHIL_REGISTERS_DIR}/${R_DEVICE}_registers.h)
  execute_process(COMMAND ${tool} ${description} --sv ${sv}.new --cxx ${header}.new
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc)
    message(FATAL_ERROR "${err}")
  endif()
  # Unchanged output keeps its time stamp, so a reconfigure does not rebuild the RTL.
  file(COPY_FILE ${sv}.new ${sv} ONLY_IF_DIFFERENT)
  file(COPY_FILE ${header}.new ${header} ONLY_IF_DIFFERENT)
endfunction()

#pragma once
// Turns what the fault guard saw when dext code died (a signal, a stack overflow, a hung
// callback) into a finding a person can act on: the exception in the words of a macOS crash
// report, where it happened (queue and method), and a backtrace of the dext's own frames,
// symbolised from its library (function, file:line where the library has debug information).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/driverkit/runtime/fault_guard.hpp"

namespace dexthil::driverkit {

struct CrashDescription {
  std::string check;  // dext.signal, dext.stack-overflow or dext.hang
  std::string what;
  std::string why;
};

// `queue` is the queue the block ran on; `label` the message it delivered (may be null).
CrashDescription describe_fault(const FaultRecord& fault, const std::string& queue, const char* label);

// One frame of the backtrace, from the innermost (the faulting instruction) out to the outermost
// frame in dext code; harness frames between dext frames are counted, not listed.
struct DextFrame {
  int index = 0;                // position in the whole backtrace
  int repeats = 0;              // identical frames folded into this one (deep recursion)
  int outside_frames_before = 0;  // frames outside the dext between this and the previous dext frame
  std::string outside_libraries;  // where those are: "libc.so.6, dexthil"
  std::string function;         // demangled, "" when unknown
  std::string location;         // "TestdevDriver.cpp:215", "" without debug information
  std::string library;          // file name of the dext library
  std::uintptr_t offset = 0;    // in that library
};
std::vector<DextFrame> symbolise_dext_frames(const FaultRecord& fault);
// addr2line over one library's offsets: "function at file:line" each, or nothing when binutils'
// addr2line is missing or the library has no debug information.
std::map<std::uintptr_t, std::string> addr2line(const std::string& library, const std::vector<std::uintptr_t>& offsets);
// "#0 TestdevDriver::TimerOccurred_Impl(...) at TestdevDriver.cpp:215 (libX.so+0x1a2b)"
std::string format_frame(const DextFrame& frame);

}  // namespace dexthil::driverkit

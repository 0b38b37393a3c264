#pragma once
// fio's I/O logs (write_iolog=, read_iolog=), versions 2 and 3 as fio's HOWTO describes them:
// a "fio version N iolog" line, then file actions (add, open, close) and I/O actions (read,
// write, sync, datasync, trim; version 2 also wait). Version 3 puts a timestamp first on every
// line: microseconds from the run's start (what fio 3.33 writes). A replay maps the log's one
// file onto the disk from offset 0, at the log's times.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/storage/block_front_end.hpp"

namespace dexthil::storage {

struct FioIolog {
  int version = 0;
  std::string file;          // the one file the log's I/O goes to
  std::vector<BlockOp> ops;  // with not_before: the time from the replay's start
  std::uint64_t reads = 0, writes = 0, syncs = 0;
};

// A log that cannot be replayed; what() is "NAME:LINE: error: what".
struct FioIologError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

FioIolog parse_fio_iolog(std::string_view text, const std::string& name);
FioIolog read_fio_iolog(const std::string& path);  // also FioIologError when it cannot be read

}  // namespace dexthil::storage

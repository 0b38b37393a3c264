#include "harness/storage/fio_iolog.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace dexthil::storage {
namespace {

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

}  // namespace

FioIolog parse_fio_iolog(std::string_view text, const std::string& name) {
  FioIolog log;
  std::size_t line_no = 0;
  auto fail = [&](const std::string& what) -> FioIologError {
    return FioIologError(name + ":" + std::to_string(line_no) + ": error: " + what);
  };
  auto number = [&](std::string_view word, const char* what) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
    if (ec != std::errc() || end != word.data() + word.size()) {
      throw fail(std::string(what) + " \"" + std::string(word) + "\" is not a non-negative integer");
    }
    return v;
  };
  std::uint64_t waited_us = 0;  // version 2: the waits so far
  bool open = false;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    const std::vector<std::string_view> w = words_of(line);
    if (line_no == 1) {
      if (w.size() == 4 && w[0] == "fio" && w[1] == "version" && w[3] == "iolog" && (w[2] == "2" || w[2] == "3")) {
        log.version = w[2][0] - '0';
        continue;
      }
      throw fail("not an fio iolog of version 2 or 3: the first line must be \"fio version 2 iolog\" or "
                 "\"fio version 3 iolog\"");
    }
    if (w.empty()) continue;
    std::size_t i = 0;
    std::uint64_t time_us = waited_us;
    if (log.version == 3) {
      time_us = number(w[0], "timestamp");
      i = 1;
    }
    const std::size_t fields = w.size() - i;
    if (fields != 2 && fields != 4) {
      throw fail("expected \"" + std::string(log.version == 3 ? "timestamp " : "") +
                 "filename action\" or \"...filename action offset length\", found " + std::to_string(w.size()) +
                 " fields");
    }
    const std::string_view file = w[i], action = w[i + 1];
    if (fields == 2) {
      if (action == "add") {
        if (!log.file.empty() && log.file != file) {
          throw fail("a second file \"" + std::string(file) + "\" (the log already uses \"" + log.file +
                     "\"): a replay maps one file onto the disk");
        }
        log.file = std::string(file);
      } else if (action == "open" || action == "close") {
        if (file != log.file) throw fail("\"" + std::string(file) + "\" is " + std::string(action) + "ed before it was added");
        open = action == "open";
      } else {
        throw fail("unknown file action \"" + std::string(action) + "\" (add, open and close are fio's)");
      }
      continue;
    }
    const std::uint64_t offset = number(w[i + 2], "offset"), length = number(w[i + 3], "length");
    if (action == "wait") {
      if (log.version == 3) throw fail("\"wait\" is not allowed in a version 3 log (timestamps replace it)");
      if (offset >= 100) waited_us += offset;  // fio discards waits below 100 us
      continue;
    }
    if (file != log.file || !open) throw fail("I/O on \"" + std::string(file) + "\", which is not open");
    BlockOp op;
    op.not_before = static_cast<sim::SimTime>(time_us) * sim::kMicrosecond;
    op.offset = offset;
    op.length = length;
    op.line = static_cast<std::uint32_t>(line_no);
    if (action == "read" || action == "write") {
      if (length == 0) throw fail("a " + std::string(action) + " of length 0");
      op.kind = action == "read" ? BlockOp::Kind::kRead : BlockOp::Kind::kWrite;
      ++(action == "read" ? log.reads : log.writes);
    } else if (action == "sync" || action == "datasync") {
      op.kind = BlockOp::Kind::kSync;
      op.offset = op.length = 0;
      ++log.syncs;
    } else if (action == "trim") {
      throw fail("\"trim\" cannot be replayed: the storage stack here sends no UNMAP");
    } else {
      throw fail("unknown I/O action \"" + std::string(action) + "\" (read, write, sync, datasync, trim" +
                 (log.version == 2 ? ", wait" : "") + " are fio's)");
    }
    log.ops.push_back(op);
  }
  if (log.version == 0) {
    line_no = 1;
    throw fail("empty: not an fio iolog");
  }
  return log;
}

FioIolog read_fio_iolog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FioIologError(path + ": error: cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_fio_iolog(text.str(), path);
}

}  // namespace dexthil::storage

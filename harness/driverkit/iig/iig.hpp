#pragma once
// dexthil-iig: the harness's substitute for Apple's iig. It reads a dext's .iig class
// declarations and writes the C++ header and implementation file the host DriverKit runtime
// expects (see docs/iig.md and <DriverKit/IORPC.h>). Parsing and generation are pure functions
// on strings, so the tests need no files beyond their fixtures.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dexthil::iig {

// A bad input: where (1-based line and column) and what. what() is "LINE:COL: error: MESSAGE".
class IigError : public std::runtime_error {
 public:
  IigError(int line, int column, const std::string& message);
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  int line_;
  int column_;
  std::string message_;
};

enum class Access { kPublic, kProtected, kPrivate };

struct IigParam {
  std::string type;           // as written, without parameter attributes: "IOService *"
  std::string name;           // "provider"
  std::string array;          // "[32]" for an array parameter, else empty
  std::string default_value;  // "0" for "= 0", else empty
};

struct IigMethod {
  Access access = Access::kPrivate;
  bool is_virtual = false;
  bool is_static = false;
  bool is_const = false;
  bool is_override = false;  // `override` or APPLE_KEXT_OVERRIDE
  bool is_final = false;
  bool local_only = false;  // LOCALONLY
  bool is_message = false;  // decided by the parser (see docs/iig.md, "Messages")
  std::string return_type;
  std::string name;
  std::vector<IigParam> params;
  std::string queue;       // QUEUENAME(queue), empty without
  std::string type_class;  // TYPE(type_class::type_method), empty without
  std::string type_method;
  int line = 0;
  int column = 0;
};

struct IigClass {
  std::string name;
  std::string base;
  bool is_final = false;
  std::vector<IigMethod> methods;  // in declaration order
  int line = 0;
  int column = 0;
};

// A parsed .iig: the text around the classes and the classes themselves. passthrough[i] is the
// text before classes[i] (with .iig includes already turned into .h ones); passthrough.back()
// is the text after the last class, so passthrough.size() == classes.size() + 1.
struct IigFile {
  std::vector<std::string> passthrough;
  std::vector<IigClass> classes;
};

struct GeneratedFiles {
  std::string header;
  std::string impl;
};

// The names in the generated banner and include: the input's and the header's base names.
struct GenerateOptions {
  std::string input_name;   // "TestdevDriver.iig"
  std::string header_name;  // "TestdevDriver.h"
};

// Overrides of these names are messages (the DriverKit families' messages a dext implements).
bool is_known_message(std::string_view name);
const std::vector<std::string_view>& known_messages();

// The message ID of a method: FNV-1a (64 bit) of its name alone, as in <DriverKit/IORPC.h>.
std::uint64_t message_id(std::string_view method);

// Throws IigError on bad input.
IigFile parse(std::string_view source);
GeneratedFiles generate(const IigFile& file, const GenerateOptions& options);

// parse + generate; on bad input returns nullopt with "LINE:COL: error: MESSAGE" in *error.
std::optional<GeneratedFiles> translate(std::string_view source, const GenerateOptions& options, std::string* error);

// The whole file, or nullopt if it cannot be read.
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace dexthil::iig

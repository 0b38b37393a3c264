// <os/log.h> on simulated time: each record is a line in the run's log, like IOLog's.
#include <os/log.h>

#include <DriverKit/IOLib.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/driverkit/classes/os_log_format.hpp"
#include "harness/driverkit/kernel/kernel.hpp"

struct dexthil_os_log_s {
  std::string subsystem, category;
};
struct dexthil_os_log_s _os_log_default;

namespace dexthil::driverkit {
namespace {

// snprintf into a string of the length it needs.
template <class... A>
void append_printf(std::string* out, const char* format, A... args) {
  const int n = std::snprintf(nullptr, 0, format, args...);
  if (n <= 0) return;
  const std::size_t at = out->size();
  out->resize(at + static_cast<std::size_t>(n) + 1);
  std::snprintf(out->data() + at, static_cast<std::size_t>(n) + 1, format, args...);
  out->resize(at + static_cast<std::size_t>(n));
}

bool has_word(std::string_view annotations, std::string_view word) {
  std::size_t at = 0;
  while (at <= annotations.size()) {
    std::size_t end = annotations.find(',', at);
    if (end == std::string_view::npos) end = annotations.size();
    std::string_view w = annotations.substr(at, end - at);
    while (!w.empty() && w.front() == ' ') w.remove_prefix(1);
    while (!w.empty() && w.back() == ' ') w.remove_suffix(1);
    if (w == word) return true;
    at = end + 1;
  }
  return false;
}

}  // namespace

std::string format_os_log(const char* format, va_list args) {
  std::string out;
  for (const char* p = format; *p;) {
    if (*p != '%') {
      out += *p++;
      continue;
    }
    const char* start = p++;
    if (*p == '%') {
      out += '%';
      ++p;
      continue;
    }
    std::string_view annotations;
    if (*p == '{') {
      const char* close = std::strchr(p, '}');
      if (!close) {  // not a specifier after all: print it as it stands
        out += start;
        break;
      }
      annotations = std::string_view(p + 1, static_cast<std::size_t>(close - p - 1));
      p = close + 1;
    }
    // printf's own grammar: flags, width, precision, length, conversion. '*' takes an int.
    std::string spec = "%";
    while (*p && std::strchr("-+ #0'", *p)) spec += *p++;
    if (*p == '*') {
      spec += std::to_string(va_arg(args, int));
      ++p;
    } else {
      while (*p >= '0' && *p <= '9') spec += *p++;
    }
    int precision = -1;
    if (*p == '.') {
      ++p;
      if (*p == '*') {
        precision = va_arg(args, int);
        ++p;
      } else {
        precision = 0;
        while (*p >= '0' && *p <= '9') precision = precision * 10 + (*p++ - '0');
      }
      if (precision >= 0) spec += "." + std::to_string(precision);
    }
    std::string length;
    while (*p && std::strchr("hljztLq", *p)) length += *p++;
    const char conversion = *p ? *p++ : '\0';
    const bool as_bool = has_word(annotations, "bool");
    const bool as_objc_bool = has_word(annotations, "BOOL");
    const bool as_errno = has_word(annotations, "errno") || has_word(annotations, "darwin.errno");
    switch (conversion) {
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X':
      case 'c': {
        long long value;
        if (length == "ll" || length == "q") value = va_arg(args, long long);
        else if (length == "l") value = va_arg(args, long);
        else if (length == "j") value = static_cast<long long>(va_arg(args, intmax_t));
        else if (length == "z") value = static_cast<long long>(va_arg(args, size_t));
        else if (length == "t") value = static_cast<long long>(va_arg(args, ptrdiff_t));
        else value = va_arg(args, int);
        if (as_bool || as_objc_bool) {
          out += value ? (as_bool ? "true" : "YES") : (as_bool ? "false" : "NO");
        } else if (as_errno) {
          out += "[" + std::to_string(value) + ": " + std::strerror(static_cast<int>(value)) + "]";
        } else {
          // Every integer was read as long long above, so print it as one with the same
          // conversion; a shorter length truncates the way printf would have.
          std::string wide = spec;
          if (length == "hh") value = conversion == 'd' || conversion == 'i' ? static_cast<signed char>(value)
                                                                              : static_cast<unsigned char>(value);
          else if (length == "h") value = conversion == 'd' || conversion == 'i' ? static_cast<short>(value)
                                                                                 : static_cast<unsigned short>(value);
          else if (length.empty() && conversion != 'd' && conversion != 'i' && conversion != 'c')
            value = static_cast<unsigned>(value);
          wide += conversion == 'c' ? "c" : std::string("ll") + conversion;
          if (conversion == 'c') append_printf(&out, wide.c_str(), static_cast<int>(value));
          else append_printf(&out, wide.c_str(), value);
        }
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
      case 'a':
      case 'A': {
        if (length == "L") {
          append_printf(&out, (spec + "L" + conversion).c_str(), va_arg(args, long double));
        } else {
          append_printf(&out, (spec + conversion).c_str(), va_arg(args, double));
        }
        break;
      }
      case 's': {
        const char* s = va_arg(args, const char*);
        append_printf(&out, (spec + "s").c_str(), s ? s : "(null)");
        break;
      }
      case 'p':
      case '@': {  // '@' is an object; DriverKit code has no Objective-C, so it is its address
        append_printf(&out, "%p", va_arg(args, void*));
        break;
      }
      case 'P': {  // os_log's bytes at a pointer: the precision says how many
        const auto* bytes = static_cast<const unsigned char*>(va_arg(args, const void*));
        if (!bytes) {
          out += "<NULL>";
          break;
        }
        for (int i = 0; i < (precision < 0 ? 0 : precision); ++i) {
          append_printf(&out, "%02X", bytes[i]);
        }
        break;
      }
      case 'm':
        out += std::strerror(errno);
        break;
      case 'n':  // os_log has no %n: it would write through the argument
        (void)va_arg(args, void*);
        out += "<%n is not supported>";
        break;
      default:  // an incomplete or unknown specifier prints as written, as printf leaves it
        out.append(start, static_cast<std::size_t>(p - start));
        break;
    }
  }
  return out;
}

}  // namespace dexthil::driverkit

os_log_t os_log_create(const char* subsystem, const char* category) {
  // A log lives as long as the process, as on macOS (os_log_create's logs are never freed).
  static std::vector<std::unique_ptr<dexthil_os_log_s>> logs;
  logs.push_back(std::make_unique<dexthil_os_log_s>(
      dexthil_os_log_s{subsystem ? subsystem : "", category ? category : ""}));
  return logs.back().get();
}

int os_log_type_enabled(os_log_t log, os_log_type_t) { return log != OS_LOG_DISABLED; }

void dexthil_os_log_with_type(os_log_t log, os_log_type_t type, const char* format, ...) {
  if (log == OS_LOG_DISABLED) return;
  va_list args;
  va_start(args, format);
  std::string text = dexthil::driverkit::format_os_log(format, args);
  va_end(args);
  // A record is one line: a trailing newline in the format is already the record's end.
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::string prefix;
  switch (type) {
    case OS_LOG_TYPE_INFO: prefix = "info: "; break;
    case OS_LOG_TYPE_DEBUG: prefix = "debug: "; break;
    case OS_LOG_TYPE_ERROR: prefix = "error: "; break;
    case OS_LOG_TYPE_FAULT: prefix = "fault: "; break;
    default: break;
  }
  if (!log->subsystem.empty() || !log->category.empty()) prefix += "[" + log->subsystem + ":" + log->category + "] ";
  IOLog("%s%s\n", prefix.c_str(), text.c_str());
}

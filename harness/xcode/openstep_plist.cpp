#include "harness/xcode/openstep_plist.hpp"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace dexthil::xcode {

const Value* Value::find(std::string_view key) const {
  for (const Entry& e : entries) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

const char* Value::kind_name() const {
  switch (kind) {
    case Kind::kString: return "a string";
    case Kind::kArray: return "an array";
    case Kind::kDictionary: return "a dictionary";
    case Kind::kData: return "data";
  }
  return "a value";
}

namespace {

// Deep enough for any project (Xcode nests about 5 levels); bounds the recursion on hostile input.
constexpr int kMaxDepth = 200;

struct ParseError {
  Position at;
  std::string message;
};

bool is_bare(char c) {
  return ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '_' || c == '$' ||
         c == '/' || c == ':' || c == '.' || c == '-' || c == '+';
}

int hex_digit(char c) {
  if ('0' <= c && c <= '9') return c - '0';
  if ('a' <= c && c <= 'f') return c - 'a' + 10;
  if ('A' <= c && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string* out, std::uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : src_(text) {
    // A UTF-8 byte order mark is not content; columns still count it, as an editor would.
    if (src_.substr(0, 3) == "\xef\xbb\xbf") advance(3);
  }

  Value parse_document() {
    skip_space();
    Value v = parse_value(0);
    skip_space();
    if (pos_ < src_.size()) fail(here(), "expected the end of the file after the top-level value, found " + found());
    return v;
  }

 private:
  Position here() const { return {line_, column_}; }

  [[noreturn]] void fail(Position at, std::string message) { throw ParseError{at, std::move(message)}; }

  void advance(std::size_t n = 1) {
    for (std::size_t i = 0; i < n && pos_ < src_.size(); ++i) {
      if (src_[pos_++] == '\n') {
        ++line_;
        column_ = 1;
      } else {
        ++column_;
      }
    }
  }

  // What stands at the current position, for "found ..." in messages.
  std::string found() const {
    if (pos_ >= src_.size()) return "the end of the file";
    const char c = src_[pos_];
    if (c == '"' || c == '\'') return "a quoted string";
    if (is_bare(c)) {
      std::size_t end = pos_;
      while (end < src_.size() && is_bare(src_[end]) && end - pos_ < 40) ++end;
      return "'" + std::string(src_.substr(pos_, end - pos_)) + "'";
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "byte 0x%02x", static_cast<unsigned char>(c));
      return buf;
    }
    return std::string("'") + c + "'";
  }

  // Whitespace and both kinds of comments.
  void skip_space() {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        advance();
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') advance();
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '*') {
        const Position start = here();
        advance(2);
        for (;;) {
          if (pos_ >= src_.size()) fail(start, "unterminated comment (no closing '*/')");
          if (src_[pos_] == '*' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
            advance(2);
            break;
          }
          advance();
        }
      } else {
        break;
      }
    }
  }

  Value parse_value(int depth) {
    if (depth > kMaxDepth) fail(here(), "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    Value v;
    v.position = here();
    if (pos_ >= src_.size()) fail(here(), "expected a value (a string, '{', '(' or '<'), found " + found());
    const char c = src_[pos_];
    if (c == '{') {
      v.kind = Value::Kind::kDictionary;
      parse_dictionary(&v, depth);
    } else if (c == '(') {
      v.kind = Value::Kind::kArray;
      parse_array(&v, depth);
    } else if (c == '<') {
      v.kind = Value::Kind::kData;
      parse_data(&v);
    } else if (c == '"' || c == '\'') {
      v.text = parse_quoted();
    } else if (is_bare(c)) {
      const std::size_t start = pos_;
      while (pos_ < src_.size() && is_bare(src_[pos_])) advance();
      v.text = std::string(src_.substr(start, pos_ - start));
    } else {
      fail(here(), "expected a value (a string, '{', '(' or '<'), found " + found());
    }
    return v;
  }

  void parse_dictionary(Value* dict, int depth) {
    const Position open = here();
    advance();  // '{'
    std::unordered_map<std::string, Position> seen;
    for (;;) {
      skip_space();
      if (pos_ < src_.size() && src_[pos_] == '}') {
        advance();
        return;
      }
      if (pos_ >= src_.size() || !(src_[pos_] == '"' || src_[pos_] == '\'' || is_bare(src_[pos_]))) {
        fail(here(), "expected a key or '}' in the dictionary opened at line " + std::to_string(open.line) +
                         ", column " + std::to_string(open.column) + ", found " + found());
      }
      Entry e;
      e.key_position = here();
      e.key = parse_value(depth + 1).text;
      if (auto [it, fresh] = seen.emplace(e.key, e.key_position); !fresh) {
        fail(e.key_position, "duplicate key '" + e.key + "' (first at line " + std::to_string(it->second.line) +
                                 ", column " + std::to_string(it->second.column) + ")");
      }
      skip_space();
      if (pos_ >= src_.size() || src_[pos_] != '=') {
        fail(here(), "expected '=' after the key '" + e.key + "', found " + found());
      }
      advance();
      skip_space();
      e.value = parse_value(depth + 1);
      skip_space();
      if (pos_ >= src_.size() || src_[pos_] != ';') {
        fail(here(), "expected ';' after the value of '" + e.key + "', found " + found());
      }
      advance();
      dict->entries.push_back(std::move(e));
    }
  }

  void parse_array(Value* array, int depth) {
    const Position open = here();
    advance();  // '('
    for (;;) {
      skip_space();
      if (pos_ < src_.size() && src_[pos_] == ')') {
        advance();
        return;
      }
      if (pos_ >= src_.size()) {
        fail(here(), "expected a value or ')' in the array opened at line " + std::to_string(open.line) + ", column " +
                         std::to_string(open.column) + ", found " + found());
      }
      array->items.push_back(parse_value(depth + 1));
      skip_space();
      if (pos_ < src_.size() && src_[pos_] == ',') {
        advance();
      } else if (pos_ >= src_.size() || src_[pos_] != ')') {
        fail(here(), "expected ',' or ')' after an array element, found " + found());
      }
    }
  }

  void parse_data(Value* data) {
    advance();  // '<'
    // The high nibble of a byte not yet complete.
    int pending = -1;
    for (;;) {
      skip_space();
      if (pos_ >= src_.size()) fail(here(), "expected hex digits or '>' in data, found " + found());
      const char c = src_[pos_];
      if (c == '>') {
        if (pending >= 0) fail(here(), "odd number of hex digits in data");
        advance();
        return;
      }
      const int d = hex_digit(c);
      if (d < 0) fail(here(), "expected hex digits or '>' in data, found " + found());
      if (pending < 0) {
        pending = d;
      } else {
        data->text.push_back(static_cast<char>(pending << 4 | d));
        pending = -1;
      }
      advance();
    }
  }

  std::uint32_t read_u_escape(Position at) {
    std::uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = pos_ < src_.size() ? hex_digit(src_[pos_]) : -1;
      if (d < 0) fail(at, "expected 4 hex digits after '\\U'");
      cp = cp << 4 | static_cast<std::uint32_t>(d);
      advance();
    }
    return cp;
  }

  std::string parse_quoted() {
    const Position start = here();
    const char quote = src_[pos_];
    advance();
    std::string out;
    for (;;) {
      if (pos_ >= src_.size()) fail(start, std::string("unterminated string (no closing ") + quote + ")");
      const char c = src_[pos_];
      if (c == quote) {
        advance();
        return out;
      }
      if (c != '\\') {
        out.push_back(c);
        advance();
        continue;
      }
      const Position at = here();
      advance();
      if (pos_ >= src_.size()) fail(start, std::string("unterminated string (no closing ") + quote + ")");
      const char e = src_[pos_];
      advance();
      switch (e) {
        case '"':
        case '\'':
        case '\\': out.push_back(e); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        case 'U': {
          std::uint32_t cp = read_u_escape(at);
          if (0xd800 <= cp && cp < 0xdc00) {
            // A character outside the BMP is written as a UTF-16 surrogate pair.
            if (src_.substr(pos_, 2) != "\\U") fail(at, "unpaired UTF-16 surrogate in '\\U' escape");
            const Position low_at = here();
            advance(2);
            const std::uint32_t low = read_u_escape(low_at);
            if (low < 0xdc00 || low >= 0xe000) fail(at, "unpaired UTF-16 surrogate in '\\U' escape");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (0xdc00 <= cp && cp < 0xe000) {
            fail(at, "unpaired UTF-16 surrogate in '\\U' escape");
          }
          append_utf8(&out, cp);
          break;
        }
        default: fail(at, std::string("unknown escape '\\") + e + "' in a string");
      }
    }
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

}  // namespace

std::optional<Value> parse_openstep_plist(std::string_view text, const std::string& file_name, std::string* error) {
  try {
    return Parser(text).parse_document();
  } catch (const ParseError& e) {
    *error = file_name + ":" + std::to_string(e.at.line) + ":" + std::to_string(e.at.column) + ": error: " + e.message;
    return std::nullopt;
  }
}

std::optional<Value> load_openstep_plist(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": error: cannot open the file";
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_openstep_plist(buffer.str(), path, error);
}

}  // namespace dexthil::xcode

#include "harness/driverkit/iig/iig.hpp"

#include "harness/driverkit/families/family_definition.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace dexthil::iig {

IigError::IigError(int line, int column, const std::string& message)
    : std::runtime_error(std::to_string(line) + ":" + std::to_string(column) + ": error: " + message),
      line_(line),
      column_(column),
      message_(message) {}

namespace {


// Method attributes that only steer Apple's IPC code; dexthil accepts and drops them (LOCALONLY
// is looked at when deciding what is local).
// clang-format off
const std::set<std::string, std::less<>> kPlainAttributes = {
    "LOCAL", "LOCALONLY", "REMOTE", "KERNEL", "NATIVE", "LOCALHOST", "INVOKEREPLY", "REPLY", "PORTMAKESEND",
    "PORTCOPYSEND",
};
// clang-format on
const std::set<std::string, std::less<>> kParamAttributes = {"TARGET", "PORTMAKESEND", "PORTCOPYSEND"};

// ---------------------------------------------------------------------------------------------
// Tokens

enum class Kind { kIdent, kNumber, kString, kPunct, kDirective, kEnd };

struct Token {
  Kind kind = Kind::kEnd;
  std::string text;
  int line = 0;
  int column = 0;
  std::size_t begin = 0;  // byte offsets into the source, for passing text through verbatim
  std::size_t end = 0;
  bool space_before = false;  // whitespace or a comment separates it from the previous token

  bool is(std::string_view s) const { return (kind == Kind::kPunct || kind == Kind::kIdent) && text == s; }
  bool ident() const { return kind == Kind::kIdent; }
};

// Splits the source into C++ tokens. Comments become whitespace; a preprocessor directive
// (with its continuation lines) is one token, so nothing inside it is mistaken for a class.
class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    bool space = false;
    bool line_start = true;
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == '\n') {
        advance();
        space = true;
        line_start = true;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(c))) {
        advance();
        space = true;
        continue;
      }
      if (skip_comment()) {
        space = true;
        continue;
      }
      Token t;
      t.line = line_;
      t.column = column_;
      t.begin = pos_;
      t.space_before = space;
      if (c == '#' && line_start) {
        lex_directive();
        t.kind = Kind::kDirective;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) {
          advance();
        }
        t.kind = Kind::kIdent;
        const std::string_view word = src_.substr(t.begin, pos_ - t.begin);
        if (pos_ < src_.size() && src_[pos_] == '"' &&
            (word == "R" || word == "LR" || word == "uR" || word == "UR" || word == "u8R")) {
          lex_raw_string(t);
          t.kind = Kind::kString;
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && pos_ + 1 < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
        lex_number();
        t.kind = Kind::kNumber;
      } else if (c == '"' || c == '\'') {
        lex_quoted(t, c);
        t.kind = Kind::kString;
      } else {
        t.kind = Kind::kPunct;
        const std::string_view rest = src_.substr(pos_);
        const std::size_t n = rest.starts_with("...") ? 3 : (rest.starts_with("::") || rest.starts_with("->")) ? 2 : 1;
        for (std::size_t k = 0; k < n; ++k) advance();
      }
      t.end = pos_;
      t.text = std::string(src_.substr(t.begin, t.end - t.begin));
      out.push_back(std::move(t));
      space = false;
      line_start = false;
    }
    Token end;
    end.line = line_;
    end.column = column_;
    end.begin = end.end = src_.size();
    end.space_before = true;
    out.push_back(end);
    return out;
  }

 private:
  void advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++pos_;
  }
  bool at(std::string_view s) const { return src_.substr(pos_).starts_with(s); }

  bool skip_comment() {
    if (at("//")) {
      while (pos_ < src_.size() && src_[pos_] != '\n') advance();
      return true;
    }
    if (at("/*")) {
      const int line = line_, column = column_;
      advance();
      advance();
      while (!at("*/")) {
        if (pos_ >= src_.size()) throw IigError(line, column, "unterminated comment");
        advance();
      }
      advance();
      advance();
      return true;
    }
    return false;
  }

  // Up to the end of the line, following backslash continuations and block comments.
  void lex_directive() {
    while (pos_ < src_.size() && src_[pos_] != '\n') {
      if (at("\\\n")) {
        advance();
        advance();
      } else if (at("/*")) {
        skip_comment();
      } else {
        advance();
      }
    }
  }

  void lex_number() {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if ((c == '+' || c == '-') && std::string_view("eEpP").find(src_[pos_ - 1]) != std::string_view::npos) {
        advance();
      } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                 (c == '\'' && pos_ + 1 < src_.size() && std::isalnum(static_cast<unsigned char>(src_[pos_ + 1])))) {
        advance();
      } else {
        break;
      }
    }
  }

  void lex_quoted(const Token& t, char quote) {
    advance();
    while (true) {
      if (pos_ >= src_.size() || src_[pos_] == '\n') {
        throw IigError(t.line, t.column,
                       quote == '"' ? "unterminated string literal" : "unterminated character literal");
      }
      if (src_[pos_] == '\\' && pos_ + 1 < src_.size()) {
        advance();
      } else if (src_[pos_] == quote) {
        advance();
        return;
      }
      advance();
    }
  }

  void lex_raw_string(const Token& t) {
    advance();  // the opening quote
    const std::size_t open = src_.find('(', pos_);
    if (open == std::string_view::npos) throw IigError(t.line, t.column, "unterminated string literal");
    const std::string close = ")" + std::string(src_.substr(pos_, open - pos_)) + "\"";
    const std::size_t stop = src_.find(close, open);
    if (stop == std::string_view::npos) throw IigError(t.line, t.column, "unterminated string literal");
    while (pos_ < stop + close.size()) advance();
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

// Tokens as text: one space where the source had whitespace or a comment, none elsewhere.
std::string join(const std::vector<Token>& tokens, std::size_t from = 0, std::size_t to = std::string::npos) {
  std::string out;
  to = std::min(to, tokens.size());
  for (std::size_t k = from; k < to; ++k) {
    if (k > from && tokens[k].space_before) out += ' ';
    out += tokens[k].text;
  }
  return out;
}

bool all_caps(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  bool letter = false;
  for (char c : s) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      letter = true;
    } else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return letter;
}

// `#include <X/Y.iig>` -> `#include <X/Y.h>`, `#include "Y.iig"` -> `#include "Y.h"`; other
// directives stay as they are (nullopt).
std::optional<std::string> translate_include(const std::string& directive) {
  std::size_t p = directive.find_first_not_of(" \t", 1);
  if (p == std::string::npos || directive.compare(p, 7, "include") != 0) return std::nullopt;
  p = directive.find_first_not_of(" \t", p + 7);
  if (p == std::string::npos || (directive[p] != '<' && directive[p] != '"')) return std::nullopt;
  const std::size_t close = directive.find(directive[p] == '<' ? '>' : '"', p + 1);
  if (close == std::string::npos || close - p - 1 < 4 || directive.compare(close - 4, 4, ".iig") != 0) {
    return std::nullopt;
  }
  return directive.substr(0, close - 4) + ".h" + directive.substr(close);
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> tokens) : src_(src), toks_(std::move(tokens)) {}

  IigFile run() {
    IigFile file;
    std::size_t cut = 0;  // where the text not yet passed through begins
    int depth = 0;
    for (std::size_t i = 0; toks_[i].kind != Kind::kEnd;) {
      const Token& t = toks_[i];
      if (t.kind == Kind::kDirective) {
        if (auto include = translate_include(t.text)) edits_.push_back({t.begin, t.end, *include});
        ++i;
        continue;
      }
      if (t.is("{")) ++depth;
      if (t.is("}") && depth > 0) --depth;
      if (t.is("template")) {
        i = skip_template(i);
        continue;
      }
      const bool after_enum = i > 0 && toks_[i - 1].is("enum");
      if ((t.is("class") || t.is("struct")) && !after_enum && is_definition_head(i)) {
        const Token& name = toks_[i + 1];
        if (t.is("struct")) {
          if (depth == 0 && toks_[head_end(i)].is(":")) {
            throw error(t, "struct '" + name.text + "' has a base class: declare iig classes as 'class " + name.text +
                               " : public BASE'");
          }
          ++i;  // a plain struct passes through
          continue;
        }
        if (depth > 0) {
          throw error(t, "class " + name.text + " inside braces: iig classes are declared at file scope");
        }
        file.passthrough.push_back(passthrough(cut, t.begin));
        file.classes.push_back(parse_class(i));
        cut = toks_[i - 1].end;
        continue;
      }
      ++i;
    }
    file.passthrough.push_back(passthrough(cut, src_.size()));
    return file;
  }

 private:
  struct Edit {
    std::size_t begin, end;
    std::string text;
  };

  IigError error(const Token& at, const std::string& message) const { return IigError(at.line, at.column, message); }
  // Just after `t`, where a missing ';' belongs.
  IigError error_after(const Token& t, const std::string& message) const {
    return IigError(t.line, t.column + static_cast<int>(t.text.size()), message);
  }

  std::string passthrough(std::size_t from, std::size_t to) const {
    std::string out;
    for (const Edit& e : edits_) {
      if (e.begin < from || e.end > to) continue;
      out.append(src_.substr(from, e.begin - from));
      out += e.text;
      from = e.end;
    }
    out.append(src_.substr(from, to - from));
    return out;
  }

  // `class NAME [final]` followed by ':' or '{' starts a definition; anything else (a forward
  // declaration, an elaborated type) is ordinary text.
  std::size_t head_end(std::size_t i) const {
    std::size_t j = i + 2;
    if (toks_[j].is("final")) ++j;
    return j;
  }
  bool is_definition_head(std::size_t i) const {
    if (!toks_[i + 1].ident()) return false;
    const Token& after = toks_[head_end(i)];
    return after.is(":") || after.is("{");
  }

  // `template <...>`; a class definition right after it is an error, anything else (a template
  // struct or function) passes through.
  std::size_t skip_template(std::size_t i) {
    std::size_t j = i + 1;
    if (toks_[j].is("<")) {
      int angle = 0;
      for (; toks_[j].kind != Kind::kEnd; ++j) {
        if (toks_[j].is("<")) ++angle;
        if (toks_[j].is(">") && --angle == 0) {
          ++j;
          break;
        }
      }
    }
    if (toks_[j].is("class") && is_definition_head(j)) {
      throw error(toks_[j], "template class '" + toks_[j + 1].text + "': iig classes cannot be templates");
    }
    return j;
  }

  IigClass parse_class(std::size_t& i) {
    IigClass cls;
    const Token& keyword = toks_[i];
    const Token& name = toks_[i + 1];
    cls.name = name.text;
    cls.line = keyword.line;
    cls.column = keyword.column;
    for (const std::string& seen : class_names_) {
      if (seen == cls.name) throw error(name, "class " + cls.name + " is declared twice in this file");
    }
    class_names_.push_back(cls.name);
    i += 2;
    if (toks_[i].is("final")) {
      cls.is_final = true;
      ++i;
    }
    if (toks_[i].is("{")) {
      throw error(name, "class " + cls.name + " has no base class: iig classes derive from exactly one public base");
    }
    ++i;  // ':'
    parse_base(cls, i);
    const Token& open = toks_[i++];  // '{'

    // Messages the base declared (when it is an iig class earlier in this file) are messages here too.
    const auto base_messages = messages_of_.find(cls.base);
    const std::set<std::string> inherited =
        base_messages == messages_of_.end() ? std::set<std::string>() : base_messages->second;
    Access access = Access::kPrivate;
    while (true) {
      const Token& t = toks_[i];
      if (t.kind == Kind::kEnd) throw error(open, "unterminated class " + cls.name + ": this '{' is never closed");
      if (t.is("}")) {
        if (!toks_[i + 1].is(";")) throw error_after(t, "expected ';' after class " + cls.name);
        i += 2;
        break;
      }
      if (t.is(";")) {
        ++i;
        continue;
      }
      if (t.kind == Kind::kDirective && is_pragma(t)) {  // `#pragma mark -`, as Apple's own .iig files have
        ++i;
        continue;
      }
      if (t.is("public") || t.is("protected") || t.is("private")) {
        if (!toks_[i + 1].is(":")) throw error_after(t, "expected ':' after '" + t.text + "'");
        access = t.is("public") ? Access::kPublic : t.is("protected") ? Access::kProtected : Access::kPrivate;
        i += 2;
        continue;
      }
      IigMethod m = parse_method(cls, i, inherited);
      m.access = access;
      cls.methods.push_back(std::move(m));
    }

    std::set<std::string>& mine = messages_of_[cls.name];
    mine = inherited;
    for (const IigMethod& m : cls.methods) {
      if (m.is_message) mine.insert(m.name);
    }
    return cls;
  }

  static bool is_pragma(const Token& directive) {
    const std::size_t p = directive.text.find_first_not_of(" \t", 1);
    return p != std::string::npos && directive.text.compare(p, 6, "pragma") == 0;
  }

  // `public BASE` then '{'.
  void parse_base(IigClass& cls, std::size_t& i) {
    const Token& access = toks_[i];
    if (access.is("virtual")) {
      throw error(access, "virtual base in class " + cls.name + ": iig classes derive from exactly one public base");
    }
    if (access.is("private") || access.is("protected")) {
      throw error(access, "base of class " + cls.name + " must be public, not " + access.text);
    }
    if (!access.ident()) throw error(access, "expected 'public BASE' after ':' in class " + cls.name);
    if (!access.is("public")) {
      throw error(access, "base of class " + cls.name + " must be public: write 'public " + access.text + "'");
    }
    ++i;
    const std::size_t first = i;
    if (toks_[i].is("::")) ++i;
    while (true) {
      if (!toks_[i].ident()) throw error(toks_[i], "expected the name of the base of class " + cls.name);
      ++i;
      if (!toks_[i].is("::")) break;
      ++i;
    }
    cls.base = join(toks_, first, i);
    const Token& t = toks_[i];
    if (t.is(",")) {
      throw error(t, "class " + cls.name + " has more than one base: iig classes derive from exactly one public base");
    }
    if (t.is("<"))
      throw error(t, "template base " + cls.base + " of class " + cls.name + ": iig bases are plain classes");
    if (!t.is("{")) throw error(t, "expected '{' after the base of class " + cls.name);
  }

  // One member declaration of an iig class: only methods are allowed.
  IigMethod parse_method(const IigClass& cls, std::size_t& i, const std::set<std::string>& inherited) {
    const std::string in_class = " in class " + cls.name;
    const Token& first = toks_[i];
    if (first.kind == Kind::kDirective) {
      throw error(first, "preprocessor directive" + in_class + ": keep directives outside iig classes");
    }
    if (first.is("struct") || first.is("class") || first.is("union") || first.is("enum")) {
      std::size_t j = i + 1;
      if (first.is("enum") && (toks_[j].is("class") || toks_[j].is("struct"))) ++j;
      const bool named = toks_[j].ident() && !toks_[j].is("final");
      const Token& after = toks_[named ? j + 1 : j];
      if (after.is("{") || after.is(":") || after.is(";") || after.is("final")) {
        throw error(first, "nested " + first.text + (named ? " '" + toks_[j].text + "'" : std::string()) + in_class +
                               ": declare types outside iig classes");
      }
    }
    if (first.is("typedef") || first.is("using")) {
      throw error(first, "'" + first.text + "'" + in_class + ": declare types outside iig classes");
    }
    if (first.is("template")) throw error(first, "member template" + in_class + ": iig methods cannot be templates");
    if (first.is("friend")) throw error(first, "friend declaration" + in_class + ": iig classes have no friends");

    IigMethod m;
    while (toks_[i].is("virtual") || toks_[i].is("static")) {
      (toks_[i].is("virtual") ? m.is_virtual : m.is_static) = true;
      ++i;
    }
    if (toks_[i].is("~")) {
      throw error(toks_[i], "destructor" + in_class + ": iig classes release their state in free()");
    }

    // The return type and name: everything up to the parameter list's '('.
    std::vector<Token> head;
    int angle = 0;
    while (true) {
      const Token& t = toks_[i];
      if (t.is("operator")) {
        std::string name = "operator";
        for (std::size_t j = i + 1; toks_[j].kind != Kind::kEnd && !(toks_[j].is("(") && j > i + 1); ++j) {
          name += toks_[j].text;
          if (toks_[j].is(";") || toks_[j].is("{")) break;
        }
        throw error(t, "operator '" + name + "'" + in_class + ": iig classes cannot declare operators");
      }
      if (t.is("<")) ++angle;
      if (t.is(">") && angle > 0) --angle;
      const bool stop =
          t.kind == Kind::kEnd || t.kind == Kind::kDirective || t.is("}") ||
          (angle == 0 && (t.is("(") || t.is(";") || t.is("=") || t.is("[") || t.is("{") || t.is(":") || t.is(",")));
      if (stop) break;
      head.push_back(t);
      ++i;
    }
    const Token& stop = toks_[i];
    if (stop.kind == Kind::kEnd) throw error(stop, "unexpected end of file" + in_class);
    if (head.empty()) throw error(stop, "unexpected '" + stop.text + "'" + in_class);
    const Token name = head.back();  // a copy: head loses it below
    if (name.ident() && name.text == cls.name && stop.is("(")) {
      throw error(name, "constructor" + in_class + ": iig classes initialise their state in init()");
    }
    if (stop.is("(") && (toks_[i + 1].is("*") || toks_[i + 1].is("&") || toks_[i + 1].is("^"))) {
      // A function pointer: `void (*handler)(int);`
      const Token& pointer_name = toks_[i + 2];
      throw error(pointer_name.ident() ? pointer_name : stop,
                  "data member '" + pointer_name.text + "'" + in_class + ": iig classes keep state in ivars");
    }
    if (stop.is(";") || stop.is("=") || stop.is("[") || stop.is("{") || stop.is(":") || stop.is(",")) {
      if (!name.ident()) throw error(stop, "unexpected '" + stop.text + "'" + in_class);
      throw error(name, "data member '" + name.text + "'" + in_class + ": iig classes keep state in ivars");
    }
    if (!stop.is("(")) {
      throw error_after(head.back(), "expected ';' after '" + head.back().text + "'" + in_class);
    }
    if (!name.ident()) throw error(stop, "expected a method name before '('" + in_class);
    if (head.size() == 1) throw error(name, "method '" + name.text + "'" + in_class + " has no return type");
    if (head[head.size() - 2].is("::")) {
      throw error(name,
                  "qualified method name '" + join(head) + "'" + in_class + ": declare the method by its own name");
    }
    head.pop_back();
    m.return_type = join(head);
    m.name = name.text;
    m.line = name.line;
    m.column = name.column;

    parse_params(m, i);
    parse_trailer(cls, m, i, inherited);
    return m;
  }

  // From '(' to its ')'; leaves i after the ')'.
  void parse_params(IigMethod& m, std::size_t& i) {
    const Token& open = toks_[i];
    std::vector<std::vector<Token>> groups(1);
    std::vector<const Token*> delimiters;  // the ',' or ')' after each group
    int depth = 0;                         // (), [] and {} inside the list
    int angle = 0;                         // template arguments, counted only before a default value
    bool in_default = false;
    ++i;
    while (true) {
      const Token& t = toks_[i];
      if (t.kind == Kind::kEnd || t.kind == Kind::kDirective || t.is(";") || (depth == 0 && (t.is("{") || t.is("}")))) {
        throw error(open, "unbalanced parentheses: the '(' of method '" + m.name + "' is never closed");
      }
      if (t.is("(") || t.is("[") || t.is("{")) ++depth;
      if (t.is(")") || t.is("]") || t.is("}")) {
        if (depth == 0 && t.is(")")) {
          delimiters.push_back(&t);
          ++i;
          break;
        }
        --depth;
      }
      if (depth == 0 && !in_default && t.is("<")) ++angle;
      if (depth == 0 && !in_default && t.is(">") && angle > 0) --angle;
      if (depth == 0 && angle == 0 && t.is("=")) in_default = true;
      if (depth == 0 && angle == 0 && t.is(",")) {
        delimiters.push_back(&t);
        groups.emplace_back();
        in_default = false;
      } else {
        groups.back().push_back(t);
      }
      ++i;
    }
    if (groups.size() == 1 && (groups[0].empty() || (groups[0].size() == 1 && groups[0][0].is("void")))) return;
    for (std::size_t n = 0; n < groups.size(); ++n) {
      m.params.push_back(parse_param(m, groups[n], n + 1, *delimiters[n]));
    }
  }

  IigParam parse_param(const IigMethod& m, const std::vector<Token>& tokens, std::size_t number,
                       const Token& delimiter) {
    const std::string of_method = " of method '" + m.name + "'";
    if (tokens.empty()) throw error(delimiter, "expected parameter " + std::to_string(number) + of_method);
    IigParam p;
    std::vector<Token> decl;
    std::size_t k = 0;
    for (; k < tokens.size() && !tokens[k].is("="); ++k) {
      if (tokens[k].is("..."))
        throw error(tokens[k], "variadic method '" + m.name + "': iig parameters are named and typed");
      if (tokens[k].is("(")) {
        throw error(tokens[k], "function-type parameter " + std::to_string(number) + of_method +
                                   ": declare the function type with a typedef");
      }
      if (tokens[k].ident() && kParamAttributes.count(tokens[k].text)) continue;  // TARGET etc.: dropped
      decl.push_back(tokens[k]);
    }
    if (k < tokens.size()) {
      if (k + 1 == tokens.size()) throw error(tokens[k], "missing default value after '='" + of_method);
      p.default_value = join(tokens, k + 1);
    }
    if (!decl.empty() && decl.back().is("]")) {
      std::size_t open = decl.size() - 1;
      while (open > 0 && !decl[open].is("[")) --open;
      p.array = join(decl, open);
      decl.resize(open);
      if (!decl.empty() && decl.back().is("]")) {
        throw error(tokens[0],
                    "multi-dimensional array parameter " + std::to_string(number) + of_method + ": not supported");
      }
      if (!p.array.empty()) p.array.erase(std::remove(p.array.begin(), p.array.end(), ' '), p.array.end());
    }
    // Named: an identifier that is not a keyword, after a type that is more than qualifiers.
    static const std::set<std::string, std::less<>> keywords = {
        "int",    "char",    "short",   "long",     "unsigned", "signed",  "bool", "float",
        "double", "void",    "const",   "volatile", "struct",   "class",   "enum", "union",
        "auto",   "wchar_t", "char8_t", "char16_t", "char32_t", "typename"};
    static const std::set<std::string, std::less<>> qualifiers = {"const", "volatile", "struct",  "class",
                                                                  "enum",  "union",    "typename"};
    bool named =
        decl.size() >= 2 && decl.back().ident() && !keywords.count(decl.back().text) && !decl[decl.size() - 2].is("::");
    if (named) {
      named = std::any_of(decl.begin(), decl.end() - 1, [](const Token& t) { return !qualifiers.count(t.text); });
    }
    if (!named) {
      throw error(tokens[0],
                  "unnamed parameter " + std::to_string(number) + of_method + ": iig parameters must be named");
    }
    p.name = decl.back().text;
    decl.pop_back();
    p.type = join(decl);
    return p;
  }

  // After the ')': qualifiers, override/final, iig attributes, then ';'. Decides whether the
  // method is a message and checks what only messages may have.
  void parse_trailer(const IigClass& cls, IigMethod& m, std::size_t& i, const std::set<std::string>& inherited) {
    const std::string method = "method '" + m.name + "'";
    const Token* queue_at = nullptr;
    const Token* type_at = nullptr;
    const Token* const_at = nullptr;
    while (true) {
      const Token& t = toks_[i];
      if (t.is(";")) {
        ++i;
        break;
      }
      if (t.is("const")) {
        m.is_const = true;
        const_at = &t;
      } else if (t.is("override") || t.is("APPLE_KEXT_OVERRIDE")) {
        m.is_override = true;
      } else if (t.is("final")) {
        m.is_final = true;
      } else if (t.is("QUEUENAME")) {
        if (queue_at) throw error(t, "second QUEUENAME on " + method);
        queue_at = &t;
        m.queue = parse_queue_name(i);
        continue;
      } else if (t.is("TYPE")) {
        if (type_at) throw error(t, "second TYPE on " + method);
        type_at = &t;
        parse_type(m, i);
        continue;
      } else if (t.ident() && kPlainAttributes.count(t.text)) {
        if (t.is("LOCALONLY")) m.local_only = true;
      } else if (t.is("{")) {
        throw error(t, "inline body for " + method + " in class " + cls.name + ": define iig methods in a .cpp file");
      } else if (t.is("=")) {
        throw error(t, "'" + join(toks_, i, i + 2) + "' after " + method +
                           ": iig methods cannot be pure, deleted or defaulted");
      } else if (t.is(")")) {
        throw error(t, "unbalanced parentheses: unmatched ')' after " + method);
      } else if (t.is("->")) {
        throw error(t, "trailing return type on " + method + ": write the return type first");
      } else if (t.ident() && all_caps(t.text)) {
        throw error(t, "unknown iig attribute '" + t.text + "'");
      } else if (t.kind == Kind::kEnd || t.kind == Kind::kDirective || t.is("}")) {
        throw error_after(toks_[i - 1], "expected ';' after " + method);
      } else {
        throw error(t, "unexpected '" + t.text + "' after the parameters of " + method);
      }
      ++i;
    }

    // `final` alone overrides, as in Apple's iig: a final method is one the base declared.
    if (m.is_final) m.is_override = true;
    const Token at{Kind::kIdent, m.name, m.line, m.column};
    if (m.is_static && m.is_virtual) throw error(at, method + " cannot be both static and virtual");
    if (m.is_static && m.is_override) throw error(at, "static " + method + " cannot override");
    if (m.is_static) {
      m.is_message = false;
    } else if (m.is_override) {
      m.is_message = is_known_message(m.name) || inherited.count(m.name) > 0;
    } else {
      m.is_message = !m.local_only;
    }
    if (!m.is_message) {
      if (queue_at) throw error(*queue_at, "QUEUENAME on local " + method + ": only messages are routed to queues");
      if (type_at) {
        throw error(*type_at, "TYPE on local " + method + ": only messages can be invoked through an OSAction");
      }
      return;
    }
    if (const_at) throw error(*const_at, "const message '" + m.name + "': only local methods can be const");
    for (const IigParam& p : m.params) {
      if (p.type.find('&') != std::string::npos) {
        throw error(
            at, "reference parameter '" + p.name + "' of message '" + m.name + "': messages take values and pointers");
      }
    }
    for (const IigMethod& other : cls.methods) {
      if (other.is_message && other.name == m.name) {
        throw error(
            at, "overloaded message '" + m.name + "' in class " + cls.name + ": messages are identified by name alone");
      }
    }
  }

  // QUEUENAME(identifier); i is at QUEUENAME and is left after the ')'.
  std::string parse_queue_name(std::size_t& i) {
    if (!toks_[i + 1].is("(")) throw error_after(toks_[i], "expected '(' after QUEUENAME");
    const Token& arg = toks_[i + 2];
    if (arg.is(")")) throw error(arg, "QUEUENAME() needs a queue name: QUEUENAME(identifier)");
    if (!arg.ident()) throw error(arg, "bad QUEUENAME argument '" + arg.text + "': expected an identifier");
    if (!toks_[i + 3].is(")")) throw error(toks_[i + 3], "expected ')' after the queue name '" + arg.text + "'");
    i += 4;
    return arg.text;
  }

  // TYPE(Class::Method); i is at TYPE and is left after the ')'.
  void parse_type(IigMethod& m, std::size_t& i) {
    if (!toks_[i + 1].is("(")) throw error_after(toks_[i], "expected '(' after TYPE");
    std::size_t j = i + 2;
    std::size_t close = j;
    while (toks_[close].kind != Kind::kEnd && !toks_[close].is(")") && !toks_[close].is(";")) ++close;
    const std::string written = join(toks_, j, close);
    if (!(close == j + 3 && toks_[j].ident() && toks_[j + 1].is("::") && toks_[j + 2].ident())) {
      const Token& at = close == j ? toks_[close] : toks_[j];
      throw error(at, "bad TYPE argument '" + written + "': expected TYPE(Class::Method)");
    }
    if (!toks_[close].is(")")) throw error(toks_[close], "expected ')' after TYPE(" + written);
    m.type_class = toks_[j].text;
    m.type_method = toks_[j + 2].text;
    i = close + 1;
  }

  std::string_view src_;
  std::vector<Token> toks_;
  std::vector<Edit> edits_;
  std::vector<std::string> class_names_;
  std::map<std::string, std::set<std::string>> messages_of_;
};

// ---------------------------------------------------------------------------------------------
// Generator

std::string hex_id(std::string_view method) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%016llxULL", static_cast<unsigned long long>(message_id(method)));
  return buffer;
}

// "T1 a1, T2 a2[32], T3 a3 = 0" (defaults only when asked).
std::string param_list(const std::vector<IigParam>& params, bool defaults) {
  std::string out;
  for (const IigParam& p : params) {
    if (!out.empty()) out += ", ";
    out += p.type + " " + p.name + p.array;
    if (defaults && !p.default_value.empty()) out += " = " + p.default_value;
  }
  return out;
}

// The type an argument travels as: arrays as pointers, as in a function's own parameters.
std::string passed_type(const IigParam& p) { return p.array.empty() ? p.type : p.type + "*"; }

std::string arg_names(const std::vector<IigParam>& params) {
  std::string out;
  for (const IigParam& p : params) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

std::string prefix(const IigClass& c, const IigMethod& m) { return c.name + "_" + m.name; }

void header_class(std::ostringstream& h, const IigClass& c) {
  for (const IigMethod& m : c.methods) {
    if (!m.is_message) continue;
    const std::string args = param_list(m.params, false);
    h << "#define " << prefix(c, m) << "_Args" << (args.empty() ? "" : " ") << args << "\n";
    h << "#define " << prefix(c, m) << "_ID " << hex_id(m.name) << "\n";
  }
  h << "struct " << c.name << "_IVars;\n";
  h << "struct " << c.name << "_LocalIVars;\n";
  h << "class " << c.name << (c.is_final ? " final" : "") << " : public " << c.base << " {\n";
  h << "  DEXTHIL_IIG_CLASS(" << c.name << ", " << c.base << ")\n";
  h << "\n public:\n";
  h << "  union {\n";
  h << "    " << c.name << "_IVars* ivars;\n";
  h << "    " << c.name << "_LocalIVars* lvars;\n";
  h << "  };\n";
  // Every method is public in the generated class, whatever the .iig's labels say, as Apple's
  // iig generates it: dispatch tables and other classes' handlers reach them from outside.
  bool routes = false;
  for (const IigMethod& m : c.methods) {
    routes |= !m.queue.empty();
    const std::string after = std::string(m.is_override ? " override" : "") + (m.is_final ? " final" : "");
    if (!m.is_message) {
      h << "  " << (m.is_virtual ? "virtual " : "") << (m.is_static ? "static " : "") << m.return_type << " " << m.name
        << "(" << param_list(m.params, true) << ")" << (m.is_const ? " const" : "") << after << ";\n";
      continue;
    }
    if (m.is_override) {
      h << "  " << m.return_type << " " << m.name << "_Impl(" << prefix(c, m) << "_Args)" << after << ";\n";
    } else {
      const std::string params = param_list(m.params, true);
      h << "  " << m.return_type << " " << m.name << "(" << params << (params.empty() ? "" : ", ")
        << "OSDispatchMethod supermethod = NULL);\n";
      h << "  virtual " << m.return_type << " " << m.name << "_Impl(" << prefix(c, m) << "_Args)" << after << ";\n";
    }
    if (!m.type_class.empty()) {
      h << "  kern_return_t CreateAction" << m.name << "(size_t referenceSize, OSAction ** action);\n";
    }
  }
  if (routes) {
    h << "  const char* _RoutedQueue(uint64_t msgid) const override;\n";
    h << "  bool _DeclaresQueue(const char* name) const override;\n";
  }
  h << "};";
}

void impl_class(std::ostringstream& o, const IigClass& c) {
  const std::string& C = c.name;
  o << "DEXTHIL_DEFINE_METACLASS(" << C << ", " << c.base << ");\n";
  o << "static const ::dexthil::iig::ClassRegistration " << C << "_registration{\"" << C << "\", " << C
    << "::metaClass, +[]() -> OSObject* { return OSTypeAlloc(" << C << "); }};\n";

  o << "\nkern_return_t " << C << "::_Dispatch(OSObject* self, const IORPC& rpc) {\n";
  o << "  switch (rpc.msgid) {\n";
  for (const IigMethod& m : c.methods) {
    if (!m.is_message) continue;
    std::string types = m.return_type;
    std::string lambda_params;
    for (const IigParam& p : m.params) {
      types += ", " + passed_type(p);
      lambda_params += (lambda_params.empty() ? "" : ", ") + passed_type(p) + " " + p.name;
    }
    const bool is_void = m.return_type == "void";
    o << "    case " << prefix(c, m) << "_ID:\n";
    o << "      return ::dexthil::iig::serve<" << types << ">(rpc, [self](" << lambda_params << ") { "
      << (is_void ? "" : "return ") << "static_cast<" << C << "*>(self)->" << C << "::" << m.name << "_Impl("
      << arg_names(m.params) << "); });\n";
  }
  o << "    default:\n";
  o << "      return " << c.base << "::_Dispatch(self, rpc);\n";
  o << "  }\n";
  o << "}\n";

  for (const IigMethod& m : c.methods) {
    if (!m.is_message || m.is_override) continue;
    const std::string params = param_list(m.params, false);
    const std::string args = arg_names(m.params);
    const std::string& R = m.return_type;
    const bool is_void = R == "void";
    o << "\n"
      << R << " " << C << "::" << m.name << "(" << params << (params.empty() ? "" : ", ")
      << "OSDispatchMethod supermethod) {\n";
    o << "  " << (is_void ? "" : "return ") << "::dexthil::iig::send<" << R << ">(this, " << prefix(c, m) << "_ID, \""
      << C << "::" << m.name << "\", supermethod, ";
    if (is_void) {
      o << "[&]() { " << m.name << "_Impl(" << args << "); }";
    } else {
      o << "[&]() -> " << R << " { return " << m.name << "_Impl(" << args << "); }";
    }
    o << (args.empty() ? "" : ", ") << args << ");\n";
    o << "}\n";
  }

  for (const IigMethod& m : c.methods) {
    if (!m.is_message || m.type_class.empty()) continue;
    // The ID of TYPE's method, for when its class's header is not included here (this file
    // includes only the generated header). IDs depend on the method name alone.
    const std::string type_id = m.type_class + "_" + m.type_method + "_ID";
    o << "\n#ifndef " << type_id << "\n";
    o << "#define " << type_id << " " << hex_id(m.type_method) << "\n";
    o << "#endif\n";
    o << "kern_return_t " << C << "::CreateAction" << m.name << "(size_t referenceSize, OSAction ** action) {\n";
    o << "  return OSAction::Create(this, " << prefix(c, m) << "_ID, " << type_id << ", referenceSize, action);\n";
    o << "}\n";
  }

  std::vector<std::string> queues;  // distinct, in order of first use
  for (const IigMethod& m : c.methods) {
    if (!m.queue.empty() && std::find(queues.begin(), queues.end(), m.queue) == queues.end()) queues.push_back(m.queue);
  }
  if (queues.empty()) return;
  o << "\nconst char* " << C << "::_RoutedQueue(uint64_t msgid) const {\n";
  for (const IigMethod& m : c.methods) {
    if (!m.queue.empty()) o << "  if (msgid == " << prefix(c, m) << "_ID) return \"" << m.queue << "\";\n";
  }
  o << "  return " << c.base << "::_RoutedQueue(msgid);\n";
  o << "}\n";
  o << "\nbool " << C << "::_DeclaresQueue(const char* name) const {\n";
  for (const std::string& q : queues) o << "  if (std::strcmp(name, \"" << q << "\") == 0) return true;\n";
  o << "  return " << c.base << "::_DeclaresQueue(name);\n";
  o << "}\n";
}

}  // namespace

// Overrides of the messages the kernel sends to a family's classes are messages; overrides of
// anything else (init, free, ...) are plain C++ virtuals. iig cannot tell which family headers a
// dext includes, so it takes every family's list.
bool is_known_message(std::string_view name) { return driverkit::families::is_kernel_sent(name); }

const std::vector<std::string_view>& known_messages() {
  static const std::vector<std::string_view> all = driverkit::families::kernel_sent_messages();
  return all;
}

std::uint64_t message_id(std::string_view method) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : method) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

IigFile parse(std::string_view source) { return Parser(source, Lexer(source).run()).run(); }

GeneratedFiles generate(const IigFile& file, const GenerateOptions& options) {
  const std::string banner = "// Generated by dexthil-iig from " + options.input_name + ": do not edit.\n";
  std::ostringstream h;
  h << banner;
  for (std::size_t n = 0; n < file.classes.size(); ++n) {
    h << file.passthrough[n];
    header_class(h, file.classes[n]);
  }
  h << file.passthrough.back();

  std::ostringstream o;
  o << banner;
  o << "#include \"" << options.header_name << "\"\n";
  o << "#include <cstring>\n";
  for (const IigClass& c : file.classes) {
    o << "\n";
    impl_class(o, c);
  }
  return {h.str(), o.str()};
}

std::optional<GeneratedFiles> translate(std::string_view source, const GenerateOptions& options, std::string* error) {
  try {
    return generate(parse(source), options);
  } catch (const IigError& e) {
    *error = e.what();
    return std::nullopt;
  }
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return buffer.str();
}

}  // namespace dexthil::iig

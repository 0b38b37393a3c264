#include "harness/xcode/build_settings.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace dexthil::xcode {
namespace {

struct ExpandError {
  std::string message;  // complete: "ORIGIN: error: ..." or "error: ..."
};

bool is_ident_start(char c) { return ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || c == '_'; }
bool is_ident(char c) { return is_ident_start(c) || ('0' <= c && c <= '9'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string prefix(const std::string& origin) { return origin.empty() ? "error: " : origin + ": error: "; }

// The index of the `closer` that ends a reference whose body starts at `from`, skipping nested
// $(...) and ${...}; npos when there is none.
std::size_t find_close(std::string_view t, std::size_t from, char closer) {
  for (std::size_t k = from; k < t.size(); ++k) {
    if (t[k] == '$' && k + 1 < t.size() && (t[k + 1] == '(' || t[k + 1] == '{')) {
      k = find_close(t, k + 2, t[k + 1] == '(' ? ')' : '}');
      if (k == std::string_view::npos) return k;
    } else if (t[k] == closer) {
      return k;
    }
  }
  return std::string_view::npos;
}

// Splits a reference's body "NAME:mod:default=x" at the colons outside nested references.
std::vector<std::string_view> split_modifiers(std::string_view body) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t k = 0; k < body.size(); ++k) {
    if (body[k] == '$' && k + 1 < body.size() && (body[k + 1] == '(' || body[k + 1] == '{')) {
      const std::size_t close = find_close(body, k + 2, body[k + 1] == '(' ? ')' : '}');
      if (close == std::string_view::npos) break;
      k = close;
    } else if (body[k] == ':') {
      parts.push_back(body.substr(start, k - start));
      start = k + 1;
    }
  }
  parts.push_back(body.substr(start));
  return parts;
}

// The length of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xf0 && lead < 0xf8) return 4;
  if (lead >= 0xe0) return lead < 0xf0 ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

// Replaces each character (a whole UTF-8 sequence counts as one) that `keep` rejects by `with`.
template <class Keep>
std::string replace_chars(std::string_view s, char with, Keep keep) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = std::min(utf8_length(static_cast<unsigned char>(s[i])), s.size() - i);
    const std::string_view ch = s.substr(i, n);
    if (keep(ch)) {
      out += ch;
    } else {
      out.push_back(with);
    }
    i += n;
  }
  return out;
}

std::string apply_modifier(std::string_view modifier, std::string value) {
  if (modifier == "lower") {
    for (char& c : value) c = ('A' <= c && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return value;
  }
  if (modifier == "upper") {
    for (char& c : value) c = ('a' <= c && c <= 'z') ? static_cast<char>(c - 32) : c;
    return value;
  }
  if (modifier == "rfc1034identifier") {
    return replace_chars(value, '-', [](std::string_view ch) {
      return ch.size() == 1 && (is_ident(ch[0]) || ch[0] == '-' || ch[0] == '.') && ch[0] != '_';
    });
  }
  // :identifier keeps ASCII identifier characters; :c99extidentifier also keeps non-ASCII
  // characters, which C99 allows in identifiers. Both turn a leading digit into '_'.
  const bool extended = modifier == "c99extidentifier";
  std::string out = replace_chars(
      value, '_', [extended](std::string_view ch) { return ch.size() == 1 ? is_ident(ch[0]) : extended; });
  if (!out.empty() && '0' <= out[0] && out[0] <= '9') out[0] = '_';
  return out;
}

bool known_modifier(std::string_view m) {
  return m == "lower" || m == "upper" || m == "identifier" || m == "c99extidentifier" || m == "rfc1034identifier" ||
         m.starts_with("default=");
}

// "A -> B -> A". A setting that appears twice in a row went down a level through $(inherited):
// one step of the cycle, named once.
std::string chain(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0 && i + 1 < names.size() && names[i] == names[i - 1]) continue;
    out += (out.empty() ? "" : " -> ") + names[i];
  }
  return out;
}

struct SplitWord {
  std::string text;
  bool quoted = false;
};

std::optional<std::vector<SplitWord>> split_detailed(std::string_view text, std::string* error) {
  std::vector<SplitWord> words;
  SplitWord word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) {
      if (in_word) words.push_back(std::move(word));
      word = {};
      in_word = false;
    } else if (c == '"' || c == '\'') {
      std::size_t k = i + 1;
      for (; k < text.size() && text[k] != c; ++k) {
        if (c == '"' && text[k] == '\\' && k + 1 < text.size()) ++k;
        word.text.push_back(text[k]);
      }
      if (k >= text.size()) {
        *error = std::string("unterminated ") + c + " in '" + std::string(text) + "'";
        return std::nullopt;
      }
      word.quoted = in_word = true;
      i = k;
    } else if (c == '\\' && i + 1 < text.size()) {
      word.text.push_back(text[++i]);
      in_word = true;
    } else if (c == '$' && i + 1 < text.size() && (text[i + 1] == '(' || text[i + 1] == '{')) {
      // A reference is one piece of a word, whatever its modifiers hold.
      const std::size_t close = find_close(text, i + 2, text[i + 1] == '(' ? ')' : '}');
      const std::size_t end = close == std::string_view::npos ? text.size() - 1 : close;
      word.text.append(text.substr(i, end + 1 - i));
      in_word = true;
      i = end;
    } else {
      word.text.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace

// Expands text for one BuildSettings, holding the chain of settings being expanded (for cycles)
// and collecting undefined names.
class Expander {
 public:
  Expander(const BuildSettings& settings, std::vector<std::string>* undefined)
      : settings_(settings), undefined_(undefined) {}

  // Expands `text`, written as the value of `name` at `level` (empty name: free text).
  std::string text(std::string_view t, const std::string& name, int level, const std::string& origin) {
    std::string out;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] != '$' || i + 1 >= t.size()) {
        out.push_back(t[i]);
        continue;
      }
      const char next = t[i + 1];
      if (next == '(' || next == '{') {
        const char closer = next == '(' ? ')' : '}';
        const std::size_t close = find_close(t, i + 2, closer);
        if (close == std::string_view::npos) {
          throw ExpandError{prefix(origin) + "unterminated reference '" + std::string(t.substr(i)) + "' (no closing '" +
                            closer + "') in '" + std::string(t) + "'"};
        }
        out += reference(t.substr(i + 2, close - i - 2), t.substr(i, close + 1 - i), name, level, origin);
        i = close;
      } else if (is_ident_start(next)) {
        std::size_t end = i + 1;
        while (end < t.size() && is_ident(t[end])) ++end;
        out += reference(t.substr(i + 1, end - i - 1), t.substr(i, end - i), name, level, origin);
        i = end - 1;
      } else {
        out.push_back('$');
      }
    }
    return out;
  }

  // The expanded value of `name` at the highest level at most `max_level`; nullopt when unset.
  std::optional<std::string> setting(const std::string& name, int max_level) {
    const BuildSettings::Resolved r = settings_.find(name, max_level);
    if (!r.value) return std::nullopt;
    for (std::size_t k = 0; k < stack_.size(); ++k) {
      if (stack_[k].name != name || stack_[k].level != r.level) continue;
      std::vector<std::string> names;
      for (std::size_t j = k; j < stack_.size(); ++j) names.push_back(stack_[j].name);
      names.push_back(name);
      throw ExpandError{prefix(*stack_[k].origin) + "build setting cycle: " + chain(names)};
    }
    stack_.push_back({name, r.level, r.origin});
    std::string out = text(*r.value, name, r.level, *r.origin);
    stack_.pop_back();
    return out;
  }

  void note_undefined(const std::string& name) {
    if (undefined_ && std::find(undefined_->begin(), undefined_->end(), name) == undefined_->end()) {
      undefined_->push_back(name);
    }
  }

 private:
  struct Frame {
    std::string name;
    int level;
    const std::string* origin;
  };

  // One reference: `body` is what stands between the parentheses (or the bare name), `whole` the
  // reference as written, for messages.
  std::string reference(std::string_view body, std::string_view whole, const std::string& name, int level,
                        const std::string& origin) {
    const std::vector<std::string_view> parts = split_modifiers(body);
    const std::string target = text(parts[0], name, level, origin);
    if (target.empty()) throw ExpandError{prefix(origin) + "empty build setting name in '" + std::string(whole) + "'"};
    for (std::size_t k = 1; k < parts.size(); ++k) {
      if (!known_modifier(parts[k])) {
        throw ExpandError{prefix(origin) + "unknown modifier ':" + std::string(parts[k]) + "' in '" +
                          std::string(whole) +
                          "' (known: lower, upper, identifier, c99extidentifier, rfc1034identifier, default=TEXT)"};
      }
    }
    std::string value;
    if (target == "inherited") {
      if (!name.empty()) value = setting(name, level - 1).value_or("");
    } else if (auto v = setting(target, BuildSettings::kLevelCount - 1)) {
      value = std::move(*v);
    } else {
      note_undefined(target);
    }
    for (std::size_t k = 1; k < parts.size(); ++k) {
      if (parts[k].starts_with("default=")) {
        if (value.empty()) value = text(parts[k].substr(8), name, level, origin);
      } else {
        value = apply_modifier(parts[k], std::move(value));
      }
    }
    return value;
  }

  const BuildSettings& settings_;
  std::vector<std::string>* undefined_;
  std::vector<Frame> stack_;
};

const char* BuildSettings::level_name(Level level) {
  switch (level) {
    case kDefaults: return "defaults";
    case kProjectXcconfig: return "project xcconfig";
    case kProject: return "project";
    case kTargetXcconfig: return "target xcconfig";
    case kTarget: return "target";
  }
  return "?";
}

BuildSettings::BuildSettings(Conditions conditions) : conditions_(std::move(conditions)) {}

void BuildSettings::set_target_defaults(const TargetDefaults& d) {
  const bool dext = d.product_type == "com.apple.product-type.driver-extension";
  std::string name = std::filesystem::path(d.project_path).stem().string();
  set(kDefaults, "PROJECT_FILE_PATH", d.project_path);
  for (const char* key : {"PROJECT_DIR", "SRCROOT", "SOURCE_ROOT"}) set(kDefaults, key, d.source_root);
  for (const char* key : {"PROJECT_NAME", "PROJECT"}) set(kDefaults, key, name);
  for (const char* key : {"TARGET_NAME", "TARGETNAME"}) set(kDefaults, key, d.target_name);
  set(kDefaults, "PRODUCT_NAME", dext ? "$(PRODUCT_BUNDLE_IDENTIFIER)" : "$(TARGET_NAME)");
  set(kDefaults, "EXECUTABLE_NAME", "$(PRODUCT_NAME)");
  if (dext) {
    set(kDefaults, "WRAPPER_EXTENSION", "dext");
    set(kDefaults, "FULL_PRODUCT_NAME", "$(PRODUCT_NAME).dext");
    set(kDefaults, "PRODUCT_BUNDLE_PACKAGE_TYPE", "DEXT");
  }
  set(kDefaults, "DEVELOPMENT_LANGUAGE", d.development_region.empty() ? "en" : d.development_region);
  set(kDefaults, "CONFIGURATION", d.configuration);
  set(kDefaults, "SDKROOT", "driverkit");
  set(kDefaults, "PLATFORM_NAME", "driverkit");
  set(kDefaults, "CURRENT_ARCH", conditions_.arch);
}

void BuildSettings::set(Level level, const std::string& name, std::string value, std::string origin) {
  Assigned& a = levels_[level][name];
  a.plain = std::move(value);
  a.plain_origin = std::move(origin);
}

bool BuildSettings::conditions_hold(std::string_view conditions, const std::string& origin, bool* hold,
                                    std::string* error) const {
  *hold = true;
  while (!conditions.empty()) {
    if (conditions.front() != '[') {
      *error = prefix(origin) + "expected '[' to start a condition, found '" + std::string(conditions) + "'";
      return false;
    }
    const std::size_t close = conditions.find(']');
    if (close == std::string_view::npos) {
      *error = prefix(origin) + "missing ']' after the condition '" + std::string(conditions) + "'";
      return false;
    }
    std::string_view list = conditions.substr(1, close - 1);
    conditions.remove_prefix(close + 1);
    while (true) {
      const std::size_t comma = list.find(',');
      const std::string_view one = trim(list.substr(0, comma));
      const std::size_t eq = one.find('=');
      if (eq == std::string_view::npos || trim(one.substr(0, eq)).empty()) {
        *error = prefix(origin) + "malformed condition '" + std::string(one) +
                 "' (expected KEY=PATTERN, e.g. sdk=driverkit*)";
        return false;
      }
      const std::string_view key = trim(one.substr(0, eq));
      const std::string_view pattern = trim(one.substr(eq + 1));
      const std::string* value = key == "sdk"      ? &conditions_.sdk
                                 : key == "arch"   ? &conditions_.arch
                                 : key == "config" ? &conditions_.config
                                                   : nullptr;
      if (!value || !condition_matches(pattern, *value)) *hold = false;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return true;
}

bool BuildSettings::assign(Level level, std::string_view key, std::string value, const std::string& origin,
                           std::string* error) {
  std::size_t end = 0;
  while (end < key.size() && is_ident(key[end])) ++end;
  const std::string name(key.substr(0, end));
  if (name.empty() || !is_ident_start(name[0])) {
    *error = prefix(origin) + "'" + std::string(key) +
             "' is not a build setting name (letters, digits and '_', not starting with a digit)";
    return false;
  }
  const std::string_view conditions = trim(key.substr(end));
  if (conditions.empty()) {
    set(level, name, std::move(value), origin);
    return true;
  }
  bool hold = false;
  if (!conditions_hold(conditions, origin, &hold, error)) return false;
  if (hold) {
    Assigned& a = levels_[level][name];
    a.conditional = std::move(value);
    a.conditional_origin = origin;
  }
  return true;
}

bool BuildSettings::load_xcconfig(Level level, const std::string& path, std::string* error) {
  std::vector<std::string> stack;
  return load_xcconfig_file(level, path, &stack, error);
}

bool BuildSettings::load_xcconfig_file(Level level, const std::string& path, std::vector<std::string>* stack,
                                       std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": error: cannot open the file";
    return false;
  }
  std::error_code ec;
  const std::string canonical = std::filesystem::weakly_canonical(path, ec).string();
  stack->push_back(canonical);
  if (std::find(xcconfig_files_.begin(), xcconfig_files_.end(), path) == xcconfig_files_.end()) {
    xcconfig_files_.push_back(path);
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto where = [&](std::size_t column) {
      return path + ":" + std::to_string(number) + ":" + std::to_string(column + 1);
    };
    std::string_view text = line;
    if (const std::size_t comment = text.find("//"); comment != std::string_view::npos) text = text.substr(0, comment);
    const std::size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    const std::string_view body = trim(text);
    if (body.front() == '#') {
      const bool optional = body.starts_with("#include?");
      if (!body.starts_with("#include")) {
        *error = where(first) + ": error: unknown directive '" + std::string(body) +
                 "' (expected #include \"FILE\" or #include? \"FILE\")";
        return false;
      }
      const std::string_view rest = trim(body.substr(optional ? 9 : 8));
      if (rest.size() < 2 || rest.front() != '"' || rest.back() != '"' || rest.find('"', 1) != rest.size() - 1) {
        *error = where(first) + ": error: expected a quoted file name after '" + (optional ? "#include?" : "#include") +
                 "', found '" + std::string(rest) + "'";
        return false;
      }
      const std::string name(rest.substr(1, rest.size() - 2));
      if (name.starts_with("<")) {
        if (optional) continue;
        *error =
            where(first) + ": error: #include \"" + name + "\" names a file inside Xcode, which dexthil does not have";
        return false;
      }
      const std::filesystem::path included = std::filesystem::path(name).is_absolute()
                                                 ? std::filesystem::path(name)
                                                 : std::filesystem::path(path).parent_path() / name;
      if (!std::filesystem::is_regular_file(included, ec)) {
        if (optional) continue;
        *error = where(first) + ": error: cannot open the included file '" + name + "' (looked for " +
                 included.lexically_normal().string() + "; write #include? to make it optional)";
        return false;
      }
      const std::string included_canonical = std::filesystem::weakly_canonical(included, ec).string();
      if (std::find(stack->begin(), stack->end(), included_canonical) != stack->end()) {
        *error = where(first) + ": error: #include \"" + name +
                 "\" includes a file that is already being read (an include cycle)";
        return false;
      }
      if (!load_xcconfig_file(level, included.lexically_normal().string(), stack, error)) return false;
      continue;
    }
    // The '=' after the name and its conditions: a condition holds '=' of its own.
    std::size_t key_end = first;
    while (key_end < text.size() && is_ident(text[key_end])) ++key_end;
    while (key_end < text.size() && text[key_end] == '[') {
      const std::size_t close = text.find(']', key_end);
      if (close == std::string_view::npos) break;  // assign() names the unclosed condition
      key_end = close + 1;
    }
    const std::size_t eq = text.find('=', key_end);
    if (eq == std::string_view::npos) {
      *error = where(first) + ": error: expected 'NAME = VALUE', '#include \"FILE\"' or a comment, found '" +
               std::string(body) + "'";
      return false;
    }
    std::string_view value = trim(text.substr(eq + 1));
    if (!value.empty() && value.back() == ';') value = trim(value.substr(0, value.size() - 1));
    if (!assign(level, trim(text.substr(0, eq)), std::string(value), where(first), error)) return false;
  }
  stack->pop_back();
  return true;
}

const std::string* BuildSettings::raw(std::string_view name) const { return find(name, kLevelCount - 1).value; }

const std::string* BuildSettings::raw(std::string_view name, Level level) const {
  const auto it = levels_[level].find(name);
  if (it == levels_[level].end()) return nullptr;
  if (it->second.conditional) return &*it->second.conditional;
  return it->second.plain ? &*it->second.plain : nullptr;
}

BuildSettings::Resolved BuildSettings::find(std::string_view name, int max_level) const {
  for (int level = std::min(max_level, kLevelCount - 1); level >= 0; --level) {
    const auto it = levels_[level].find(name);
    if (it == levels_[level].end()) continue;
    const Assigned& a = it->second;
    if (a.conditional) return {&*a.conditional, &a.conditional_origin, level};
    if (a.plain) return {&*a.plain, &a.plain_origin, level};
  }
  return {};
}

std::vector<std::string> BuildSettings::names() const {
  std::set<std::string> all;
  for (const auto& level : levels_) {
    for (const auto& [name, a] : level) {
      if (a.plain || a.conditional) all.insert(name);
    }
  }
  return {all.begin(), all.end()};
}

std::optional<std::string> BuildSettings::expand(std::string_view text, std::vector<std::string>* undefined,
                                                 std::string* error) const {
  try {
    Expander x(*this, undefined);
    return x.text(text, "", kLevelCount, "");
  } catch (const ExpandError& e) {
    *error = e.message;
    return std::nullopt;
  }
}

std::optional<std::string> BuildSettings::value(std::string_view name, std::vector<std::string>* undefined,
                                                std::string* error) const {
  try {
    Expander x(*this, undefined);
    return x.setting(std::string(name), kLevelCount - 1).value_or("");
  } catch (const ExpandError& e) {
    *error = e.message;
    return std::nullopt;
  }
}

std::optional<std::vector<ListWord>> BuildSettings::list(std::string_view name, std::string* error) const {
  std::vector<ListWord> out;
  // (name, level) pairs being spliced, so a list that names itself is a cycle, not a crash.
  std::vector<std::pair<std::string, int>> active;
  // Appends the words of `list_name` as set at the highest level at most `max_level`.
  auto splice = [&](auto&& self, const std::string& list_name, int max_level) -> bool {
    const Resolved r = find(list_name, max_level);
    if (!r.value) return true;
    for (std::size_t k = 0; k < active.size(); ++k) {
      if (active[k].first != list_name || active[k].second != r.level) continue;
      std::vector<std::string> names;
      for (std::size_t j = k; j < active.size(); ++j) names.push_back(active[j].first);
      names.push_back(list_name);
      *error = prefix(*r.origin) + "build setting cycle: " + chain(names);
      return false;
    }
    std::string split_error;
    auto words = split_detailed(*r.value, &split_error);
    if (!words) {
      *error = prefix(*r.origin) + split_error + " (the value of " + list_name + ")";
      return false;
    }
    active.emplace_back(list_name, r.level);
    for (const SplitWord& w : *words) {
      // An unquoted word that is one plain reference stands for that list's words.
      std::string ref;
      const std::string_view t = w.text;
      if (!w.quoted && t.size() > 3 && t[0] == '$' && (t[1] == '(' || t[1] == '{') &&
          find_close(t, 2, t[1] == '(' ? ')' : '}') == t.size() - 1) {
        ref = std::string(t.substr(2, t.size() - 3));
        if (!std::all_of(ref.begin(), ref.end(), is_ident)) ref.clear();
      }
      if (ref == "inherited") {
        if (!self(self, list_name, r.level - 1)) return false;
        continue;
      }
      if (!ref.empty() && find(ref, kLevelCount - 1).level > kDefaults) {
        if (!self(self, ref, kLevelCount - 1)) return false;
        continue;
      }
      ListWord word;
      word.source = w.text;
      try {
        Expander x(*this, &word.undefined);
        word.text = x.text(w.text, list_name, r.level, *r.origin);
      } catch (const ExpandError& e) {
        *error = e.message;
        return false;
      }
      if (!word.text.empty()) out.push_back(std::move(word));
    }
    active.pop_back();
    return true;
  };
  if (!splice(splice, std::string(name), kLevelCount - 1)) return std::nullopt;
  return out;
}

std::optional<std::vector<std::string>> split_words(std::string_view text, std::string* error) {
  auto words = split_detailed(text, error);
  if (!words) return std::nullopt;
  std::vector<std::string> out;
  for (auto& w : *words) out.push_back(std::move(w.text));
  return out;
}

bool condition_matches(std::string_view pattern, std::string_view value) {
  // Glob with '*' only: try every split at each star (patterns are a few characters long).
  if (pattern.empty()) return value.empty();
  if (pattern.front() == '*') {
    for (std::size_t k = 0; k <= value.size(); ++k) {
      if (condition_matches(pattern.substr(1), value.substr(k))) return true;
    }
    return false;
  }
  return !value.empty() && pattern.front() == value.front() && condition_matches(pattern.substr(1), value.substr(1));
}

}  // namespace dexthil::xcode

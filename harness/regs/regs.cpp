#include "harness/regs/regs.hpp"

#include <cctype>
#include <cstdio>
#include <sstream>

#include "harness/toml/reader.hpp"

namespace dexthil::regs {

namespace {

bool is_name(const std::string& s, bool upper) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    const bool ok = c == '_' || std::isdigit(static_cast<unsigned char>(c)) ||
                    (upper ? std::isupper(static_cast<unsigned char>(c)) : std::islower(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return true;
}

// IOVA_LO -> IovaLo, device_writes -> DeviceWrites.
std::string camel(const std::string& snake) {
  std::string out;
  bool up = true;
  for (char c : snake) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
              : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    up = false;
  }
  return out;
}

// Upper-case hexadecimal, zero-padded to `digits` (at most 16).
std::string hex(std::uint64_t v, int digits) {
  std::string out;
  do {
    out.insert(out.begin(), "0123456789ABCDEF"[v & 0xf]);
    v >>= 4;
  } while (v);
  while (static_cast<int>(out.size()) < digits) out.insert(out.begin(), '0');
  return out;
}

class Reader : public toml_input::TomlReader {
 public:
  using TomlReader::TomlReader;

  Device read(const toml::table& root, const std::string& file) {
    Device d;
    d.file = file;
    allow_keys(root, "", {"device", "register"});
    const toml::table& dev = table(root, "device", "", true);
    allow_keys(dev, "device", {"name", "address_bits", "sv_package", "cxx_namespace"});
    d.name = string(dev, "name", "device", true).value();
    if (!is_name(d.name, false)) fail(*dev.get("name"), "device.name", "\"" + d.name + "\" is not a snake_case name");
    d.address_bits = static_cast<unsigned>(integer(dev, "address_bits", "device", 1, 32).value_or(8));
    d.sv_package = string(dev, "sv_package", "device", false).value_or(d.name + "_regs");
    d.cxx_namespace = string(dev, "cxx_namespace", "device", false).value_or(d.name + "_registers");
    for_each_table(root, "register", [&](const toml::table& t, const std::string& path) {
      d.registers.push_back(read_register(t, path, d));
    });
    if (d.registers.empty()) fail_at(pos(root), "register", "the description has no [[register]]");
    return d;
  }

 private:
  Register read_register(const toml::table& t, const std::string& path, const Device& d) {
    allow_keys(t, path, {"name", "offset", "access", "reset", "value", "description", "field"});
    Register r;
    r.name = string(t, "name", path, true).value();
    if (!is_name(r.name, true)) fail(*t.get("name"), path + ".name", "\"" + r.name + "\" is not an UPPER_SNAKE name");
    r.offset = static_cast<std::uint32_t>(integer(t, "offset", path, 0, (std::int64_t{1} << d.address_bits) - 4).value());
    if (r.offset % 4) fail(*t.get("offset"), path + ".offset", "0x" + hex(r.offset, 2) + " is not 4-byte aligned");
    for (const Register& other : d.registers) {
      if (other.offset == r.offset) {
        fail(*t.get("offset"), path + ".offset", "0x" + hex(r.offset, 2) + " is already " + other.name + "'s offset");
      }
      if (other.name == r.name) fail(*t.get("name"), path + ".name", r.name + " is already a register");
    }
    r.access = string(t, "access", path, true).value();
    if (r.access != "ro" && r.access != "rw" && r.access != "wo" && r.access != "rc" && r.access != "mixed") {
      fail(*t.get("access"), path + ".access", "\"" + r.access + "\" is not one of ro, rw, wo, rc, mixed");
    }
    if (t.get("reset")) r.reset = static_cast<std::uint64_t>(integer(t, "reset", path, 0, 0xFFFFFFFFll).value());
    if (t.get("value")) r.value = static_cast<std::uint64_t>(integer(t, "value", path, 0, 0xFFFFFFFFll).value());
    if (r.reset && r.value) fail(*t.get("value"), path + ".value", "a register has a reset or a constant value, not both");
    r.description = string(t, "description", path, true).value();
    if (const toml::node* fields = t.get("field")) {
      const toml::array* list = fields->as_array();
      if (!list) fail(*fields, path + ".field", std::string("expected an array of tables, got ") + type_name(*fields));
      std::uint64_t used = 0;
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string fpath = path + ".field[" + std::to_string(i) + "]";
        const Field f = read_field(as_table(*list->get(i), fpath), fpath, r);
        const std::uint64_t mask = ((std::uint64_t{1} << (f.msb - f.lsb + 1)) - 1) << f.lsb;
        if (used & mask) {
          fail(*as_table(*list->get(i), fpath).get("bits"), fpath + ".bits", f.name + " overlaps another field of " + r.name);
        }
        used |= mask;
        r.fields.push_back(f);
      }
    }
    return r;
  }

  Field read_field(const toml::table& t, const std::string& path, const Register& r) {
    allow_keys(t, path, {"name", "bits", "description"});
    Field f;
    f.name = string(t, "name", path, true).value();
    if (!is_name(f.name, false)) fail(*t.get("name"), path + ".name", "\"" + f.name + "\" is not a snake_case name");
    for (const Field& other : r.fields) {
      if (other.name == f.name) fail(*t.get("name"), path + ".name", f.name + " is already a field of " + r.name);
    }
    const std::string bits = string(t, "bits", path, true).value();
    unsigned msb = 0, lsb = 0;
    char tail = 0;
    if (std::sscanf(bits.c_str(), "%u:%u%c", &msb, &lsb, &tail) == 2) {
    } else if (std::sscanf(bits.c_str(), "%u%c", &msb, &tail) == 1) {
      lsb = msb;
    } else {
      fail(*t.get("bits"), path + ".bits", "\"" + bits + "\" is not \"N\" or \"MSB:LSB\"");
    }
    if (msb < lsb || msb >= 32) fail(*t.get("bits"), path + ".bits", "\"" + bits + "\" is not within bits 31..0, MSB first");
    f.msb = msb;
    f.lsb = lsb;
    f.description = string(t, "description", path, true).value();
    return f;
  }
};

}  // namespace

std::optional<Device> load_text(const std::string& text, const std::string& path, std::string* error) {
  std::optional<Device> device;
  Reader reader(path);
  if (!toml_input::parse(text, path, [&](const toml::table& root) { device = reader.read(root, path); }, error)) {
    return std::nullopt;
  }
  return device;
}

std::optional<Device> load(const std::string& path, std::string* error) {
  std::string text;
  if (!toml_input::read_file(path, &text, error)) return std::nullopt;
  return load_text(text, path, error);
}

std::string systemverilog_package(const Device& d) {
  std::ostringstream o;
  o << "// Generated by dexthil-regs from " << d.file << ": do not edit.\n";
  o << "// " << d.name << " registers (" << d.width << "-bit, byte offsets):\n";
  for (const Register& r : d.registers) {
    o << "//   0x" << hex(r.offset, 2) << "  " << r.name << "  " << r.access << "  " << r.description << "\n";
    for (const Field& f : r.fields) {
      o << "//          [" << f.msb << (f.msb != f.lsb ? ":" + std::to_string(f.lsb) : "") << "] " << f.name << ": "
        << f.description << "\n";
    }
  }
  o << "package " << d.sv_package << ";\n";
  // The package defines the whole map; a module uses what it needs.
  o << "  /* verilator lint_off UNUSEDPARAM */\n";
  for (const Register& r : d.registers) {
    o << "  localparam logic [" << d.address_bits - 1 << ":0] A_" << r.name << " = " << d.address_bits << "'h"
      << hex(r.offset, (d.address_bits + 3) / 4) << ";\n";
  }
  for (const Register& r : d.registers) {
    if (r.value) o << "  localparam logic [" << d.width - 1 << ":0] " << r.name << "_VALUE = " << d.width << "'h" << hex(*r.value, 8) << ";\n";
    if (r.reset) o << "  localparam logic [" << d.width - 1 << ":0] " << r.name << "_RESET = " << d.width << "'h" << hex(*r.reset, 8) << ";\n";
  }
  o << "  /* verilator lint_on UNUSEDPARAM */\n";
  o << "endpackage\n";
  return o.str();
}

std::string cxx_header(const Device& d) {
  std::ostringstream o;
  o << "// Generated by dexthil-regs from " << d.file << ": do not edit.\n";
  o << "// " << d.name << " registers: offsets (k<Register>), constant values (k<Register>Value), values after\n"
    << "// reset (k<Register>Reset), one-bit fields as masks (k<Register><Field>) and wider fields as a\n"
    << "// shift and a mask (k<Register><Field>Shift, k<Register><Field>Mask).\n";
  o << "#pragma once\n#include <stdint.h>\n\nnamespace " << d.cxx_namespace << " {\n";
  for (const Register& r : d.registers) {
    const std::string k = "k" + camel(r.name);
    o << "inline constexpr uint32_t " << k << " = 0x" << hex(r.offset, 2) << ";  // " << r.access << ": " << r.description
      << "\n";
    if (r.value) o << "inline constexpr uint32_t " << k << "Value = 0x" << hex(*r.value, 8) << ";\n";
    if (r.reset) o << "inline constexpr uint32_t " << k << "Reset = 0x" << hex(*r.reset, 8) << ";\n";
    for (const Field& f : r.fields) {
      const std::string fk = k + camel(f.name);
      if (f.msb == f.lsb) {
        o << "inline constexpr uint32_t " << fk << " = 1u << " << f.lsb << ";  // " << f.description << "\n";
      } else {
        const std::uint64_t mask = ((std::uint64_t{1} << (f.msb - f.lsb + 1)) - 1) << f.lsb;
        o << "inline constexpr uint32_t " << fk << "Shift = " << f.lsb << ";  // " << f.description << "\n";
        o << "inline constexpr uint32_t " << fk << "Mask = 0x" << hex(mask, 8) << ";\n";
      }
    }
  }
  o << "}  // namespace " << d.cxx_namespace << "\n";
  return o.str();
}

}  // namespace dexthil::regs

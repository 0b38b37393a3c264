// dexthil-regs: the generated constants, written out here by hand from the description, and one
// precise message per kind of mistake.
#include <gtest/gtest.h>

#include "harness/regs/regs.hpp"

namespace dexthil::regs {
namespace {

const char* kSmall = R"(
[device]
name = "tiny"
address_bits = 8
[[register]]
name = "ID"
offset = 0x00
access = "ro"
value = 0xABCD0001
description = "who"
[[register]]
name = "STATUS"
offset = 0x04
access = "mixed"
reset = 0
description = "state"
field = [ { name = "done", bits = "1", description = "finished" },
          { name = "result", bits = "7:4", description = "code" } ]
)";

TEST(Regs, GeneratesTheSvPackageAndTheCxxHeader) {
  std::string error;
  auto d = load_text(kSmall, "tiny.toml", &error);
  ASSERT_TRUE(d) << error;
  const std::string sv = systemverilog_package(*d);
  EXPECT_NE(sv.find("package tiny_regs;\n"), std::string::npos) << sv;
  EXPECT_NE(sv.find("  localparam logic [7:0] A_ID = 8'h00;\n"), std::string::npos) << sv;
  EXPECT_NE(sv.find("  localparam logic [7:0] A_STATUS = 8'h04;\n"), std::string::npos);
  EXPECT_NE(sv.find("  localparam logic [31:0] ID_VALUE = 32'hABCD0001;\n"), std::string::npos);
  EXPECT_NE(sv.find("  localparam logic [31:0] STATUS_RESET = 32'h00000000;\n"), std::string::npos);
  EXPECT_NE(sv.find("//          [7:4] result: code\n"), std::string::npos);
  const std::string h = cxx_header(*d);
  EXPECT_NE(h.find("namespace tiny_registers {\n"), std::string::npos) << h;
  EXPECT_NE(h.find("inline constexpr uint32_t kId = 0x00;  // ro: who\n"), std::string::npos) << h;
  EXPECT_NE(h.find("inline constexpr uint32_t kIdValue = 0xABCD0001;\n"), std::string::npos);
  EXPECT_NE(h.find("inline constexpr uint32_t kStatusReset = 0x00000000;\n"), std::string::npos);
  EXPECT_NE(h.find("inline constexpr uint32_t kStatusDone = 1u << 1;  // finished\n"), std::string::npos);
  EXPECT_NE(h.find("inline constexpr uint32_t kStatusResultShift = 4;  // code\n"), std::string::npos);
  EXPECT_NE(h.find("inline constexpr uint32_t kStatusResultMask = 0x000000F0;\n"), std::string::npos);
}

TEST(Regs, EachMistakeHasOneMessageNamingWhereItIs) {
  struct Case {
    std::string change_from, change_to, message;
  };
  const Case cases[] = {
      {"offset = 0x04", "offset = 0x00", "tiny.toml:13:10: error: register[1].offset: 0x00 is already ID's offset"},
      {"offset = 0x04", "offset = 0x06", "tiny.toml:13:10: error: register[1].offset: 0x06 is not 4-byte aligned"},
      {"bits = \"7:4\"", "bits = \"1:0\"", "tiny.toml:18:37: error: register[1].field[1].bits: result overlaps another field of STATUS"},
      {"bits = \"7:4\"", "bits = \"4:7\"", "tiny.toml:18:37: error: register[1].field[1].bits: \"4:7\" is not within bits 31..0, MSB first"},
      {"access = \"mixed\"", "access = \"rwx\"", "tiny.toml:14:10: error: register[1].access: \"rwx\" is not one of ro, rw, wo, rc, mixed"},
      {"name = \"STATUS\"", "name = \"Status\"", "tiny.toml:12:8: error: register[1].name: \"Status\" is not an UPPER_SNAKE name"},
      {"reset = 0\n", "reset = 0\nvalue = 1\n", "tiny.toml:16:9: error: register[1].value: a register has a reset or a constant value, not both"},
  };
  for (const Case& c : cases) {
    std::string text = kSmall;
    const auto at = text.find(c.change_from);
    ASSERT_NE(at, std::string::npos) << c.change_from;
    text.replace(at, c.change_from.size(), c.change_to);
    std::string error;
    EXPECT_FALSE(load_text(text, "tiny.toml", &error));
    EXPECT_EQ(error, c.message) << c.change_to;
  }
}

}  // namespace
}  // namespace dexthil::regs

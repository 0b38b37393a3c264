#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/xcode/build_settings.hpp"
#include "harness/xcode/openstep_plist.hpp"
#include "harness/xcode/xcode_project.hpp"

namespace dexthil::xcode {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("dexthil-xcode-test-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Line and column (from 1, in bytes) of the first `needle` in `text`, `offset` bytes into it.
std::pair<int, int> line_column(const std::string& text, const std::string& needle, std::size_t offset = 0) {
  const std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  const std::size_t pos = at == std::string::npos ? 0 : at + offset;
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(pos - line_start + 1)};
}

// "LINE:COL", as messages write it.
std::string where(const std::string& text, const std::string& needle, std::size_t offset = 0) {
  const auto [line, column] = line_column(text, needle, offset);
  return std::to_string(line) + ":" + std::to_string(column);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// ---------------------------------------------------------------------------------------------
// OpenStep property lists

std::optional<Value> parse(const std::string& text, std::string* error) {
  return parse_openstep_plist(text, "project.pbxproj", error);
}

std::string parse_error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(parse(text, &error)) << text;
  return error;
}

TEST(OpenStepPlist, ReadsEveryKindOfValueInOrderWithPositions) {
  const std::string text =
      "// !$*UTF8*$!\n"
      "{\n"
      "\tarchiveVersion = 1;\n"
      "\t/* a comment */ list = (a, \"b c\", <0aFF 10>, {x = y;}, );\n"
      "\tquoted = \"tab\\there \\\"q\\\" back\\\\slash\\nnew \\U00e9\\UD83D\\UDE00\";\n"
      "\tbare = $SRCROOT/a-b.c+d:e_f;\n"
      "\tempty = ();\n"
      "}\n";
  std::string error;
  auto v = parse(text, &error);
  ASSERT_TRUE(v) << error;
  ASSERT_TRUE(v->is_dictionary());
  ASSERT_EQ(v->entries.size(), 5u);
  EXPECT_EQ(v->entries[0].key, "archiveVersion");
  EXPECT_EQ(v->entries[1].key, "list");
  EXPECT_EQ(v->entries[2].key, "quoted");
  EXPECT_EQ(v->entries[3].key, "bare");
  EXPECT_EQ(v->entries[1].key_position.line, 4);
  EXPECT_EQ(v->entries[1].key_position.column, 18);
  const Value& list = *v->find("list");
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.items.size(), 4u);
  EXPECT_EQ(list.items[0].text, "a");
  EXPECT_EQ(list.items[1].text, "b c");
  EXPECT_EQ(list.items[1].position.line, 4);
  EXPECT_EQ(list.items[1].position.column, 29);
  EXPECT_EQ(list.items[2].kind, Value::Kind::kData);
  EXPECT_EQ(list.items[2].text, std::string("\x0a\xff\x10"));
  EXPECT_EQ(list.items[3].find("x")->text, "y");
  EXPECT_EQ(v->find("quoted")->text, "tab\there \"q\" back\\slash\nnew \xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v->find("bare")->text, "$SRCROOT/a-b.c+d:e_f");
  EXPECT_TRUE(v->find("empty")->is_array());
  EXPECT_TRUE(v->find("empty")->items.empty());
  EXPECT_EQ(v->find("nope"), nullptr);
}

TEST(OpenStepPlist, MalformedTextGetsOnePreciseError) {
  EXPECT_EQ(parse_error("{\n\tisa = PBXGroup\n}\n"),
            "project.pbxproj:3:1: error: expected ';' after the value of 'isa', found '}'");
  EXPECT_EQ(parse_error("{\n\tname = \"Driver;\n}\n"),
            "project.pbxproj:2:9: error: unterminated string (no closing \")");
  EXPECT_EQ(parse_error("{\n\tisa = PBXGroup;\n\tname = A;\n\tisa = PBXFileReference;\n}\n"),
            "project.pbxproj:4:2: error: duplicate key 'isa' (first at line 2, column 2)");
  EXPECT_EQ(parse_error("{ a = b; } c"),
            "project.pbxproj:1:12: error: expected the end of the file after the top-level value, found 'c'");
  EXPECT_EQ(parse_error("{ a = b; /* open"), "project.pbxproj:1:10: error: unterminated comment (no closing '*/')");
  EXPECT_EQ(parse_error("{ a = b;"),
            "project.pbxproj:1:9: error: expected a key or '}' in the dictionary opened at line 1, column 1, found the "
            "end of the file");
  EXPECT_EQ(parse_error("{ a b; }"), "project.pbxproj:1:5: error: expected '=' after the key 'a', found 'b'");
  EXPECT_EQ(parse_error("( a b )"),
            "project.pbxproj:1:5: error: expected ',' or ')' after an array element, found 'b'");
  EXPECT_EQ(parse_error("( a, "),
            "project.pbxproj:1:6: error: expected a value or ')' in the array opened at line 1, column 1, found the "
            "end of the file");
  EXPECT_EQ(parse_error("{ a = ; }"),
            "project.pbxproj:1:7: error: expected a value (a string, '{', '(' or '<'), found ';'");
  EXPECT_EQ(parse_error("{ a = \"x\\q\"; }"), "project.pbxproj:1:9: error: unknown escape '\\q' in a string");
  EXPECT_EQ(parse_error("{ a = \"\\U12\"; }"), "project.pbxproj:1:8: error: expected 4 hex digits after '\\U'");
  EXPECT_EQ(parse_error("{ a = <0a1>; }"), "project.pbxproj:1:11: error: odd number of hex digits in data");
  EXPECT_EQ(parse_error("{ a = <0g>; }"), "project.pbxproj:1:9: error: expected hex digits or '>' in data, found 'g'");
  EXPECT_EQ(parse_error("{ a = @x; }"),
            "project.pbxproj:1:7: error: expected a value (a string, '{', '(' or '<'), found '@'");
  EXPECT_EQ(parse_error(""),
            "project.pbxproj:1:1: error: expected a value (a string, '{', '(' or '<'), found the end of the file");
  EXPECT_EQ(parse_error(std::string(300, '(')), "project.pbxproj:1:202: error: nesting deeper than 200 levels");
}

TEST(OpenStepPlist, LoadNamesTheFile) {
  const fs::path dir = fresh_dir("load");
  write(dir / "broken.pbxproj", "{\n  a = (b, c;\n}\n");
  std::string error;
  EXPECT_FALSE(load_openstep_plist((dir / "broken.pbxproj").string(), &error));
  EXPECT_EQ(error,
            (dir / "broken.pbxproj").string() + ":2:12: error: expected ',' or ')' after an array element, found ';'");
  EXPECT_FALSE(load_openstep_plist((dir / "none.pbxproj").string(), &error));
  EXPECT_EQ(error, (dir / "none.pbxproj").string() + ": error: cannot open the file");
}

// ---------------------------------------------------------------------------------------------
// Build settings

std::string expanded(const BuildSettings& s, const std::string& text, std::vector<std::string>* undefined = nullptr) {
  std::string error;
  auto v = s.expand(text, undefined, &error);
  EXPECT_TRUE(v) << error;
  return v.value_or("<error>");
}

std::string expand_error(const BuildSettings& s, const std::string& text) {
  std::string error;
  EXPECT_FALSE(s.expand(text, nullptr, &error)) << text;
  return error;
}

TEST(BuildSettings, InheritedWalksDownTheLevels) {
  BuildSettings s;
  s.set(BuildSettings::kDefaults, "FLAGS", "d");
  s.set(BuildSettings::kProjectXcconfig, "FLAGS", "$(inherited) px");
  s.set(BuildSettings::kProject, "FLAGS", "$(inherited) p");
  s.set(BuildSettings::kTargetXcconfig, "FLAGS", "${inherited} tx");
  s.set(BuildSettings::kTarget, "FLAGS", "$inherited t");
  std::string error;
  EXPECT_EQ(s.value("FLAGS", nullptr, &error), "d px p tx t");
  // A level that does not set the setting is skipped; the lowest $(inherited) is "".
  BuildSettings gaps;
  gaps.set(BuildSettings::kProject, "FLAGS", "$(inherited) p");
  gaps.set(BuildSettings::kTarget, "FLAGS", "$(inherited) t");
  EXPECT_EQ(gaps.value("FLAGS", nullptr, &error), " p t");
  EXPECT_EQ(*gaps.raw("FLAGS"), "$(inherited) t");
  EXPECT_EQ(*gaps.raw("FLAGS", BuildSettings::kProject), "$(inherited) p");
  EXPECT_EQ(gaps.raw("FLAGS", BuildSettings::kDefaults), nullptr);
  EXPECT_EQ(gaps.value("UNSET", nullptr, &error), "");
  EXPECT_EQ(gaps.names(), (std::vector<std::string>{"FLAGS"}));
}

TEST(BuildSettings, ExpandsTheThreeReferenceFormsRecursively) {
  BuildSettings s;
  s.set(BuildSettings::kDefaults, "SRCROOT", "/src");
  s.set(BuildSettings::kTarget, "VENDOR", "$(SRCROOT)/vendor");
  s.set(BuildSettings::kTarget, "KIND", "PCI");
  s.set(BuildSettings::kTarget, "DRIVER_PCI", "pci-driver");
  std::vector<std::string> undefined;
  EXPECT_EQ(expanded(s, "$(VENDOR)/a ${VENDOR}/b $VENDOR/c $VENDOR", &undefined),
            "/src/vendor/a /src/vendor/b /src/vendor/c /src/vendor");
  EXPECT_EQ(expanded(s, "$(DRIVER_$(KIND))"), "pci-driver");
  EXPECT_EQ(expanded(s, "cost: 5$ $ $- $(inherited)"), "cost: 5$ $ $- ");
  EXPECT_TRUE(undefined.empty());
  EXPECT_EQ(expanded(s, "[$(NOPE)] [${NOPE}] [$ALSO_NOPE.x]", &undefined), "[] [] [.x]");
  EXPECT_EQ(undefined, (std::vector<std::string>{"NOPE", "ALSO_NOPE"}));
}

TEST(BuildSettings, EveryModifier) {
  BuildSettings s;
  s.set(BuildSettings::kTarget, "NAME", "2nd Driver-1.0_x \xc3\xa9");
  s.set(BuildSettings::kTarget, "MIXED", "MixedCase-1");
  EXPECT_EQ(expanded(s, "$(NAME:rfc1034identifier)"), "2nd-Driver-1.0-x--");
  EXPECT_EQ(expanded(s, "$(NAME:c99extidentifier)"), "_nd_Driver_1_0_x_\xc3\xa9");
  EXPECT_EQ(expanded(s, "$(NAME:identifier)"), "_nd_Driver_1_0_x__");
  EXPECT_EQ(expanded(s, "$(MIXED:lower)"), "mixedcase-1");
  EXPECT_EQ(expanded(s, "${MIXED:upper}"), "MIXEDCASE-1");
  EXPECT_EQ(expanded(s, "$(MIXED:lower:rfc1034identifier)"), "mixedcase-1");
  std::vector<std::string> undefined;
  EXPECT_EQ(expanded(s, "$(UNSET:default=$(MIXED:upper))", &undefined), "MIXEDCASE-1");
  EXPECT_EQ(undefined, (std::vector<std::string>{"UNSET"}));
  EXPECT_EQ(expanded(s, "$(MIXED:default=fallback)"), "MixedCase-1");
  EXPECT_EQ(expand_error(s, "$(MIXED:title)"),
            "error: unknown modifier ':title' in '$(MIXED:title)' (known: lower, upper, identifier, c99extidentifier, "
            "rfc1034identifier, default=TEXT)");
  EXPECT_EQ(expand_error(s, "a $(MIXED"), "error: unterminated reference '$(MIXED' (no closing ')') in 'a $(MIXED'");
  EXPECT_EQ(expand_error(s, "$(:lower)"), "error: empty build setting name in '$(:lower)'");
}

TEST(BuildSettings, ACycleIsAnErrorNamingIt) {
  BuildSettings s;
  s.set(BuildSettings::kTarget, "A", "x$(B)", "Sample.xcconfig:3:1");
  s.set(BuildSettings::kTarget, "B", "$(C:lower)", "Sample.xcconfig:4:1");
  s.set(BuildSettings::kTarget, "C", "$(A)", "Sample.xcconfig:5:1");
  s.set(BuildSettings::kTarget, "SELF", "$(SELF)");
  std::string error;
  EXPECT_FALSE(s.value("A", nullptr, &error));
  EXPECT_EQ(error, "Sample.xcconfig:3:1: error: build setting cycle: A -> B -> C -> A");
  EXPECT_FALSE(s.value("C", nullptr, &error));
  EXPECT_EQ(error, "Sample.xcconfig:5:1: error: build setting cycle: C -> A -> B -> C");
  EXPECT_EQ(expand_error(s, "$(SELF)"), "error: build setting cycle: SELF -> SELF");
  // Going down a level through $(inherited) is no cycle.
  s.set(BuildSettings::kProject, "D", "base");
  s.set(BuildSettings::kTarget, "D", "$(inherited) more");
  EXPECT_EQ(s.value("D", nullptr, &error), "base more");
}

TEST(BuildSettings, ListsSplitFirstThenExpandEachWord) {
  BuildSettings s;
  s.set(BuildSettings::kDefaults, "SRCROOT", "/My Project");
  s.set(BuildSettings::kProject, "HEADER_SEARCH_PATHS", "$(SRCROOT)/include");
  s.set(BuildSettings::kProject, "EXTRA_DEFS", "A=1 \"B=two words\"");
  s.set(BuildSettings::kTarget, "HEADER_SEARCH_PATHS", "$(inherited) \"$(SRCROOT)/Vendor Headers\" $(UNSET)/x lib/**");
  s.set(BuildSettings::kTarget, "GCC_PREPROCESSOR_DEFINITIONS",
        "$(inherited) $(EXTRA_DEFS) \"$(EXTRA_DEFS)\" NAME=\\\"$(SRCROOT)\\\"");
  std::string error;
  auto paths = s.list("HEADER_SEARCH_PATHS", &error);
  ASSERT_TRUE(paths) << error;
  ASSERT_EQ(paths->size(), 4u);
  EXPECT_EQ((*paths)[0].text, "/My Project/include");
  EXPECT_EQ((*paths)[1].text, "/My Project/Vendor Headers");
  EXPECT_EQ((*paths)[2].text, "/x");
  EXPECT_EQ((*paths)[2].source, "$(UNSET)/x");
  EXPECT_EQ((*paths)[2].undefined, (std::vector<std::string>{"UNSET"}));
  EXPECT_EQ((*paths)[3].text, "lib/**");
  auto defs = s.list("GCC_PREPROCESSOR_DEFINITIONS", &error);
  ASSERT_TRUE(defs) << error;
  std::vector<std::string> texts;
  for (const auto& w : *defs) texts.push_back(w.text);
  // $(EXTRA_DEFS) alone splices its words; quoted, it is one word.
  EXPECT_EQ(texts, (std::vector<std::string>{"A=1", "B=two words", "A=1 \"B=two words\"", "NAME=\"/My Project\""}));
  s.set(BuildSettings::kTarget, "LOOP", "a $(LOOP)");
  EXPECT_FALSE(s.list("LOOP", &error));
  EXPECT_EQ(error, "error: build setting cycle: LOOP -> LOOP");
}

TEST(BuildSettings, SplitWordsAsXcodeDoes) {
  std::string error;
  auto words = split_words(" a  \"b c\"\t'd \"e' f\\ g \"h\\\"i\" $(FOO:default=x y) \"\" j\"k l\"m ", &error);
  ASSERT_TRUE(words) << error;
  EXPECT_EQ(*words, (std::vector<std::string>{"a", "b c", "d \"e", "f g", "h\"i", "$(FOO:default=x y)", "", "jk lm"}));
  EXPECT_EQ(split_words("", &error), std::vector<std::string>{});
  EXPECT_FALSE(split_words("a \"b", &error));
  EXPECT_EQ(error, "unterminated \" in 'a \"b'");
  EXPECT_FALSE(split_words("'x", &error));
  EXPECT_EQ(error, "unterminated ' in ''x'");
}

TEST(BuildSettings, ConditionsMatchADriverKitBuild) {
  EXPECT_TRUE(condition_matches("driverkit*", "driverkit"));
  EXPECT_TRUE(condition_matches("*", "arm64"));
  EXPECT_TRUE(condition_matches("arm*4", "arm64"));
  EXPECT_FALSE(condition_matches("macosx*", "driverkit"));
  EXPECT_FALSE(condition_matches("arm64e", "arm64"));
  BuildSettings s(Conditions{"driverkit", "arm64", "Debug"});
  std::string error;
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"V[sdk=driverkit*]", "sdk"},
                                                        {"V", "plain"},
                                                        {"V[sdk=macosx*]", "mac"},
                                                        {"W[arch=x86_64]", "intel"},
                                                        {"W", "plain"},
                                                        {"X[config=Debug][sdk=driverkit*,arch=arm64*]", "debug-arm"},
                                                        {"Y[variant=profile]", "p"}}) {
    ASSERT_TRUE(s.assign(BuildSettings::kTarget, key, value, "t.xcconfig:1:1", &error)) << error;
  }
  // A matching conditional assignment wins over the plain one, whatever their order.
  EXPECT_EQ(s.value("V", nullptr, &error), "sdk");
  EXPECT_EQ(s.value("W", nullptr, &error), "plain");
  EXPECT_EQ(s.value("X", nullptr, &error), "debug-arm");
  EXPECT_EQ(s.raw("Y"), nullptr);
  EXPECT_FALSE(s.assign(BuildSettings::kTarget, "Z[sdk=driverkit*", "v", "t.xcconfig:9:1", &error));
  EXPECT_EQ(error, "t.xcconfig:9:1: error: missing ']' after the condition '[sdk=driverkit*'");
  EXPECT_FALSE(s.assign(BuildSettings::kTarget, "Z[driverkit]", "v", "t.xcconfig:9:1", &error));
  EXPECT_EQ(error,
            "t.xcconfig:9:1: error: malformed condition 'driverkit' (expected KEY=PATTERN, e.g. sdk=driverkit*)");
  EXPECT_FALSE(s.assign(BuildSettings::kTarget, "9Z", "v", "t.xcconfig:9:1", &error));
  EXPECT_EQ(
      error,
      "t.xcconfig:9:1: error: '9Z' is not a build setting name (letters, digits and '_', not starting with a digit)");
}

TEST(BuildSettings, ReadsXcconfigFiles) {
  const fs::path dir = fresh_dir("xcconfig");
  write(dir / "Base.xcconfig",
        "// Shared by every configuration\n"
        "#include \"Common/Warnings.xcconfig\"\n"
        "#include? \"Local.xcconfig\"   // a developer's own, not in the repository\n"
        "\n"
        "  QUEUE_DEPTH = 16\n"
        "QUEUE_DEPTH[sdk=driverkit*][arch=arm64*] = 32;\n"
        "QUEUE_DEPTH[sdk=macosx*] = 8\n"
        "URL = https://example.org/x\n"
        "DEFS = $(inherited) BASE=1\n");
  write(dir / "Common" / "Warnings.xcconfig", "WARNINGS = -Wall\t// more later\nDRIVERKIT_DEPLOYMENT_TARGET=21.0\n");
  BuildSettings s;
  s.set(BuildSettings::kDefaults, "DEFS", "D=0");
  std::string error;
  ASSERT_TRUE(s.load_xcconfig(BuildSettings::kTargetXcconfig, (dir / "Base.xcconfig").string(), &error)) << error;
  EXPECT_EQ(s.value("QUEUE_DEPTH", nullptr, &error), "32");
  EXPECT_EQ(s.value("WARNINGS", nullptr, &error), "-Wall");
  EXPECT_EQ(s.value("DRIVERKIT_DEPLOYMENT_TARGET", nullptr, &error), "21.0");
  EXPECT_EQ(s.value("URL", nullptr, &error), "https:");  // "//" starts a comment, as in Xcode
  EXPECT_EQ(s.value("DEFS", nullptr, &error), "D=0 BASE=1");

  auto fails = [&](const std::string& text) {
    write(dir / "Bad.xcconfig", text);
    BuildSettings b;
    EXPECT_FALSE(b.load_xcconfig(BuildSettings::kTarget, (dir / "Bad.xcconfig").string(), &error)) << text;
    return error;
  };
  const std::string bad = (dir / "Bad.xcconfig").string();
  EXPECT_EQ(fails("A = 1\n  just words\n"),
            bad + ":2:3: error: expected 'NAME = VALUE', '#include \"FILE\"' or a comment, found 'just words'");
  EXPECT_EQ(
      fails("#import \"x.xcconfig\"\n"),
      bad +
          ":1:1: error: unknown directive '#import \"x.xcconfig\"' (expected #include \"FILE\" or #include? \"FILE\")");
  EXPECT_EQ(fails("#include Base.xcconfig\n"),
            bad + ":1:1: error: expected a quoted file name after '#include', found 'Base.xcconfig'");
  EXPECT_EQ(fails("\n#include \"Signing.xcconfig\"\n"),
            bad + ":2:1: error: cannot open the included file 'Signing.xcconfig' (looked for " +
                (dir / "Signing.xcconfig").string() + "; write #include? to make it optional)");
  EXPECT_EQ(
      fails("#include \"Bad.xcconfig\"\n"),
      bad + ":1:1: error: #include \"Bad.xcconfig\" includes a file that is already being read (an include cycle)");
  EXPECT_EQ(fails("A[sdk=x = 1\n"), bad + ":1:1: error: missing ']' after the condition '[sdk'");
  EXPECT_EQ(fails(" = 1\n"),
            bad + ":1:2: error: '' is not a build setting name (letters, digits and '_', not starting with a digit)");
  BuildSettings none;
  EXPECT_FALSE(none.load_xcconfig(BuildSettings::kTarget, (dir / "None.xcconfig").string(), &error));
  EXPECT_EQ(error, (dir / "None.xcconfig").string() + ": error: cannot open the file");
}

// ---------------------------------------------------------------------------------------------
// Projects

// A project in the style Xcode writes: a dext target (SampleDriver) and an app, nested groups, a
// project-level and a target-level .xcconfig, Debug and Release.
const char* const kProject = R"pbx(// !$*UTF8*$!
{
	archiveVersion = 1;
	classes = {
	};
	objectVersion = 56;
	objects = {

/* Begin PBXBuildFile section */
		0A0000000000000000000040 /* Driver.iig in Sources */ = {isa = PBXBuildFile; fileRef = 0A0000000000000000000020 /* Driver.iig */; };
		0A0000000000000000000041 /* Driver.cpp in Sources */ = {isa = PBXBuildFile; fileRef = 0A0000000000000000000021 /* Driver.cpp */; };
		0A0000000000000000000042 /* ring.c in Sources */ = {isa = PBXBuildFile; fileRef = 0A0000000000000000000022 /* ring.c */; };
		0A0000000000000000000043 /* Status.swift in Sources */ = {isa = PBXBuildFile; fileRef = 0A0000000000000000000023 /* Status.swift */; };
		0A0000000000000000000044 /* Registers.h in Headers */ = {isa = PBXBuildFile; fileRef = 0A0000000000000000000024 /* Registers.h */; settings = {ATTRIBUTES = (Project, ); }; };
		0A0000000000000000000045 /* Legacy.mm in Sources */ = {isa = PBXBuildFile; fileRef = 0A0000000000000000000025 /* Legacy.mm */; };
		0A0000000000000000000046 /* shared.cpp in Sources */ = {isa = PBXBuildFile; fileRef = 0A000000000000000000002C /* shared.cpp */; settings = {COMPILER_FLAGS = "-O3"; }; };
		0A0000000000000000000047 /* DriverKit.framework in Frameworks */ = {isa = PBXBuildFile; fileRef = 0A000000000000000000002B /* DriverKit.framework */; };
		0A0000000000000000000048 /* notes.md in Sources */ = {isa = PBXBuildFile; fileRef = 0A000000000000000000002D /* notes.md */; };
		0A0000000000000000000049 /* main.swift in Sources */ = {isa = PBXBuildFile; fileRef = 0A000000000000000000002E /* main.swift */; };
		0A000000000000000000004A /* Registers.h in Sources */ = {isa = PBXBuildFile; fileRef = 0A0000000000000000000024 /* Registers.h */; };
/* End PBXBuildFile section */

/* Begin PBXFileReference section */
		0A0000000000000000000020 /* Driver.iig */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.iig; path = Driver.iig; sourceTree = "<group>"; };
		0A0000000000000000000021 /* Driver.cpp */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.cpp.cpp; path = Driver.cpp; sourceTree = "<group>"; };
		0A0000000000000000000022 /* ring.c */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.c.c; path = ring.c; sourceTree = "<group>"; };
		0A0000000000000000000023 /* Status.swift */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.swift; path = Status.swift; sourceTree = "<group>"; };
		0A0000000000000000000024 /* Registers.h */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.c.h; path = Registers.h; sourceTree = "<group>"; };
		0A0000000000000000000025 /* Legacy.mm */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.cpp.objcpp; path = Legacy.mm; sourceTree = "<group>"; };
		0A0000000000000000000026 /* Info.plist */ = {isa = PBXFileReference; lastKnownFileType = text.plist.xml; path = Info.plist; sourceTree = "<group>"; };
		0A0000000000000000000027 /* SampleDriver.entitlements */ = {isa = PBXFileReference; lastKnownFileType = text.plist.entitlements; path = SampleDriver.entitlements; sourceTree = "<group>"; };
		0A0000000000000000000028 /* Project.xcconfig */ = {isa = PBXFileReference; lastKnownFileType = text.xcconfig; path = Project.xcconfig; sourceTree = "<group>"; };
		0A0000000000000000000029 /* Driver.xcconfig */ = {isa = PBXFileReference; lastKnownFileType = text.xcconfig; name = Driver.xcconfig; path = Config/Driver.xcconfig; sourceTree = SOURCE_ROOT; };
		0A000000000000000000002A /* org.example.sample-driver.dext */ = {isa = PBXFileReference; explicitFileType = "wrapper.driver-extension"; includeInIndex = 0; path = "org.example.sample-driver.dext"; sourceTree = BUILT_PRODUCTS_DIR; };
		0A000000000000000000002B /* DriverKit.framework */ = {isa = PBXFileReference; lastKnownFileType = wrapper.framework; name = DriverKit.framework; path = System/DriverKit/System/Library/Frameworks/DriverKit.framework; sourceTree = SDKROOT; };
		0A000000000000000000002C /* shared.cpp */ = {isa = PBXFileReference; fileEncoding = 4; lastKnownFileType = sourcecode.cpp.cpp; name = shared.cpp; path = Shared/shared.cpp; sourceTree = SOURCE_ROOT; };
		0A000000000000000000002D /* notes.md */ = {isa = PBXFileReference; lastKnownFileType = net.daringfireball.markdown; path = notes.md; sourceTree = "<group>"; };
		0A000000000000000000002E /* main.swift */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.swift; path = main.swift; sourceTree = "<group>"; };
/* End PBXFileReference section */

/* Begin PBXFrameworksBuildPhase section */
		0A0000000000000000000052 /* Frameworks */ = {
			isa = PBXFrameworksBuildPhase;
			buildActionMask = 2147483647;
			files = (
				0A0000000000000000000047 /* DriverKit.framework in Frameworks */,
			);
			runOnlyForDeploymentPostprocessing = 0;
		};
/* End PBXFrameworksBuildPhase section */

/* Begin PBXGroup section */
		0A0000000000000000000010 = {
			isa = PBXGroup;
			children = (
				0A0000000000000000000011 /* Driver */,
				0A0000000000000000000014 /* Configuration */,
				0A0000000000000000000016 /* App */,
				0A000000000000000000002C /* shared.cpp */,
				0A0000000000000000000015 /* Products */,
			);
			sourceTree = "<group>";
		};
		0A0000000000000000000011 /* Driver */ = {
			isa = PBXGroup;
			children = (
				0A0000000000000000000012 /* Sources */,
				0A0000000000000000000026 /* Info.plist */,
				0A0000000000000000000027 /* SampleDriver.entitlements */,
			);
			path = Driver;
			sourceTree = "<group>";
		};
		0A0000000000000000000012 /* Sources */ = {
			isa = PBXGroup;
			children = (
				0A0000000000000000000020 /* Driver.iig */,
				0A0000000000000000000021 /* Driver.cpp */,
				0A0000000000000000000022 /* ring.c */,
				0A0000000000000000000023 /* Status.swift */,
				0A0000000000000000000024 /* Registers.h */,
				0A000000000000000000002D /* notes.md */,
				0A0000000000000000000013 /* Legacy */,
			);
			path = Sources;
			sourceTree = "<group>";
		};
		0A0000000000000000000013 /* Legacy */ = {
			isa = PBXGroup;
			children = (
				0A0000000000000000000025 /* Legacy.mm */,
			);
			name = Legacy;
			sourceTree = "<group>";
		};
		0A0000000000000000000014 /* Configuration */ = {
			isa = PBXGroup;
			children = (
				0A0000000000000000000028 /* Project.xcconfig */,
				0A0000000000000000000029 /* Driver.xcconfig */,
			);
			name = Configuration;
			path = Config;
			sourceTree = "<group>";
		};
		0A0000000000000000000015 /* Products */ = {
			isa = PBXGroup;
			children = (
				0A000000000000000000002A /* org.example.sample-driver.dext */,
			);
			name = Products;
			sourceTree = "<group>";
		};
		0A0000000000000000000016 /* App */ = {
			isa = PBXGroup;
			children = (
				0A000000000000000000002E /* main.swift */,
			);
			path = App;
			sourceTree = "<group>";
		};
/* End PBXGroup section */

/* Begin PBXHeadersBuildPhase section */
		0A0000000000000000000050 /* Headers */ = {
			isa = PBXHeadersBuildPhase;
			buildActionMask = 2147483647;
			files = (
				0A0000000000000000000044 /* Registers.h in Headers */,
			);
			runOnlyForDeploymentPostprocessing = 0;
		};
/* End PBXHeadersBuildPhase section */

/* Begin PBXNativeTarget section */
		0A0000000000000000000060 /* SampleDriver */ = {
			isa = PBXNativeTarget;
			buildConfigurationList = 0A0000000000000000000071 /* Build configuration list for PBXNativeTarget "SampleDriver" */;
			buildPhases = (
				0A0000000000000000000050 /* Headers */,
				0A0000000000000000000051 /* Sources */,
				0A0000000000000000000052 /* Frameworks */,
			);
			buildRules = (
			);
			dependencies = (
			);
			name = SampleDriver;
			productName = SampleDriver;
			productReference = 0A000000000000000000002A /* org.example.sample-driver.dext */;
			productType = "com.apple.product-type.driver-extension";
		};
		0A0000000000000000000061 /* SampleApp */ = {
			isa = PBXNativeTarget;
			buildConfigurationList = 0A0000000000000000000072 /* Build configuration list for PBXNativeTarget "SampleApp" */;
			buildPhases = (
				0A0000000000000000000053 /* Sources */,
			);
			name = SampleApp;
			productName = SampleApp;
			productType = "com.apple.product-type.application";
		};
/* End PBXNativeTarget section */

/* Begin PBXProject section */
		0A0000000000000000000001 /* Project object */ = {
			isa = PBXProject;
			attributes = {
				LastUpgradeCheck = 1500;
			};
			buildConfigurationList = 0A0000000000000000000070 /* Build configuration list for PBXProject "Sample" */;
			compatibilityVersion = "Xcode 14.0";
			developmentRegion = de;
			knownRegions = (
				en,
				de,
				Base,
			);
			mainGroup = 0A0000000000000000000010;
			productRefGroup = 0A0000000000000000000015 /* Products */;
			projectDirPath = "";
			projectRoot = "";
			targets = (
				0A0000000000000000000060 /* SampleDriver */,
				0A0000000000000000000061 /* SampleApp */,
			);
		};
/* End PBXProject section */

/* Begin PBXSourcesBuildPhase section */
		0A0000000000000000000051 /* Sources */ = {
			isa = PBXSourcesBuildPhase;
			buildActionMask = 2147483647;
			files = (
				0A0000000000000000000040 /* Driver.iig in Sources */,
				0A0000000000000000000041 /* Driver.cpp in Sources */,
				0A0000000000000000000042 /* ring.c in Sources */,
				0A0000000000000000000043 /* Status.swift in Sources */,
				0A0000000000000000000045 /* Legacy.mm in Sources */,
				0A0000000000000000000046 /* shared.cpp in Sources */,
				0A0000000000000000000048 /* notes.md in Sources */,
				0A000000000000000000004A /* Registers.h in Sources */,
			);
			runOnlyForDeploymentPostprocessing = 0;
		};
		0A0000000000000000000053 /* Sources */ = {
			isa = PBXSourcesBuildPhase;
			buildActionMask = 2147483647;
			files = (
				0A0000000000000000000049 /* main.swift in Sources */,
			);
			runOnlyForDeploymentPostprocessing = 0;
		};
/* End PBXSourcesBuildPhase section */

/* Begin XCBuildConfiguration section */
		0A0000000000000000000080 /* Debug */ = {
			isa = XCBuildConfiguration;
			baseConfigurationReference = 0A0000000000000000000028 /* Project.xcconfig */;
			buildSettings = {
				CLANG_CXX_LANGUAGE_STANDARD = "gnu++20";
				GCC_PREPROCESSOR_DEFINITIONS = (
					"DEBUG=1",
					"$(inherited)",
				);
				HEADER_SEARCH_PATHS = (
					"$(SRCROOT)/Driver/include/**",
					"\"$(PROJECT_DIR)/Vendor Headers\"",
				);
				SDKROOT = driverkit;
			};
			name = Debug;
		};
		0A0000000000000000000081 /* Release */ = {
			isa = XCBuildConfiguration;
			baseConfigurationReference = 0A0000000000000000000028 /* Project.xcconfig */;
			buildSettings = {
				CLANG_CXX_LANGUAGE_STANDARD = "gnu++20";
				HEADER_SEARCH_PATHS = (
					"$(SRCROOT)/Driver/include/**",
					"\"$(PROJECT_DIR)/Vendor Headers\"",
				);
				SDKROOT = driverkit;
			};
			name = Release;
		};
		0A0000000000000000000082 /* Debug */ = {
			isa = XCBuildConfiguration;
			baseConfigurationReference = 0A0000000000000000000029 /* Driver.xcconfig */;
			buildSettings = {
				BUNDLE_SUFFIX = .debug;
				CODE_SIGN_ENTITLEMENTS = "Driver/$(TARGET_NAME).entitlements";
				EXCLUDED_SOURCE_FILE_NAMES = "*.md";
				GCC_PREPROCESSOR_DEFINITIONS = (
					"$(inherited)",
					"SAMPLE_NAME=\\\"$(TARGET_NAME)\\\"",
					"QUEUE_DEPTH=$(SAMPLE_QUEUE_DEPTH)",
					"MODE_$(SAMPLE_MODE:upper)",
				);
				INFOPLIST_FILE = Driver/Info.plist;
				PRODUCT_BUNDLE_IDENTIFIER = "org.example.sample-driver$(BUNDLE_SUFFIX)";
				PRODUCT_NAME = "$(inherited)";
				SAMPLE_MODE = app;
				"SAMPLE_MODE[sdk=driverkit*]" = dext;
			};
			name = Debug;
		};
		0A0000000000000000000083 /* Release */ = {
			isa = XCBuildConfiguration;
			baseConfigurationReference = 0A0000000000000000000029 /* Driver.xcconfig */;
			buildSettings = {
				CODE_SIGN_ENTITLEMENTS = "Driver/$(TARGET_NAME).entitlements";
				EXCLUDED_SOURCE_FILE_NAMES = "*.md";
				GCC_PREPROCESSOR_DEFINITIONS = (
					"$(inherited)",
					"SAMPLE_NAME=\\\"$(TARGET_NAME)\\\"",
					"QUEUE_DEPTH=$(SAMPLE_QUEUE_DEPTH)",
					"MODE_$(SAMPLE_MODE:upper)",
				);
				INFOPLIST_FILE = Driver/Info.plist;
				PRODUCT_BUNDLE_IDENTIFIER = "org.example.sample-driver$(BUNDLE_SUFFIX)";
				PRODUCT_NAME = "$(inherited)";
				SAMPLE_MODE = app;
				"SAMPLE_MODE[sdk=driverkit*]" = dext;
			};
			name = Release;
		};
		0A0000000000000000000084 /* Debug */ = {
			isa = XCBuildConfiguration;
			buildSettings = {
				PRODUCT_NAME = "$(TARGET_NAME)";
				SDKROOT = macosx;
			};
			name = Debug;
		};
		0A0000000000000000000085 /* Release */ = {
			isa = XCBuildConfiguration;
			buildSettings = {
				PRODUCT_NAME = "$(TARGET_NAME)";
				SDKROOT = macosx;
			};
			name = Release;
		};
/* End XCBuildConfiguration section */

/* Begin XCConfigurationList section */
		0A0000000000000000000070 /* Build configuration list for PBXProject "Sample" */ = {
			isa = XCConfigurationList;
			buildConfigurations = (
				0A0000000000000000000080 /* Debug */,
				0A0000000000000000000081 /* Release */,
			);
			defaultConfigurationIsVisible = 0;
			defaultConfigurationName = Release;
		};
		0A0000000000000000000071 /* Build configuration list for PBXNativeTarget "SampleDriver" */ = {
			isa = XCConfigurationList;
			buildConfigurations = (
				0A0000000000000000000082 /* Debug */,
				0A0000000000000000000083 /* Release */,
			);
			defaultConfigurationIsVisible = 0;
			defaultConfigurationName = Release;
		};
		0A0000000000000000000072 /* Build configuration list for PBXNativeTarget "SampleApp" */ = {
			isa = XCConfigurationList;
			buildConfigurations = (
				0A0000000000000000000084 /* Debug */,
				0A0000000000000000000085 /* Release */,
			);
			defaultConfigurationIsVisible = 0;
			defaultConfigurationName = Release;
		};
/* End XCConfigurationList section */
	};
	rootObject = 0A0000000000000000000001 /* Project object */;
}
)pbx";

class XcodeProject : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    write(root_ / "Config" / "Project.xcconfig", "// Every target\nGCC_PREPROCESSOR_DEFINITIONS = SAMPLE_BASE=1\n");
    write(root_ / "Config" / "Driver.xcconfig",
          "// SampleDriver, every configuration\n"
          "#include \"Shared.xcconfig\"\n"
          "#include? \"Local.xcconfig\"  // signing, not in the repository\n"
          "\n"
          "SAMPLE_QUEUE_DEPTH = 16\n"
          "SAMPLE_QUEUE_DEPTH[sdk=driverkit*][arch=arm64*] = 32\n"
          "SAMPLE_QUEUE_DEPTH[sdk=macosx*] = 8\n"
          "USER_HEADER_SEARCH_PATHS = $(inherited) Driver/Sources\n");
    write(root_ / "Config" / "Shared.xcconfig", "DRIVERKIT_DEPLOYMENT_TARGET = 21.0;\n");
    for (const char* file : {"Driver/Sources/Driver.iig", "Driver/Sources/Driver.cpp", "Driver/Sources/ring.c",
                             "Driver/Sources/Status.swift", "Driver/Sources/Registers.h", "Driver/Sources/Legacy.mm",
                             "Driver/Sources/notes.md", "Driver/Info.plist", "Driver/SampleDriver.entitlements",
                             "Shared/shared.cpp", "App/main.swift"}) {
      write(root_ / file, "\n");
    }
    for (const char* dir : {"Driver/include/c", "Driver/include/a/b", "Vendor Headers"}) {
      fs::create_directories(root_ / dir);
    }
    project_ = (root_ / "Sample.xcodeproj").string();
    pbxproj_ = project_ + "/project.pbxproj";
    write(pbxproj_, kProject);
  }

  std::optional<XcodeTarget> load(const std::string& target, const std::string& configuration, std::string* error) {
    return load_xcode_target(project_, target, configuration, error);
  }
  // The error of loading SampleDriver from the project with `from` replaced by `to`.
  std::string error_with(const std::string& from, const std::string& to, const std::string& configuration = "Release") {
    write(pbxproj_, replaced(kProject, from, to));
    std::string error;
    EXPECT_FALSE(load("SampleDriver", configuration, &error));
    return error;
  }
  std::string in_root(const std::string& path) const { return (root_ / path).string(); }

  fs::path root_;
  std::string project_, pbxproj_;
};

TEST_F(XcodeProject, LoadsTheDextTarget) {
  std::string error;
  auto t = load("SampleDriver", "Debug", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->project, project_);
  EXPECT_EQ(t->source_root, root_.string());
  EXPECT_EQ(t->name, "SampleDriver");
  EXPECT_EQ(t->product_type, "com.apple.product-type.driver-extension");
  EXPECT_TRUE(t->is_driver_extension());
  EXPECT_EQ(t->configuration, "Debug");
  EXPECT_EQ(t->iig_files, (std::vector<std::string>{in_root("Driver/Sources/Driver.iig")}));
  EXPECT_EQ(t->cpp_sources,
            (std::vector<std::string>{in_root("Driver/Sources/Driver.cpp"), in_root("Shared/shared.cpp")}));
  EXPECT_EQ(t->c_sources, (std::vector<std::string>{in_root("Driver/Sources/ring.c")}));
  EXPECT_EQ(t->headers, (std::vector<std::string>{in_root("Driver/Sources/Registers.h")}));
  ASSERT_EQ(t->ignored.size(), 4u);
  EXPECT_EQ(t->ignored[0].path, in_root("Driver/Sources/Status.swift"));
  EXPECT_EQ(t->ignored[0].reason, "Swift: dexthil builds C, C++ and .iig");
  EXPECT_EQ(t->ignored[1].path, in_root("Driver/Sources/Legacy.mm"));
  EXPECT_EQ(t->ignored[1].reason, "Objective-C++, which DriverKit does not have");
  EXPECT_EQ(t->ignored[2].path, in_root("Driver/Sources/notes.md"));
  EXPECT_EQ(t->ignored[2].reason, "matches EXCLUDED_SOURCE_FILE_NAMES '*.md'");
  EXPECT_EQ(t->ignored[3].path, in_root("Driver/Sources/Registers.h"));
  EXPECT_EQ(t->ignored[3].reason, "a header in the Sources phase compiles to nothing (it is #included)");
  EXPECT_EQ(t->info_plist, in_root("Driver/Info.plist"));
  EXPECT_EQ(t->entitlements, in_root("Driver/SampleDriver.entitlements"));
  ASSERT_EQ(t->header_search_paths.size(), 3u);
  EXPECT_EQ(t->header_search_paths[0].path, in_root("Driver/include"));
  EXPECT_TRUE(t->header_search_paths[0].recursive);
  EXPECT_EQ(t->header_search_paths[1].path, in_root("Vendor Headers"));
  EXPECT_FALSE(t->header_search_paths[1].recursive);
  EXPECT_EQ(t->header_search_paths[2].path, in_root("Driver/Sources"));
  EXPECT_EQ(include_dirs(*t), (std::vector<std::string>{in_root("Driver/include"), in_root("Driver/include/a"),
                                                        in_root("Driver/include/a/b"), in_root("Driver/include/c"),
                                                        in_root("Vendor Headers"), in_root("Driver/Sources")}));
  EXPECT_EQ(t->definitions, (std::vector<std::string>{"DEBUG=1", "SAMPLE_BASE=1", "SAMPLE_NAME=\"SampleDriver\"",
                                                      "QUEUE_DEPTH=32", "MODE_DEXT"}));
  EXPECT_EQ(t->bundle_identifier, "org.example.sample-driver.debug");
  EXPECT_EQ(t->product_name, "org.example.sample-driver.debug");  // a dext is named after its bundle ID
  EXPECT_EQ(t->deployment_target, "21.0");
  EXPECT_EQ(t->xcconfig_files,
            (std::vector<std::string>{in_root("Config/Project.xcconfig"), in_root("Config/Driver.xcconfig"),
                                      in_root("Config/Shared.xcconfig")}));
  EXPECT_TRUE(t->undefined_settings.empty());
  EXPECT_EQ(t->notes, (std::vector<std::string>{"the COMPILER_FLAGS '-O3' of shared.cpp are not passed on"}));
  // The resolved settings stay, for the Info.plist.
  EXPECT_EQ(
      t->settings.expand("$(EXECUTABLE_NAME) $(PRODUCT_BUNDLE_PACKAGE_TYPE) $(DEVELOPMENT_LANGUAGE) $(CONFIGURATION) "
                         "$(PROJECT_NAME) $(SDKROOT) $(PLATFORM_NAME) $(CLANG_CXX_LANGUAGE_STANDARD)",
                         nullptr, &error),
      "org.example.sample-driver.debug DEXT de Debug Sample driverkit driverkit gnu++20");
}

TEST_F(XcodeProject, ReleaseIsTheDefaultAndReportsUndefinedSettings) {
  std::string error;
  auto t = load("SampleDriver", "", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->configuration, "Release");
  EXPECT_EQ(t->definitions,
            (std::vector<std::string>{"SAMPLE_BASE=1", "SAMPLE_NAME=\"SampleDriver\"", "QUEUE_DEPTH=32", "MODE_DEXT"}));
  EXPECT_EQ(t->bundle_identifier, "org.example.sample-driver");
  EXPECT_EQ(t->undefined_settings, (std::vector<std::string>{"BUNDLE_SUFFIX"}));
}

TEST_F(XcodeProject, AnAppTargetLoadsAndSaysWhatItIs) {
  std::string error;
  auto t = load("SampleApp", "Release", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_FALSE(t->is_driver_extension());
  EXPECT_EQ(t->product_type, "com.apple.product-type.application");
  EXPECT_EQ(t->product_name, "SampleApp");
  EXPECT_TRUE(t->cpp_sources.empty());
  ASSERT_EQ(t->ignored.size(), 1u);
  EXPECT_EQ(t->ignored[0].path, in_root("App/main.swift"));
}

TEST_F(XcodeProject, ErrorsNameTheFilePositionAndObject) {
  std::string error;
  EXPECT_FALSE(load("Nope", "Release", &error));
  EXPECT_EQ(error, pbxproj_ + ": error: no target named 'Nope' in the project (its targets: SampleDriver, SampleApp)");
  EXPECT_FALSE(load("SampleDriver", "Profile", &error));
  const std::string target_head = "0A0000000000000000000060 /* SampleDriver */ = {";
  EXPECT_EQ(error,
            pbxproj_ + ":" + where(kProject, target_head, target_head.size() - 1) +
                ": error: PBXNativeTarget 0A0000000000000000000060 (SampleDriver) has no configuration 'Profile' "
                "(it has Debug, Release)");

  const std::string dangling =
      replaced(kProject, "fileRef = 0A0000000000000000000021", "fileRef = 0A00000000000000000000FF");
  EXPECT_EQ(
      error_with("fileRef = 0A0000000000000000000021", "fileRef = 0A00000000000000000000FF"),
      pbxproj_ + ":" + where(dangling, "0A00000000000000000000FF") +
          ": error: PBXBuildFile 0A0000000000000000000041 refers to 0A00000000000000000000FF in its fileRef, which is "
          "not in objects");

  const std::string cycle = "\"org.example.$(PRODUCT_NAME:rfc1034identifier)\"";
  const std::string cyclic = replaced(kProject, "\"org.example.sample-driver$(BUNDLE_SUFFIX)\"", cycle);
  EXPECT_EQ(error_with("\"org.example.sample-driver$(BUNDLE_SUFFIX)\"", cycle, "Debug"),
            pbxproj_ + ":" + where(cyclic, cycle) +
                ": error: build setting cycle: PRODUCT_BUNDLE_IDENTIFIER -> PRODUCT_NAME -> PRODUCT_BUNDLE_IDENTIFIER");

  const std::string root_object = "rootObject = 0A0000000000000000000001";
  EXPECT_EQ(error_with(root_object, "rootObject = \"0A0000000000000000000001"),
            pbxproj_ + ":" + where(kProject, root_object, 13) + ": error: unterminated string (no closing \")");

  EXPECT_EQ(error_with("\t\t\tname = Legacy;\n", "\t\t\tname = Legacy\n"),
            pbxproj_ + ":" + where(kProject, "\t\t\tname = Legacy;\n\t\t\tsourceTree", 21) +
                ": error: expected ';' after the value of 'name', found 'sourceTree'");

  const std::string iig_ref = "isa = PBXFileReference; lastKnownFileType = sourcecode.iig;";
  const auto [line, column] = line_column(kProject, iig_ref);
  EXPECT_EQ(error_with(iig_ref, "isa = PBXFileReference; " + iig_ref),
            pbxproj_ + ":" + where(kProject, iig_ref, 24) + ": error: duplicate key 'isa' (first at line " +
                std::to_string(line) + ", column " + std::to_string(column) + ")");

  // An ID of an object of the wrong kind: the project's Release configuration names a build file.
  EXPECT_EQ(
      error_with(
          "baseConfigurationReference = 0A0000000000000000000028 /* Project.xcconfig */;\n\t\t\tbuildSettings = {\n"
          "\t\t\t\tCLANG_CXX_LANGUAGE_STANDARD = \"gnu++20\";\n\t\t\t\tHEADER_SEARCH_PATHS",
          "baseConfigurationReference = 0A0000000000000000000040 /* Driver.iig in Sources */;\n\t\t\tbuildSettings = "
          "{\n"
          "\t\t\t\tCLANG_CXX_LANGUAGE_STANDARD = \"gnu++20\";\n\t\t\t\tHEADER_SEARCH_PATHS"),
      pbxproj_ + ":" +
          where(kProject,
                "0A0000000000000000000028 /* Project.xcconfig */;\n\t\t\tbuildSettings = "
                "{\n\t\t\t\tCLANG_CXX_LANGUAGE_STANDARD = \"gnu++20\";\n\t\t\t\tHEADER") +
          ": error: XCBuildConfiguration 0A0000000000000000000081 (Release) refers to PBXBuildFile "
          "0A0000000000000000000040 in its baseConfigurationReference, which should be a PBXFileReference");
}

TEST_F(XcodeProject, FolderProblemsAndUnsupportedFeatures) {
  std::string error;
  EXPECT_FALSE(load_xcode_target((root_ / "Missing.xcodeproj").string(), "SampleDriver", "", &error));
  EXPECT_EQ(error, (root_ / "Missing.xcodeproj").string() +
                       ": error: no such folder (an Xcode project is a folder, NAME.xcodeproj)");
  fs::create_directories(root_ / "Empty.xcodeproj");
  EXPECT_FALSE(load_xcode_target((root_ / "Empty.xcodeproj/").string(), "SampleDriver", "", &error));
  EXPECT_EQ(error, (root_ / "Empty.xcodeproj").string() +
                       ": error: no project.pbxproj in this folder (an Xcode project is a folder, NAME.xcodeproj)");

  const std::string synced =
      replaced(kProject, "\t\t\tname = SampleDriver;\n",
               "\t\t\tfileSystemSynchronizedGroups = (\n\t\t\t\t0A0000000000000000000016 /* App */,\n"
               "\t\t\t);\n\t\t\tname = SampleDriver;\n");
  EXPECT_EQ(
      error_with("\t\t\tname = SampleDriver;\n",
                 "\t\t\tfileSystemSynchronizedGroups = (\n\t\t\t\t0A0000000000000000000016 /* App */,\n"
                 "\t\t\t);\n\t\t\tname = SampleDriver;\n"),
      pbxproj_ + ":" + where(synced, "0A0000000000000000000016 /* App */,\n\t\t\t);") +
          ": error: PBXNativeTarget 0A0000000000000000000060 (SampleDriver) takes its files from folders synchronized "
          "with the file system (PBXFileSystemSynchronizedRootGroup, Xcode 16), which dexthil does not read yet; in "
          "Xcode, choose Convert to Group on each such folder");

  fs::remove(root_ / "Config" / "Shared.xcconfig");
  write(pbxproj_, kProject);
  EXPECT_FALSE(load("SampleDriver", "Release", &error));
  EXPECT_EQ(error, in_root("Config/Driver.xcconfig") +
                       ":2:1: error: cannot open the included file 'Shared.xcconfig' (looked for " +
                       in_root("Config/Shared.xcconfig") +
                       "; write #include? to make it optional) (the base configuration of "
                       "XCBuildConfiguration 0A0000000000000000000083 (Release))");
}

// The script, run through CMake: every list element and value comes back exactly.
TEST_F(XcodeProject, CMakeScriptRoundTripsThroughCMake) {
  write(pbxproj_,
        replaced(kProject, "\"MODE_$(SAMPLE_MODE:upper)\",",
                 "\"MODE_$(SAMPLE_MODE:upper)\", \"'SEPARATORS=a;b'\", \"PRICE=5$\", \"ESCAPED=\\\\\\\\n\","));
  std::string error;
  auto t = load("SampleDriver", "Debug", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->definitions.back(), "ESCAPED=\\n");
  auto script = cmake_script(*t, &error);
  ASSERT_TRUE(script) << error;
  EXPECT_NE(script->find("set(DEXTHIL_XCODE_IIG \"" + in_root("Driver/Sources/Driver.iig") + "\")\n"),
            std::string::npos)
      << *script;
  EXPECT_NE(script->find("set(DEXTHIL_XCODE_DEFINITIONS\n    \"DEBUG=1\"\n    \"SAMPLE_BASE=1\"\n    "
                         "\"SAMPLE_NAME=\\\"SampleDriver\\\"\"\n"),
            std::string::npos)
      << *script;
  EXPECT_NE(script->find("\n    \"SEPARATORS=a\\;b\"\n    \"PRICE=5\\$\"\n    \"ESCAPED=\\\\n\")\n"), std::string::npos)
      << *script;
  EXPECT_NE(script->find("set(DEXTHIL_XCODE_C_SOURCES \"" + in_root("Driver/Sources/ring.c") + "\")\n"),
            std::string::npos);
  EXPECT_NE(script->find("set(DEXTHIL_XCODE_PRODUCT_TYPE \"com.apple.product-type.driver-extension\")\n"),
            std::string::npos);

  write(root_ / "out" / "target.cmake", *script);
  write(root_ / "out" / "print.cmake",
        "include(\"${CMAKE_CURRENT_LIST_DIR}/target.cmake\")\n"
        "foreach(key SOURCES C_SOURCES IIG HEADERS INCLUDE_DIRS DEFINITIONS XCCONFIGS)\n"
        "  foreach(item IN LISTS DEXTHIL_XCODE_${key})\n"
        "    message(\"${key}: [${item}]\")\n"
        "  endforeach()\n"
        "endforeach()\n"
        "foreach(key PLIST ENTITLEMENTS BUNDLE_IDENTIFIER PRODUCT_NAME DEPLOYMENT_TARGET)\n"
        "  message(\"${key}: [${DEXTHIL_XCODE_${key}}]\")\n"
        "endforeach()\n"
        "foreach(item IN LISTS DEXTHIL_XCODE_BUILD_SETTINGS)\n"
        "  if(item MATCHES \"^(GCC_PREPROCESSOR_DEFINITIONS|TARGET_NAME|SRCROOT)=\")\n"
        "    message(\"BUILD_SETTINGS: [${item}]\")\n"
        "  endif()\n"
        "endforeach()\n");
  const std::string command =
      std::string(DEXTHIL_CMAKE_COMMAND) + " -P \"" + (root_ / "out" / "print.cmake").string() + "\" 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string printed;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) printed.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0) << printed;
  std::string expected;
  auto line = [&](const std::string& key, const std::string& value) { expected += key + ": [" + value + "]\n"; };
  for (const auto& s : t->cpp_sources) line("SOURCES", s);
  for (const auto& s : t->c_sources) line("C_SOURCES", s);
  for (const auto& s : t->iig_files) line("IIG", s);
  for (const auto& s : t->headers) line("HEADERS", s);
  for (const auto& s : include_dirs(*t)) line("INCLUDE_DIRS", s);
  for (const auto& s : t->definitions) line("DEFINITIONS", s);
  for (const auto& s : t->xcconfig_files) line("XCCONFIGS", s);
  line("PLIST", t->info_plist);
  line("ENTITLEMENTS", t->entitlements);
  line("BUNDLE_IDENTIFIER", "org.example.sample-driver.debug");
  line("PRODUCT_NAME", "org.example.sample-driver.debug");
  line("DEPLOYMENT_TARGET", "21.0");
  line("BUILD_SETTINGS",
       "GCC_PREPROCESSOR_DEFINITIONS=DEBUG=1 SAMPLE_BASE=1 SAMPLE_NAME=\\\"SampleDriver\\\" QUEUE_DEPTH=32 MODE_DEXT "
       "'SEPARATORS=a;b' PRICE=5$ ESCAPED=\\\\n");
  line("BUILD_SETTINGS", "SRCROOT=" + root_.string());
  line("BUILD_SETTINGS", "TARGET_NAME=SampleDriver");
  EXPECT_EQ(printed, expected);
}

TEST(CMakeQuoting, EscapesWhatCMakeReads) {
  EXPECT_EQ(cmake_quote("a \"b\" $c \\d;e\nf\tg", true), "\"a \\\"b\\\" \\$c \\\\d\\;e\\nf\\tg\"");
  EXPECT_EQ(cmake_quote("x;y", false), "\"x;y\"");
  EXPECT_TRUE(fits_cmake_list("x[1];]"));
  EXPECT_TRUE(fits_cmake_list(""));
  EXPECT_FALSE(fits_cmake_list("x["));
  EXPECT_FALSE(fits_cmake_list("]]["));
  EXPECT_FALSE(fits_cmake_list("dir\\"));
}

}  // namespace
}  // namespace dexthil::xcode

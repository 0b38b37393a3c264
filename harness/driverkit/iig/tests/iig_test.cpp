#include "harness/driverkit/iig/iig.hpp"

#include "harness/driverkit/families/family_definition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace dexthil::iig {
namespace {

// Runs the generator on a fixture as the CLI would for `--header NAME.h`.
GeneratedFiles generate_fixture(const std::string& name) {
  const auto source = read_text_file("fixtures/iig/" + name + ".iig");
  if (!source) throw std::runtime_error("cannot read fixture " + name);
  std::string error;
  auto out = translate(*source, {name + ".iig", name + ".h"}, &error);
  if (!out) throw std::runtime_error(name + ".iig:" + error);
  return *out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Whole-line matches, so a check cannot pass on a longer line that merely contains it.
::testing::AssertionResult HasLine(const std::string& text, const std::string& line) {
  const auto lines = lines_of(text);
  if (std::find(lines.begin(), lines.end(), line) != lines.end()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no line\n  " << line << "\nin\n" << text;
}

::testing::AssertionResult HasNoLineContaining(const std::string& text, const std::string& part) {
  for (const auto& line : lines_of(text)) {
    if (line.find(part) != std::string::npos) return ::testing::AssertionFailure() << "unexpected line: " << line;
  }
  return ::testing::AssertionSuccess();
}

// FNV-1a, 64 bit, written out here so the test does not trust the generator's own.
std::string fnv1a_hex(const std::string& s) {
  unsigned long long h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%016llxULL", h);
  return buffer;
}

IigError parse_error(const std::string& source) {
  try {
    parse(source);
  } catch (const IigError& e) {
    return e;
  }
  throw std::runtime_error("no error for:\n" + source);
}

TEST(Iig, ArgsMacrosStripDefaultsAndKeepArrays) {
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(HasLine(out.header, "#define TestdevDriver_Start_Args IOService * provider"));
  EXPECT_TRUE(HasLine(out.header, "#define TestdevDriver_SetPowerState_Args uint32_t powerFlags"));
  EXPECT_TRUE(HasLine(out.header,
                      "#define TestdevDriver_CopyStats_Args uint64_t * counters, IOAddressSegment segments[32], "
                      "uint32_t flags"));
  // Local methods get no macros.
  EXPECT_TRUE(HasNoLineContaining(out.header, "TestdevDriver_Helper_"));
  EXPECT_TRUE(HasNoLineContaining(out.header, "TestdevDriver_init_"));
}

TEST(Iig, MessageIdsAreFnv1aOfTheMethodNameAlone) {
  EXPECT_EQ(fnv1a_hex("Start"), "0xae1c7f13b7c0c47fULL");
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(HasLine(out.header, "#define TestdevDriver_Start_ID " + fnv1a_hex("Start")));
  EXPECT_TRUE(HasLine(out.header, "#define TestdevDriver_CopyStats_ID " + fnv1a_hex("CopyStats")));
  EXPECT_EQ(message_id("Start"), 0xae1c7f13b7c0c47full);
}

TEST(Iig, NewMessagesGetAWrapperWithDefaultsAndAVirtualImpl) {
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(
      HasLine(out.header,
              "  kern_return_t CopyStats(uint64_t * counters, IOAddressSegment segments[32], uint32_t flags = 0, "
              "OSDispatchMethod supermethod = NULL);"));
  EXPECT_TRUE(HasLine(out.header, "  virtual kern_return_t CopyStats_Impl(TestdevDriver_CopyStats_Args);"));
  EXPECT_TRUE(HasLine(out.impl,
                      "kern_return_t TestdevDriver::CopyStats(uint64_t * counters, IOAddressSegment segments[32], "
                      "uint32_t flags, OSDispatchMethod supermethod) {"));
  EXPECT_TRUE(HasLine(out.impl,
                      "  return ::dexthil::iig::send<kern_return_t>(this, TestdevDriver_CopyStats_ID, "
                      "\"TestdevDriver::CopyStats\", supermethod, [&]() -> kern_return_t { return "
                      "CopyStats_Impl(counters, segments, flags); }, counters, segments, flags);"));
  // void messages send without returning.
  EXPECT_TRUE(
      HasLine(out.impl,
              "  ::dexthil::iig::send<void>(this, TestdevDriver_InterruptOccurred_ID, "
              "\"TestdevDriver::InterruptOccurred\", supermethod, [&]() { InterruptOccurred_Impl(action, count, "
              "time); }, action, count, time);"));
}

TEST(Iig, OverridesOfKnownMessagesDeclareOnlyTheirImpl) {
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(HasLine(out.header, "  kern_return_t Start_Impl(TestdevDriver_Start_Args) override;"));
  EXPECT_TRUE(HasLine(out.header, "  kern_return_t Stop_Impl(TestdevDriver_Stop_Args) override;"));
  // LOCALONLY does not make an override of a known message local.
  EXPECT_TRUE(HasLine(out.header, "  kern_return_t SetPowerState_Impl(TestdevDriver_SetPowerState_Args) override;"));
  EXPECT_TRUE(HasNoLineContaining(out.header, "kern_return_t Start("));
  EXPECT_TRUE(HasNoLineContaining(out.impl, "TestdevDriver::Start("));
}

TEST(Iig, LocalMethodsAreEmittedAsWrittenWithoutAttributes) {
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(HasLine(out.header, "  virtual bool init() override;"));
  EXPECT_TRUE(HasLine(out.header, "  virtual void free() override;"));
  EXPECT_TRUE(HasLine(out.header, "  kern_return_t Helper(uint32_t x);"));
  EXPECT_TRUE(HasNoLineContaining(out.header, "Helper_Impl"));
  EXPECT_TRUE(HasNoLineContaining(out.impl, "Helper"));
  EXPECT_TRUE(HasNoLineContaining(out.impl, "init"));
}

TEST(Iig, TypeMessagesGetCreateAction) {
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(
      HasLine(out.header, "  kern_return_t CreateActionInterruptOccurred(size_t referenceSize, OSAction ** action);"));
  EXPECT_TRUE(HasLine(
      out.impl,
      "kern_return_t TestdevDriver::CreateActionInterruptOccurred(size_t referenceSize, OSAction ** action) {"));
  EXPECT_TRUE(HasLine(out.impl,
                      "  return OSAction::Create(this, TestdevDriver_InterruptOccurred_ID, "
                      "IOInterruptDispatchSource_InterruptOccurred_ID, referenceSize, action);"));
  // The impl includes only the generated header, so it supplies the TYPE's ID if needed.
  EXPECT_TRUE(HasLine(out.impl, "#ifndef IOInterruptDispatchSource_InterruptOccurred_ID"));
  EXPECT_TRUE(
      HasLine(out.impl, "#define IOInterruptDispatchSource_InterruptOccurred_ID " + fnv1a_hex("InterruptOccurred")));
  EXPECT_TRUE(HasNoLineContaining(out.header, "CreateActionCopyStats"));
}

TEST(Iig, QueueNamesRouteMessagesAndDeclareTheirQueues) {
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(HasLine(out.header, "  const char* _RoutedQueue(uint64_t msgid) const override;"));
  EXPECT_TRUE(HasLine(out.header, "  bool _DeclaresQueue(const char* name) const override;"));
  const std::string routing =
      "const char* TestdevDriver::_RoutedQueue(uint64_t msgid) const {\n"
      "  if (msgid == TestdevDriver_SetPowerState_ID) return \"PowerQueue\";\n"
      "  if (msgid == TestdevDriver_CopyStats_ID) return \"StatsQueue\";\n"
      "  return IOService::_RoutedQueue(msgid);\n"
      "}\n";
  EXPECT_NE(out.impl.find(routing), std::string::npos) << out.impl;
  const std::string declares =
      "bool TestdevDriver::_DeclaresQueue(const char* name) const {\n"
      "  if (std::strcmp(name, \"PowerQueue\") == 0) return true;\n"
      "  if (std::strcmp(name, \"StatsQueue\") == 0) return true;\n"
      "  return IOService::_DeclaresQueue(name);\n"
      "}\n";
  EXPECT_NE(out.impl.find(declares), std::string::npos) << out.impl;
}

TEST(Iig, DispatchServesEveryMessageAndPassesTheRestToTheBase) {
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(HasLine(out.impl, "kern_return_t TestdevDriver::_Dispatch(OSObject* self, const IORPC& rpc) {"));
  EXPECT_TRUE(HasLine(out.impl, "    case TestdevDriver_Start_ID:"));
  EXPECT_TRUE(
      HasLine(out.impl,
              "      return ::dexthil::iig::serve<kern_return_t, IOService *>(rpc, [self](IOService * provider) { "
              "return static_cast<TestdevDriver*>(self)->TestdevDriver::Start_Impl(provider); });"));
  // Arrays travel as pointers.
  EXPECT_TRUE(
      HasLine(out.impl,
              "      return ::dexthil::iig::serve<kern_return_t, uint64_t *, IOAddressSegment*, uint32_t>(rpc, "
              "[self](uint64_t * counters, IOAddressSegment* segments, uint32_t flags) { return "
              "static_cast<TestdevDriver*>(self)->TestdevDriver::CopyStats_Impl(counters, segments, flags); });"));
  // void: no return of the call.
  EXPECT_TRUE(
      HasLine(out.impl,
              "      return ::dexthil::iig::serve<void, OSAction *, uint64_t, uint64_t>(rpc, [self](OSAction * "
              "action, uint64_t count, uint64_t time) { "
              "static_cast<TestdevDriver*>(self)->TestdevDriver::InterruptOccurred_Impl(action, count, time); });"));
  EXPECT_TRUE(HasLine(out.impl, "    default:"));
  EXPECT_TRUE(HasLine(out.impl, "      return IOService::_Dispatch(self, rpc);"));
  EXPECT_TRUE(HasNoLineContaining(out.impl, "case TestdevDriver_Helper_ID"));
}

TEST(Iig, BannerMetaclassAndRegistration) {
  const auto out = generate_fixture("TestdevDriver");
  const std::string banner = "// Generated by dexthil-iig from TestdevDriver.iig: do not edit.";
  EXPECT_EQ(lines_of(out.header).at(0), banner);
  EXPECT_EQ(lines_of(out.impl).at(0), banner);
  EXPECT_EQ(lines_of(out.impl).at(1), "#include \"TestdevDriver.h\"");
  EXPECT_TRUE(HasLine(out.impl, "DEXTHIL_DEFINE_METACLASS(TestdevDriver, IOService);"));
  EXPECT_TRUE(HasLine(out.impl,
                      "static const ::dexthil::iig::ClassRegistration TestdevDriver_registration{\"TestdevDriver\", "
                      "TestdevDriver::metaClass, +[]() -> OSObject* { return OSTypeAlloc(TestdevDriver); }};"));
  EXPECT_TRUE(HasLine(out.header, "class TestdevDriver : public IOService {"));
  EXPECT_TRUE(HasLine(out.header, "  DEXTHIL_IIG_CLASS(TestdevDriver, IOService)"));
  EXPECT_TRUE(HasLine(out.header, "struct TestdevDriver_IVars;"));
  EXPECT_TRUE(HasLine(out.header, "    TestdevDriver_IVars* ivars;"));
  EXPECT_TRUE(HasLine(out.header, "    TestdevDriver_LocalIVars* lvars;"));
}

TEST(Iig, TextAroundClassesPassesThroughWithIigIncludesTranslated) {
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_TRUE(HasLine(out.header, "#include <DriverKit/IOService.h>"));
  EXPECT_TRUE(HasLine(out.header, "#include <Availability.h>"));
  EXPECT_TRUE(HasNoLineContaining(out.header, ".iig>"));
  EXPECT_EQ(lines_of(out.header).at(3), "#ifndef TestdevDriver_h");  // after the banner and the comment
  EXPECT_EQ(lines_of(out.header).back(), "#endif");
  // iig attributes go with the class; the file's own comment still mentions LOCALONLY.
  EXPECT_TRUE(HasNoLineContaining(out.header, ") LOCALONLY"));
  EXPECT_TRUE(HasNoLineContaining(out.header, "QUEUENAME"));

  const auto multi = generate_fixture("MultipleClasses");
  EXPECT_TRUE(HasLine(multi.header, "#include \"PipelineTypes.h\""));
  EXPECT_TRUE(HasLine(multi.header, "/* The last stage also reports completion. */"));
  EXPECT_TRUE(HasLine(multi.header, "#endif // Pipeline_h"));
}

TEST(Iig, GeneratedFilesMatchTheExpectedOutput) {
  // The whole output for the example, pinned; after an intended change, regenerate with
  // dexthil-iig fixtures/iig/TestdevDriver.iig --header fixtures/iig/expected/TestdevDriver.h
  //   --impl fixtures/iig/expected/TestdevDriver.iig.cpp
  const auto out = generate_fixture("TestdevDriver");
  EXPECT_EQ(out.header, read_text_file("fixtures/iig/expected/TestdevDriver.h").value_or("(missing)"));
  EXPECT_EQ(out.impl, read_text_file("fixtures/iig/expected/TestdevDriver.iig.cpp").value_or("(missing)"));
}

TEST(Iig, ClassWithoutMessagesStillDispatchesToItsBase) {
  const auto out = generate_fixture("NoMessages");
  EXPECT_TRUE(HasNoLineContaining(out.header, "_Args"));
  EXPECT_TRUE(HasNoLineContaining(out.header, "_Impl"));
  EXPECT_TRUE(HasNoLineContaining(out.header, "_RoutedQueue"));
  EXPECT_TRUE(HasLine(out.header, "  uint32_t Count() const;"));
  EXPECT_TRUE(HasLine(out.header, "  static PacketPool * withCapacity(uint32_t capacity);"));
  const std::string dispatch =
      "kern_return_t PacketPool::_Dispatch(OSObject* self, const IORPC& rpc) {\n"
      "  switch (rpc.msgid) {\n"
      "    default:\n"
      "      return OSObject::_Dispatch(self, rpc);\n"
      "  }\n"
      "}\n";
  EXPECT_NE(out.impl.find(dispatch), std::string::npos) << out.impl;
  EXPECT_TRUE(HasNoLineContaining(out.impl, "_RoutedQueue"));
}

TEST(Iig, SeveralClassesInOneFile) {
  const auto out = generate_fixture("MultipleClasses");
  const std::size_t stage = out.header.find("class PipelineStage : public OSObject {");
  const std::size_t comment = out.header.find("/* The last stage also reports completion. */");
  const std::size_t sink = out.header.find("class PipelineSink final : public PipelineStage {");
  ASSERT_NE(stage, std::string::npos);
  ASSERT_NE(sink, std::string::npos);
  EXPECT_LT(stage, comment);
  EXPECT_LT(comment, sink);
  // Process is a message of PipelineStage, declared earlier in the file, so overriding it in
  // PipelineSink overrides the message.
  EXPECT_TRUE(HasLine(out.header, "  virtual kern_return_t Process_Impl(PipelineStage_Process_Args);"));
  EXPECT_TRUE(HasLine(out.header, "  kern_return_t Process_Impl(PipelineSink_Process_Args) override;"));
  EXPECT_TRUE(HasLine(out.impl, "DEXTHIL_DEFINE_METACLASS(PipelineStage, OSObject);"));
  EXPECT_TRUE(HasLine(out.impl, "DEXTHIL_DEFINE_METACLASS(PipelineSink, PipelineStage);"));
  EXPECT_TRUE(HasLine(out.impl, "      return PipelineStage::_Dispatch(self, rpc);"));
  EXPECT_TRUE(HasLine(out.impl, "  return PipelineStage::_RoutedQueue(msgid);"));
  EXPECT_TRUE(HasLine(out.impl, "    case PipelineSink_Process_ID:"));
}

// Access labels are read but every method is public in the generated class, as Apple's iig
// generates it; `final` alone overrides; `#pragma mark` inside the class is skipped.
TEST(Iig, AttributesAndDefaultsFollowTheSourceAndEveryMethodIsPublic) {
  const auto out = generate_fixture("Syntax");
  const std::string expected_class =
      "class SyntaxDriver final : public IOService {\n"
      "  DEXTHIL_IIG_CLASS(SyntaxDriver, IOService)\n"
      "\n"
      " public:\n"
      "  union {\n"
      "    SyntaxDriver_IVars* ivars;\n"
      "    SyntaxDriver_LocalIVars* lvars;\n"
      "  };\n"
      "  kern_return_t Reset(OSDispatchMethod supermethod = NULL);\n"
      "  virtual kern_return_t Reset_Impl(SyntaxDriver_Reset_Args);\n"
      "  kern_return_t Start_Impl(SyntaxDriver_Start_Args) override;\n"
      "  kern_return_t Stop_Impl(SyntaxDriver_Stop_Args) override final;\n"
      "  kern_return_t Configure(IOService * target, SyntaxConfig config, OSAction * completion = NULL, uint32_t "
      "mode = kSyntaxDefaultMode, OSDispatchMethod supermethod = NULL);\n"
      "  virtual kern_return_t Configure_Impl(SyntaxDriver_Configure_Args);\n"
      "  static uint32_t Version();\n"
      "  bool IsBusy() const;\n"
      "  void TimerOccurred(OSAction * action, uint64_t time, OSDispatchMethod supermethod = NULL);\n"
      "  virtual void TimerOccurred_Impl(SyntaxDriver_TimerOccurred_Args);\n"
      "  kern_return_t CreateActionTimerOccurred(size_t referenceSize, OSAction ** action);\n"
      "  void Tick(OSDispatchMethod supermethod = NULL);\n"
      "  virtual void Tick_Impl(SyntaxDriver_Tick_Args);\n"
      "  virtual void free() override;\n"
      "  const char* _RoutedQueue(uint64_t msgid) const override;\n"
      "  bool _DeclaresQueue(const char* name) const override;\n"
      "};\n";
  EXPECT_NE(out.header.find(expected_class), std::string::npos) << out.header;
  EXPECT_TRUE(HasLine(out.header, "#define SyntaxDriver_Reset_Args"));
  EXPECT_TRUE(HasLine(out.header,
                      "#define SyntaxDriver_Configure_Args IOService * target, SyntaxConfig config, OSAction * "
                      "completion, uint32_t mode"));
  // Text that is not an iig class stays as it is.
  EXPECT_TRUE(HasLine(out.header, "class OSAction;"));
  EXPECT_TRUE(HasLine(out.header, "enum class SyntaxMode : uint8_t { kIdle, kBusy };"));
  EXPECT_TRUE(HasLine(out.header, "struct SyntaxConfig { uint32_t depth; };"));
  // One declaration per distinct queue, one route per message.
  EXPECT_TRUE(HasLine(out.impl, "  if (msgid == SyntaxDriver_Tick_ID) return \"TimerQueue\";"));
  EXPECT_NE(out.impl.find("\"TimerQueue\") == 0) return true;\n  return IOService::_DeclaresQueue"), std::string::npos);
}

TEST(Iig, ParseBuildsTheModel) {
  const IigFile file = parse(*read_text_file("fixtures/iig/TestdevDriver.iig"));
  ASSERT_EQ(file.classes.size(), 1u);
  ASSERT_EQ(file.passthrough.size(), 2u);
  const IigClass& c = file.classes[0];
  EXPECT_EQ(c.name, "TestdevDriver");
  EXPECT_EQ(c.base, "IOService");
  EXPECT_FALSE(c.is_final);
  ASSERT_EQ(c.methods.size(), 8u);
  std::vector<std::string> messages;
  for (const IigMethod& m : c.methods) {
    if (m.is_message) messages.push_back(m.name);
  }
  EXPECT_EQ(messages, (std::vector<std::string>{"Start", "Stop", "SetPowerState", "InterruptOccurred", "CopyStats"}));
  const IigMethod& stats = c.methods[6];
  EXPECT_EQ(stats.name, "CopyStats");
  EXPECT_EQ(stats.queue, "StatsQueue");
  EXPECT_EQ(stats.access, Access::kPublic);
  ASSERT_EQ(stats.params.size(), 3u);
  EXPECT_EQ(stats.params[1].type, "IOAddressSegment");
  EXPECT_EQ(stats.params[1].name, "segments");
  EXPECT_EQ(stats.params[1].array, "[32]");
  EXPECT_EQ(stats.params[2].default_value, "0");
  const IigMethod& interrupt = c.methods[5];
  EXPECT_EQ(interrupt.type_class, "IOInterruptDispatchSource");
  EXPECT_EQ(interrupt.type_method, "InterruptOccurred");
  EXPECT_EQ(interrupt.line, 16);
}

TEST(Iig, ClassMentionedInCommentsStringsAndDirectivesIsNotAClass) {
  const std::string source =
      "// class Fake : public IOService { int x; };\n"
      "/* class Fake2 : public IOService { */\n"
      "#define DECLARE(n) class n : public IOService { int x; };\n"
      "static const char* s = \"class Fake3 : public IOService {\";\n"
      "template <class T> struct Holder { T value; };\n"
      "class Forward;\n";
  const IigFile file = parse(source);
  EXPECT_TRUE(file.classes.empty());
  ASSERT_EQ(file.passthrough.size(), 1u);
  EXPECT_EQ(file.passthrough[0], source);
}

TEST(Iig, ErrorsCarryLineAndColumn) {
  const IigError e = parse_error("class A : public IOService {\n  int  count;\n};\n");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.column(), 8);
  EXPECT_EQ(e.message(), "data member 'count' in class A: iig classes keep state in ivars");
  EXPECT_STREQ(e.what(), "2:8: error: data member 'count' in class A: iig classes keep state in ivars");
  std::string error;
  EXPECT_FALSE(translate("class A : public IOService {", {"a.iig", "a.h"}, &error));
  EXPECT_EQ(error, "1:28: error: unterminated class A: this '{' is never closed");
}

TEST(Iig, KnownMessagesTable) {
  EXPECT_EQ(known_messages().size(), 48u);
  EXPECT_TRUE(is_known_message("DataAvailable"));  // IODataQueueDispatchSource's
  // As Apple's family headers have them: SCSI's task management and completion, HID's reports,
  // the audio driver's StartDevice/StopDevice are messages; IOUserAudioDevice's StartIO/StopIO
  // are local.
  EXPECT_TRUE(is_known_message("UserAbortTaskRequest"));
  EXPECT_TRUE(is_known_message("ParallelTaskCompletion"));
  EXPECT_TRUE(is_known_message("UserTargetPresentForID"));
  // SCSI's calls into the kernel are not messages a dext implements, and UserStopController is
  // in no current SCSIControllerDriverKit.
  EXPECT_FALSE(is_known_message("UserCreateTargetForID"));
  EXPECT_FALSE(is_known_message("UserReportHBAConstraints"));
  EXPECT_FALSE(is_known_message("UserStopController"));
  EXPECT_TRUE(is_known_message("handleReport"));
  EXPECT_TRUE(is_known_message("getReport"));
  EXPECT_TRUE(is_known_message("setReport"));
  EXPECT_TRUE(is_known_message("StartDevice"));
  EXPECT_TRUE(is_known_message("StopDevice"));
  EXPECT_FALSE(is_known_message("StartIO"));
  EXPECT_FALSE(is_known_message("StopIO"));
  EXPECT_TRUE(is_known_message("CopyClientMemoryForType"));
  EXPECT_TRUE(is_known_message("Start"));
  EXPECT_TRUE(is_known_message("HandleChangeSampleRate"));
  EXPECT_FALSE(is_known_message("init"));
  EXPECT_FALSE(is_known_message("handleStart"));
  // An override of anything else is a plain virtual, even without LOCALONLY.
  const IigFile file =
      parse("class A : public IOService {\n public:\n  virtual bool handleStart(IOService * p) override;\n};\n");
  EXPECT_FALSE(file.classes.at(0).methods.at(0).is_message);
}

// The table is the families' own: each message a family definition lists is known, once, and a
// family class's override of one (here SCSI's) is a message.
TEST(Iig, KnownMessagesComeFromTheFamilyDefinitions) {
  std::size_t listed = 0;
  for (const driverkit::families::FamilyDefinition* f : driverkit::families::all()) {
    for (const auto& c : f->classes) {
      for (std::string_view m : c.kernel_sent) {
        EXPECT_TRUE(is_known_message(m)) << f->name << " " << c.name << "::" << m;
        ++listed;
      }
    }
  }
  EXPECT_EQ(known_messages().size(), listed);  // no message is listed by two classes
  const IigFile file = parse(
      "class Hba : public IOUserSCSIParallelInterfaceController {\n public:\n"
      "  virtual kern_return_t UserInitializeController() override;\n};\n");
  EXPECT_TRUE(file.classes.at(0).methods.at(0).is_message);
}

// Each fixtures/iig/invalid/*.iig starts with `// expect-error: LINE:COL: error: MESSAGE`.
TEST(Iig, InvalidInputsGiveTheirExpectedError) {
  const std::string prefix = "// expect-error: ";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator("fixtures/iig/invalid")) {
    if (entry.path().extension() == ".iig") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 12u);
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    const auto source = read_text_file(path.string());
    ASSERT_TRUE(source);
    const std::string first_line = source->substr(0, source->find('\n'));
    ASSERT_EQ(first_line.rfind(prefix, 0), 0u) << "first line must be " << prefix << "...";
    std::string error;
    const auto out = translate(*source, {path.filename().string(), "out.h"}, &error);
    EXPECT_FALSE(out);
    EXPECT_EQ(error, first_line.substr(prefix.size()));
  }
}

}  // namespace
}  // namespace dexthil::iig

// The DriverKit SDK surface that public dexts use, exercised by a dext of our own
// (dexts/sdkprobe) on the IOUserResources nub every Mac has: the unified log, locks, the clocks
// and timer clocks, byte order and error numbers, a data queue, cancelling actions and queues,
// and a C source. The log's format language is checked directly too.
#include <gtest/gtest.h>

#include <cstdarg>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <DriverKit/DriverKit.h>

#include "harness/checks/driverkit_checkers.hpp"
#include "harness/driverkit/classes/os_log_format.hpp"
#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/kernel/tests/dext_test_support.hpp"

namespace dexthil::driverkit {
namespace {

using testing::dext_library;

// A Mac with no hardware beyond its resources nub.
struct ResourcesMachine {
  explicit ResourcesMachine(const std::string& plist = "dexts/sdkprobe/Info.plist")
      : sim(1), buffers(0x20'0000'0000, 1ULL << 30), checkers(monitor, findings, sim.trace()),
        kernel(sim, memory, buffers, monitor) {
    std::string error;
    loaded = kernel.load_dext(dext_library("SdkProbe"), plist, &error);
    EXPECT_TRUE(loaded) << error;
  }
  void run_for(sim::SimTime t) { sim.run_until(sim.now() + t); }
  // The probe itself (the first service), not the child it makes.
  const ServiceRecord* service() const {
    const auto all = kernel.services();
    return all.empty() ? nullptr : all.front();
  }
  std::vector<const ServiceRecord*> probes() const {
    std::vector<const ServiceRecord*> out;
    for (const ServiceRecord* rec : kernel.services()) {
      if (rec->class_name == "SdkProbe") out.push_back(rec);
    }
    return out;
  }
  std::uint64_t property(const char* key) const { return testing::published_number(service(), key); }
  std::string all_findings() const { return testing::findings_text(findings); }

  sim::Simulator sim;
  hostmem::SparseMemory memory;
  hostmem::PageAllocator buffers;
  checks::FindingLog findings;
  monitor::Monitor monitor;
  checks::DriverKitCheckers checkers;
  Kernel kernel;
  bool loaded = false;
};

TEST(DriverKitSdk, ADextWithoutHardwareStartsOnTheResourcesNub) {
  ResourcesMachine m;
  ASSERT_EQ(m.kernel.registry().all().size(), 1u);
  EXPECT_EQ(m.kernel.registry().all()[0]->provider_class, "IOUserResources");
  m.kernel.start_matching();
  m.run_for(5 * sim::kMillisecond);
  ASSERT_NE(m.service(), nullptr);
  EXPECT_EQ(m.service()->stage, ServiceRecord::Stage::kStarted);
  m.kernel.terminate_all();
  m.run_for(5 * sim::kMillisecond);
  m.kernel.finish();
  EXPECT_TRUE(m.findings.empty()) << m.all_findings();
}

TEST(DriverKitSdk, EachMatchCategoryOfANubGetsItsOwnService) {
  // Two personalities on the resources nub with IOMatchCategory values of their own: IOKit starts
  // the winner of each category, so both run.
  std::ifstream in("dexts/sdkprobe/Info.plist");
  std::stringstream text;
  text << in.rdbuf();
  std::string plist = text.str();
  const std::string::size_type start = plist.find("\t\t<key>SdkProbe</key>");
  const std::string::size_type end = plist.find("\t</dict>\n</dict>", start);
  ASSERT_NE(start, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  std::string second = plist.substr(start, end - start);
  second.replace(second.find("<key>SdkProbe</key>"), 19, "<key>SdkProbeTwo</key>");
  second.replace(second.find("<string>org.dexthil.SdkProbe</string>\n\t\t\t<key>IOProviderClass"), 37,
                 "<string>org.dexthil.SdkProbe.two</string>");
  plist.insert(end, second);
  const auto path = std::filesystem::temp_directory_path() / "dexthil-sdkprobe-two-categories-Info.plist";
  std::ofstream(path) << plist;
  ResourcesMachine m(path.string());
  m.kernel.start_matching();
  m.run_for(5 * sim::kMillisecond);
  ASSERT_EQ(m.probes().size(), 2u) << m.all_findings();
  EXPECT_EQ(m.kernel.processes().size(), 2u);
  for (const ServiceRecord* rec : m.probes()) EXPECT_EQ(rec->stage, ServiceRecord::Stage::kStarted);
}

TEST(DriverKitSdk, AResourceTheMacDoesNotPublishMatchesNothing) {
  // The personality waits for a resource no Mac publishes: nothing starts, and the finding says why.
  std::ifstream in("dexts/sdkprobe/Info.plist");
  std::stringstream text;
  text << in.rdbuf();
  std::string plist = text.str();
  plist.replace(plist.find("<string>IOKit</string>"), 22, "<string>IOFireWire</string>");
  const auto path = std::filesystem::temp_directory_path() / "dexthil-sdkprobe-resource-Info.plist";
  std::ofstream(path) << plist;
  ResourcesMachine m(path.string());
  m.kernel.start_matching();
  m.run_for(1 * sim::kMillisecond);
  EXPECT_EQ(m.service(), nullptr);
  m.kernel.finish();
  ASSERT_EQ(m.findings.all().size(), 1u) << m.all_findings();
  EXPECT_EQ(m.findings.all()[0].check, "dext.no-match");
  EXPECT_NE(m.findings.all()[0].why.find("IOResourceMatch is \"IOFireWire\", a resource the simulated Mac does not "
                                           "publish (it publishes IOKit and IOBSD)"),
            std::string::npos)
      << m.findings.all()[0].why;
}

TEST(DriverKitSdk, TheSdkSurfaceBehavesAsOnAMac) {
  ResourcesMachine m;
  ::testing::internal::CaptureStderr();
  m.kernel.start_matching();
  m.run_for(5 * sim::kMillisecond);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(m.service(), nullptr);
  EXPECT_EQ(m.property("PageSize"), 16384u);  // Apple silicon's pages
  EXPECT_EQ(m.property("LocksOK"), 1u);
  EXPECT_EQ(m.property("MemoryOK"), 1u);  // Map, sub-descriptors, cache modes, OSData without a copy
  EXPECT_EQ(m.property("ConcatLength"), 128u);  // CreateWithMemoryDescriptors of 100 and 28 bytes; its tail maps
  EXPECT_EQ(m.property("SearchOK"), 1u);        // SearchProperty finds the entry's IOUserClass, not a missing key
  EXPECT_EQ(m.property("RemoveOK"), 1u);        // RemoveProperty takes a key SetProperties put there
  EXPECT_EQ(m.property("TimerArgsOK"), 1u);  // WakeAtTime's clock check and disarm, WakeupWithOptions' options
  EXPECT_EQ(m.property("HelpersOK"), 1u);  // OSSwap, err_get_*, TARGET_OS_DRIVERKIT, a C source
  // The 1 ms timer on kIOTimerClockMonotonicRaw fired once, on time, and its handler then waited
  // 1 ms for the lock the Worker queue held across a 2 ms IOSleep.
  EXPECT_EQ(m.property("TimerFires"), 1u);  // re-armed after its action was cancelled: never again
  EXPECT_EQ(m.property("TimerLateNs"), 0u);
  EXPECT_EQ(m.property("LockWaitedNs"), 1'000'000u);
  EXPECT_EQ(m.property("ActionCancelled"), 1u);
  // IODispatchQueue::Sleep's timeout is relative, SleepWithDeadline's deadline on the clock named.
  EXPECT_EQ(m.property("SleepsTimedOut"), 2u);
  EXPECT_EQ(m.property("SleptNs"), 150'000u);
  EXPECT_EQ(m.property("QueueCancelled"), 1u);
  // Its IOServiceNotificationDispatchSource saw the child it made with IOService::Create
  // matched (once it called RegisterService) and, after it called Terminate, terminated.
  EXPECT_EQ(m.property("ChildMatched"), 1u);
  EXPECT_EQ(m.property("ChildTerminated"), 1u);
  // OSAction::Wait from a queue of its own: back once AwaitedTimer had run on Default. Its timer
  // fired at 2 ms, but TimerOccurred held Default until 2.15 ms (the lock, then its 150 us of
  // sleeps), so the invocation ran then. Then a 1 ms timeout with nothing to wait for, then
  // kIOReturnAborted once cancelled.
  EXPECT_EQ(m.property("AwaitedFires"), 1u);
  EXPECT_EQ(m.property("WaitResult"), uint64_t{uint32_t(kIOReturnSuccess)});
  EXPECT_EQ(m.property("WaitedNs"), 2'150'000u);
  EXPECT_EQ(m.property("WaitAgainResult"), uint64_t{uint32_t(kIOReturnTimeout)});
  EXPECT_EQ(m.property("WaitCancelledResult"), uint64_t{uint32_t(kIOReturnAborted)});
  EXPECT_EQ(m.property("NameOK"), 1u);  // CopyName: the class's name, then SetName's
  EXPECT_EQ(m.property("RegistryEntryID"), 0x100001000u);  // the first service's, after the nubs'
  EXPECT_EQ(m.property("CxxInCFile"), 0xC0FFEEu);  // a .c file compiled as C++ (CXX_SOURCES)
  // Three 12-byte entries fill the 48-byte ring, the fourth overruns; DataAvailable came for the
  // first entry and for the overrun, and the first dequeue after the overrun sent DataServiced.
  EXPECT_EQ(m.property("Enqueued"), 3u);
  EXPECT_EQ(m.property("Overruns"), 1u);
  EXPECT_EQ(m.property("Dequeued"), 3u);
  EXPECT_EQ(m.property("DataAvailableCalls"), 2u);
  EXPECT_EQ(m.property("DataServicedCalls"), 1u);
  // The unified log's records, one line each, at simulated time.
  EXPECT_NE(log.find("] SdkProbe: Start, page size 16384, private 7, ready true\n"), std::string::npos) << log;
  EXPECT_NE(log.find("] info: SdkProbe: an info record\n"), std::string::npos) << log;
  EXPECT_NE(log.find("] debug: SdkProbe: a debug record\n"), std::string::npos) << log;
  EXPECT_NE(log.find("] error: SdkProbe: an error record, [2: No such file or directory]\n"), std::string::npos) << log;
  EXPECT_NE(log.find("] fault: [org.dexthil.SdkProbe:probe] a fault record in category probe\n"), std::string::npos)
      << log;
  EXPECT_NE(log.find("] SdkProbe: C helpers agree\n"), std::string::npos) << log;
  // Stop cancels the timer and calls Stop(provider, SUPERDISPATCH) from the cancel handler, after
  // Stop returned: the kernel waits for it, and the service stops cleanly.
  m.kernel.terminate_all();
  m.run_for(5 * sim::kMillisecond);
  EXPECT_EQ(m.service()->stage, ServiceRecord::Stage::kStopped);
  EXPECT_TRUE(m.service()->released);
  m.kernel.finish();
  EXPECT_TRUE(m.findings.empty()) << m.all_findings();
}

std::string format(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::string out = format_os_log(format, args);
  va_end(args);
  return out;
}

TEST(OsLogFormat, PrintfConversionsAndTheUnifiedLogsExtensions) {
  EXPECT_EQ(format("%d %5u %-3x| %#o %c %%", -4, 7u, 0xabu, 8u, 'z'), "-4     7 ab | 010 z %");
  EXPECT_EQ(format("%lld %llx %lu %zu %hhd %hu", -5ll, 0x1234567890ull, 9ul, size_t{3}, 300, 70000),
            "-5 1234567890 9 3 44 4464");
  EXPECT_EQ(format("%.2f %e %*d %.*s", 1.005, 100.0, 4, 7, 3, "abcdef"), "1.00 1.000000e+02    7 abc");
  EXPECT_EQ(format("%{public}s and %{private}s", "shown", "shown too"), "shown and shown too");
  EXPECT_EQ(format("%{bool}d %{bool}d %{BOOL}d", 1, 0, 1), "true false YES");
  EXPECT_EQ(format("%{errno}d %{darwin.errno}d", 2, 13), "[2: No such file or directory] [13: Permission denied]");
  EXPECT_EQ(format("%{public, uuid_t}.4P", "\x01\x02\xab\xcd"), "0102ABCD");
  EXPECT_EQ(format("%s", static_cast<const char*>(nullptr)), "(null)");
  EXPECT_EQ(format("%n", static_cast<int*>(nullptr)), "<%n is not supported>");
  EXPECT_EQ(format("%{public", 1), "%{public");  // an unclosed annotation prints as written
  const std::string long_text(2000, 'x');  // nothing is cut at a buffer's length
  EXPECT_EQ(format("<%s>", long_text.c_str()), "<" + long_text + ">");
}

}  // namespace
}  // namespace dexthil::driverkit

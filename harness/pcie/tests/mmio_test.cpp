// Host memory requests as PCIe transactions: a read is non-posted and takes the path's time down
// and back, its handler runs once when it arrives, writes are posted and stay in order with
// reads, narrow accesses reach the device with their size (byte enables), and every request the
// function cannot take ends as the platform ends it: Unsupported Request, or the completion
// timeout, with all ones.
#include <gtest/gtest.h>

#include <deque>

#include "harness/pcie/tests/machine.hpp"
#include "harness/util/hex.hpp"

namespace dexthil::pcie {
namespace {

using testing::Machine;

// A device that logs what reaches it and when, keeps one register per offset, and answers
// reads after `answer_after` (or never).
struct ScriptedDevice final : MmioDevice {
  explicit ScriptedDevice(sim::Simulator& s) : sim(s) {}
  struct Arrival {
    sim::SimTime at;
    bool write;
    std::uint64_t offset;
    unsigned size;
    std::uint64_t value;
  };
  void mmio_read(std::size_t, std::uint64_t offset, unsigned size, ReadDone done) override {
    log.push_back({sim.now(), false, offset, size, 0});
    if (never_answer) return;
    const std::uint64_t value = registers[offset]++;  // a read with a side effect: counts itself
    sim.after(answer_after, [done, value] { done(value); });
  }
  void mmio_write(std::size_t, std::uint64_t offset, unsigned size, std::uint64_t value) override {
    log.push_back({sim.now(), true, offset, size, value});
    registers[offset] = value;
  }
  sim::Simulator& sim;
  std::map<std::uint64_t, std::uint64_t> registers;
  std::deque<Arrival> log;
  sim::SimTime answer_after = 0;
  bool never_answer = false;
};

struct MmioMachine {
  MmioMachine() : device(m.sim) {
    m.fabric->attach_mmio(dev, &device);
    bar0 = dev.bar_addresses.at(0);
  }
  Machine m{"direct"};
  Node& dev = m.node("dev");
  ScriptedDevice device;
  std::uint64_t bar0 = 0;
};

TEST(Mmio, AReadTakesThePathDownAndBackAndItsHandlerRunsOnceOnArrival) {
  MmioMachine t;
  const sim::SimTime one_way = t.m.fabric->one_way_latency(t.dev);
  EXPECT_EQ(one_way, 250 * sim::kNanosecond);  // direct.toml: root port 150 ns + dev 100 ns
  t.device.registers[0x40] = 7;
  t.device.answer_after = 40 * sim::kNanosecond;  // the device's own time to answer
  sim::SimTime took = 0;
  const MmioResult r = t.m.mmio_read(t.bar0 + 0x40, 4, &took);
  ASSERT_TRUE(r.ok()) << r.why;
  EXPECT_EQ(r.value, 7u);
  EXPECT_EQ(took, 2 * one_way + 40 * sim::kNanosecond);
  ASSERT_EQ(t.device.log.size(), 1u);  // exactly once
  EXPECT_EQ(t.device.log[0].at, one_way);
  EXPECT_EQ(t.m.mmio_read(t.bar0 + 0x40).value, 8u);  // its side effect happened once per read
}

TEST(Mmio, AReadAfterAWriteSeesTheWrite) {
  MmioMachine t;
  EXPECT_TRUE(t.m.fabric->mmio_write(t.bar0 + 0x10, 4, 0x1234).ok());
  EXPECT_TRUE(t.device.log.empty());  // posted: still on its way
  const MmioResult r = t.m.mmio_read(t.bar0 + 0x10);
  EXPECT_EQ(r.value, 0x1234u);
  ASSERT_EQ(t.device.log.size(), 2u);
  EXPECT_TRUE(t.device.log[0].write);
  EXPECT_FALSE(t.device.log[1].write);
  EXPECT_LE(t.device.log[0].at, t.device.log[1].at);
}

TEST(Mmio, NarrowAndWideAccessesReachTheDeviceWithTheirSize) {
  MmioMachine t;
  EXPECT_TRUE(t.m.fabric->mmio_write(t.bar0 + 0x21, 1, 0xaa).ok());
  EXPECT_TRUE(t.m.fabric->mmio_write(t.bar0 + 0x22, 2, 0xbbcc).ok());
  EXPECT_TRUE(t.m.mmio_read(t.bar0 + 0x28, 8).ok());
  ASSERT_EQ(t.device.log.size(), 3u);
  EXPECT_EQ(t.device.log[0].offset, 0x21u);
  EXPECT_EQ(t.device.log[0].size, 1u);
  EXPECT_EQ(t.device.log[1].size, 2u);
  EXPECT_EQ(t.device.log[2].size, 8u);
  // Misaligned: the root complex cannot express it as one request.
  const MmioResult odd = t.m.mmio_read(t.bar0 + 0x22, 4);
  EXPECT_EQ(odd.status, MmioResult::Status::kUnsupportedRequest);
  EXPECT_EQ(odd.why, "the 4-byte read at offset 0x22 of BAR 0 is misaligned or runs past its end");
}

TEST(Mmio, WhatAFunctionCannotTakeIsAnUnsupportedRequestWithAllOnes) {
  MmioMachine t;
  const MmioResult nowhere = t.m.mmio_read(0x1000, 2);
  EXPECT_EQ(nowhere.status, MmioResult::Status::kUnsupportedRequest);
  EXPECT_EQ(nowhere.value, 0xffffu);
  EXPECT_EQ(nowhere.endpoint, nullptr);

  // D3hot: set PMCSR's PowerState to 3 through config space, as a driver would.
  const std::uint16_t pm = t.dev.config.find_capability(cfg::kCapPowerManagement);
  t.m.fabric->config_write(t.dev.bdf, pm + 4, 2, 3);
  const MmioResult asleep = t.m.mmio_read(t.bar0, 4);
  EXPECT_EQ(asleep.status, MmioResult::Status::kUnsupportedRequest);
  EXPECT_EQ(asleep.why, "dev is in D3hot (PMCSR PowerState 3); a function in D3hot takes only configuration requests");
  EXPECT_FALSE(t.m.fabric->mmio_write(t.bar0, 4, 1).ok());
  t.m.fabric->config_write(t.dev.bdf, pm + 4, 2, 0);

  // Memory Space Enable off: nothing decodes the BAR any more.
  const std::uint16_t command = static_cast<std::uint16_t>(t.m.fabric->config_read(t.dev.bdf, cfg::kCommand, 2));
  t.m.fabric->config_write(t.dev.bdf, cfg::kCommand, 2, command & ~cfg::kCommandMemory);
  EXPECT_EQ(t.m.mmio_read(t.bar0).status, MmioResult::Status::kUnsupportedRequest);
  t.m.fabric->config_write(t.dev.bdf, cfg::kCommand, 2, command);

  // No device model behind the function.
  t.m.fabric->attach_mmio(t.dev, nullptr);
  const MmioResult nobody = t.m.mmio_read(t.bar0);
  EXPECT_EQ(nobody.why, "nothing answers at dev: no device model is attached to it");
  EXPECT_EQ(t.device.log.size(), 0u);  // none of them reached the device
}

// The fabric keeps the routes it found, but a route follows the configuration it was read from:
// a bridge window closed or a BAR moved after a register was read changes where the next read
// goes.
TEST(Mmio, ARouteFollowsWindowsAndBarsAsSoftwareMovesThem) {
  MmioMachine t;
  t.device.registers[0x40] = 5;
  ASSERT_EQ(t.m.mmio_read(t.bar0 + 0x40).value, 5u);
  Node& rp = t.m.node("rp0");
  const auto limit = static_cast<std::uint16_t>(t.m.fabric->config_read(rp.bdf, cfg::kMemoryLimit, 2));
  t.m.fabric->config_write(rp.bdf, cfg::kMemoryLimit, 2, 0);  // below the base: the window is closed
  EXPECT_EQ(t.m.mmio_read(t.bar0 + 0x40).status, MmioResult::Status::kUnsupportedRequest);
  t.m.fabric->config_write(rp.bdf, cfg::kMemoryLimit, 2, limit);
  EXPECT_EQ(t.m.mmio_read(t.bar0 + 0x40).value, 6u);

  // BAR 0 (16 KiB) moves up by its size, still inside the window.
  const std::uint32_t bar = t.m.fabric->config_read(t.dev.bdf, cfg::kBar0, 4);
  const std::uint64_t moved = t.bar0 + 0x4000;
  ASSERT_LE(moved + 0x4000 - 1, (static_cast<std::uint64_t>(limit & 0xfff0) << 16 | 0xfffff));
  t.m.fabric->config_write(t.dev.bdf, cfg::kBar0, 4, static_cast<std::uint32_t>((bar & 0xf) | moved));
  const MmioResult old_place = t.m.mmio_read(t.bar0 + 0x40);
  EXPECT_EQ(old_place.status, MmioResult::Status::kUnsupportedRequest) << util::hex(old_place.value);
  EXPECT_EQ(t.m.mmio_read(moved + 0x40).value, 7u);
  EXPECT_EQ(t.device.log.size(), 3u);  // the reads that went nowhere never reached it
}

TEST(Mmio, AReadTheDeviceNeverAnswersEndsAtTheCompletionTimeout) {
  MmioMachine t;
  t.device.never_answer = true;
  sim::SimTime took = 0;
  const MmioResult r = t.m.mmio_read(t.bar0 + 4, 4, &took);
  EXPECT_EQ(r.status, MmioResult::Status::kCompletionTimeout);
  EXPECT_EQ(r.value, 0xffffffffu);
  EXPECT_EQ(took, Fabric::kCompletionTimeout);
  EXPECT_EQ(r.why, "dev never completed the read at " + util::hex(t.bar0 + 4) + " within the 50 ms completion timeout");
}

TEST(Mmio, EachUnansweredReadTimesOutFiftyMillisecondsAfterItWasIssued) {
  // One timer watches the oldest outstanding read: answered reads before and between must not
  // move anyone's deadline.
  MmioMachine t;
  std::vector<std::pair<MmioResult::Status, sim::SimTime>> ended;
  auto issue = [&] {
    t.m.fabric->mmio_read(t.bar0 + 4, 4, [&](const MmioResult& r) { ended.emplace_back(r.status, t.m.sim.now()); });
  };
  const sim::SimTime start = t.m.sim.now();
  issue();  // answered
  t.m.sim.run_until(start + 5 * sim::kMillisecond);
  t.device.never_answer = true;
  issue();  // times out at 55 ms
  t.m.sim.run_until(start + 20 * sim::kMillisecond);
  issue();  // at 70 ms
  t.m.sim.run_until(start + 200 * sim::kMillisecond);
  ASSERT_EQ(ended.size(), 3u);
  EXPECT_EQ(ended[0].first, MmioResult::Status::kOk);
  EXPECT_EQ(ended[1], std::make_pair(MmioResult::Status::kCompletionTimeout, start + 55 * sim::kMillisecond));
  EXPECT_EQ(ended[2], std::make_pair(MmioResult::Status::kCompletionTimeout, start + 70 * sim::kMillisecond));
}

// An answer that comes after the completion timeout finds no one waiting, even when the fabric
// has taken up a new read since: the new read gets its own answer, once.
TEST(Mmio, AnAnswerAfterTheTimeoutIsDroppedAndTheNextReadGetsItsOwn) {
  MmioMachine t;
  std::vector<MmioResult> ended;
  auto issue = [&] { t.m.fabric->mmio_read(t.bar0 + 4, 4, [&](const MmioResult& r) { ended.push_back(r); }); };
  const sim::SimTime start = t.m.sim.now();
  t.device.answer_after = 60 * sim::kMillisecond;  // past the 50 ms timeout
  issue();
  t.m.sim.run_until(start + 55 * sim::kMillisecond);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].status, MmioResult::Status::kCompletionTimeout);
  t.device.answer_after = 10 * sim::kMillisecond;
  issue();  // still waiting at about 60 ms, when the first read's answer comes; answered at about 65 ms
  t.m.sim.run_until(start + 200 * sim::kMillisecond);
  ASSERT_EQ(t.device.log.size(), 2u);  // both reached the device
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[1].status, MmioResult::Status::kOk);
  EXPECT_EQ(ended[1].value, 1u);  // the second read's value (the register counts its reads), not the first's
}

}  // namespace
}  // namespace dexthil::pcie

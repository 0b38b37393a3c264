#pragma once
// A device's register block as its RTL sees it: the register bus (reg_valid, reg_write,
// reg_addr, reg_wdata, reg_be in; reg_rdata out), one 32-bit access per rising edge with
// reg_valid high for exactly that edge. MMIO reads and writes of 1, 2, 4 or 8 bytes from the
// fabric queue up as register accesses in arrival order (an 8-byte access is two, the low
// dword first); a read is answered with the register as its edge found it.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>

namespace dexthil::models {

class RegisterBus {
 public:
  using ReadDone = std::function<void(std::uint64_t)>;
  struct Access {
    bool write;
    std::uint8_t address;  // of the 32-bit register
    std::uint8_t byte_enables;
    std::uint32_t data;  // write data, in the register's byte lanes
    ReadDone done;       // a read's answer: (register >> 8 * lane) & mask
    std::uint8_t lane = 0;
    std::uint32_t mask = 0xffffffffu;
  };

  // `bytes`: the size of the register block; accesses beyond it read 0 and are ignored.
  explicit RegisterBus(std::uint64_t bytes) : bytes_(bytes) {}

  void read(std::uint64_t offset, unsigned size, ReadDone done);
  void write(std::uint64_t offset, unsigned size, std::uint64_t value);
  bool idle() const { return queue_.empty(); }
  // A reset of the function: accesses not yet on the bus are lost (a read in flight is never
  // answered; the host's completion timeout ends it).
  void clear() { queue_.clear(); }

  // Before the low-phase eval: this edge's access, if any, onto the top's pins.
  template <class Top>
  std::optional<Access> drive(Top& top) {
    std::optional<Access> access;
    if (!queue_.empty()) {
      access = std::move(queue_.front());
      queue_.pop_front();
    }
    top.reg_valid = access.has_value();
    if (access) {
      top.reg_write = access->write;
      top.reg_addr = access->address;
      top.reg_wdata = access->data;
      top.reg_be = access->byte_enables;
    }
    return access;
  }
  // After the rising edge: a read gets the value sampled before it.
  static void finish(const std::optional<Access>& access, std::uint32_t read_data) {
    if (access && !access->write && access->done) access->done((read_data >> (8 * access->lane)) & access->mask);
  }

 private:
  void queue(Access access) { queue_.push_back(std::move(access)); }
  std::uint64_t bytes_;
  std::deque<Access> queue_;
};

inline void RegisterBus::read(std::uint64_t offset, unsigned size, ReadDone done) {
  if (offset + size > bytes_) {
    done(0);  // outside the register block: reads 0, as unmapped registers do
    return;
  }
  if (size == 8) {
    auto low = std::make_shared<std::uint32_t>(0);
    queue({false, static_cast<std::uint8_t>(offset), 0xf, 0, [low](std::uint64_t v) { *low = static_cast<std::uint32_t>(v); }});
    queue({false, static_cast<std::uint8_t>(offset + 4), 0xf, 0,
           [low, done](std::uint64_t high) { done(high << 32 | *low); }});
    return;
  }
  const unsigned lane = offset & 3;
  const std::uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
  // The caller's callback as it is (no wrapper to allocate): finish() picks the bytes out.
  queue({false, static_cast<std::uint8_t>(offset & ~std::uint64_t{3}), static_cast<std::uint8_t>(((1u << size) - 1) << lane),
         0, std::move(done), static_cast<std::uint8_t>(lane), mask});
}

inline void RegisterBus::write(std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (offset + size > bytes_) return;
  if (size == 8) {
    queue({true, static_cast<std::uint8_t>(offset), 0xf, static_cast<std::uint32_t>(value), nullptr});
    queue({true, static_cast<std::uint8_t>(offset + 4), 0xf, static_cast<std::uint32_t>(value >> 32), nullptr});
    return;
  }
  const unsigned lane = offset & 3;
  queue({true, static_cast<std::uint8_t>(offset & ~std::uint64_t{3}), static_cast<std::uint8_t>(((1u << size) - 1) << lane),
         static_cast<std::uint32_t>(value << (8 * lane)), nullptr});
}

}  // namespace dexthil::models

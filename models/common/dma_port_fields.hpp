#pragma once
// The DMA port's packed structs (rtl/dma_pkg.sv) as C++ sees them. Verilator hands a packed
// struct wider than 64 bits to C++ as a VlWide: 32-bit words, least significant first, with the
// struct's first member in its most significant bits. These read and write the fields by
// position, so the host side and the tests use names instead of bit arithmetic.
#include <algorithm>
#include <cstdint>

namespace dexthil::models {

// The bit positions dma_pkg.sv documents.
struct DmaReqLayout {
  static constexpr unsigned kTag = 0, kLen = 8, kAddr = 21, kWrite = 85, kLaddr = 86, kLmem = 118;
};
struct DmaRspLayout {
  static constexpr unsigned kLast = 0, kData = 1, kStatus = 65, kTag = 68;
};

// Up to 64 bits at `lo` of a word array (VlWide or a plain array of 32-bit words). Always
// inlined: the positions are constants where the port's fields are read and written every edge,
// and inlined the loops fold to a shift and a mask or two.
template <class Words>
[[gnu::always_inline]] inline std::uint64_t get_bits(const Words& w, unsigned lo, unsigned width) {
  std::uint64_t value = 0;
  for (unsigned done = 0; done < width;) {
    const unsigned bit = lo + done, word = bit / 32, shift = bit % 32;
    const unsigned take = std::min(32 - shift, width - done);
    const std::uint64_t mask = take == 32 ? 0xffffffffull : (1ull << take) - 1;
    value |= ((static_cast<std::uint64_t>(w[word]) >> shift) & mask) << done;
    done += take;
  }
  return value;
}

template <class Words>
[[gnu::always_inline]] inline void set_bits(Words& w, unsigned lo, unsigned width, std::uint64_t value) {
  for (unsigned done = 0; done < width;) {
    const unsigned bit = lo + done, word = bit / 32, shift = bit % 32;
    const unsigned take = std::min(32 - shift, width - done);
    const std::uint32_t mask = static_cast<std::uint32_t>((take == 32 ? 0xffffffffull : (1ull << take) - 1) << shift);
    w[word] = (w[word] & ~mask) | (static_cast<std::uint32_t>((value >> done) << shift) & mask);
    done += take;
  }
}

struct DmaReqFields {
  bool write = false;
  std::uint64_t addr = 0;
  std::uint16_t len = 0;
  std::uint8_t tag = 0;
  bool lmem = false;        // the bytes move to or from local memory at laddr, not as beats
  std::uint32_t laddr = 0;
};

struct DmaRspFields {
  std::uint8_t tag = 0;
  std::uint8_t status = 0;
  std::uint64_t data = 0;
  bool last = false;
};

template <class Words>
DmaReqFields unpack_req(const Words& w) {
  using L = DmaReqLayout;
  return {get_bits(w, L::kWrite, 1) != 0, get_bits(w, L::kAddr, 64), static_cast<std::uint16_t>(get_bits(w, L::kLen, 13)),
          static_cast<std::uint8_t>(get_bits(w, L::kTag, 8)), get_bits(w, L::kLmem, 1) != 0,
          static_cast<std::uint32_t>(get_bits(w, L::kLaddr, 32))};
}

template <class Words>
void pack_req(const DmaReqFields& f, Words& w) {
  using L = DmaReqLayout;
  set_bits(w, L::kTag, 8, f.tag);
  set_bits(w, L::kLen, 13, f.len);
  set_bits(w, L::kAddr, 64, f.addr);
  set_bits(w, L::kWrite, 1, f.write);
  set_bits(w, L::kLaddr, 32, f.laddr);
  set_bits(w, L::kLmem, 1, f.lmem);
}

template <class Words>
DmaRspFields unpack_rsp(const Words& w) {
  using L = DmaRspLayout;
  return {static_cast<std::uint8_t>(get_bits(w, L::kTag, 8)), static_cast<std::uint8_t>(get_bits(w, L::kStatus, 3)),
          get_bits(w, L::kData, 64), get_bits(w, L::kLast, 1) != 0};
}

template <class Words>
void pack_rsp(const DmaRspFields& f, Words& w) {
  using L = DmaRspLayout;
  set_bits(w, L::kLast, 1, f.last);
  set_bits(w, L::kData, 64, f.data);
  set_bits(w, L::kStatus, 3, f.status);
  set_bits(w, L::kTag, 8, f.tag);
}

}  // namespace dexthil::models

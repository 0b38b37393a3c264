#include "harness/iommu/dart.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>
#include <utility>

// Register offsets, bit positions and page-table formats come from Asahi Linux
// (drivers/iommu/apple-dart.c, drivers/iommu/io-pgtable-dart.c) and m1n1
// (proxyclient/m1n1/hw/dart8110.py, dart8020.py); see ../shared/reference/pcie-dart.md and
// docs/topologies.md ("The DART's encodings"). Where the two differ on T8020, m1n1's dart8020.py
// is followed: its ERROR register has a direction bit (WRITE, bit 10) and a 24-bit code field
// (23:0) where Linux's apple-dart.c names neither (it masks the code with 11:0), and its PTE_T8020
// holds the page's PA in bits 39:14 where Linux's APPLE_DART1_PADDR_MASK is 35:12 (Linux runs
// T8020 with a 36-bit output size; for 16 KiB pages below 2^36 both encode the same bits). The
// DART1 permission bits (NO_READ 8, NO_WRITE 7) are Linux's: m1n1's PTE_T8020 names none.
//
// Where those sources are silent, this model decides (code that carries a choice says "Model:"):
// - The DART starts as the kernel's reset leaves it: every stream enabled (the TCRs decide
//   isolation), every TCR 0 (DMA blocked), every TTBR invalid, no error latched, nothing masked.
// - A stream that is disabled, or whose TCR neither translates nor bypasses, blocks DMA. No
//   public source says which code the hardware reports for that; this model reports NO_TTBR,
//   the nearest thing the hardware has ("there is no table for this access"), so SID 0 in that
//   state gives 0x80000001.
// - An IOVA wider than va_bits is reported as NO_TTBR too: the bits above the two table levels
//   select the TTBR, and no TTBR exists for them.
// - Only two table levels exist, so T8110's NO_PGD (a third level) is never produced, nor are
//   the codes for what is not modelled (T8020's SUBPAGE_PROT, PTE_READ_FAULT, NO_DAPF_MATCH;
//   T8110's AXI and APF codes). describe_error() still names them when they appear.
// - T8020 accepts pa_bits up to 42 like T8110 (so switching only `generation` works), but its
//   PTEs hold 40-bit addresses (39:14): map() and table allocation refuse anything above.
// - Writing ERROR with the flag set clears ERROR_ADDRESS too, so error_address() is 0 when
//   nothing is latched.
// - Subpage protection (PTE bits 63:40) is written as "whole page" like Linux does, and not
//   enforced on translation.

namespace dexthil::iommu {
namespace {

constexpr std::uint32_t kPageShift = 14;
constexpr std::uint64_t kPageOffsetMask = Dart::kPageSize - 1;
constexpr std::uint32_t kIndexBits = 11;  // 2048 eight-byte entries fill one 16 KiB table
constexpr std::uint64_t kIndexMask = (1u << kIndexBits) - 1;
constexpr std::uint32_t kL1Shift = kPageShift + kIndexBits;  // IOVA[35:25]
constexpr std::uint32_t kTtbrShift = kL1Shift + kIndexBits;  // IOVA[37:36] picks the TTBR (T8020)
constexpr std::uint32_t kTlbSidShift = 40;                   // TLB key: SID above the IOVA page number

constexpr std::uint32_t kErrorFlag = 1u << 31;

// Registers both generations have.
constexpr std::uint32_t kParams1 = 0x00;  // log2(page size) in 27:24
constexpr std::uint32_t kParams2 = 0x04;  // bit 0: bypass supported

// T8110 registers outside the Layout.
constexpr std::uint32_t kT8110Params3 = 0x08;  // PA width 29:24, VA width 21:16
constexpr std::uint32_t kT8110Params4 = 0x0c;  // number of SIDs 8:0
constexpr std::uint32_t kT8110TlbCmd = 0x80;
constexpr std::uint32_t kT8110TlbCmdBusy = 1u << 31;
constexpr std::uint32_t kT8110TlbCmdOpShift = 8;  // op in 10:8
constexpr std::uint32_t kT8110TlbOpFlushAll = 0;
constexpr std::uint32_t kT8110TlbOpFlushSid = 1;
constexpr std::uint32_t kT8110ErrorMask = 0x104;
constexpr std::uint32_t kT8110ErrorStreams = 0x1c0;
constexpr std::uint32_t kT8110Protect = 0x200;
constexpr std::uint32_t kT8110Unprotect = 0x204;
constexpr std::uint32_t kT8110ProtectLock = 0x208;
constexpr std::uint32_t kT8110EnableStreams = 0xc00;
constexpr std::uint32_t kT8110DisableStreams = 0xc20;
constexpr std::uint32_t kT8110StreamWords = 8;  // 256 SIDs, 32 per register

// T8020 registers outside the Layout.
constexpr std::uint32_t kT8020StreamCommand = 0x20;
constexpr std::uint32_t kT8020StreamCommandBusy = 1u << 2;
constexpr std::uint32_t kT8020StreamCommandInvalidate = 1u << 20;
constexpr std::uint32_t kT8020StreamSelect = 0x34;  // bitmap of SIDs the command applies to
constexpr std::uint32_t kT8020Config = 0x60;
constexpr std::uint32_t kT8020StreamsEnable = 0xfc;

// Page-table entries. Both formats: bit 0 valid, subpage range start 63:52 and end 51:40.
constexpr std::uint64_t kPteValid = 1;
constexpr std::uint64_t kPteSubpageWholePage = 0xfffULL << 40;  // start 0, end 0xfff
constexpr std::uint64_t kDart1AddressMask = ((1ULL << 40) - 1) & ~((1ULL << 14) - 1);  // PA 39:14 in place (m1n1)
constexpr std::uint64_t kDart1NoRead = 1ULL << 8;
constexpr std::uint64_t kDart1NoWrite = 1ULL << 7;
constexpr std::uint64_t kDart1SubpageDisable = 1ULL << 1;
constexpr std::uint64_t kDart2AddressMask = ((1ULL << 38) - 1) & ~((1ULL << 10) - 1);  // PA >> 4 in 37:10
constexpr std::uint32_t kDart2AddressShift = 4;
constexpr std::uint64_t kDart2NoRead = 1ULL << 3;
constexpr std::uint64_t kDart2NoWrite = 1ULL << 2;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Bits of stream-bitmap word `word` that name SIDs this DART has.
std::uint32_t sid_bits_in_word(std::uint32_t num_sids, std::uint32_t word) {
  const std::uint32_t first = word * 32;
  if (first >= num_sids) return 0;
  if (num_sids - first >= 32) return 0xffffffffu;
  return (1u << (num_sids - first)) - 1;
}

}  // namespace

const char* to_string(DartFaultKind kind) {
  switch (kind) {
    case DartFaultKind::kNone: return "NONE";
    case DartFaultKind::kNoTtbr: return "NO_TTBR";
    case DartFaultKind::kNoPmd: return "NO_PMD";
    case DartFaultKind::kNoPte: return "NO_PTE";
    case DartFaultKind::kReadFault: return "READ_FAULT";
    case DartFaultKind::kWriteFault: return "WRITE_FAULT";
    case DartFaultKind::kTranslationOff: return "TRANSLATION_OFF";
    case DartFaultKind::kAddressTooWide: return "ADDRESS_TOO_WIDE";
  }
  return "UNKNOWN";
}

namespace {

// One bit of ERROR: m1n1's name, and what it says in words where its sources say (Linux's
// apple-dart.c fault names); empty where only the name is known.
struct ErrorBit {
  unsigned bit;
  const char* name;
  const char* words;
};

// The code bits (everything but FLAG, the direction and the SID field), per generation.
constexpr ErrorBit kT8020ErrorBits[] = {
    {0, "NO_TTBR", "no valid translation table base for the stream at this IOVA"},
    {1, "NO_PMD", "no valid table entry for this IOVA"},
    {2, "NO_PTE", "no valid page table entry for this IOVA"},
    {3, "WRITE_FAULT", "the page table entry forbids writes"},
    {4, "READ_FAULT", "the page table entry forbids reads"},
    {6, "PTE_READ_FAULT", ""},
    {7, "SUBPAGE_PROT", ""},
    {11, "NO_DAPF_MATCH", ""},
};
constexpr ErrorBit kT8110ErrorBits[] = {
    {0, "NO_TTBR", "no valid translation table base for the stream at this IOVA"},
    {1, "NO_PGD", "no valid top-level table entry for this IOVA"},
    {2, "NO_PMD", "no valid table entry for this IOVA"},
    {3, "NO_PTE", "no valid page table entry for this IOVA"},
    {4, "WRITE_FAULT", "the page table entry forbids writes"},
    {5, "READ_FAULT", "the page table entry forbids reads"},
    {6, "AXI_DECODE", ""},
    {7, "AXI_ERROR", ""},
    {8, "CTRR_WRITE_PROTECT", ""},
    {9, "DROP_PROTECT", ""},
    {10, "APF_REJECT", ""},
    {11, "STT_MISMATCH", ""},
    {12, "STT_FLUSH", ""},
    {13, "EXTERNAL", ""},
    {14, "BPF_REJECT", ""},
    {18, "FILL_REGION", ""},
    {19, "SECONDARY", ""},
    {29, "REGION_PROTECT", ""},
    {30, "SMMU", ""},
};

struct ErrorLayout {
  std::uint32_t sid_shift, sid_mask, write_bit;
  const ErrorBit* bits;
  std::size_t bit_count;
};

ErrorLayout error_layout(DartGeneration generation) {
  if (generation == DartGeneration::kT8020) {
    return {24, 0xf, 10, kT8020ErrorBits, std::size(kT8020ErrorBits)};
  }
  return {20, 0xff, 28, kT8110ErrorBits, std::size(kT8110ErrorBits)};
}

const ErrorBit* find_error_bit(const ErrorLayout& l, unsigned bit) {
  for (std::size_t i = 0; i < l.bit_count; ++i) {
    if (l.bits[i].bit == bit) return &l.bits[i];
  }
  return nullptr;
}

}  // namespace

DartErrorFields decode_error(DartGeneration generation, std::uint32_t status) {
  const ErrorLayout l = error_layout(generation);
  DartErrorFields f;
  f.flag = (status & kErrorFlag) != 0;
  f.write = ((status >> l.write_bit) & 1) != 0;
  f.sid = (status >> l.sid_shift) & l.sid_mask;
  const std::uint32_t fields = kErrorFlag | (1u << l.write_bit) | (l.sid_mask << l.sid_shift);
  for (unsigned bit = 0; bit < 32; ++bit) {
    if (!((status >> bit) & 1) || ((fields >> bit) & 1)) continue;
    const ErrorBit* known = find_error_bit(l, bit);
    f.codes.push_back(known ? known->name : "bit " + std::to_string(bit));
  }
  return f;
}

std::string describe_error(DartGeneration generation, std::uint32_t status) {
  const ErrorLayout l = error_layout(generation);
  const DartErrorFields f = decode_error(generation, status);
  std::string s = f.flag ? "FLAG (an error is latched)" : "no FLAG (nothing latched)";
  s += f.write ? ", write" : ", read";
  s += ", SID " + std::to_string(f.sid);
  for (const std::string& code : f.codes) {
    s += ", " + code;
    for (std::size_t i = 0; i < l.bit_count; ++i) {
      if (code == l.bits[i].name && *l.bits[i].words) s += std::string(" (") + l.bits[i].words + ")";
    }
  }
  if (f.codes.empty()) s += ", no code bit set";
  return s;
}

// What differs between the generations and is used on the translation path.
struct Dart::Layout {
  const char* name;
  std::uint32_t max_sids;
  std::uint32_t max_va_bits;  // what the TTBRs and two table levels cover
  std::uint32_t max_pa_bits;  // what the configuration may say
  std::uint32_t pte_pa_bits;  // what the PTE address field holds
  // ERROR and ERROR_ADDRESS
  std::uint32_t error;
  std::uint32_t error_addr_lo;
  std::uint32_t error_addr_hi;
  std::uint32_t error_sid_shift;
  std::uint32_t error_sid_mask;
  std::uint32_t error_write;  // write-not-read bit, 0 if the generation has none
  std::uint32_t error_code_mask;
  std::uint32_t no_ttbr, no_pmd, no_pte, write_fault, read_fault;
  // TCR
  std::uint32_t tcr;
  std::uint32_t tcr_translate;
  std::uint32_t tcr_bypass_dart;
  // TTBR: register = valid | ((table PA >> pa_shift) << field_shift)
  std::uint32_t ttbr;
  std::uint32_t ttbrs_per_sid;
  std::uint32_t ttbr_valid;
  std::uint32_t ttbr_field_shift;
  std::uint32_t ttbr_field_mask;
  std::uint32_t ttbr_pa_shift;
  // The register whose bit locks TCR and TTBR against writes.
  std::uint32_t lock_register;
  std::uint32_t lock_bit;
  bool dart2_ptes;  // APPLE_DART2 page-table format, else APPLE_DART (DART1)
};

const Dart::Layout& Dart::layout_for(const DartConfig& config) {
  static const Layout t8110{
      .name = "T8110",
      .max_sids = 256,  // SID fields are 8 bits wide
      .max_va_bits = 36,
      .max_pa_bits = 42,  // PARAMS3 reports it
      .pte_pa_bits = 42,
      .error = 0x100,
      .error_addr_lo = 0x170,
      .error_addr_hi = 0x174,
      .error_sid_shift = 20,
      .error_sid_mask = 0xff,
      .error_write = 1u << 28,
      .error_code_mask = 0x7fff,
      .no_ttbr = 1u << 0,  // bit 1 is NO_PGD, unused with two levels
      .no_pmd = 1u << 2,
      .no_pte = 1u << 3,
      .write_fault = 1u << 4,
      .read_fault = 1u << 5,
      .tcr = 0x1000,
      .tcr_translate = 1u << 0,
      .tcr_bypass_dart = 1u << 1,  // bit 2 bypasses only the DAPF (address filter), not modelled
      .ttbr = 0x1400,
      .ttbrs_per_sid = 1,
      .ttbr_valid = 1u << 0,
      .ttbr_field_shift = 2,
      .ttbr_field_mask = 0x0fffffff,  // bits 29:2
      .ttbr_pa_shift = 14,
      .lock_register = kT8110Protect,
      .lock_bit = 1u << 0,
      .dart2_ptes = true,
  };
  static const Layout t8020{
      .name = "T8020",
      .max_sids = 16,  // the ERROR stream field is 4 bits wide
      .max_va_bits = 38,
      .max_pa_bits = 42,  // accepted so the default config works; capped by pte_pa_bits
      .pte_pa_bits = 40,  // PTE_T8020 OFFSET 39:14 (m1n1)
      .error = 0x40,
      .error_addr_lo = 0x50,
      .error_addr_hi = 0x54,
      .error_sid_shift = 24,
      .error_sid_mask = 0xf,
      .error_write = 1u << 10,       // m1n1 dart8020 R_ERROR.WRITE
      .error_code_mask = 0xffffff,  // m1n1 dart8020 R_ERROR.CODE 23:0
      .no_ttbr = 1u << 0,
      .no_pmd = 1u << 1,
      .no_pte = 1u << 2,
      .write_fault = 1u << 3,
      .read_fault = 1u << 4,
      .tcr = 0x100,
      .tcr_translate = 1u << 7,
      .tcr_bypass_dart = 1u << 8,  // bit 12 bypasses only the DAPF
      .ttbr = 0x200,
      .ttbrs_per_sid = 4,
      .ttbr_valid = 1u << 31,
      .ttbr_field_shift = 0,
      .ttbr_field_mask = 0x7fffffff,
      .ttbr_pa_shift = 12,
      .lock_register = kT8020Config,
      .lock_bit = 1u << 15,
      .dart2_ptes = false,
  };
  const Layout& layout = config.generation == DartGeneration::kT8020 ? t8020 : t8110;
  const std::string who = "DART " + config.instance + " (" + layout.name + "): ";
  if (config.num_sids == 0 || config.num_sids > layout.max_sids) {
    throw std::invalid_argument(who + "num_sids " + std::to_string(config.num_sids) + " is outside 1.." +
                                std::to_string(layout.max_sids));
  }
  if (config.va_bits <= kPageShift || config.va_bits > layout.max_va_bits) {
    throw std::invalid_argument(who + "va_bits " + std::to_string(config.va_bits) + " is outside " +
                                std::to_string(kPageShift + 1) + ".." + std::to_string(layout.max_va_bits) +
                                " (two table levels" + (layout.ttbrs_per_sid > 1 ? " and 4 TTBRs" : "") + ")");
  }
  if (config.pa_bits <= kPageShift || config.pa_bits > layout.max_pa_bits) {
    throw std::invalid_argument(who + "pa_bits " + std::to_string(config.pa_bits) + " is outside " +
                                std::to_string(kPageShift + 1) + ".." + std::to_string(layout.max_pa_bits) +
                                " (the width its registers report)");
  }
  return layout;
}

Dart::Dart(DartConfig config, hostmem::SparseMemory& memory, hostmem::PageAllocator& tables)
    : config_(std::move(config)),
      layout_(layout_for(config_)),
      memory_(memory),
      tables_(tables),
      tcr_(config_.num_sids, 0),
      ttbr_(config_.num_sids * layout_.ttbrs_per_sid, 0),
      enabled_streams_((config_.num_sids + 31) / 32, 0),
      error_streams_((config_.num_sids + 31) / 32, 0) {
  if (tables.page_size() != kPageSize) {
    throw std::invalid_argument("DART " + config_.instance + ": page tables need an allocator of " +
                                std::to_string(kPageSize) + "-byte pages, got " +
                                std::to_string(tables.page_size()));
  }
  // Model: as after the kernel's reset, which enables every stream and isolates through TCR.
  for (std::uint32_t w = 0; w < enabled_streams_.size(); ++w) {
    enabled_streams_[w] = sid_bits_in_word(config_.num_sids, w);
  }
}

// ---- Geometry and encodings ----

void Dart::check_sid(std::uint32_t sid, const char* operation) const {
  if (sid >= config_.num_sids) {
    throw std::out_of_range(std::string(operation) + " on DART " + config_.instance + ": SID " +
                            std::to_string(sid) + " is out of range (the DART has " +
                            std::to_string(config_.num_sids) + " SIDs)");
  }
}

void Dart::check_range(const char* operation, std::uint32_t sid, std::uint64_t iova, std::uint64_t size) const {
  const std::string who = std::string(operation) + " on DART " + config_.instance + " SID " + std::to_string(sid);
  if (iova % kPageSize != 0) throw std::invalid_argument(who + ": IOVA " + hex(iova) + " is not 16 KiB aligned");
  if (size % kPageSize != 0) {
    throw std::invalid_argument(who + ": size " + hex(size) + " is not a multiple of 16 KiB");
  }
  const std::uint64_t limit = 1ULL << config_.va_bits;
  if (iova > limit || size > limit - iova) {
    throw std::invalid_argument(who + ": IOVA range " + hex(iova) + " + " + hex(size) + " exceeds the " +
                                std::to_string(config_.va_bits) + "-bit IOVA space");
  }
}

std::uint32_t Dart::ttbrs_per_sid() const { return layout_.ttbrs_per_sid; }

std::uint32_t Dart::ttbrs_in_use() const {
  return config_.va_bits > kTtbrShift ? 1u << (config_.va_bits - kTtbrShift) : 1u;
}

std::uint32_t Dart::addressable_pa_bits() const { return std::min(config_.pa_bits, layout_.pte_pa_bits); }

std::uint32_t Dart::tcr_offset(std::uint32_t sid) const { return layout_.tcr + 4 * sid; }

std::uint32_t Dart::ttbr_offset(std::uint32_t sid, std::uint32_t index) const {
  return layout_.ttbr + 4 * (sid * ttbrs_per_sid() + index);
}

bool Dart::stream_enabled(std::uint32_t sid) const { return (enabled_streams_[sid / 32] >> (sid % 32)) & 1; }

bool Dart::tcr_ttbr_locked() const { return (protect_ & layout_.lock_bit) != 0; }

std::uint32_t Dart::encode_ttbr(std::uint64_t table_pa) const {
  return layout_.ttbr_valid | static_cast<std::uint32_t>((table_pa >> layout_.ttbr_pa_shift) << layout_.ttbr_field_shift);
}

std::optional<std::uint64_t> Dart::decode_ttbr(std::uint32_t value) const {
  if (!(value & layout_.ttbr_valid)) return std::nullopt;
  return std::uint64_t{(value >> layout_.ttbr_field_shift) & layout_.ttbr_field_mask} << layout_.ttbr_pa_shift;
}

std::uint64_t Dart::encode_table_entry(std::uint64_t table_pa) const {
  if (layout_.dart2_ptes) return ((table_pa >> kDart2AddressShift) & kDart2AddressMask) | kPteValid;
  return (table_pa & kDart1AddressMask) | kPteValid;
}

std::uint64_t Dart::table_entry_pa(std::uint64_t entry) const {
  if (layout_.dart2_ptes) return (entry & kDart2AddressMask) << kDart2AddressShift;
  return entry & kDart1AddressMask;
}

std::uint64_t Dart::encode_leaf(std::uint64_t pa, DartProt prot) const {
  // Table entries and leaves share the address encoding; leaves add permissions and the subpage
  // range. DART2's NO_CACHE (bit 1) stays clear: PCIe DMA here is coherent.
  std::uint64_t leaf = (encode_table_entry(pa) & ~kPteValid) | kPteSubpageWholePage | kPteValid;
  if (layout_.dart2_ptes) {
    if (!prot.read) leaf |= kDart2NoRead;
    if (!prot.write) leaf |= kDart2NoWrite;
  } else {
    leaf |= kDart1SubpageDisable;
    if (!prot.read) leaf |= kDart1NoRead;
    if (!prot.write) leaf |= kDart1NoWrite;
  }
  return leaf;
}

std::uint64_t Dart::leaf_pa(std::uint64_t leaf) const { return table_entry_pa(leaf); }

bool Dart::leaf_forbids(std::uint64_t leaf, bool write) const {
  if (layout_.dart2_ptes) return (leaf & (write ? kDart2NoWrite : kDart2NoRead)) != 0;
  return (leaf & (write ? kDart1NoWrite : kDart1NoRead)) != 0;
}

std::optional<std::uint64_t> Dart::l1_entry_address(std::uint32_t sid, std::uint64_t iova) const {
  const std::uint64_t index = iova >> kTtbrShift;
  if (index >= ttbrs_per_sid()) return std::nullopt;
  const auto table = decode_ttbr(ttbr_[sid * ttbrs_per_sid() + index]);
  if (!table) return std::nullopt;
  return *table + 8 * ((iova >> kL1Shift) & kIndexMask);
}

Dart::Walk Dart::walk(std::uint32_t sid, std::uint64_t iova) const {
  const auto l1 = l1_entry_address(sid, iova);
  if (!l1) return {DartFaultKind::kNoTtbr, 0};
  const std::uint64_t l1_entry = memory_.read_u64(*l1);
  if (!(l1_entry & kPteValid)) return {DartFaultKind::kNoPmd, 0};
  const std::uint64_t leaf = memory_.read_u64(table_entry_pa(l1_entry) + 8 * ((iova >> kPageShift) & kIndexMask));
  if (!(leaf & kPteValid)) return {DartFaultKind::kNoPte, 0};
  return {DartFaultKind::kNone, leaf};
}

std::uint64_t Dart::allocate_table() {
  const std::uint64_t pa = tables_.allocate(1);
  if ((pa + kPageSize - 1) >> addressable_pa_bits() != 0) {
    tables_.free(pa, 1);
    throw std::runtime_error("DART " + config_.instance + ": page-table page " + hex(pa) + " is beyond its " +
                             std::to_string(addressable_pa_bits()) + "-bit physical address space");
  }
  // The allocator may hand back a page someone else wrote; a table must start all-invalid.
  static constexpr std::array<std::uint8_t, kPageSize> kZeros{};
  memory_.write(pa, kZeros);
  return pa;
}

// ---- Faults ----

std::uint32_t Dart::encode_error(DartFaultKind kind, std::uint32_t sid, bool write) const {
  std::uint32_t code = 0;
  switch (kind) {
    case DartFaultKind::kNone: return 0;
    case DartFaultKind::kNoTtbr:
    case DartFaultKind::kTranslationOff:  // Model: see the top of this file
    case DartFaultKind::kAddressTooWide: code = layout_.no_ttbr; break;
    case DartFaultKind::kNoPmd: code = layout_.no_pmd; break;
    case DartFaultKind::kNoPte: code = layout_.no_pte; break;
    case DartFaultKind::kReadFault: code = layout_.read_fault; break;
    case DartFaultKind::kWriteFault: code = layout_.write_fault; break;
  }
  return kErrorFlag | ((sid & layout_.error_sid_mask) << layout_.error_sid_shift) |
         (write ? layout_.error_write : 0) | code;
}

DartTranslation Dart::fault(DartFaultKind kind, std::uint32_t sid, std::uint64_t iova, bool write, bool tlb_hit) {
  DartTranslation t;
  t.fault = kind;
  t.tlb_hit = tlb_hit;
  t.error_status = encode_error(kind, sid, write);
  t.error_address = iova;
  // Model: ERROR_MASK (m1n1 calls it ERROR_DISABLE) keeps a masked code out of the error
  // registers; the access still fails.
  const bool masked = config_.generation == DartGeneration::kT8110 &&
                      (error_mask_ & t.error_status & layout_.error_code_mask) != 0;
  if (masked) return t;
  if (config_.generation == DartGeneration::kT8110) error_streams_[sid / 32] |= 1u << (sid % 32);
  if (!(error_ & kErrorFlag)) {  // only the first fault is kept until software clears it
    error_ = t.error_status;
    error_address_ = iova;
  }
  return t;
}

std::uint32_t Dart::error_status() const { return error_; }
std::uint64_t Dart::error_address() const { return error_address_; }

std::uint32_t Dart::tcr(std::uint32_t sid) const {
  check_sid(sid, "tcr");
  return tcr_[sid];
}

bool Dart::stream_is_enabled(std::uint32_t sid) const {
  check_sid(sid, "stream_is_enabled");
  return stream_enabled(sid);
}

// ---- The TLB ----

std::uint64_t Dart::tlb_key(std::uint32_t sid, std::uint64_t iova) {
  return std::uint64_t{sid} << kTlbSidShift | iova >> kPageShift;
}

std::optional<std::uint64_t> Dart::tlb_find(std::uint64_t key) const {
  auto it = tlb_.find(key);
  if (it == tlb_.end()) return std::nullopt;
  return it->second;
}

void Dart::tlb_fill(std::uint64_t key, std::uint64_t leaf) {
  if (config_.tlb_entries == 0) return;
  if (tlb_order_.size() >= config_.tlb_entries) {
    tlb_.erase(tlb_order_.front());
    tlb_order_.pop_front();
  }
  tlb_order_.push_back(key);
  tlb_[key] = leaf;
}

void Dart::tlb_flush_sid(std::uint32_t sid) {
  std::erase_if(tlb_order_, [&](std::uint64_t key) {
    if (key >> kTlbSidShift != sid) return false;
    tlb_.erase(key);
    return true;
  });
}

void Dart::tlb_flush_all() {
  tlb_.clear();
  tlb_order_.clear();
}

void Dart::flush_sid_through_registers(std::uint32_t sid) {
  if (config_.generation == DartGeneration::kT8110) {
    write32(kT8110TlbCmd, kT8110TlbOpFlushSid << kT8110TlbCmdOpShift | sid);
  } else {
    write32(kT8020StreamSelect, 1u << sid);
    write32(kT8020StreamCommand, kT8020StreamCommandInvalidate);
  }
}

// ---- The register file ----

std::uint32_t Dart::read32(std::uint32_t offset) const {
  if (offset % 4 != 0) {
    throw std::invalid_argument("DART " + config_.instance + ": unaligned 32-bit register read at " + hex(offset));
  }
  if (offset >= layout_.tcr && offset < layout_.tcr + 4 * tcr_.size()) return tcr_[(offset - layout_.tcr) / 4];
  if (offset >= layout_.ttbr && offset < layout_.ttbr + 4 * ttbr_.size()) return ttbr_[(offset - layout_.ttbr) / 4];
  if (offset == layout_.error) return error_;
  if (offset == layout_.error_addr_lo) return static_cast<std::uint32_t>(error_address_);
  if (offset == layout_.error_addr_hi) return static_cast<std::uint32_t>(error_address_ >> 32);
  if (offset == kParams1) return kPageShift << 24;
  if (offset == kParams2) return 1;  // bypass supported

  if (config_.generation == DartGeneration::kT8110) {
    auto word_of = [&](std::uint32_t base, const std::vector<std::uint32_t>& words) -> std::optional<std::uint32_t> {
      if (offset < base || offset >= base + 4 * kT8110StreamWords) return std::nullopt;
      const std::uint32_t w = (offset - base) / 4;
      return w < words.size() ? words[w] : 0;
    };
    switch (offset) {
      case kT8110Params3: return config_.pa_bits << 24 | config_.va_bits << 16;
      case kT8110Params4: return config_.num_sids;
      case kT8110TlbCmd: return tlb_command_ & ~kT8110TlbCmdBusy;  // flushes complete at once
      case kT8110ErrorMask: return error_mask_;
      case kT8110Protect:
      case kT8110Unprotect: return protect_;
      case kT8110ProtectLock: return protect_lock_;
      default: break;
    }
    if (auto v = word_of(kT8110ErrorStreams, error_streams_)) return *v;
    // Both halves of the set/clear pair read back the enabled streams.
    if (auto v = word_of(kT8110EnableStreams, enabled_streams_)) return *v;
    if (auto v = word_of(kT8110DisableStreams, enabled_streams_)) return *v;
    return 0;
  }

  switch (offset) {
    case kT8020StreamCommand: return tlb_command_ & ~kT8020StreamCommandBusy;
    case kT8020StreamSelect: return stream_select_;
    case kT8020Config: return protect_;
    case kT8020StreamsEnable: return enabled_streams_[0];
    default: return 0;  // unmodelled registers read as zero
  }
}

void Dart::write_stream_bits(std::uint32_t word, std::uint32_t value, bool enable) {
  if (word >= enabled_streams_.size()) return;
  value &= sid_bits_in_word(config_.num_sids, word);
  if (enable) {
    enabled_streams_[word] |= value;
  } else {
    enabled_streams_[word] &= ~value;
  }
}

void Dart::write32(std::uint32_t offset, std::uint32_t value) {
  if (offset % 4 != 0) {
    throw std::invalid_argument("DART " + config_.instance + ": unaligned 32-bit register write at " + hex(offset));
  }
  if (offset >= layout_.tcr && offset < layout_.tcr + 4 * tcr_.size()) {
    if (!tcr_ttbr_locked()) tcr_[(offset - layout_.tcr) / 4] = value;
    return;
  }
  if (offset >= layout_.ttbr && offset < layout_.ttbr + 4 * ttbr_.size()) {
    if (!tcr_ttbr_locked()) ttbr_[(offset - layout_.ttbr) / 4] = value;
    return;
  }
  if (offset == layout_.error) {
    // Writing the flag back clears the latched error; Asahi's handler writes back what it read.
    if (value & kErrorFlag) {
      error_ = 0;
      error_address_ = 0;
    }
    return;
  }

  if (config_.generation == DartGeneration::kT8110) {
    switch (offset) {
      case kT8110TlbCmd: {
        tlb_command_ = value & ~kT8110TlbCmdBusy;
        const std::uint32_t op = (value >> kT8110TlbCmdOpShift) & 0x7;
        if (op == kT8110TlbOpFlushAll) tlb_flush_all();
        if (op == kT8110TlbOpFlushSid) tlb_flush_sid(value & 0xff);
        return;  // other ops (TLB read/write, flush-unlock, ranges) are not modelled
      }
      case kT8110ErrorMask: error_mask_ = value; return;
      // Per m1n1: PROTECT sets protection bits, UNPROTECT clears those PROTECT_LOCK has not locked.
      case kT8110Protect: protect_ |= value; return;
      case kT8110Unprotect: protect_ &= ~(value & ~protect_lock_); return;
      case kT8110ProtectLock: protect_lock_ |= value; return;
      default: break;
    }
    if (offset >= kT8110ErrorStreams && offset < kT8110ErrorStreams + 4 * kT8110StreamWords) {
      const std::uint32_t w = (offset - kT8110ErrorStreams) / 4;
      if (w < error_streams_.size()) error_streams_[w] &= ~value;  // write 1 to clear
      return;
    }
    if (offset >= kT8110EnableStreams && offset < kT8110EnableStreams + 4 * kT8110StreamWords) {
      write_stream_bits((offset - kT8110EnableStreams) / 4, value, true);
      return;
    }
    if (offset >= kT8110DisableStreams && offset < kT8110DisableStreams + 4 * kT8110StreamWords) {
      write_stream_bits((offset - kT8110DisableStreams) / 4, value, false);
    }
    return;
  }

  switch (offset) {
    case kT8020StreamSelect: stream_select_ = value; return;
    case kT8020StreamCommand:
      tlb_command_ = value & ~kT8020StreamCommandBusy;
      if (value & kT8020StreamCommandInvalidate) {
        for (std::uint32_t sid = 0; sid < config_.num_sids; ++sid) {
          if ((stream_select_ >> sid) & 1) tlb_flush_sid(sid);
        }
      }
      return;
    case kT8020Config: protect_ = value | (protect_ & layout_.lock_bit); return;  // locked until reset
    case kT8020StreamsEnable: enabled_streams_[0] = value & sid_bits_in_word(config_.num_sids, 0); return;
    default: return;  // unmodelled registers ignore writes
  }
}

// ---- The device side ----

DartTranslation Dart::translate(std::uint32_t sid, std::uint64_t iova, bool write) {
  check_sid(sid, "translate");
  const std::uint32_t tcr = tcr_[sid];
  if (!stream_enabled(sid)) return fault(DartFaultKind::kTranslationOff, sid, iova, write, false);
  if (tcr & layout_.tcr_bypass_dart) {
    DartTranslation t;
    t.ok = true;
    t.pa = iova;
    return t;
  }
  if (!(tcr & layout_.tcr_translate)) return fault(DartFaultKind::kTranslationOff, sid, iova, write, false);
  if (iova >> config_.va_bits != 0) return fault(DartFaultKind::kAddressTooWide, sid, iova, write, false);

  const std::uint64_t key = tlb_key(sid, iova);
  std::uint64_t leaf = 0;
  bool hit = false;
  if (auto cached = tlb_find(key)) {
    // A hit uses the PTE as it was when cached, even if memory has changed since: stale until
    // software flushes, exactly the window a missing flush opens on hardware.
    ++tlb_hits_;
    leaf = *cached;
    hit = true;
  } else {
    ++tlb_misses_;
    const Walk w = walk(sid, iova);
    if (w.fault != DartFaultKind::kNone) return fault(w.fault, sid, iova, write, false);
    leaf = w.leaf;
    tlb_fill(key, leaf);  // a valid leaf is cached even if the permission check below fails
  }
  if (leaf_forbids(leaf, write)) {
    return fault(write ? DartFaultKind::kWriteFault : DartFaultKind::kReadFault, sid, iova, write, hit);
  }
  DartTranslation t;
  t.ok = true;
  t.pa = leaf_pa(leaf) | (iova & kPageOffsetMask);
  t.tlb_hit = hit;
  return t;
}

// ---- The kernel side ----

void Dart::enable_translation(std::uint32_t sid) {
  check_sid(sid, "enable_translation");
  if (tcr_ttbr_locked()) {
    throw std::runtime_error("enable_translation on DART " + config_.instance + " SID " + std::to_string(sid) +
                             ": TCR and TTBR are locked (register " + hex(layout_.lock_register) + ")");
  }
  for (std::uint32_t index = 0; index < ttbrs_in_use(); ++index) {
    if (decode_ttbr(read32(ttbr_offset(sid, index)))) continue;  // keep the tables it already has
    write32(ttbr_offset(sid, index), encode_ttbr(allocate_table()));
  }
  write32(tcr_offset(sid), layout_.tcr_translate);
  if (config_.generation == DartGeneration::kT8110) {
    write32(kT8110EnableStreams + 4 * (sid / 32), 1u << (sid % 32));
  } else {
    write32(kT8020StreamsEnable, read32(kT8020StreamsEnable) | 1u << sid);
  }
  flush_sid_through_registers(sid);
}

void Dart::map(std::uint32_t sid, std::uint64_t iova, std::uint64_t pa, std::uint64_t size, DartProt prot) {
  check_sid(sid, "map");
  check_range("map", sid, iova, size);
  const std::string who = "map on DART " + config_.instance + " SID " + std::to_string(sid);
  if (pa % kPageSize != 0) throw std::invalid_argument(who + ": PA " + hex(pa) + " is not 16 KiB aligned");
  const std::uint64_t pa_limit = 1ULL << addressable_pa_bits();
  if (pa > pa_limit || size > pa_limit - pa) {
    throw std::invalid_argument(who + ": PA range " + hex(pa) + " + " + hex(size) + " exceeds the " +
                                std::to_string(addressable_pa_bits()) + "-bit physical address space");
  }
  if (size == 0) return;

  // Check everything and allocate every missing L2 table before writing anything, so a failed
  // map leaves the tables as they were.
  std::vector<std::uint64_t> l1_needing_table;
  for (std::uint64_t off = 0; off < size; off += kPageSize) {
    const auto l1 = l1_entry_address(sid, iova + off);
    if (!l1) {
      throw std::logic_error(who + ": no valid TTBR for IOVA " + hex(iova + off) +
                             " (call enable_translation first)");
    }
    const std::uint64_t l1_entry = memory_.read_u64(*l1);
    if (!(l1_entry & kPteValid)) {
      if (l1_needing_table.empty() || l1_needing_table.back() != *l1) l1_needing_table.push_back(*l1);
      continue;
    }
    const std::uint64_t leaf_address = table_entry_pa(l1_entry) + 8 * (((iova + off) >> kPageShift) & kIndexMask);
    if (memory_.read_u64(leaf_address) & kPteValid) {
      // Linux refuses too (-EEXIST): the old mapping must be unmapped and flushed first.
      throw std::invalid_argument(who + ": IOVA " + hex(iova + off) + " is already mapped");
    }
  }
  std::vector<std::uint64_t> new_tables;
  try {
    for (std::size_t i = 0; i < l1_needing_table.size(); ++i) new_tables.push_back(allocate_table());
  } catch (...) {
    for (std::uint64_t table : new_tables) tables_.free(table, 1);
    throw;
  }
  for (std::size_t i = 0; i < l1_needing_table.size(); ++i) {
    memory_.write_u64(l1_needing_table[i], encode_table_entry(new_tables[i]));
  }

  for (std::uint64_t off = 0; off < size; off += kPageSize) {
    const std::uint64_t l1_entry = memory_.read_u64(*l1_entry_address(sid, iova + off));
    const std::uint64_t leaf_address = table_entry_pa(l1_entry) + 8 * (((iova + off) >> kPageShift) & kIndexMask);
    memory_.write_u64(leaf_address, encode_leaf(pa + off, prot));
  }
  flush_sid_through_registers(sid);
}

void Dart::unmap(std::uint32_t sid, std::uint64_t iova, std::uint64_t size) {
  check_sid(sid, "unmap");
  check_range("unmap", sid, iova, size);
  for (std::uint64_t off = 0; off < size; off += kPageSize) {
    const auto l1 = l1_entry_address(sid, iova + off);
    if (!l1) continue;
    const std::uint64_t l1_entry = memory_.read_u64(*l1);
    if (!(l1_entry & kPteValid)) continue;  // nothing mapped in this 32 MiB
    const std::uint64_t leaf_address = table_entry_pa(l1_entry) + 8 * (((iova + off) >> kPageShift) & kIndexMask);
    if (memory_.read_u64(leaf_address) != 0) memory_.write_u64(leaf_address, 0);
  }
  flush_sid_through_registers(sid);
}

// ---- For checks and reports ----

std::optional<std::uint64_t> Dart::lookup(std::uint32_t sid, std::uint64_t iova) const {
  check_sid(sid, "lookup");
  // The tables alone: TCR, stream enables, permissions and the TLB play no part.
  if (iova >> config_.va_bits != 0) return std::nullopt;
  const Walk w = walk(sid, iova);
  if (w.fault != DartFaultKind::kNone) return std::nullopt;
  return leaf_pa(w.leaf) | (iova & kPageOffsetMask);
}

std::vector<std::uint32_t> Dart::sids_mapping(std::uint64_t iova) const {
  std::vector<std::uint32_t> sids;
  for (std::uint32_t sid = 0; sid < config_.num_sids; ++sid) {
    if (lookup(sid, iova)) sids.push_back(sid);
  }
  return sids;
}

}  // namespace dexthil::iommu

#pragma once
// An Apple DART (the IOMMU in front of each PCIe root complex on Apple silicon), as the device and
// the kernel see it: a register file (T8110 layout, or T8020 as an option), per-SID translation
// through two-level 16 KiB page tables that live in simulated host memory, a TLB that only the
// TLB command flushes, and the ERROR / ERROR_ADDRESS registers a fault latches.
// Facts: ../shared/reference/pcie-dart.md (from Asahi Linux's apple-dart.c and io-pgtable-dart.c)
// and m1n1's proxyclient/m1n1/hw/dart8020.py and dart8110.py; docs/topologies.md lists them.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "harness/hostmem/page_allocator.hpp"
#include "harness/hostmem/sparse_memory.hpp"

namespace dexthil::iommu {

enum class DartGeneration { kT8020, kT8110 };

// Why a translation failed, independent of the register encoding.
enum class DartFaultKind {
  kNone,
  kNoTtbr,            // the SID has no valid translation table base for this IOVA
  kNoPmd,             // first-level (L1) entry invalid
  kNoPte,             // leaf (L2) entry invalid
  kReadFault,         // leaf forbids reads (NO_READ)
  kWriteFault,        // leaf forbids writes (NO_WRITE)
  kTranslationOff,    // the SID's TCR does not enable translation (and does not bypass): DMA blocked
  kAddressTooWide,    // IOVA beyond the DART's VA width
};
// The code the hardware reports as Asahi names it ("NO_TTBR", "NO_PMD", ...); the two kinds the
// hardware has no code of its own for are dexthil's names ("TRANSLATION_OFF", "ADDRESS_TOO_WIDE"),
// and the model reports both as NO_TTBR (dart.cpp).
const char* to_string(DartFaultKind kind);

// The ERROR register's fields, as m1n1 names them (dart8020.py R_ERROR, dart8110.py R_ERROR).
struct DartErrorFields {
  bool flag = false;               // FLAG, bit 31: an error is latched
  bool write = false;              // T8110 WRITE_nREAD (bit 28), T8020 WRITE (bit 10)
  std::uint32_t sid = 0;           // T8110 SID (27:20), T8020 STREAM (27:24)
  std::vector<std::string> codes;  // the other set bits, lowest first, by name ("NO_TTBR"); "bit N" if unnamed
};
DartErrorFields decode_error(DartGeneration generation, std::uint32_t status);
// The status in words, claiming only what its bits say: "FLAG (an error is latched), read, SID 0,
// NO_TTBR (no valid translation table base for the stream at this IOVA)".
std::string describe_error(DartGeneration generation, std::uint32_t status);

struct DartConfig {
  DartGeneration generation = DartGeneration::kT8110;
  std::string instance = "dart-apciec0";  // the name macOS prints in its panic text
  std::uint32_t num_sids = 16;            // T8110: up to 256; T8020: up to 16
  std::uint32_t va_bits = 36;             // IOVA width the tables cover
  std::uint32_t pa_bits = 42;
  std::uint32_t tlb_entries = 64;         // IOTLB capacity, in 16 KiB pages, FIFO replacement
};

// Leaf permissions (in PTE terms: NO_READ / NO_WRITE clear).
struct DartProt {
  bool read = true;
  bool write = true;
};

struct DartTranslation {
  bool ok = false;
  std::uint64_t pa = 0;
  bool tlb_hit = false;
  DartFaultKind fault = DartFaultKind::kNone;
  // What this fault writes into ERROR and ERROR_ADDRESS, in this generation's encoding (also set
  // when ERROR was already latched by an earlier fault and so was not overwritten).
  std::uint32_t error_status = 0;
  std::uint64_t error_address = 0;
};

class Dart {
 public:
  static constexpr std::uint64_t kPageSize = 16 * 1024;

  // `memory` holds the page tables; `tables` hands out the 16 KiB physical pages for them.
  Dart(DartConfig config, hostmem::SparseMemory& memory, hostmem::PageAllocator& tables);

  const DartConfig& config() const { return config_; }

  // ---- The register file (32-bit MMIO, offsets per generation). ----
  std::uint32_t read32(std::uint32_t offset) const;
  void write32(std::uint32_t offset, std::uint32_t value);

  // ---- The device side: one translation as the hardware performs it. ----
  // Uses and fills the TLB; on a fault latches ERROR / ERROR_ADDRESS if no error is latched yet.
  DartTranslation translate(std::uint32_t sid, std::uint64_t iova, bool write);

  // ---- The kernel side: what macOS's DART driver does through the registers and tables. ----
  // Allocates an L1 table, programs TTBR, enables translation in TCR and the stream.
  void enable_translation(std::uint32_t sid);
  // Maps [iova, iova + size) to [pa, pa + size); both 16 KiB aligned, size a multiple of 16 KiB.
  // Allocates L2 tables as needed, then flushes the SID's TLB entries through TLB_CMD.
  void map(std::uint32_t sid, std::uint64_t iova, std::uint64_t pa, std::uint64_t size, DartProt prot);
  // Clears the leaf entries and flushes the SID's TLB entries through TLB_CMD.
  void unmap(std::uint32_t sid, std::uint64_t iova, std::uint64_t size);

  // ---- For checks and reports: no side effects, no TLB. ----
  // The physical address `iova` maps to under `sid` right now (walking the tables in memory).
  std::optional<std::uint64_t> lookup(std::uint32_t sid, std::uint64_t iova) const;
  // Every SID under which `iova` has a valid leaf entry.
  std::vector<std::uint32_t> sids_mapping(std::uint64_t iova) const;

  // Latched error state, decoded (ERROR register value and address).
  std::uint32_t error_status() const;
  std::uint64_t error_address() const;
  // A SID's TCR as the register reads, and whether its stream is enabled: what explains a
  // blocked stream beyond what ERROR says.
  std::uint32_t tcr(std::uint32_t sid) const;
  bool stream_is_enabled(std::uint32_t sid) const;

  std::uint64_t tlb_hits() const { return tlb_hits_; }
  std::uint64_t tlb_misses() const { return tlb_misses_; }

 private:
  struct Layout;  // register offsets and bit positions of one generation (dart.cpp)
  static const Layout& layout_for(const DartConfig& config);  // also validates the config

  // What a table walk found: the leaf, or the first level that was missing.
  struct Walk {
    DartFaultKind fault = DartFaultKind::kNone;
    std::uint64_t leaf = 0;
  };

  void check_sid(std::uint32_t sid, const char* operation) const;
  void check_range(const char* operation, std::uint32_t sid, std::uint64_t iova, std::uint64_t size) const;
  std::uint32_t ttbrs_per_sid() const;
  std::uint32_t ttbrs_in_use() const;  // how many of them the IOVA width needs
  std::uint32_t addressable_pa_bits() const;  // pa_bits, capped by what the PTE format can hold
  std::uint32_t tcr_offset(std::uint32_t sid) const;
  std::uint32_t ttbr_offset(std::uint32_t sid, std::uint32_t index) const;
  bool stream_enabled(std::uint32_t sid) const;
  bool tcr_ttbr_locked() const;

  // Page-table encodings of this generation (DART1 for T8020, DART2 for T8110).
  std::uint32_t encode_ttbr(std::uint64_t table_pa) const;
  std::optional<std::uint64_t> decode_ttbr(std::uint32_t value) const;
  std::uint64_t encode_table_entry(std::uint64_t table_pa) const;
  std::uint64_t table_entry_pa(std::uint64_t entry) const;
  std::uint64_t encode_leaf(std::uint64_t pa, DartProt prot) const;
  std::uint64_t leaf_pa(std::uint64_t leaf) const;
  bool leaf_forbids(std::uint64_t leaf, bool write) const;

  // The valid leaf for `iova`, or the first level of the walk that was missing.
  Walk walk(std::uint32_t sid, std::uint64_t iova) const;
  // Where the L1 entry for `iova` lives, if the SID has a valid TTBR for it.
  std::optional<std::uint64_t> l1_entry_address(std::uint32_t sid, std::uint64_t iova) const;
  std::uint64_t allocate_table();

  std::uint32_t encode_error(DartFaultKind kind, std::uint32_t sid, bool write) const;
  DartTranslation fault(DartFaultKind kind, std::uint32_t sid, std::uint64_t iova, bool write, bool tlb_hit);

  static std::uint64_t tlb_key(std::uint32_t sid, std::uint64_t iova);
  std::optional<std::uint64_t> tlb_find(std::uint64_t key) const;
  void tlb_fill(std::uint64_t key, std::uint64_t leaf);
  void tlb_flush_sid(std::uint32_t sid);
  void tlb_flush_all();
  void flush_sid_through_registers(std::uint32_t sid);  // as the kernel's driver does

  void write_stream_bits(std::uint32_t word, std::uint32_t value, bool enable);  // T8110 set/clear pair

  DartConfig config_;
  const Layout& layout_;
  hostmem::SparseMemory& memory_;
  hostmem::PageAllocator& tables_;

  std::vector<std::uint32_t> tcr_;              // per SID
  std::vector<std::uint32_t> ttbr_;             // per SID and TTBR index
  std::vector<std::uint32_t> enabled_streams_;  // bitmap, 32 SIDs per word
  std::vector<std::uint32_t> error_streams_;    // T8110: SIDs that faulted, write 1 to clear
  std::uint32_t error_ = 0;                     // ERROR, 0 when nothing is latched
  std::uint64_t error_address_ = 0;
  std::uint32_t error_mask_ = 0;                // T8110 ERROR_MASK
  std::uint32_t protect_ = 0;                   // T8110 PROTECT, or T8020 CONFIG
  std::uint32_t protect_lock_ = 0;              // T8110 PROTECT_LOCK
  std::uint32_t tlb_command_ = 0;               // last TLB_CMD (T8110) / STREAM_COMMAND (T8020)
  std::uint32_t stream_select_ = 0;             // T8020 STREAM_SELECT

  // IOTLB: key (SID, IOVA page) -> the leaf PTE as read at fill time; fill order for FIFO eviction.
  std::unordered_map<std::uint64_t, std::uint64_t> tlb_;
  std::deque<std::uint64_t> tlb_order_;
  std::uint64_t tlb_hits_ = 0;
  std::uint64_t tlb_misses_ = 0;
};

}  // namespace dexthil::iommu

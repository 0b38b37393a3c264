// Memory descriptors, mappings and IODMACommand on the simulated machine's memory and DART.
#include <DriverKit/IOBufferMemoryDescriptor.h>
#include <DriverKit/IODMACommand.h>
#include <DriverKit/IOMemoryDescriptor.h>
#include <PCIDriverKit/IOPCIDevice.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "harness/driverkit/kernel/kernel.hpp"
#include "harness/driverkit/buses/pci/pci_provider.hpp"
#include "harness/monitor/device_events.hpp"
#include "harness/driverkit/runtime/ioreturn_names.hpp"

using dexthil::driverkit::Kernel;

DEXTHIL_DEFINE_METACLASS(IOMemoryDescriptor, OSObject);
DEXTHIL_DEFINE_METACLASS(IOMemoryMap, OSObject);
DEXTHIL_DEFINE_METACLASS(IOBufferMemoryDescriptor, IOMemoryDescriptor);
DEXTHIL_DEFINE_METACLASS(IODMACommand, OSObject);

// ---- IOMemoryDescriptor, IOMemoryMap ----

namespace {
// One mapping over a range that spans several of a concatenation's buffers: a Mac maps them at
// consecutive addresses; dexthil cannot yet.
void spans_buffers(Kernel& kernel, const char* api, const char* mapping, std::size_t buffers) {
  kernel.not_simulated(api, std::string("one ") + mapping + " mapping over " + std::to_string(buffers) +
                                " separate buffers (a concatenation made by CreateWithMemoryDescriptors)");
}
}  // namespace

kern_return_t IOMemoryDescriptor::GetLength(uint64_t* returnLength) {
  if (!returnLength) return kIOReturnBadArgument;
  *returnLength = length_;
  return kIOReturnSuccess;
}

kern_return_t IOMemoryDescriptor::CreateMapping(uint64_t options, uint64_t address, uint64_t offset, uint64_t length,
                                                uint64_t alignment, IOMemoryMap** map) {
  (void)alignment;
  if (!map || (options & kIOMemoryMapFixedAddress)) return kIOReturnUnsupported;
  if (is_device_memory()) {
    if (Kernel* k = Kernel::active()) {
      k->not_simulated("IOMemoryDescriptor::CreateMapping", "a CPU mapping of device memory (a BAR)");
    }
    return kIOReturnUnsupported;
  }
  switch (options & 0xff00) {
    case kIOMemoryMapCacheModeDefault:
    case kIOMemoryMapCacheModeInhibit:
    case kIOMemoryMapCacheModeCopyback:
    case kIOMemoryMapCacheModeWriteThrough:
      break;
    default:
      return kIOReturnBadArgument;
  }
  (void)address;
  if (length == 0) length = length_ - std::min(offset, length_);
  if (offset > length_ || length > length_ - offset) return kIOReturnBadArgument;
  // The dext sees its memory at the host bytes themselves, so only a range that is one run of
  // them can be mapped; a concatenation of separate buffers has no single view yet.
  const std::vector<Run> parts = runs(offset, length);
  if (parts.empty()) return kIOReturnBadArgument;  // nothing to map
  if (parts.size() > 1) {
    if (Kernel* k = Kernel::active()) spans_buffers(*k, "IOMemoryDescriptor::CreateMapping", "CPU", parts.size());
    return kIOReturnUnsupported;
  }
  *map = IOMemoryMap::make(this, reinterpret_cast<uint64_t>(parts[0].host), offset, length);
  return kIOReturnSuccess;
}

kern_return_t IOMemoryDescriptor::Map(uint64_t options, uint64_t address, uint64_t length, uint64_t alignment,
                                      uint64_t* returnAddress, uint64_t* returnLength) {
  if (!returnAddress || !returnLength) return kIOReturnBadArgument;
  IOMemoryMap* map = nullptr;
  const kern_return_t r = CreateMapping(options, address, 0, length, alignment, &map);
  if (r != kIOReturnSuccess) return r;
  *returnAddress = map->GetAddress();
  *returnLength = map->GetLength();
  map->release();  // the dext's bytes are the descriptor's own: nothing to keep mapped
  return kIOReturnSuccess;
}

kern_return_t IOMemoryDescriptor::CreateSubMemoryDescriptor(uint64_t memoryDescriptorCreateOptions, uint64_t offset,
                                                            uint64_t length, IOMemoryDescriptor* ofDescriptor,
                                                            IOMemoryDescriptor** memory) {
  if (!ofDescriptor || !memory || (memoryDescriptorCreateOptions & ~uint64_t{kIOMemoryDirectionOutIn})) {
    return kIOReturnBadArgument;
  }
  if (offset > ofDescriptor->length_ || length > ofDescriptor->length_ - offset) return kIOReturnBadArgument;
  IOMemoryDescriptor* d = OSTypeAlloc(IOMemoryDescriptor);
  ofDescriptor->retain();
  if (ofDescriptor->slices_.empty()) {
    d->parent_ = ofDescriptor;
    d->host_ = ofDescriptor->host_ ? ofDescriptor->host_ + offset : nullptr;
    d->physical_ = ofDescriptor->physical_ + offset;
    d->device_memory_ = ofDescriptor->device_memory_;
  } else {
    d->slices_.push_back({ofDescriptor, offset, length});  // a range of a concatenation
    d->device_memory_ = ofDescriptor->device_memory_;
  }
  d->length_ = length;
  d->direction_ = memoryDescriptorCreateOptions & kIOMemoryDirectionOutIn;
  *memory = d;
  return kIOReturnSuccess;
}

kern_return_t IOMemoryDescriptor::CreateWithMemoryDescriptors(uint64_t memoryDescriptorCreateOptions,
                                                              uint32_t withDescriptorsCount,
                                                              IOMemoryDescriptor** const withDescriptors,
                                                              IOMemoryDescriptor** memory) {
  // xnu's CreateWithMemoryDescriptors_Impl: an array, a count, direction bits only, no null
  // entry. The RPC carries at most 32 descriptors (the iig declaration's array bound).
  constexpr uint32_t kMaxDescriptors = 32;
  if (!withDescriptors || !memory || withDescriptorsCount == 0 || withDescriptorsCount > kMaxDescriptors) {
    return kIOReturnBadArgument;
  }
  if (memoryDescriptorCreateOptions & ~uint64_t{kIOMemoryDirectionOutIn}) return kIOReturnBadArgument;
  for (uint32_t i = 0; i < withDescriptorsCount; ++i) {
    if (!withDescriptors[i]) return kIOReturnBadArgument;
  }
  IOMemoryDescriptor* d = OSTypeAlloc(IOMemoryDescriptor);
  for (uint32_t i = 0; i < withDescriptorsCount; ++i) {
    IOMemoryDescriptor* part = withDescriptors[i];
    part->retain();
    d->slices_.push_back({part, 0, part->length_});
    d->length_ += part->length_;
    d->device_memory_ = d->device_memory_ || part->device_memory_;  // no bytes behind it to copy
  }
  d->direction_ = memoryDescriptorCreateOptions & kIOMemoryDirectionOutIn;
  *memory = d;
  return kIOReturnSuccess;
}

std::vector<IOMemoryDescriptor::Run> IOMemoryDescriptor::runs(uint64_t offset, uint64_t length) const {
  std::vector<Run> out;
  if (offset > length_ || length > length_ - offset || length == 0) return out;
  auto add = [&out](const Run& r) {
    if (!out.empty()) {
      Run& last = out.back();
      const bool host_follows = last.host ? r.host == last.host + last.length : r.host == nullptr;
      if (r.physical == last.physical + last.length && host_follows) {
        last.length += r.length;
        return;
      }
    }
    out.push_back(r);
  };
  if (slices_.empty()) {
    add({physical_ + offset, host_ ? host_ + offset : nullptr, length});
    return out;
  }
  uint64_t at = 0;  // where the current slice starts in this descriptor
  uint64_t covered = 0;
  for (const Slice& slice : slices_) {
    const uint64_t end = at + slice.length;
    if (end > offset && at < offset + length) {
      const uint64_t from = std::max(offset, at) - at;
      const uint64_t to = std::min(offset + length, end) - at;
      for (const Run& r : slice.of->runs(slice.offset + from, to - from)) {
        add(r);
        covered += r.length;
      }
    }
    at = end;
  }
  // A part shortened since (SetLength) no longer holds its slice: no runs rather than a gap.
  if (covered != length) out.clear();
  return out;
}

bool IOMemoryDescriptor::copy_bytes(uint64_t offset, uint64_t length, uint8_t* bytes, bool into_descriptor) const {
  const std::vector<Run> parts = runs(offset, length);
  if (parts.empty() && length != 0) return false;
  for (const Run& r : parts) {
    if (!r.host) return false;
  }
  for (const Run& r : parts) {
    if (into_descriptor) std::memcpy(r.host, bytes, r.length);
    else std::memcpy(bytes, r.host, r.length);
    bytes += r.length;
  }
  return true;
}

void IOMemoryDescriptor::free() {
  OSSafeReleaseNULL(parent_);
  for (Slice& slice : slices_) slice.of->release();
  slices_.clear();
  OSObject::free();
}

IOMemoryDescriptor* IOMemoryDescriptor::make_device_memory(uint64_t bus_address, uint64_t length) {
  IOMemoryDescriptor* d = OSTypeAlloc(IOMemoryDescriptor);
  d->physical_ = bus_address;
  d->length_ = length;
  d->direction_ = kIOMemoryDirectionNone;
  d->device_memory_ = true;
  return d;
}

IOMemoryMap* IOMemoryMap::make(IOMemoryDescriptor* memory, uint64_t address, uint64_t offset, uint64_t length) {
  IOMemoryMap* m = OSTypeAlloc(IOMemoryMap);
  memory->retain();
  m->memory_ = memory;
  m->address_ = address;
  m->offset_ = offset;
  m->length_ = length;
  return m;
}

void IOMemoryMap::free() {
  OSSafeReleaseNULL(memory_);
  OSObject::free();
}

// ---- IOBufferMemoryDescriptor ----

kern_return_t IOBufferMemoryDescriptor::Create(uint64_t options, uint64_t capacity, uint64_t alignment,
                                               IOBufferMemoryDescriptor** memory) {
  if (!memory || capacity == 0) return kIOReturnBadArgument;
  // xnu's Create_Impl: no option beyond the direction bits is defined.
  if (options & ~uint64_t{kIOMemoryDirectionOutIn}) return kIOReturnBadArgument;
  constexpr uint64_t kPage = dexthil::hostmem::SparseMemory::kPageSize;
  if (alignment > kPage) return kIOReturnUnsupported;  // pages are the strictest alignment on offer
  Kernel& kernel = Kernel::current();
  const uint64_t pages = (capacity + kPage - 1) / kPage;
  IOBufferMemoryDescriptor* b = OSTypeAlloc(IOBufferMemoryDescriptor);
  b->allocation_ = static_cast<uint8_t*>(std::aligned_alloc(kPage, pages * kPage));
  b->physical_ = kernel.buffers().allocate(pages);
  kernel.memory().attach(b->physical_, b->allocation_, pages * kPage);
  // Zeroed after attaching: attach keeps what the physical pages held (a freed buffer's bytes),
  // and a new buffer is zeroed on macOS.
  std::memset(b->allocation_, 0, pages * kPage);
  b->host_ = b->allocation_;
  b->pages_ = pages;
  b->capacity_ = capacity;
  // The kernel builds the buffer with inTaskWithOptions(capacity): its length starts at its
  // capacity (xnu IOUserServer.cpp, IOBufferMemoryDescriptor::Create_Impl); SetLength shortens it.
  b->length_ = capacity;
  b->direction_ = options & kIOMemoryDirectionInOut;
  *memory = b;
  return kIOReturnSuccess;
}

kern_return_t IOBufferMemoryDescriptor::GetAddressRange(IOAddressSegment* range) {
  if (!range) return kIOReturnBadArgument;
  range->address = reinterpret_cast<uint64_t>(host_);
  range->length = length_;
  return kIOReturnSuccess;
}

kern_return_t IOBufferMemoryDescriptor::SetLength(uint64_t length) {
  if (length > capacity_) return kIOReturnNoSpace;
  length_ = length;
  return kIOReturnSuccess;
}

void IOBufferMemoryDescriptor::free() {
  if (allocation_) {
    constexpr uint64_t kPage = dexthil::hostmem::SparseMemory::kPageSize;
    if (Kernel* k = Kernel::active()) {
      k->memory().detach(physical_, pages_ * kPage);
      k->buffers().free(physical_, pages_);
    }
    std::free(allocation_);
    allocation_ = nullptr;
  }
  IOMemoryDescriptor::free();
}

// ---- IODMACommand ----

namespace {
dexthil::driverkit::PciProvider* pci_provider(IOService* device) {
  auto* pci = OSDynamicCast(IOPCIDevice, device);
  return pci ? pci->provider_impl() : nullptr;
}
}  // namespace

kern_return_t IODMACommand::Create(IOService* device, uint64_t options, const IODMACommandSpecification* specification,
                                   IODMACommand** command) {
  (void)options;
  if (!device || !specification || !command) return kIOReturnBadArgument;
  if (!pci_provider(device)) return kIOReturnUnsupported;  // only PCI providers have a DART here
  IODMACommand* c = OSTypeAlloc(IODMACommand);
  device->retain();
  c->device_ = device;
  c->max_address_bits_ = specification->maxAddressBits ? specification->maxAddressBits : 64;
  *command = c;
  return kIOReturnSuccess;
}

kern_return_t IODMACommand::PrepareForDMA(uint64_t options, IOMemoryDescriptor* memory, uint64_t offset, uint64_t length,
                                          uint64_t* flags, uint32_t* segmentsCount, IOAddressSegment* segments) {
  (void)options;
  if (!memory || !segmentsCount || !segments || *segmentsCount == 0) return kIOReturnBadArgument;
  if (memory->is_device_memory()) return kIOReturnUnsupported;
  if (memory_) return kIOReturnBusy;  // CompleteDMA the previous preparation first
  if (length == 0) length = memory->length() - std::min(offset, memory->length());
  if (length == 0 || offset > memory->length() || length > memory->length() - offset) return kIOReturnBadArgument;
  dexthil::driverkit::PciProvider* provider = pci_provider(device_);
  Kernel& kernel = Kernel::current();
  dexthil::pcie::Node& node = provider->node();
  dexthil::pcie::Node& root = *node.root_port();
  // macOS maps under the SID of the function's own requester ID only.
  const uint32_t sid = provider->fabric().sid_for(root, node.bdf.rid());
  dexthil::platform::DmaDirection direction;
  direction.device_writes = (memory->direction() & kIOMemoryDirectionIn) != 0;
  direction.device_reads = (memory->direction() & kIOMemoryDirectionOut) != 0;
  std::string error;
  // The DART would map a concatenation's separate buffers at consecutive addresses; dexthil's
  // mapper takes one contiguous range per preparation so far.
  const std::vector<IOMemoryDescriptor::Run> parts = memory->runs(offset, length);
  if (parts.empty()) return kIOReturnBadArgument;
  if (parts.size() > 1) {
    spans_buffers(kernel, "IODMACommand::PrepareForDMA", "DMA", parts.size());
    return kIOReturnUnsupported;
  }
  dexthil::platform::DmaMapper& mapper = provider->mapper();
  uint64_t physical = parts[0].physical;
  auto prepared = mapper.prepare(node.name, {sid}, physical, length, direction, static_cast<uint32_t>(max_address_bits_),
                                 kernel.sim().now(), &error);
  const bool too_few_bits = !prepared && error.find("address bits") != std::string::npos;
  constexpr uint64_t kPage = dexthil::hostmem::SparseMemory::kPageSize;
  const uint64_t bounce_pages = (length + kPage - 1) / kPage;
  const uint64_t bounce_end = Kernel::kBouncePoolBase + Kernel::kBouncePoolSize;
  if (too_few_bits && !mapper.translates() && (max_address_bits_ >= 64 || bounce_end <= (1ull << max_address_bits_))) {
    // No mapper, and the memory lies above what the device addresses: xnu's IODMACommand gives
    // the device a bounce buffer in low memory instead (double buffering).
    try {
      bounce_physical_ = kernel.bounce_pages().allocate(bounce_pages);
    } catch (const std::runtime_error& e) {  // the low pages are all in use: no bounce buffer
      error = std::string("no bounce buffer: ") + e.what();
      return fail_prepare(kernel, provider, node, root, length, kIOReturnNoResources, error, false);
    }
    bounce_pages_ = bounce_pages;
    bounce_host_ = static_cast<uint8_t*>(std::aligned_alloc(kPage, bounce_pages * kPage));
    kernel.memory().attach(bounce_physical_, bounce_host_, bounce_pages * kPage);
    std::memset(bounce_host_, 0, bounce_pages * kPage);  // after attach, which keeps the pages' old bytes
    if (direction.device_reads) std::memcpy(bounce_host_, parts[0].host, length);
    error.clear();
    prepared = mapper.prepare(node.name, {sid}, bounce_physical_, length, direction,
                              static_cast<uint32_t>(max_address_bits_), kernel.sim().now(), &error);
    if (prepared) {
      dexthil::monitor::DmaBounced bounced;
      bounced.time = kernel.sim().now();
      bounced.location = node.name;
      bounced.length = length;
      bounced.memory_address = physical;
      bounced.bounce_address = bounce_physical_;
      bounced.max_address_bits = max_address_bits_;
      bounced.root_port = root.name;
      kernel.monitor().emit(bounced);
    } else {
      release_bounce();
    }
  }
  if (!prepared) {
    return fail_prepare(kernel, provider, node, root, length, too_few_bits ? kIOReturnMessageTooLarge : kIOReturnNoResources,
                        error, too_few_bits);
  }
  memory->retain();
  memory_ = memory;
  memory_host_ = parts[0].host;
  offset_ = offset;
  length_ = length;
  mapping_id_ = prepared->id;
  provider->prepared_commands.insert(this);
  segments[0] = {prepared->iova, length};
  *segmentsCount = 1;  // the DART maps the range contiguously; without one, buffers are physically contiguous
  if (flags) *flags = memory->direction();
  return kIOReturnSuccess;
}

kern_return_t IODMACommand::fail_prepare(Kernel& kernel, dexthil::driverkit::PciProvider* provider,
                                         const dexthil::pcie::Node& node, const dexthil::pcie::Node& root,
                                         uint64_t length, kern_return_t result, const std::string& error,
                                         bool too_few_bits) {
  const std::string result_name = dexthil::driverkit::ioreturn_name(result);
  dexthil::monitor::DmaPrepareFailed failed;
  failed.time = kernel.sim().now();
  failed.location = node.name;
  failed.length = length;
  failed.result = result_name;
  failed.error = error;
  failed.too_few_address_bits = too_few_bits;
  failed.translates = provider->mapper().translates();
  failed.iova_base = root.iova_base;
  failed.root_port = root.name;
  failed.max_address_bits = max_address_bits_;
  kernel.monitor().emit(failed);
  return result;
}

uint8_t* IODMACommand::device_view() const {
  return bounce_host_ ? bounce_host_ : memory_host_;
}

void IODMACommand::release_bounce() {
  if (!bounce_host_) return;
  constexpr uint64_t kPage = dexthil::hostmem::SparseMemory::kPageSize;
  if (Kernel* k = Kernel::active()) {
    k->memory().detach(bounce_physical_, bounce_pages_ * kPage);
    k->bounce_pages().free(bounce_physical_, bounce_pages_);
  }
  std::free(bounce_host_);
  bounce_host_ = nullptr;
  bounce_physical_ = 0;
  bounce_pages_ = 0;
}

kern_return_t IODMACommand::PerformOperation(uint64_t options, uint64_t dmaOffset, uint64_t length, uint64_t dataOffset,
                                             IOMemoryDescriptor* data) {
  // As xnu's PerformOperation_Impl: one known operation, a prepared command, lengths in range.
  if (options != kIODMACommandPerformOperationOptionRead && options != kIODMACommandPerformOperationOptionWrite &&
      options != kIODMACommandPerformOperationOptionZero) {
    return kIOReturnBadArgument;
  }
  if (!memory_) return kIOReturnNotReady;
  if (length > memory_->length()) return kIOReturnBadArgument;
  if (dmaOffset > length_ || length > length_ - dmaOffset) return kIOReturnUnderrun;
  uint8_t* device = device_view() + dmaOffset;
  if (options == kIODMACommandPerformOperationOptionZero) {
    std::memset(device, 0, length);
    return kIOReturnSuccess;
  }
  if (!data || length > data->length()) return kIOReturnBadArgument;
  const bool copied = options == kIODMACommandPerformOperationOptionRead ? data->write_bytes(dataOffset, length, device)
                                                                          : data->read_bytes(dataOffset, length, device);
  return copied ? kIOReturnSuccess : kIOReturnUnderrun;
}

kern_return_t IODMACommand::CompleteDMA(uint64_t options) {
  (void)options;
  if (!memory_) return kIOReturnNotReady;
  unprepare();
  return kIOReturnSuccess;
}

void IODMACommand::unprepare() {
  // Without a provider (its kernel already gone) there is no DART left to unmap from.
  if (dexthil::driverkit::PciProvider* provider = pci_provider(device_)) {
    provider->prepared_commands.erase(this);
    Kernel& kernel = provider->kernel();
    provider->mapper().complete(mapping_id_, kernel.sim().now());
  }
  // A double-buffered preparation: what the device wrote reaches the memory now.
  if (bounce_host_ && memory_ && (memory_->direction() & kIOMemoryDirectionIn)) {
    std::memcpy(memory_host_, bounce_host_, length_);
  }
  release_bounce();
  OSSafeReleaseNULL(memory_);
  memory_host_ = nullptr;
}

kern_return_t IODMACommand::GetPreparation(uint64_t* offset, uint64_t* length, IOMemoryDescriptor** memory) {
  if (!memory_) return kIOReturnNotReady;
  if (offset) *offset = offset_;
  if (length) *length = length_;
  if (memory) {
    memory_->retain();
    *memory = memory_;
  }
  return kIOReturnSuccess;
}

void IODMACommand::free() {
  // Freed while prepared: the kernel unmaps, but the driver left the device a live mapping until now.
  if (memory_) unprepare();
  OSSafeReleaseNULL(device_);
  OSObject::free();
}

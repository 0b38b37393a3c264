#include "models/lsi53c1030/firmware/ioc_firmware.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace dexthil::models::lsi {

using mpi::Frame;

// ---- frames ----

namespace mpi {

std::string_view state_name(IocState state) {
  switch (state) {
    case IocState::kReset: return "RESET";
    case IocState::kReady: return "READY";
    case IocState::kOperational: return "OPERATIONAL";
    case IocState::kFault: return "FAULT";
  }
  return "?";
}

void Frame::set_u8(std::size_t at, std::uint8_t value) {
  if (at >= bytes_.size()) bytes_.resize(at + 1, 0);
  bytes_[at] = value;
}
void Frame::set_u16(std::size_t at, std::uint16_t value) {
  set_u8(at, static_cast<std::uint8_t>(value));
  set_u8(at + 1, static_cast<std::uint8_t>(value >> 8));
}
void Frame::set_u32(std::size_t at, std::uint32_t value) {
  set_u16(at, static_cast<std::uint16_t>(value));
  set_u16(at + 2, static_cast<std::uint16_t>(value >> 16));
}
void Frame::set_bytes(std::size_t at, std::span<const std::uint8_t> value) {
  for (std::size_t i = 0; i < value.size(); ++i) set_u8(at + i, value[i]);
}
void Frame::set_text(std::size_t at, std::size_t width, std::string_view text) {
  for (std::size_t i = 0; i < width; ++i) set_u8(at + i, i < text.size() ? static_cast<std::uint8_t>(text[i]) : 0);
}

}  // namespace mpi

// ---- state ----

IocFirmware::IocFirmware(IocIdentity identity) : identity_(identity) { hard_reset(); }

void IocFirmware::hard_reset() {
  message_unit_reset();
  // On a Mac no option ROM initialises the IOC before the driver (the x86 BIOS would have, and
  // VirtualBox reports SYSTEM_BIOS): nobody has.
  who_init_ = mpi::kNoOne;
  events_enabled_ = false;
  event_context_ = 0;
  default_pages();
}

void IocFirmware::message_unit_reset() {
  state_ = mpi::IocState::kReady;
  fault_code_ = 0;
  max_devices_ = kTargets;
  max_buses_ = 1;
  reply_frame_bytes_ = 0;
  host_mfa_high_ = 0;
  sense_buffer_high_ = 0;
}

void IocFirmware::fault(std::uint16_t code) {
  state_ = mpi::IocState::kFault;
  fault_code_ = code;
}

// ---- messages ----

IocFirmware::Reply IocFirmware::reply_to(const Frame& request, std::uint8_t dwords, std::uint16_t status) {
  Reply r{Frame(std::size_t{dwords} * 4), false};
  r.frame.set_u8(mpi::kOffsetMsgLength, dwords);
  r.frame.set_u8(mpi::kOffsetFunction, request.u8(mpi::kOffsetFunction));
  r.frame.set_u8(mpi::kOffsetMsgFlags, request.u8(mpi::kOffsetMsgFlags));
  r.frame.set_u32(mpi::kOffsetMsgContext, request.u32(mpi::kOffsetMsgContext));
  r.frame.set_u16(mpi::kOffsetIocStatus, status);
  return r;
}

std::optional<IocFirmware::Reply> IocFirmware::handle(std::span<const std::uint8_t> request, HostMemory& memory) {
  const Frame frame(request);
  if (state_ == mpi::IocState::kFault || state_ == mpi::IocState::kReset) {
    return reply_to(frame, 5, mpi::kInvalidState);
  }
  switch (frame.u8(mpi::kOffsetFunction)) {
    case mpi::kIocFacts: return ioc_facts(frame);
    case mpi::kPortFacts: return port_facts(frame);
    case mpi::kIocInit: return ioc_init(frame);
    case mpi::kPortEnable: return port_enable(frame);
    case mpi::kEventNotification: return event_notification(frame);
    case mpi::kEventAck: return event_ack(frame);
    case mpi::kConfig: return config(frame, memory);
    default:
      // MPI's answer to a function the firmware does not implement.
      return reply_to(frame, 5, mpi::kInvalidFunction);
  }
}

IocFirmware::Reply IocFirmware::ioc_facts(const Frame& request) const {
  // MPI 1.2's IOCFacts reply ends with FWVersion: 15 dwords.
  Reply r = reply_to(request, 15);
  Frame& f = r.frame;
  f.set_u16(0x00, kMsgVersion);
  f.set_u16(0x04, 0);  // HeaderVersion
  f.set_u8(0x06, identity_.function);  // IOCNumber: each function is an IOC of its own
  f.set_u8(0x14, kMaxChainDepth);
  f.set_u8(0x15, who_init_);
  f.set_u8(0x16, kScsiIoRequestDwords);
  f.set_u8(0x17, 0);  // Flags: no firmware download needed
  f.set_u16(0x18, kQueueDepth);
  f.set_u16(0x1A, kRequestFrameDwords);
  f.set_u16(0x1E, kProductId);
  f.set_u32(0x20, host_mfa_high_);
  f.set_u16(0x24, kQueueDepth);
  f.set_u8(0x26, 1);  // NumberOfPorts
  f.set_u8(0x27, events_enabled_ ? 1 : 0);
  f.set_u32(0x28, sense_buffer_high_);
  f.set_u16(0x2C, reply_frame_bytes_);
  f.set_u8(0x2E, max_devices_);
  f.set_u8(0x2F, max_buses_);
  f.set_u32(0x30, 0);  // FWImageSize: nothing to upload
  f.set_u32(0x34, 0);  // IOCCapabilities
  f.set_u32(0x38, 0);  // FWVersion
  return r;
}

IocFirmware::Reply IocFirmware::port_facts(const Frame& request) const {
  Reply r = reply_to(request, 10);
  const std::uint8_t port = request.u8(0x06);
  r.frame.set_u8(0x06, port);
  if (port == 0) {  // one SPI port per IOC; any other is inactive
    r.frame.set_u8(0x15, 0x01);           // PortType SCSI
    r.frame.set_u16(0x16, kTargets);      // MaxDevices
    r.frame.set_u16(0x18, kInitiatorId);  // PortSCSIID
    r.frame.set_u16(0x1A, 0x0009);        // ProtocolFlags: initiator, logical bus addressing
  }
  return r;
}

IocFirmware::Reply IocFirmware::ioc_init(const Frame& request) {
  // Only a READY IOC can be initialised; an OPERATIONAL one needs a reset first.
  if (state_ != mpi::IocState::kReady) return reply_to(request, 5, mpi::kInvalidState);
  who_init_ = request.u8(0x00);
  max_devices_ = request.u8(0x05);
  max_buses_ = request.u8(0x06);
  reply_frame_bytes_ = request.u16(0x0C);
  host_mfa_high_ = request.u32(0x10);
  sense_buffer_high_ = request.u32(0x14);
  state_ = mpi::IocState::kOperational;
  Reply r = reply_to(request, 5);
  r.frame.set_u8(0x00, who_init_);
  r.frame.set_u8(0x04, request.u8(0x04));  // Flags
  r.frame.set_u8(0x05, max_devices_);
  r.frame.set_u8(0x06, max_buses_);
  return r;
}

IocFirmware::Reply IocFirmware::port_enable(const Frame& request) const {
  Reply r = reply_to(request, 5, state_ == mpi::IocState::kOperational ? mpi::kSuccess : mpi::kInvalidState);
  r.frame.set_u8(0x06, request.u8(0x06));  // PortNumber
  return r;
}

IocFirmware::Reply IocFirmware::event_notification(const Frame& request) {
  events_enabled_ = request.u8(0x00) != 0;
  // The answer is an EventChange event report: one dword of data, the new state. MsgFlags'
  // continuation bit says the IOC keeps the request frame to report later events on.
  Reply r = reply_to(request, 8);
  r.frame.set_u16(0x00, 1);     // EventDataLength, dwords
  r.frame.set_u8(0x06, 0);      // AckRequired
  r.frame.set_u8(mpi::kOffsetMsgFlags, 0x80);
  r.frame.set_u32(0x14, mpi::kEventChange);
  r.frame.set_u32(0x18, event_context_++);
  r.frame.set_u32(0x1C, events_enabled_ ? 1 : 0);
  return r;
}

IocFirmware::Reply IocFirmware::event_ack(const Frame& request) const { return reply_to(request, 5); }

// ---- config pages ----

void IocFirmware::add_page(mpi::PageType type, mpi::PageAttribute attributes, std::uint8_t number,
                           std::uint8_t version, std::size_t bytes, std::uint8_t target) {
  Frame p(bytes);
  p.set_u8(0, version);
  p.set_u8(1, static_cast<std::uint8_t>(bytes / 4));
  p.set_u8(2, number);
  p.set_u8(3, static_cast<std::uint8_t>(std::uint8_t{type} | std::uint8_t{attributes}));
  pages_[{type, number, target}] = std::move(p);
}

Frame& IocFirmware::page(std::uint8_t type, std::uint8_t number, std::uint8_t target) {
  return pages_.at({type, number, target});
}

void IocFirmware::default_pages() {
  pages_.clear();
  ++pages_version_;
  using namespace mpi;
  // Page versions are those of the MPI 1.5 header set; lengths in bytes, header included.
  add_page(kManufacturing, kReadOnlyPersistent, 0, 0x00, 0x4C);
  Frame& mfg0 = page(kManufacturing, 0);
  mfg0.set_text(0x04, 16, "LSI53C1030");  // ChipName
  mfg0.set_text(0x14, 8, "C0");           // ChipRevision
  mfg0.set_text(0x1C, 16, "dexthil model");  // BoardName: this is a model, not a board
  add_page(kIoUnit, kReadOnly, 0, 0x00, 12);
  // UniqueValue: any value unique to this IOC; the chip's IDs and the function number.
  page(kIoUnit, 0).set_u32(0x04, static_cast<std::uint32_t>(identity_.device_id) << 16 | identity_.function);
  page(kIoUnit, 0).set_u32(0x08, identity_.vendor_id);
  add_page(kIoUnit, kChangeable, 1, 0x02, 8);
  page(kIoUnit, 1).set_u32(0x04, 0x40);  // Flags: integrated RAID disabled (initiator firmware)
  add_page(kIoUnit, kPersistent, 2, 0x02, 28);
  add_page(kIoc, kReadOnly, 0, 0x01, 28);
  Frame& ioc0 = page(kIoc, 0);
  ioc0.set_u16(0x0C, identity_.vendor_id);
  ioc0.set_u16(0x0E, identity_.device_id);
  ioc0.set_u8(0x10, identity_.revision_id);
  ioc0.set_u32(0x14, identity_.class_code);
  ioc0.set_u16(0x18, identity_.subsystem_vendor_id);
  ioc0.set_u16(0x1A, identity_.subsystem_id);
  add_page(kIoc, kChangeable, 1, 0x03, 16);  // reply coalescing off
  add_page(kIoc, kReadOnly, 2, 0x04, 12);    // no RAID volumes
  add_page(kIoc, kReadOnly, 3, 0x00, 8);     // no physical disks in volumes
  add_page(kIoc, kReadOnly, 4, 0x00, 8);     // no SEP devices
  // SCSI Port 0: Ultra320 (SPI-4) capabilities: IU, DT and QAS, the fastest transfer period
  // factor 0x08 (6.25 ns), a REQ/ACK offset up to 127, wide; an LVD bus.
  add_page(kScsiPort, kReadOnly, 0, 0x02, 12);
  page(kScsiPort, 0).set_u32(0x04, 0x00000007u | 0x08u << 8 | 0x7Fu << 16 | 1u << 29);
  page(kScsiPort, 0).set_u32(0x08, 0x00000003);
  // SCSI Port 1: the port's SCSI ID (7), and it answers selection at that ID only.
  add_page(kScsiPort, kChangeable, 1, 0x03, 16);
  page(kScsiPort, 1).set_u32(0x04, kInitiatorId | 1u << (16 + kInitiatorId));
  // SCSI Port 2: host ID 7, and per target: disconnect, ID and LUN scan, tagged queueing, at
  // the fastest period.
  add_page(kScsiPort, kChangeable, 2, 0x02, 76);
  page(kScsiPort, 2).set_u32(0x08, kInitiatorId | 0x30);
  for (std::uint8_t t = 0; t < kTargets; ++t) page(kScsiPort, 2).set_u32(0x0C + 4u * t, 0x0F << 16 | 0x08 << 8);
  // SCSI Device pages per target: nothing negotiated yet (0), nothing requested (1).
  for (std::uint8_t t = 0; t < kTargets; ++t) {
    add_page(kScsiDevice, kReadOnly, 0, 0x04, 12, t);
    add_page(kScsiDevice, kChangeable, 1, 0x05, 16, t);
  }
}

const Frame* IocFirmware::find_page(std::uint8_t type, std::uint8_t number, std::uint8_t target) const {
  const auto found = pages_.find({type, number, target});
  return found == pages_.end() ? nullptr : &found->second;
}

Frame* IocFirmware::find_page(std::uint8_t type, std::uint8_t number, std::uint8_t target) {
  const auto found = pages_.find({type, number, target});
  return found == pages_.end() ? nullptr : &found->second;
}

IocFirmware::Refusal IocFirmware::refuse_write(const Frame& stored, std::span<const std::uint8_t> data) {
  char text[200];
  const std::uint8_t attributes = stored.u8(3) & 0xF0;
  const std::uint8_t type = stored.u8(3) & 0x0F;
  if (attributes != mpi::kChangeable && attributes != mpi::kPersistent) {
    std::snprintf(text, sizeof text, "a read-only page (type %u, page %u: attributes 0x%02x in its header)", type,
                  stored.u8(2), attributes);
    return {mpi::kConfigCantCommit, text};
  }
  const Frame written(data);
  if (data.size() >= 4 && (written.u8(1) != stored.u8(1) || written.u8(2) != stored.u8(2) || (written.u8(3) & 0x0F) != type)) {
    std::snprintf(text, sizeof text,
                  "a corrupt page header: the data's PageLength %u, PageNumber %u, PageType %u (bytes 1-3) are not "
                  "the page's %u, %u, %u",
                  written.u8(1), written.u8(2), written.u8(3) & 0x0F, stored.u8(1), stored.u8(2), type);
    return {mpi::kConfigInvalidData, text};
  }
  if (type == mpi::kScsiPort && stored.u8(2) == 1 && data.size() >= 8 && (written.u32(4) & 0xFF) > kTargets - 1) {
    std::snprintf(text, sizeof text, "SCSI Port page 1 Configuration (0x04) gives SCSI ID %u; a wide bus has IDs 0-15",
                  written.u32(4) & 0xFF);
    return {mpi::kConfigInvalidData, text};
  }
  return {};
}

IocFirmware::Reply IocFirmware::config(const Frame& request, HostMemory& memory) {
  Reply r = reply_to(request, 6);
  const std::uint8_t action = request.u8(0x00);
  r.frame.set_u8(0x00, action);
  r.frame.set_u16(0x04, request.u16(0x04));  // ExtPageLength
  r.frame.set_u8(0x06, request.u8(0x06));    // ExtPageType
  // The request's header, echoed when the page does not exist.
  r.frame.set_u32(0x14, request.u32(0x14));
  if (action > mpi::kReadNvram) {
    r.frame.set_u16(mpi::kOffsetIocStatus, mpi::kConfigInvalidAction);
    return r;
  }
  const std::uint8_t type = request.u8(0x17) & 0x0F;
  const std::uint8_t number = request.u8(0x16);
  const std::uint32_t address = request.u32(0x18);
  std::uint8_t target = 0;
  bool addressed = true;
  if (type == mpi::kScsiPort) {
    addressed = (address & 0xFF) == 0;  // one port per IOC
  } else if (type == mpi::kScsiDevice) {
    // Form 0: bus in bits 15:8, target in bits 7:0; one bus.
    target = static_cast<std::uint8_t>(address & 0xFF);
    addressed = (address >> 28) == 0 && ((address >> 8) & 0xFF) == 0 && target < kTargets;
  }
  auto found = addressed ? pages_.find({type, number, target}) : pages_.end();
  if (found == pages_.end()) {
    r.frame.set_u16(mpi::kOffsetIocStatus, mpi::kConfigInvalidPage);
    return r;
  }
  Frame& stored = found->second;
  r.frame.set_u32(0x14, stored.u32(0));
  if (action == mpi::kPageHeader || action == mpi::kDefault) return r;
  // The page buffer: one simple SGE at 0x1C, 32- or 64-bit.
  const std::uint32_t flags_length = request.u32(0x1C);
  const std::uint8_t flags = static_cast<std::uint8_t>(flags_length >> 24);
  const std::uint64_t buffer = (flags & mpi::kSgeAddress64) ? request.u64(0x20) : request.u32(0x20);
  const std::size_t bytes = std::min<std::size_t>(flags_length & 0x00FFFFFF, stored.size());
  if (bytes == 0) return r;
  const bool write = action == mpi::kWriteCurrent || action == mpi::kWriteNvram;
  if (write) {
    std::vector<std::uint8_t> data(bytes);
    if (!memory.read(buffer, data)) {
      r.frame.set_u16(mpi::kOffsetIocStatus, mpi::kInvalidSgl);
      return r;
    }
    if (Refusal refusal = refuse_write(stored, data); refusal.status != mpi::kSuccess) {
      r.frame.set_u16(mpi::kOffsetIocStatus, refusal.status);
      r.problem = std::move(refusal.why);
      return r;
    }
    // Kept for later reads until a hard reset; the header stays the firmware's.
    if (bytes > 4) stored.set_bytes(4, std::span<const std::uint8_t>(data).subspan(4));
    ++pages_version_;
  } else if (!memory.write(buffer, std::span<const std::uint8_t>(stored.bytes()).first(bytes))) {
    r.frame.set_u16(mpi::kOffsetIocStatus, mpi::kInvalidSgl);
  }
  return r;
}

}  // namespace dexthil::models::lsi

// IODataQueueDispatchSource: a shared-memory ring with xnu's layout and notification rules.
#include <DriverKit/IODataQueueDispatchSource.h>

#include <DriverKit/IOBufferMemoryDescriptor.h>

#include <cstring>
#include <optional>

#include "harness/driverkit/kernel/kernel.hpp"

DEXTHIL_DEFINE_METACLASS(IODataQueueDispatchSource, IODispatchSource);

namespace {

// The header at the start of the shared memory; an app reads the same layout.
struct RingHeader {
  uint32_t head;
  uint32_t tail;
  uint8_t need_serviced_callback;
  uint8_t reserved[31];
};
static_assert(sizeof(RingHeader) == IODataQueueDispatchSource::kHeaderSize);

constexpr uint32_t kEntryHeader = 4;  // the entry's size field

uint32_t padded(uint32_t size) { return (size + 3u) & ~3u; }

uint32_t read32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void write32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace

kern_return_t IODataQueueDispatchSource::Create(uint64_t queueByteCount, IODispatchQueue* queue,
                                                IODataQueueDispatchSource** source) {
  if (!queue || !source || (queueByteCount & 3) || queueByteCount > UINT32_MAX) return kIOReturnBadArgument;
  if (queueByteCount == 0) return kIOReturnNoMemory;  // xnu: no buffer of no bytes
  IOBufferMemoryDescriptor* memory = nullptr;
  const kern_return_t r = IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, kHeaderSize + queueByteCount, 0,
                                                           &memory);
  if (r != kIOReturnSuccess) return r;
  IODataQueueDispatchSource* s = OSTypeAlloc(IODataQueueDispatchSource);
  s->memory_ = memory;
  s->queue_bytes_ = static_cast<uint32_t>(queueByteCount);
  s->set_queue(queue);
  *source = s;
  return kIOReturnSuccess;
}

uint8_t* IODataQueueDispatchSource::ring() const { return memory_->host_bytes(); }

kern_return_t IODataQueueDispatchSource::SetDataAvailableHandler(OSAction* action) {
  OSSafeReleaseNULL(available_action_);
  if (action) {
    action->retain();
    available_action_ = action;
    if (IsDataAvailable()) SendDataAvailable();
  }
  return kIOReturnSuccess;
}

kern_return_t IODataQueueDispatchSource::SetDataServicedHandler(OSAction* action) {
  OSSafeReleaseNULL(serviced_action_);
  if (action) {
    action->retain();
    serviced_action_ = action;
  }
  return kIOReturnSuccess;
}

namespace {
kern_return_t copy_out(OSObject* object, OSObject** out) {
  if (!out) return kIOReturnBadArgument;
  if (!object) {
    *out = nullptr;
    return kIOReturnNotReady;
  }
  object->retain();
  *out = object;
  return kIOReturnSuccess;
}
}  // namespace

kern_return_t IODataQueueDispatchSource::CopyMemory(IOMemoryDescriptor** memory) {
  return copy_out(memory_, reinterpret_cast<OSObject**>(memory));
}
kern_return_t IODataQueueDispatchSource::CopyDataAvailableHandler(OSAction** action) {
  return copy_out(available_action_, reinterpret_cast<OSObject**>(action));
}
kern_return_t IODataQueueDispatchSource::CopyDataServicedHandler(OSAction** action) {
  return copy_out(serviced_action_, reinterpret_cast<OSObject**>(action));
}

bool IODataQueueDispatchSource::IsDataAvailable() {
  const auto* h = reinterpret_cast<const RingHeader*>(ring());
  return h->head != h->tail;
}

void IODataQueueDispatchSource::SendDataAvailable() {
  if (available_action_ && enabled()) available_action_->post(queue_, available_action_);
}

void IODataQueueDispatchSource::SendDataServiced() {
  if (!serviced_action_) return;
  reinterpret_cast<RingHeader*>(ring())->need_serviced_callback = 0;
  if (enabled()) serviced_action_->post(queue_, serviced_action_);
}

bool IODataQueueDispatchSource::head_entry(uint32_t head, uint32_t* offset, uint32_t* size) const {
  const uint8_t* entries = ring() + kHeaderSize;
  if (head > queue_bytes_) return false;
  // An entry that did not fit between the head and the end was written at offset 0.
  uint32_t at = head;
  if (queue_bytes_ - head < kEntryHeader || queue_bytes_ - head - kEntryHeader < padded(read32(entries + head))) {
    at = 0;
  }
  const uint32_t n = read32(entries + at);
  if (n > UINT32_MAX - 3 || queue_bytes_ - at < kEntryHeader || padded(n) > queue_bytes_ - at - kEntryHeader) {
    return false;
  }
  *offset = at;
  *size = n;
  return true;
}

kern_return_t IODataQueueDispatchSource::PeekFunction(const DequeueCallback& callback) {
  const auto* h = reinterpret_cast<const RingHeader*>(ring());
  if (h->head == h->tail) return kIOReturnUnderrun;
  uint32_t at, size;
  if (!head_entry(h->head, &at, &size)) return kIOReturnError;
  callback(ring() + kHeaderSize + at + kEntryHeader, size);
  return kIOReturnSuccess;
}

kern_return_t IODataQueueDispatchSource::DequeueFunction(bool* sendDataServiced, const DequeueCallback& callback) {
  auto* h = reinterpret_cast<RingHeader*>(ring());
  bool serviced = false;
  kern_return_t r = kIOReturnSuccess;
  if (h->head == h->tail) {
    r = kIOReturnUnderrun;
    serviced = h->need_serviced_callback;
  } else {
    uint32_t at, size;
    if (!head_entry(h->head, &at, &size)) return kIOReturnError;
    callback(ring() + kHeaderSize + at + kEntryHeader, size);
    serviced = h->need_serviced_callback;
    h->head = at + kEntryHeader + padded(size);
  }
  if (sendDataServiced) {
    *sendDataServiced = *sendDataServiced || serviced;
  } else if (serviced) {
    SendDataServiced();
  }
  return r;
}

kern_return_t IODataQueueDispatchSource::EnqueueFunction(uint32_t dataSize, bool* sendDataAvailable,
                                                        const EnqueueCallback& callback) {
  auto* h = reinterpret_cast<RingHeader*>(ring());
  uint8_t* entries = ring() + kHeaderSize;
  if (dataSize > UINT32_MAX - 3 - kEntryHeader) return kIOReturnOverrun;
  const uint32_t entry = kEntryHeader + padded(dataSize);
  const uint32_t head = h->head, tail = h->tail;
  if (head > queue_bytes_ || tail > queue_bytes_) return kIOReturnUnderrun;
  // The tail never catches up with the head: a full ring would look empty.
  std::optional<uint32_t> at;
  if (tail >= head) {
    if (entry <= queue_bytes_ - tail) {
      at = tail;
    } else if (head > entry) {
      at = 0;
      if (queue_bytes_ - tail >= kEntryHeader) write32(entries + tail, padded(dataSize));  // "skip to the start"
    }
  } else if (head - tail > entry) {
    at = tail;
  }
  bool notify = false;
  kern_return_t r = kIOReturnSuccess;
  if (at) {
    callback(entries + *at + kEntryHeader, dataSize);
    write32(entries + *at, dataSize);
    h->tail = *at + entry;
    notify = tail == head;  // the ring was empty: the consumer must be told
  } else {
    r = kIOReturnOverrun;
    h->need_serviced_callback = 1;  // a dequeue will say when there is room again
    notify = true;
  }
  if (sendDataAvailable) {
    *sendDataAvailable = *sendDataAvailable || notify;
  } else if (notify) {
    SendDataAvailable();
  }
  return r;
}

void IODataQueueDispatchSource::free() {
  OSSafeReleaseNULL(memory_);
  OSSafeReleaseNULL(available_action_);
  OSSafeReleaseNULL(serviced_action_);
  IODispatchSource::free();
}

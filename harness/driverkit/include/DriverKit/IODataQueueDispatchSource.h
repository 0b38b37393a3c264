#pragma once
// IODataQueueDispatchSource: a ring of variable-size entries in shared memory (the memory a user
// client hands an app with CopyClientMemoryForType), with DataAvailable sent when an enqueue
// makes the ring non-empty and DataServiced when a dequeue frees room after an enqueue failed
// for lack of it. The layout is xnu's: a 40-byte header (head, tail, needServicedCallback) and
// entries of a 32-bit size and data padded to 4 bytes; an entry that does not fit before the end
// starts again at offset 0. xnu's ring counts queueByteCount bytes of entries from the end of
// the header but allocates only queueByteCount in all; here the memory is the header plus
// queueByteCount, so CopyMemory's descriptor is 40 bytes longer than a Mac's.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IODispatchSource.h>
#include <DriverKit/IOMemoryDescriptor.h>

#define IODataQueueDispatchSource_DataAvailable_Args OSAction* action
#define IODataQueueDispatchSource_DataServiced_Args OSAction* action
#define IODataQueueDispatchSource_DataAvailable_ID (::dexthil::iig::message_id("DataAvailable"))
#define IODataQueueDispatchSource_DataServiced_ID (::dexthil::iig::message_id("DataServiced"))

class IOBufferMemoryDescriptor;

#if defined(__BLOCKS__)
typedef void (^IODataQueueClientEnqueueEntryBlock)(void* data, size_t dataSize);
typedef void (^IODataQueueClientDequeueEntryBlock)(const void* data, size_t dataSize);
#endif

class IODataQueueDispatchSource : public IODispatchSource {
  DEXTHIL_METACLASS(IODataQueueDispatchSource, IODispatchSource)

 public:
  IODataQueueDispatchSource() : IODispatchSource(true) {}
  // queueByteCount: a multiple of 4 that fits 32 bits, else kIOReturnBadArgument.
  static kern_return_t Create(uint64_t queueByteCount, IODispatchQueue* queue, IODataQueueDispatchSource** source);
  kern_return_t SetDataAvailableHandler(OSAction* action);  // sends DataAvailable at once if data waits
  kern_return_t SetDataServicedHandler(OSAction* action);
  kern_return_t CopyMemory(IOMemoryDescriptor** memory);
  kern_return_t CopyDataAvailableHandler(OSAction** action);
  kern_return_t CopyDataServicedHandler(OSAction** action);
  bool IsDataAvailable();
  void SendDataAvailable();
  void SendDataServiced();
#if defined(__BLOCKS__)
  kern_return_t Peek(IODataQueueClientDequeueEntryBlock callback) {
    return PeekFunction([callback](const void* d, size_t n) { callback(d, n); });
  }
  kern_return_t Dequeue(IODataQueueClientDequeueEntryBlock callback) {
    return DequeueFunction(nullptr, [callback](const void* d, size_t n) { callback(d, n); });
  }
  kern_return_t DequeueWithCoalesce(bool* sendDataServiced, IODataQueueClientDequeueEntryBlock callback) {
    return DequeueFunction(sendDataServiced, [callback](const void* d, size_t n) { callback(d, n); });
  }
  kern_return_t Enqueue(uint32_t dataSize, IODataQueueClientEnqueueEntryBlock callback) {
    return EnqueueFunction(dataSize, nullptr, [callback](void* d, size_t n) { callback(d, n); });
  }
  kern_return_t EnqueueWithCoalesce(uint32_t dataSize, bool* sendDataAvailable,
                                    IODataQueueClientEnqueueEntryBlock callback) {
    return EnqueueFunction(dataSize, sendDataAvailable, [callback](void* d, size_t n) { callback(d, n); });
  }
#endif
  void free() override;

  // Host side. With a null `send*` the notification is sent here; with one, it is only flagged.
  using DequeueCallback = std::function<void(const void*, size_t)>;
  using EnqueueCallback = std::function<void(void*, size_t)>;
  kern_return_t PeekFunction(const DequeueCallback& callback);
  kern_return_t DequeueFunction(bool* sendDataServiced, const DequeueCallback& callback);
  kern_return_t EnqueueFunction(uint32_t dataSize, bool* sendDataAvailable, const EnqueueCallback& callback);
  static constexpr uint32_t kHeaderSize = 40;  // head, tail, needServicedCallback, reserved

 private:
  // Where the next entry to dequeue starts, and its size; false when the ring is corrupt.
  bool head_entry(uint32_t head, uint32_t* offset, uint32_t* size) const;
  uint8_t* ring() const;
  IOBufferMemoryDescriptor* memory_ = nullptr;
  uint32_t queue_bytes_ = 0;
  OSAction* available_action_ = nullptr;
  OSAction* serviced_action_ = nullptr;
};

}  // extern "C++"

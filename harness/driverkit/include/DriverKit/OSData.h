#pragma once
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/OSContainer.h>

class OSData : public OSContainer {
  DEXTHIL_METACLASS(OSData, OSContainer)

 public:
  static OSData* withBytes(const void* bytes, std::size_t length, OSCreationSite where = OSCreationSite::current());
  static OSData* withCapacity(std::size_t capacity, OSCreationSite where = OSCreationSite::current());
  // Refers to the caller's bytes without copying them (they must outlive the object); such data
  // cannot grow.
  static OSData* withBytesNoCopy(void* bytes, std::size_t numBytes, OSCreationSite where = OSCreationSite::current());
  const void* getBytesNoCopy() const {
    if (external_) return external_;
    return bytes_.empty() ? nullptr : bytes_.data();
  }
  std::size_t getLength() const { return external_ ? external_length_ : bytes_.size(); }
  bool appendBytes(const void* bytes, std::size_t length);
  bool isEqualTo(const OSMetaClassBase* anObject) const override;

 private:
  std::vector<std::uint8_t> bytes_;
  const void* external_ = nullptr;  // withBytesNoCopy's bytes
  std::size_t external_length_ = 0;
};

}  // extern "C++"

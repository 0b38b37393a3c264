#pragma once
#include <vector>

#include <DriverKit/OSObject.h>

class OSData : public OSObject {
  DEXTHIL_METACLASS(OSData, OSObject)

 public:
  static OSData* withBytes(const void* bytes, std::size_t length, OSCreationSite where = OSCreationSite::current());
  static OSData* withCapacity(std::size_t capacity, OSCreationSite where = OSCreationSite::current());
  const void* getBytesNoCopy() const { return bytes_.empty() ? nullptr : bytes_.data(); }
  std::size_t getLength() const { return bytes_.size(); }
  bool appendBytes(const void* bytes, std::size_t length);
  bool isEqualTo(const OSMetaClassBase* anObject) const override;

 private:
  std::vector<std::uint8_t> bytes_;
};

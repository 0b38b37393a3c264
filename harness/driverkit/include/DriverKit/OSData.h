#pragma once
#include <vector>

#include <DriverKit/OSObject.h>

class OSData : public OSObject {
  DEXTHIL_METACLASS(OSData, OSObject)

 public:
  static OSData* withBytes(const void* bytes, std::size_t length, std::source_location where = std::source_location::current());
  static OSData* withCapacity(std::size_t capacity, std::source_location where = std::source_location::current());
  const void* getBytesNoCopy() const { return bytes_.empty() ? nullptr : bytes_.data(); }
  std::size_t getLength() const { return bytes_.size(); }
  bool appendBytes(const void* bytes, std::size_t length);
  bool isEqualTo(const OSMetaClassBase* anObject) const override;

 private:
  std::vector<std::uint8_t> bytes_;
};

#pragma once
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/OSContainer.h>

class OSNumber : public OSContainer {
  DEXTHIL_METACLASS(OSNumber, OSContainer)

 public:
  // The value is kept to `numberOfBits` (8, 16, 32 or 64) bits, as OSNumber does.
  static OSNumber* withNumber(std::uint64_t value, std::size_t numberOfBits,
                              OSCreationSite where = OSCreationSite::current());
  std::uint8_t unsigned8BitValue() const { return static_cast<std::uint8_t>(value_); }
  std::uint16_t unsigned16BitValue() const { return static_cast<std::uint16_t>(value_); }
  std::uint32_t unsigned32BitValue() const { return static_cast<std::uint32_t>(value_); }
  std::uint64_t unsigned64BitValue() const { return value_; }
  std::size_t numberOfBits() const { return bits_; }
  bool isEqualTo(const OSMetaClassBase* anObject) const override;

 private:
  std::uint64_t value_ = 0;
  std::size_t bits_ = 64;
};

}  // extern "C++"

#pragma once
#include <vector>

#include <DriverKit/OSContainer.h>

// Holds a retain on each object it contains.
class OSArray : public OSContainer {
  DEXTHIL_METACLASS(OSArray, OSContainer)

 public:
  static OSArray* withCapacity(std::uint32_t capacity, OSCreationSite where = OSCreationSite::current());
  bool setObject(const OSMetaClassBase* anObject);
  const OSMetaClassBase* getObject(std::uint32_t index) const { return index < items_.size() ? items_[index] : nullptr; }
  std::uint32_t getCount() const { return static_cast<std::uint32_t>(items_.size()); }
  void free() override;

 private:
  std::vector<const OSMetaClassBase*> items_;
};

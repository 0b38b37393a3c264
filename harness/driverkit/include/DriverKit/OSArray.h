#pragma once
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/OSCollection.h>

// Holds a retain on each object it contains.
class OSArray : public OSCollection {
  DEXTHIL_METACLASS(OSArray, OSCollection)

 public:
  static OSArray* withCapacity(std::uint32_t capacity, OSCreationSite where = OSCreationSite::current());
  bool setObject(const OSMetaClassBase* anObject);
  const OSMetaClassBase* getObject(std::uint32_t index) const { return index < items_.size() ? items_[index] : nullptr; }
  std::uint32_t getCount() const { return static_cast<std::uint32_t>(items_.size()); }
  void free() override;

 private:
  std::vector<const OSMetaClassBase*> items_;
};

}  // extern "C++"

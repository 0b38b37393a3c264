#pragma once
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/OSCollection.h>

class OSString;

// String keys to retained objects, kept in insertion order (so iteration is deterministic).
class OSDictionary : public OSCollection {
  DEXTHIL_METACLASS(OSDictionary, OSCollection)

 public:
  static OSDictionary* withCapacity(std::uint32_t capacity, OSCreationSite where = OSCreationSite::current());
  bool setObject(const char* key, const OSMetaClassBase* anObject);
  bool setObject(const OSString* key, const OSMetaClassBase* anObject);
  const OSMetaClassBase* getObject(const char* key) const;
  const OSMetaClassBase* getObject(const OSString* key) const;
  void removeObject(const char* key);
  std::uint32_t getCount() const { return static_cast<std::uint32_t>(entries_.size()); }
  // Calls `fn(key, object)` for each entry in insertion order; stops when it returns true.
  template <class Fn>
  bool iterateObjects(Fn fn) const {
    for (const auto& [key, object] : entries_) {
      if (fn(key.c_str(), object)) return true;
    }
    return false;
  }
  void free() override;

 private:
  std::vector<std::pair<std::string, const OSMetaClassBase*>> entries_;
};

}  // extern "C++"

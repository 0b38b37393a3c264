#pragma once
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/OSContainer.h>

class OSString : public OSContainer {
  DEXTHIL_METACLASS(OSString, OSContainer)

 public:
  static OSString* withCString(const char* cString, OSCreationSite where = OSCreationSite::current());
  // libkern keeps the caller's characters; a copy reads the same, and outlives them safely.
  static OSString* withCStringNoCopy(const char* cString, OSCreationSite where = OSCreationSite::current()) {
    return withCString(cString, where);
  }
  const char* getCStringNoCopy() const { return value_.c_str(); }
  std::size_t getLength() const { return value_.size(); }
  bool isEqualTo(const char* cString) const { return cString && value_ == cString; }
  bool isEqualTo(const OSMetaClassBase* anObject) const override;

 private:
  std::string value_;
};

}  // extern "C++"

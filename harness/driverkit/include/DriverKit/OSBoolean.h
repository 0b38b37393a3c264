#pragma once
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/OSContainer.h>

// Two shared instances; retain and release on them change nothing, as in libkern.
class OSBoolean : public OSContainer {
  DEXTHIL_METACLASS(OSBoolean, OSContainer)

 public:
  explicit OSBoolean(bool value) : value_(value) {}
  bool isTrue() const { return value_; }
  bool isFalse() const { return !value_; }
  void retain() const override {}
  void release() const override {}

 private:
  bool value_;
};

extern OSBoolean* const kOSBooleanTrue;
extern OSBoolean* const kOSBooleanFalse;

}  // extern "C++"

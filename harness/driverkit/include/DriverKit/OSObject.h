#pragma once
// OSObject as a dext sees it: init() and free(), reference counting, and the IMPL / DEFN macros
// that name iig method implementations. Every live object is recorded with its class and the
// place it was created, so the harness can list what a dext leaked when a run ends.
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <string>

#include <DriverKit/IOReturn.h>
#include <DriverKit/OSMetaClass.h>

// iig's attributes are annotations for the iig tool; in a plain compile they vanish.
#define KERNEL
#define NATIVE
#define LOCAL
#define LOCALONLY
#define REMOTE
#define LOCALHOST
#define INVOKEREPLY
#define REPLY
#define PORTMAKESEND
#define PORTCOPYSEND
#define TARGET
#define TYPE(p)
#define EXTENDS(cls)
#define QUEUENAME(name)

class OSObject : public OSMetaClassBase {
  DEXTHIL_METACLASS_ROOT(OSObject)

 public:
  using super = OSMetaClassBase;
  OSObject();
  virtual bool init();
  virtual void free();
  void retain() const override;
  void release() const override;

  std::uint32_t getRetainCount() const { return retain_count_; }
  // Where the object was created (OSTypeAlloc or a with...() factory), for leak reports.
  const std::source_location& creationSite() const { return created_at_; }
  void setCreationSite(const std::source_location& where) { created_at_ = where; }

 protected:
  ~OSObject() override;

 private:
  mutable std::uint32_t retain_count_ = 1;
  std::source_location created_at_;
};

template <class T>
T* dexthil_type_alloc(const std::source_location& where) {
  T* object = new T();
  object->setCreationSite(where);
  return object;
}

template <class T, class U>
T* dexthil_required_cast(U* inst, const char* type_name) {
  T* cast = OSDynamicCast(T, inst);
  if (inst && !cast) {
    throw std::logic_error(std::string("OSRequiredCast: object of class ") + inst->getMetaClass()->getClassName() +
                           " is not a " + type_name);
  }
  return cast;
}

#define DEFN(classname, name) name##_Impl(classname##_##name##_Args)
#define IMPL(classname, name) classname ::DEFN(classname, name)

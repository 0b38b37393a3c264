#pragma once
// OSObject as a dext sees it: init() and free(), reference counting, and the IMPL / DEFN macros
// that name iig method implementations. Every live object is recorded with its class and the
// place it was created, so the harness can list what a dext leaked when a run ends.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IORPC.h>
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

  // Message plumbing (see <DriverKit/IORPC.h>). OSObject implements no messages.
  static kern_return_t _Dispatch(OSObject* self, const IORPC& rpc);
  virtual kern_return_t _InvokeMessage(const IORPC& rpc) { return _Dispatch(this, rpc); }
  // The queue a method is routed to by QUEUENAME, or nullptr for the Default queue; and whether
  // the class declares a queue name at all (SetDispatchQueue accepts only declared names).
  virtual const char* _RoutedQueue(std::uint64_t msgid) const {
    (void)msgid;
    return nullptr;
  }
  virtual bool _DeclaresQueue(const char* name) const {
    (void)name;
    return false;
  }
  // Where the object was created (OSTypeAlloc or a with...() factory), for leak reports.
  const OSCreationSite& creationSite() const { return created_at_; }
  void setCreationSite(const OSCreationSite& where) { created_at_ = where; }

 protected:
  ~OSObject() override;

 private:
  mutable std::uint32_t retain_count_ = 1;
  OSCreationSite created_at_;
};

template <class T>
T* dexthil_type_alloc(const OSCreationSite& where) {
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

}  // extern "C++"

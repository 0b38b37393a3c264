#pragma once
// The host implementation of libkern's runtime type information for dexts: every class has one
// OSMetaClass naming it and its superclass, which OSDynamicCast walks. dexthil's own code; the
// macro names and meanings are Apple's (OSTypeID, OSDynamicCast, OSRequiredCast, OSTypeAlloc,
// OSSafeReleaseNULL).
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

class OSMetaClass;

// Where an object was created, for leak reports. std::source_location would do, but clang 14
// (which builds dexts, for C blocks) cannot use libstdc++'s; both compilers have these builtins.
struct OSCreationSite {
  const char* file = "";
  unsigned line = 0;
  static constexpr OSCreationSite current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
    return {file, line};
  }
  const char* file_name() const { return file; }
  unsigned line_number() const { return line; }
};

class OSMetaClassBase {
 public:
  virtual const OSMetaClass* getMetaClass() const = 0;
  virtual void retain() const = 0;
  virtual void release() const = 0;
  virtual bool isEqualTo(const OSMetaClassBase* anObject) const { return this == anObject; }

  // The object as `type` if it is one (or derives from one), else nullptr.
  static const OSMetaClassBase* safeMetaCast(const OSMetaClassBase* anObject, const OSMetaClass* toType);

 protected:
  OSMetaClassBase() = default;
  virtual ~OSMetaClassBase() = default;
};

class OSMetaClass {
 public:
  constexpr OSMetaClass(const char* name, const OSMetaClass* superclass) : name_(name), superclass_(superclass) {}
  const char* getClassName() const { return name_; }
  const OSMetaClass* getSuperClass() const { return superclass_; }
  bool isKindOf(const OSMetaClass* other) const {
    for (const OSMetaClass* m = this; m; m = m->superclass_) {
      if (m == other) return true;
    }
    return false;
  }

 private:
  const char* name_;
  const OSMetaClass* superclass_;
};

inline const OSMetaClassBase* OSMetaClassBase::safeMetaCast(const OSMetaClassBase* anObject, const OSMetaClass* toType) {
  return anObject && anObject->getMetaClass()->isKindOf(toType) ? anObject : nullptr;
}

// Declares a class's metaclass; each host class and each iig-generated class uses it.
#define DEXTHIL_METACLASS(className, superName)                                           \
 public:                                                                                   \
  static const OSMetaClass* const metaClass;                                               \
  const OSMetaClass* getMetaClass() const override { return metaClass; }                   \
  using super = superName;                                                                 \
                                                                                           \
 private:
#define DEXTHIL_METACLASS_ROOT(className)                                                  \
 public:                                                                                   \
  static const OSMetaClass* const metaClass;                                               \
  const OSMetaClass* getMetaClass() const override { return metaClass; }                   \
                                                                                           \
 private:
#define DEXTHIL_DEFINE_METACLASS(className, superName)                                     \
  static const OSMetaClass className##MetaClassInstance(#className, superName::metaClass); \
  const OSMetaClass* const className::metaClass = &className##MetaClassInstance
#define DEXTHIL_DEFINE_METACLASS_ROOT(className)                                           \
  static const OSMetaClass className##MetaClassInstance(#className, nullptr);              \
  const OSMetaClass* const className::metaClass = &className##MetaClassInstance

#define OSTypeID(type) (type::metaClass)
#define OSDynamicCast(type, inst) \
  ((type*)OSMetaClassBase::safeMetaCast((const OSMetaClassBase*)(inst), OSTypeID(type)))
#define OSRequiredCast(type, inst) (dexthil_required_cast<type>((inst), #type))
// Allocates an object of `type` with a retain count of one, not yet initialised (call init()).
#define OSTypeAlloc(type) (dexthil_type_alloc<type>(OSCreationSite::current()))
#define OSSafeReleaseNULL(inst) \
  do {                          \
    if (inst) (inst)->release(); \
    (inst) = nullptr;           \
  } while (0)

}  // extern "C++"

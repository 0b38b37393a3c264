// The host implementation of the libkern object model dexts use (include/DriverKit/OS*.h).
#include <algorithm>
#include <cstring>
#include <map>

#include <DriverKit/OSCollections.h>

#include "harness/driverkit/libkern/object_registry.hpp"

DEXTHIL_DEFINE_METACLASS_ROOT(OSObject);
DEXTHIL_DEFINE_METACLASS(OSContainer, OSObject);
DEXTHIL_DEFINE_METACLASS(OSCollection, OSContainer);
DEXTHIL_DEFINE_METACLASS(OSString, OSContainer);
DEXTHIL_DEFINE_METACLASS(OSNumber, OSContainer);
DEXTHIL_DEFINE_METACLASS(OSData, OSContainer);
DEXTHIL_DEFINE_METACLASS(OSBoolean, OSContainer);
DEXTHIL_DEFINE_METACLASS(OSArray, OSCollection);
DEXTHIL_DEFINE_METACLASS(OSDictionary, OSCollection);

namespace {

// Objects by address, with their creation serial. Single-threaded: dext code runs on fibers
// that the simulator switches one at a time.
struct Registry {
  struct Entry {
    std::uint64_t serial;
    std::uint64_t owner;
  };
  std::map<const OSObject*, Entry> objects;
  std::uint64_t next_serial = 1;
  std::uint64_t current_owner = 0;
};
Registry& registry() {
  static Registry r;
  return r;
}

OSBoolean true_instance(true);
OSBoolean false_instance(false);

}  // namespace

OSBoolean* const kOSBooleanTrue = &true_instance;
OSBoolean* const kOSBooleanFalse = &false_instance;

namespace dexthil::driverkit {

std::uint64_t ObjectRegistry::mark() { return registry().next_serial; }
std::size_t ObjectRegistry::alive_count() { return registry().objects.size(); }
void ObjectRegistry::created(const OSObject* o) {
  Registry& r = registry();
  r.objects[o] = {r.next_serial++, r.current_owner};
}
void ObjectRegistry::set_current_owner(std::uint64_t owner) { registry().current_owner = owner; }
void ObjectRegistry::destroyed(const OSObject* o) { registry().objects.erase(o); }

namespace {
template <class Keep>
std::vector<LiveObject> alive_where(Keep keep) {
  std::vector<LiveObject> out;
  for (const auto& [object, entry] : registry().objects) {
    if (!keep(entry)) continue;
    const OSCreationSite& at = object->creationSite();
    out.push_back({object->getMetaClass()->getClassName(), at.file_name(), at.line_number(), object->getRetainCount(),
                   entry.serial, entry.owner});
  }
  std::sort(out.begin(), out.end(), [](const LiveObject& a, const LiveObject& b) { return a.serial < b.serial; });
  return out;
}
}  // namespace

std::vector<LiveObject> ObjectRegistry::alive_since(std::uint64_t mark) {
  return alive_where([mark](const Registry::Entry& e) { return e.serial >= mark; });
}
std::vector<LiveObject> ObjectRegistry::alive_owned_by(std::uint64_t owner) {
  return alive_where([owner](const Registry::Entry& e) { return e.owner == owner; });
}

}  // namespace dexthil::driverkit

// ---- OSObject ----

kern_return_t OSObject::_Dispatch(OSObject*, const IORPC&) { return kIOReturnUnsupported; }

OSObject::OSObject() { dexthil::driverkit::ObjectRegistry::created(this); }
OSObject::~OSObject() { dexthil::driverkit::ObjectRegistry::destroyed(this); }

bool OSObject::init() { return true; }
void OSObject::free() {}

void OSObject::retain() const { ++retain_count_; }

void OSObject::release() const {
  if (retain_count_ == 0) throw std::logic_error(std::string("release() of a ") + getMetaClass()->getClassName() + " already freed");
  if (--retain_count_ > 0) return;
  auto* self = const_cast<OSObject*>(this);
  self->free();
  delete self;
}

// ---- Values ----

namespace {
template <class T>
T* make(const OSCreationSite& where) {
  T* o = new T();
  o->setCreationSite(where);
  return o;
}
}  // namespace

OSString* OSString::withCString(const char* cString, OSCreationSite where) {
  if (!cString) return nullptr;
  OSString* s = make<OSString>(where);
  s->value_ = cString;
  return s;
}

bool OSString::isEqualTo(const OSMetaClassBase* anObject) const {
  const OSString* other = OSDynamicCast(OSString, anObject);
  return other && other->value_ == value_;
}

OSNumber* OSNumber::withNumber(std::uint64_t value, std::size_t numberOfBits, OSCreationSite where) {
  if (numberOfBits != 8 && numberOfBits != 16 && numberOfBits != 32 && numberOfBits != 64) return nullptr;
  OSNumber* n = make<OSNumber>(where);
  n->bits_ = numberOfBits;
  n->value_ = numberOfBits == 64 ? value : value & ((std::uint64_t{1} << numberOfBits) - 1);
  return n;
}

bool OSNumber::isEqualTo(const OSMetaClassBase* anObject) const {
  const OSNumber* other = OSDynamicCast(OSNumber, anObject);
  return other && other->value_ == value_;
}

OSData* OSData::withBytes(const void* bytes, std::size_t length, OSCreationSite where) {
  if (!bytes && length) return nullptr;
  OSData* d = make<OSData>(where);
  d->appendBytes(bytes, length);
  return d;
}

OSData* OSData::withCapacity(std::size_t capacity, OSCreationSite where) {
  OSData* d = make<OSData>(where);
  d->bytes_.reserve(capacity);
  return d;
}

OSData* OSData::withBytesNoCopy(void* bytes, std::size_t numBytes, OSCreationSite where) {
  if (!bytes && numBytes) return nullptr;
  OSData* d = make<OSData>(where);
  d->external_ = bytes;
  d->external_length_ = numBytes;
  return d;
}

bool OSData::appendBytes(const void* bytes, std::size_t length) {
  if ((!bytes && length) || external_) return false;
  const auto* b = static_cast<const std::uint8_t*>(bytes);
  bytes_.insert(bytes_.end(), b, b + length);
  return true;
}

bool OSData::isEqualTo(const OSMetaClassBase* anObject) const {
  const OSData* other = OSDynamicCast(OSData, anObject);
  return other && other->getLength() == getLength() &&
         (getLength() == 0 || std::memcmp(other->getBytesNoCopy(), getBytesNoCopy(), getLength()) == 0);
}

// ---- Collections ----

OSArray* OSArray::withCapacity(std::uint32_t capacity, OSCreationSite where) {
  OSArray* a = make<OSArray>(where);
  a->items_.reserve(capacity);
  return a;
}

bool OSArray::setObject(const OSMetaClassBase* anObject) {
  if (!anObject) return false;
  anObject->retain();
  items_.push_back(anObject);
  return true;
}

void OSArray::free() {
  for (const OSMetaClassBase* o : items_) o->release();
  items_.clear();
  super::free();
}

OSDictionary* OSDictionary::withCapacity(std::uint32_t capacity, OSCreationSite where) {
  OSDictionary* d = make<OSDictionary>(where);
  d->entries_.reserve(capacity);
  return d;
}

bool OSDictionary::setObject(const char* key, const OSMetaClassBase* anObject) {
  if (!key || !anObject) return false;
  anObject->retain();
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v->release();
      v = anObject;
      return true;
    }
  }
  entries_.emplace_back(key, anObject);
  return true;
}

bool OSDictionary::setObject(const OSString* key, const OSMetaClassBase* anObject) {
  return key && setObject(key->getCStringNoCopy(), anObject);
}

const OSMetaClassBase* OSDictionary::getObject(const char* key) const {
  if (!key) return nullptr;
  for (const auto& [k, v] : entries_) {
    if (k == key) return v;
  }
  return nullptr;
}

const OSMetaClassBase* OSDictionary::getObject(const OSString* key) const {
  return key ? getObject(key->getCStringNoCopy()) : nullptr;
}

void OSDictionary::removeObject(const char* key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (key && it->first == key) {
      it->second->release();
      entries_.erase(it);
      return;
    }
  }
}

void OSDictionary::free() {
  for (const auto& [k, v] : entries_) v->release();
  entries_.clear();
  super::free();
}
